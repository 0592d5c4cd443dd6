"""Graded exercises: checks on a lab machine, scores, and reports.

`grade_lab(host, address)` runs every exercise of `exercises/` on one
machine and returns a `LabReport` of `CheckResult` records.
"""

from maillab.grading.exercise import Exercise, load_exercises
from maillab.grading.lab import grade_lab
from maillab.grading.result import CheckResult, LabReport, Status

__all__ = [
    "CheckResult",
    "Exercise",
    "LabReport",
    "Status",
    "grade_lab",
    "load_exercises",
]
