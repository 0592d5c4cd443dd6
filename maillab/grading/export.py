"""The class's results in every output format, all from the same records."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from maillab.grading.result import CheckResult, LabReport, Status
from maillab.grading.view import render_html


def to_json(reports: Iterable[LabReport]) -> str:
    return json.dumps([r.as_dict() for r in reports], indent=2, ensure_ascii=False)


def from_json(text: str) -> list[LabReport]:
    return [LabReport.from_dict(d) for d in json.loads(text)]


def to_junit(reports: Iterable[LabReport]) -> str:
    """JUnit XML: one testsuite per student, one testcase per check (its title)."""
    suites = ET.Element("testsuites", name="maillab")
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=report.student)
        if report.unreachable:
            suite.set("errors", "1")
            case = ET.SubElement(suite, "testcase", name="machine reachable")
            ET.SubElement(case, "error", message=report.unreachable)
        for r in report.results:
            _junit_case(suite, r)
        _junit_counts(suite, report)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _junit_case(suite: ET.Element, r: CheckResult) -> None:
    case = ET.SubElement(
        suite, "testcase", name=r.title, classname=r.id, time=f"{r.duration:.3f}"
    )
    text = f"{r.message}\n{r.detail}".strip()
    if r.status is Status.FAILED:
        ET.SubElement(case, "failure", message=r.message).text = r.detail
    elif r.status is Status.ERROR:
        ET.SubElement(case, "error", message=r.detail).text = text
    elif r.status is Status.BLOCKED:
        ET.SubElement(case, "skipped", message=r.message)


def _junit_counts(suite: ET.Element, report: LabReport) -> None:
    suite.set("tests", str(len(report.results) + bool(report.unreachable)))
    suite.set("failures", str(len(report.by_status(Status.FAILED))))
    errors = len(report.by_status(Status.ERROR)) + bool(report.unreachable)
    suite.set("errors", str(errors))
    suite.set("skipped", str(len(report.by_status(Status.BLOCKED))))


def to_csv(reports: Iterable[LabReport]) -> str:
    """The gradebook: one row per student, a column per exercise, then the total."""
    reports = list(reports)
    exercises = sorted({r.exercise for rep in reports for r in rep.results})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "host", "status", *exercises, "total", "max"])
    for rep in reports:
        if rep.unreachable:
            writer.writerow([rep.student, rep.host, "unreachable"])
            continue
        totals = rep.exercise_points()
        cells = [f"{totals[e][0]:g}" if e in totals else "" for e in exercises]
        row = [rep.student, rep.host, "graded", *cells]
        writer.writerow(row + [f"{rep.points:g}", f"{rep.max_points:g}"])
    return out.getvalue()


def to_gradescope(report: LabReport) -> dict[str, Any]:
    """Gradescope's results.json for one submission (hidden checks: after_published).

    write_outputs writes none for an unreachable machine: Gradescope would
    read its empty test list as a score of zero.
    """
    tests = [
        {
            "name": r.title,
            "number": r.id,
            "score": r.points,
            "max_score": r.max_points,
            "status": "passed" if r.status is Status.PASSED else "failed",
            "output": r.message if r.is_hidden else f"{r.message}\n{r.detail}".strip(),
            "visibility": "after_published" if r.is_hidden else "visible",
        }
        for r in report.results
    ]
    data: dict[str, Any] = {
        "score": report.points,
        "execution_time": report.duration,
        "tests": tests,
    }
    if report.unreachable:
        data["output"] = f"machine injoignable : {report.unreachable}"
    return data


def clones_csv(reports: list[LabReport]) -> str:
    """Machines that share an SSH host key or a DKIM key: one row per group."""
    from maillab.grading.batch import find_clones

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["key", "fingerprint", "students"])
    for clone in find_clones(reports):
        writer.writerow([clone.kind, clone.fingerprint, " ".join(clone.students)])
    return buffer.getvalue()


def write_outputs(reports: list[LabReport], out: Path) -> list[Path]:
    """Every format into a folder: results.json, junit.xml, grades.csv, pages."""
    out.mkdir(parents=True, exist_ok=True)
    written = {
        out / "results.json": to_json(reports),
        out / "junit.xml": to_junit(reports),
        out / "grades.csv": to_csv(reports),
        out / "clones.csv": clones_csv(reports),
    }
    for rep in reports:
        folder = out / "students" / _safe(rep.student)
        stale = folder / "results.json"
        if rep.unreachable is None:
            written[stale] = json.dumps(to_gradescope(rep), indent=2)
        elif stale.exists():
            # not graded: no Gradescope score at all, rather than a zero
            stale.unlink()
        written[folder / "feedback.html"] = render_html(rep)
    for path, text in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(written)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"
