"""Grading on real boxes: validate on both ends, read-only, and the class test."""

from __future__ import annotations

import hashlib
import json
import smtplib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from maillab.grading import Status, grade_lab, load_exercises
from maillab.grading.__main__ import main as grading_main
from maillab.grading.export import from_json
from maillab.grading.validate import validate

pytestmark = pytest.mark.lab

# Files under /etc and the mail directories, hashed as root on the box.
HASH_SCRIPT = (
    "find /etc /home /var/mail -xdev -type f -print0 2>/dev/null "
    "| sort -z | xargs -0 sha256sum"
)


def total(exercise_ids: set[str]) -> float:
    return sum(e.points for e in load_exercises() if e.id in exercise_ids)


def test_validate_invert_on_a_fresh_box(lab_boxes):
    lab = lab_boxes["new"]
    result = validate(lab.host, lab.address, invert=True)
    assert result.ok, result.describe()
    assert len(result.report.results) == sum(len(e.checks) for e in load_exercises())


def test_validate_on_the_reference_solution(lab_boxes):
    lab = lab_boxes["full"]
    result = validate(lab.host, lab.address)
    assert result.ok, result.describe()


def deliver_to_jean(lab) -> None:
    """One message from outside, so that jean's Maildir exists to be hashed."""
    with smtplib.SMTP(lab.address, 25, local_hostname="mx.exterieur.test") as smtp:
        smtp.sendmail(
            "alice@exterieur.test",
            ["jean@monentreprise.local"],
            "From: alice@exterieur.test\r\nSubject: hash\r\n\r\nBonjour.\r\n",
        )
    wait = (
        "for i in $(seq 60); do ls /home/jean/Maildir/new/* && break; sleep 0.5; done"
    )
    assert lab.host.run(wait, sudo=True).stdout.strip()


def test_grading_changes_nothing_on_the_machine(lab_boxes):
    lab = lab_boxes["full"]
    deliver_to_jean(lab)
    before = lab.host.check_output(HASH_SCRIPT, sudo=True)
    report = grade_lab(lab.host, lab.address)
    after = lab.host.check_output(HASH_SCRIPT, sudo=True)
    assert report.points == report.max_points
    assert "/home/jean/Maildir" in before  # the mail directories were hashed
    assert (
        hashlib.sha256(before.encode()).digest()
        == hashlib.sha256(after.encode()).digest()
    )


def test_results_do_not_depend_on_check_order(lab_boxes):
    lab = lab_boxes["half"]
    forward = load_exercises()
    backward = [
        type(e)(**{**e.__dict__, "checks": tuple(reversed(e.checks))})
        for e in reversed(forward)
    ]
    one = grade_lab(lab.host, lab.address, exercises=forward, jobs=1)
    two = grade_lab(lab.host, lab.address, exercises=backward, jobs=6)
    assert {r.id: r.status for r in one.results} == {
        r.id: r.status for r in two.results
    }


def _roster(lab_boxes, path: Path) -> Path:
    lines = ["id,host,port,user,key,known_hosts"]
    for student, kind in (("alice", "full"), ("bruno", "half"), ("chloe", "flt")):
        box = lab_boxes[kind].box
        lines.append(
            f"{student},{box.address},22,vagrant,{box.files.key},"
            f"{box.files.known_hosts}"
        )
    lines.append("david,127.0.0.1,9,vagrant,,")  # nothing listens there
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_class_in_one_grade_run(lab_boxes, tmp_path, capsys):
    roster = _roster(lab_boxes, tmp_path / "roster.csv")
    out = tmp_path / "out"
    argv = ["grade", "--roster", str(roster), "--jobs", "4", "--timeout", "20"]
    # 1: david's machine could not be graded
    assert grading_main([*argv, "--out", str(out)]) == 1
    reports = {r.student: r for r in from_json((out / "results.json").read_text())}

    everything = {e.id for e in load_exercises()}
    assert reports["alice"].points == total(everything)
    assert reports["bruno"].points == total({"7.3.1", "7.3.2"})
    faulty = {r.id: r for r in reports["chloe"].results}
    failed = {i for i, r in faulty.items() if r.status is not Status.PASSED}
    # The fault is in opendkim.conf's Socket line: the file check and the
    # Postfix-to-OpenDKIM socket check both target it, and nothing else fails.
    assert failed == {"7.3.5/opendkim-conf", "7.3.5/milter-socket"}
    assert "elsewhere.sock" in faulty["7.3.5/milter-socket"].detail
    assert reports["chloe"].points == total(everything) - 4
    assert reports["david"].unreachable and reports["david"].results == []
    assert "connection refused" in reports["david"].unreachable
    # no Gradescope score for a machine not graded (it would read as zero)
    assert not (out / "students/david/results.json").exists()
    assert (out / "students/david/feedback.html").exists()
    assert "unreachable" in (out / "grades.csv").read_text().splitlines()[-1]
    assert "about" in capsys.readouterr().err  # progress with an ETA

    suites = ET.parse(out / "junit.xml").getroot()
    titles = {c.get("name") for c in suites.iter("testcase")}
    assert "Le socket d'OpenDKIM est celui qu'attend Postfix" in titles
    page = json.loads((out / "students/chloe/results.json").read_text())
    assert {"score", "tests"} <= page.keys()
    assert all({"score", "max_score", "name"} <= t.keys() for t in page["tests"])


def test_regrade_one_exercise_merges_into_earlier_results(lab_boxes, tmp_path):
    roster = _roster(lab_boxes, tmp_path / "roster.csv")
    out = tmp_path / "out"
    base = ["grade", "--roster", str(roster), "--out", str(out)]
    assert grading_main(base) == 1  # david is unreachable
    assert grading_main([*base, "--student", "chloe", "--exercise", "7.3.5"]) == 0
    reports = {r.student: r for r in from_json((out / "results.json").read_text())}
    assert len(reports) == 4
    assert {r.exercise for r in reports["chloe"].results} == {
        e.id for e in load_exercises()
    }
    assert reports["chloe"].points == total({e.id for e in load_exercises()}) - 4


def test_check_exit_status(lab_boxes):
    full, half = lab_boxes["full"].box.name, lab_boxes["half"].box.name
    assert grading_main(["check", "--name", full]) == 0
    assert grading_main(["check", "--name", half, "7.3.2"]) == 0
    assert grading_main(["check", "--name", half, "7.3.3"]) == 1
