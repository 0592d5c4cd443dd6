"""Exercise files and the grader's read-only rule (no box needed)."""

from __future__ import annotations

import pytest

from maillab.grading.context import is_read_only
from maillab.grading.exercise import ExerciseError, load_exercises


@pytest.mark.parametrize(
    "argv",
    [
        ["postconf", "-n"],
        ["postalias", "-s", "hash:/etc/aliases"],
        ["postalias", "-q", "equipe", "hash:/etc/aliases"],
        ["systemctl", "is-active", "spamd"],
        ["cat", "--", "/etc/postfix/main.cf"],
    ],
)
def test_reads_are_allowed(argv):
    assert is_read_only(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["postconf", "-e", "mydomain=x"],
        ["postalias", "hash:/etc/aliases"],  # rebuilds the database
        ["newaliases"],
        ["systemctl", "restart", "postfix"],
        ["rm", "-f", "/etc/aliases"],
        ["bash", "-c", "true"],
        [],
    ],
)
def test_changes_are_refused(argv):
    assert not is_read_only(argv)


def test_a_broken_exercise_file_names_its_line(tmp_path):
    (tmp_path / "a.yaml").write_text("id: x\nchecks:\n  - id: a\n   title: b\n")
    with pytest.raises(ExerciseError, match=r"a\.yaml:4: not valid YAML"):
        load_exercises(tmp_path)


def test_drills_load_and_name_real_checks():
    from maillab.grading.drills import load_drills

    drills = {d.id: d for d in load_drills()}
    assert sorted(drills) == [
        "aliases-equipe",
        "dkim-socket",
        "lmtp-transport",
        "spamd-stopped",
    ]
    assert drills["dkim-socket"].targets == (
        "7.3.5/opendkim-conf",
        "7.3.5/milter-socket",
    )


def test_a_broken_drill_file_is_named(tmp_path):
    from maillab.grading.drills import DrillError, load_drills

    (tmp_path / "d.yaml").write_text("id: d\nsection: '7.3.1'\ntitle: t\n")
    with pytest.raises(DrillError, match=r"d\.yaml: missing or wrong field 'symptom'"):
        load_drills(tmp_path)
    (tmp_path / "d.yaml").write_text(
        "id: d\nsection: '7.3.1'\ntitle: t\nsymptom: s\ntargets: [7.3.1/nope]\n"
    )
    with pytest.raises(DrillError, match="drill d: unknown check 7.3.1/nope"):
        load_drills(tmp_path)
