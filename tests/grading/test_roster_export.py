"""Rosters in every form, and exports from one set of records (no box needed)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from maillab.grading.batch import find_clones, merge
from maillab.grading.exercise import load_exercises
from maillab.grading.export import clones_csv, to_csv, to_gradescope, to_junit
from maillab.grading.result import CheckResult, LabReport, Status
from maillab.grading.roster import parse_roster


def test_csv_yaml_and_ansible_rosters_agree():
    csv_text = "id,host,port,user,key\nana,10.0.0.5,2222,vagrant,~/k\n"
    yaml_text = "- {id: ana, host: 10.0.0.5, port: 2222, user: vagrant, key: ~/k}\n"
    ini = (
        "[lab]\nana ansible_host=10.0.0.5 ansible_port=2222\n[lab:vars]\n"
        "ansible_user=vagrant\nansible_ssh_private_key_file=~/k\n"
    )
    inv = (
        "all:\n  children:\n    lab:\n"
        "      vars: {ansible_user: vagrant, ansible_ssh_private_key_file: ~/k}\n"
        "      hosts:\n        ana: {ansible_host: 10.0.0.5, ansible_port: 2222}\n"
    )
    found = [parse_roster(t)[0] for t in (csv_text, yaml_text, ini, inv)]
    assert {(s.id, s.host, s.port, s.user, s.key) for s in found} == {
        ("ana", "10.0.0.5", 2222, "vagrant", "~/k")
    }


def result(ident: str, status: Status, hidden: bool = False) -> CheckResult:
    return CheckResult(
        ident.split("/")[0],
        ident,
        f"title {ident}",
        1.0 if status is Status.PASSED else 0.0,
        1.0,
        status,
        "hidden" if hidden else "visible",
        "msg",
        "secret detail",
        0.1,
    )


def test_exports_from_the_same_records():
    a = LabReport(
        "ana",
        "h1",
        [result("7.3.1/x", Status.PASSED), result("7.3.1/y", Status.FAILED, True)],
        fingerprints={"ssh": "k1"},
    )
    b = LabReport("bob", "h2", unreachable="refused", fingerprints={})
    c = LabReport(
        "cat", "h3", [result("7.3.1/x", Status.PASSED)], fingerprints={"ssh": "k1"}
    )
    root = ET.fromstring(to_junit([a, b, c]))
    assert [s.get("failures") for s in root] == ["1", "0", "0"]
    assert "unreachable" in to_csv([a, b, c]).splitlines()[2]
    page = to_gradescope(a)
    assert page["score"] == 1.0 and "secret detail" not in json.dumps(page["tests"][1])
    assert [c.students for c in find_clones([a, b, c])] == [("ana", "cat")]
    assert clones_csv([a, b, c]).splitlines() == [
        "key,fingerprint,students",
        "ssh,k1,ana cat",
    ]


def test_merge_keeps_other_exercises():
    old = LabReport(
        "ana", "h", [result("7.3.1/x", Status.FAILED), result("7.3.2/y", Status.PASSED)]
    )
    new = LabReport("ana", "h", [result("7.3.1/x", Status.PASSED)])
    merged = merge([old], [new])[0]
    assert [(r.id, r.status) for r in merged.results] == [
        ("7.3.1/x", Status.PASSED),
        ("7.3.2/y", Status.PASSED),
    ]


def test_exercises_load_and_add_up():
    exercises = load_exercises()
    assert [e.id for e in exercises] == [
        "7.3.1",
        "7.3.2",
        "7.3.3",
        "7.3.4",
        "7.3.5",
        "monitoring",
    ]
    assert all(e.points == sum(c.points for c in e.checks) for e in exercises)
