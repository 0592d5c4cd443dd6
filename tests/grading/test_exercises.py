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


GOOD = "id: d\nsection: '7.3.1'\ntitle: t\nsymptom: s\ntargets: [7.3.1/aliases]\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "id: d\nsection: '7.3.1'\ntitle: t\n",
            r"d\.yaml: symptom: missing or not text",
        ),
        (GOOD.replace("[7.3.1/aliases]", "[7.3.1/nope]"), "unknown check 7.3.1/nope"),
        (GOOD.replace("[7.3.1/aliases]", "7.3.1/aliases"), "targets: give a list"),
        (GOOD + "commands: newaliases\n", "commands: give a list"),
        (GOOD + "commands: [[a]]\n", "commands: each item must be text"),
        (GOOD.replace("id: d", "id: ../d"), "must be the file's name"),
        (GOOD.replace("id: d", "id: e"), "must be the file's name"),
        (GOOD + "edits: [{path: etc/x, replace: a, with: b}]\n", "must be absolute"),
        (
            GOOD + "edits: [{path: /x, replace: '(', with: b}]\n",
            r"edits\[0\]: bad regex",
        ),
        (GOOD + "edits: [{path: /x}]\n", r"edits\[0\]: give path:, replace:"),
        ("id: d\ntitle: [unclosed\n", r"d\.yaml:3: not valid YAML"),
        ("", "a drill file is a mapping"),
        ("- a\n- b\n", "a drill file is a mapping"),
    ],
)
def test_a_broken_drill_file_is_named(tmp_path, text, message):
    from maillab.grading.drills import DrillError, load_drills

    (tmp_path / "d.yaml").write_text(text)
    with pytest.raises(DrillError, match=message) as caught:
        load_drills(tmp_path)
    assert str(tmp_path / "d.yaml") in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_drill_file_that_is_not_utf8(tmp_path):
    from maillab.grading.drills import DrillError, load_drills

    (tmp_path / "d.yaml").write_bytes(b"id: d\ntitle: \xe9t\xe9\n")
    with pytest.raises(DrillError, match=r"d\.yaml: not UTF-8 text"):
        load_drills(tmp_path)


def test_one_broken_drill_file_does_not_stop_another_drill(tmp_path):
    from maillab.grading.drills import find_drill

    (tmp_path / "d.yaml").write_text(GOOD)
    (tmp_path / "broken.yaml").write_text("id: [\n")
    assert find_drill("d", tmp_path).targets == ("7.3.1/aliases",)
