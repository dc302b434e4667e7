"""schemas/rules.csv: every rule's severity, read by the code; a dataset raises or lowers one with a reason."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from eventdata.errors import PROBLEM_CODES, SchemaFileError
from eventdata.project import Project, default_codebook_dir
from eventdata.rules import RULES_FILE, load_severities
from eventdata.validate import validate_project
from tests.conftest import REPO


def set_rule(project: Project, code: str, severity: str, reason: str) -> None:
    path = project.schemas_dir / RULES_FILE
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    for row in rows:
        if row["code"] == code:
            row.update(severity=severity, reason=reason)
    if not any(r["code"] == code for r in rows):
        rows.append({"code": code, "severity": severity, "reason": reason})
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["code", "severity", "reason"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_codebook_gives_every_rule_a_severity() -> None:
    rows = list(csv.DictReader((REPO / "schemas" / RULES_FILE).read_text(encoding="utf-8").splitlines()))
    assert sorted(r["code"] for r in rows) == sorted(PROBLEM_CODES)  # a new problem code needs its row
    warnings = {r["code"] for r in rows if r["severity"] == "warning"}
    assert {"place-far-from-admin1", "place-outside-country"} <= warnings
    assert all(r["reason"] for r in rows if r["severity"] == "warning")


@pytest.mark.parametrize(
    ("code", "severity", "reason", "message"),
    [
        ("no-such-rule", "warning", "why", "not a rule of eventdata"),
        ("fatalities-not-allowed", "warning", "", "say why"),
        ("type-error", "warning", "we do not mind", "cannot be a warning"),
        ("future-date", "info", "", "must be one of error, warning"),
    ],
)
def test_bad_rules_are_codebook_errors(project: Project, code: str, severity: str, reason: str, message: str) -> None:
    set_rule(project, code, severity, reason)
    with pytest.raises(SchemaFileError, match=message):
        load_severities(project.schemas_dir)


def test_a_dataset_lowers_a_rule_with_a_reason(project: Project, edit_sheet: Callable[..., Path]) -> None:
    edit_sheet({0: {"evidence": "a passage the article does not hold"}})
    assert [p.code for p in validate_project(project).report.errors] == ["evidence-not-found"]

    set_rule(project, "evidence-not-found", "warning", "Our coders paraphrase translated articles.")
    report = validate_project(project).report

    assert report.valid
    assert [(p.code, p.severity, p.line) for p in report.problems] == [("evidence-not-found", "warning", 2)]


def test_a_dataset_raises_a_warning_to_an_error(project: Project) -> None:
    set_rule(project, "place-far-from-admin1", "error", "Our place list is curated: a far place is a typo.")
    assert load_severities(project.schemas_dir)["place-far-from-admin1"] == "error"
    (project.schemas_dir / RULES_FILE).unlink()  # an older dataset without the file: the default codebook's rules
    assert load_severities(project.schemas_dir) == load_severities(default_codebook_dir())
    assert load_severities(project.schemas_dir)["place-far-from-admin1"] == "warning"


def test_a_rules_problem_is_named_at_its_line_past_blank_lines(project: Project) -> None:
    path = project.schemas_dir / RULES_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    text = "\n".join([lines[0], lines[1], "", "", *lines[2:], lines[1]]) + "\n"
    path.write_text(text, encoding="utf-8")
    duplicate = len(text.splitlines())  # the last line repeats the first rule
    with pytest.raises(SchemaFileError, match=rf"rules\.csv:{duplicate}: '{lines[1].split(',')[0]}' is listed twice"):
        load_severities(project.schemas_dir)
