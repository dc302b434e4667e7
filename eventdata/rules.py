"""The severity of every rule (schemas/rules.csv): an error blocks, a warning is reported and counted.

schemas/rules.csv has the columns ``code,severity,reason``: one row per problem code
(`eventdata.errors.PROBLEM_CODES`), severity ``error`` or ``warning``, and why. A dataset raises or
lowers a rule by editing its row; a warning needs a reason. Codes the file does not list (and every
code, when a dataset has no rules.csv) take their severity from the default codebook eventdata ships,
so a rule added in a later version of the tool behaves there as its own codebook says; a code the
tool does not know is a codebook error, and so is a warning for a rule whose rows cannot
be built (a value that does not read as its type, an unknown actor or place, a malformed file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from eventdata.errors import PROBLEM_CODES, SEVERITIES, Problem, SchemaFileError
from eventdata.sources.sheets import read_records

RULES_FILE = "rules.csv"
COLUMNS = ("code", "severity", "reason")
#: Rules that are about judgement, not about whether a row can be read, typed and resolved: only
#: these can be warnings (a row with any other problem has no value the package could hold).
MAY_BE_WARNINGS = frozenset(
    {
        "sub-event-type-mismatch",
        "derived-mismatch",
        "actor2-inter2-mismatch",
        "actor2-required",
        "inter-not-allowed",
        "civilian-targeting-rule",
        "civilians-in-battle",
        "fatalities-not-allowed",
        "time-precision-date",
        "date-after-publication",
        "future-date",
        "evidence-not-found",
        "id-country-prefix",
        "place-outside-country",
        "place-far-from-admin1",
        "metadata-missing",
        "adjudication-pending",
        "dataset-key-unused",
    }
)


def load_severities(schemas_dir: Path) -> dict[str, str]:
    """Problem code → severity from schemas/rules.csv, else from the default codebook's, else error."""
    from eventdata.project import default_codebook_dir  # the shipped codebook (project imports the tool's modules)

    default = default_codebook_dir() / RULES_FILE
    severities = dict.fromkeys(PROBLEM_CODES, "error")
    if default.is_file() and default.resolve() != (schemas_dir / RULES_FILE).resolve():
        severities.update(_read_severities(default))
    path = schemas_dir / RULES_FILE
    if path.is_file():
        severities.update(_read_severities(path))
    return severities


def _read_severities(path: Path) -> dict[str, str]:
    """The severities one rules.csv gives, checked (read by the one CSV reader: BOM, blank lines, ragged rows)."""
    severities: dict[str, str] = {}
    header, rows = read_records(path, SchemaFileError, "The rule severities")
    if header != list(COLUMNS):
        raise SchemaFileError(f"{path}: the header must be {','.join(COLUMNS)}.")
    seen: set[str] = set()
    for line, cells in rows:
        code, severity, reason = ((cells[i] if i < len(cells) else "").strip() for i in range(len(COLUMNS)))
        where = f"{path}:{line}"
        if code not in PROBLEM_CODES:
            raise SchemaFileError(f"{where}: {code!r} is not a rule of eventdata (see `eventdata codebook`).")
        if code in seen:
            raise SchemaFileError(f"{where}: {code!r} is listed twice.")
        if severity not in SEVERITIES:
            raise SchemaFileError(f"{where}: severity {severity!r} of {code} must be one of {', '.join(SEVERITIES)}.")
        if severity == "warning" and code not in MAY_BE_WARNINGS:
            raise SchemaFileError(
                f"{where}: {code} cannot be a warning: a row with this problem has no value the package could hold."
            )
        if severity == "warning" and not reason:
            raise SchemaFileError(f"{where}: {code} is a warning; say why in the reason column.")
        seen.add(code)
        severities[code] = severity
    return severities


def with_severities(problems: Iterable[Problem], severities: Mapping[str, str]) -> list[Problem]:
    """The problems, each with the severity its rule has in the codebook."""
    return [
        p if p.severity == severities.get(p.code, "error") else replace(p, severity=severities.get(p.code, "error"))
        for p in problems
    ]
