"""Break-fix drills on a real box: each breaks exactly its target checks."""

from __future__ import annotations

import pytest

from maillab.grading import Status, grade_lab
from maillab.grading.drills import Drill, DrillError, Edit, load_drills, start, undo

pytestmark = pytest.mark.lab


def not_passed(lab) -> set[str]:
    report = grade_lab(lab.host, lab.address)
    return {r.id for r in report.results if r.status is not Status.PASSED}


@pytest.mark.parametrize("drill", load_drills(), ids=lambda d: d.id)
def test_a_drill_breaks_its_targets_only_and_undo_mends_them(lab_boxes, drill):
    lab = lab_boxes["full"]
    start(lab.host, drill)
    try:
        assert not_passed(lab) == set(drill.targets)
        with pytest.raises(DrillError, match="already started"):
            start(lab.host, drill)
        report = grade_lab(lab.host, lab.address, checks=drill.targets)
        assert [r.id for r in report.results] == list(drill.targets)
        assert not report.is_complete
    finally:
        undo(lab.host, drill)
    assert not_passed(lab) == set()
    with pytest.raises(DrillError, match="is not started"):
        undo(lab.host, drill)


def test_a_drill_that_does_not_match_the_lab_changes_nothing(lab_boxes):
    lab = lab_boxes["full"]
    before = lab.host.read("/etc/aliases")
    drill = Drill(
        id="t-mismatch",
        section="7.3.1",
        title="t",
        symptom="t",
        hint="",
        edits=(
            Edit("/etc/aliases", "^equipe:.*$", "equipe: jean"),
            Edit("/etc/opendkim.conf", "^NoSuchSetting .*$", "x"),
        ),
        commands=(),
        undo_commands=(),
        targets=("7.3.1/aliases",),
    )
    with pytest.raises(DrillError, match=r"/etc/opendkim.conf has no line matching"):
        start(lab.host, drill)
    assert lab.host.read("/etc/aliases") == before
    with pytest.raises(DrillError, match="is not started"):
        undo(lab.host, drill)


def aliases_drill(replacement: str, commands: tuple[str, ...]) -> Drill:
    return Drill(
        id="t-aliases",
        section="7.3.1",
        title="t",
        symptom="t",
        hint="",
        edits=(Edit("/etc/aliases", "^equipe:.*$", replacement),),
        commands=commands,
        undo_commands=(),
        targets=("7.3.1/aliases",),
    )


def test_a_failing_command_puts_the_lab_back(lab_boxes):
    lab = lab_boxes["full"]
    before = lab.host.read("/etc/aliases")
    drill = aliases_drill("equipe: jean", ("false",))
    with pytest.raises(DrillError, match=r"`false` failed \(exit 1\); the lab was put"):
        start(lab.host, drill)
    assert lab.host.read("/etc/aliases") == before
    with pytest.raises(DrillError, match="is not started"):
        undo(lab.host, drill)


def test_the_replacement_is_literal_text(lab_boxes):
    lab = lab_boxes["full"]
    before = lab.host.read("/etc/aliases")
    drill = aliases_drill(r"equipe: jean \9 \n", ())
    start(lab.host, drill)
    try:
        assert "\nequipe: jean \\9 \\n\n" in lab.host.read("/etc/aliases")
    finally:
        undo(lab.host, drill)
    assert lab.host.read("/etc/aliases") == before
