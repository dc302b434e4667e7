"""Errors that stop the tool, and findings about the data (Problem, Report)."""

from __future__ import annotations

import errno
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


class EventdataError(Exception):
    """An error the CLI shows as one message, without a traceback."""


class SchemaFileError(EventdataError):
    """schemas/ is unreadable, inconsistent or uses an unsupported constraint."""


class SourceError(EventdataError):
    """An article, sheet or project folder is missing or cannot be read."""


class ReleaseError(EventdataError):
    """A version exists already, or a release does not match its manifest."""


class PublishError(EventdataError):
    """A repository refused a deposit, or its metadata is incomplete."""


#: What to do about the operating-system errors a command meets most often.
OS_ERROR_HINTS: dict[int, str] = {
    errno.ENOSPC: "the disk is full: free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up: free some space and run the command again",
    errno.EACCES: "check the permissions of this file and of its folder",
    errno.EPERM: "check the permissions of this file and of its folder",
    errno.EROFS: "the file system is read-only: work in a writable copy of the dataset",
    errno.ENOENT: "it does not exist (a missing folder, or a symbolic link to nothing)",
    errno.ENOTDIR: "a part of the path is not a folder (a file, or a symbolic link to nothing)",
    errno.EISDIR: "it is a folder where a file was expected",
    errno.EEXIST: "it exists already",
    errno.ELOOP: "symbolic links point to each other in a loop",
}


def os_error_message(err: OSError) -> str:
    """An operating-system error as one line: the path, the cause and what to do."""
    paths = [os.fsdecode(p) for p in (err.filename, err.filename2) if p is not None]
    where = " → ".join(paths) if paths else "a file"
    cause = err.strerror or str(err) or type(err).__name__
    code = errno.errorcode.get(err.errno, "") if err.errno is not None else ""
    hint = OS_ERROR_HINTS.get(err.errno or -1)
    return (
        f"Could not complete the command at {where}: {cause}"
        + (f" ({code})" if code else "")
        + (f"; {hint}." if hint else ".")
    )


#: Every problem code the tool reports, with what it means. Codes are stable:
#: coders, tests and documentation refer to them.
PROBLEM_CODES: dict[str, str] = {
    # whole files
    "encoding-error": "The file is not valid UTF-8.",
    "empty-file": "The file has no header row.",
    "delimiter-error": "The file is not comma-separated.",
    "missing-column": "A column the codebook requires is absent from the header.",
    "unknown-column": "The header names a column the codebook does not know.",
    "duplicate-column": "The header names a column twice.",
    "blank-header": "A header cell is empty.",
    "extra-cell": "A row has more cells than the header.",
    "missing-cell": "A row has fewer cells than the header.",
    "source-error": "The file cannot be read.",
    "not-a-sheet": "A file in seeds/sheets/ is not read as a coding sheet (only *.csv files are).",
    "control-character": "A cell holds a NUL byte or another invisible control character.",
    # cells, from the Table Schema
    "type-error": "The value cannot be read as the column's type.",
    "required-error": "The column requires a value.",
    "enum-error": "The value is not in the column's vocabulary.",
    "minimum-error": "The value is below the column's minimum.",
    "maximum-error": "The value is above the column's maximum.",
    "pattern-error": "The value does not match the column's pattern.",
    "length-error": "The value is shorter or longer than the column allows.",
    "unique-error": "The value must be unique but occurs more than once.",
    # named cross-field and cross-file checks (CODEBOOK.md)
    "sub-event-type-mismatch": "The sub-event type does not belong to the event type.",
    "derived-mismatch": "A derivable column disagrees with what the tool derives.",
    "actor2-inter2-mismatch": "actor2 is empty exactly when inter2 is 0.",
    "actor2-required": "The event type needs a second actor.",
    "inter-not-allowed": "The actor type is not allowed for the event type.",
    "civilian-targeting-rule": "civilian_targeting breaks the rule of the sub-event type.",
    "civilians-in-battle": "Civilians are never associated actors in a battle.",
    "fatalities-not-allowed": "The sub-event type does not allow fatalities.",
    "time-precision-date": "The date does not fit the time precision.",
    "date-after-publication": "The event date is after the article's publication date.",
    "future-date": "The event date is in the future.",
    "missing-article": "The article is not in the article index.",
    "evidence-not-found": "The evidence does not occur in the article text.",
    "id-country-prefix": "The event id does not start with the country's ACLED code (ISO3 where ACLED uses it).",
    "article-hash-mismatch": "The article text does not match the sha256 in the index.",
    "article-missing-text": "The article index names a text file that does not exist.",
    "invalid-article-id": "The article id could escape the articles folder or is malformed.",
    "unknown-actor": "The actor is not in the actor list (schemas/actors.csv).",
    "actor-not-active": "No actor of that name is active on the event date.",
    "ambiguous-actor": "Several actors of that name are active on the event date.",
    "unknown-location": "The place is not in the place list (schemas/places.csv).",
    "ambiguous-location": "Several places of that name exist in the country.",
    "place-outside-country": "The place's point lies outside its country.",
    "place-far-from-admin1": "The place's point is far from the known places of its admin1.",
    "unregistered-id": "The event id was never assigned by the tool.",
    "deleted-id": "The event id belongs to a deleted event (seeds/deletions.csv).",
    "undeclared-deletion": "An event of the previous release is in no sheet, and seeds/deletions.csv does not list it.",
    # importing ACLED exports (eventdata/acled/)
    "unmapped-event-type": "An ACLED event type (older, or without a sub-event type) has no single equivalent.",
    "registered-id": "The export's event id is already in the id registry: the event was imported or coded before.",
    "actor-type-conflict": "ACLED's actor types for one actor cannot be written as one actor with validity periods.",
    # publishing (eventdata/publish/)
    "redistribution-not-allowed": "The release holds rows whose terms do not allow publishing them on a public target.",
    # warnings: reported, never a reason to fail
    "metadata-missing": "schemas/dataset.json lacks metadata that publishing needs (description, licence, creator).",
    "ambiguous-date": "The export's dates can be read in more than one order (day-month-year, month-day-year, ...).",
    "duplicate-event": "Rows repeat an event id but differ in more than the actor columns.",
    # double coding (eventdata/agreement.py, eventdata/adjudicate.py)
    "unadjudicated-row": "A row of a double-coded article is not what its adjudication gives; it is not built.",
    "agreement-below-gate": "Krippendorff's alpha on a field is below the gate set in schemas/dataset.json.",
    "adjudication-pending": "A double-coded article is not adjudicated yet: its events are not built.",
    # the codebook's own files against their descriptions (schemas/tables/, schemas/dataset.schema.json)
    "primary-key-error": "A codebook file lists the same key (its primaryKey) on two rows.",
    "foreign-key-error": "A codebook value is not a value of the table its column refers to (a foreign key).",
    "schema-error": "A description in schemas/ (a Table Schema of schemas/tables/) is malformed or unsupported.",
    "dataset-error": "schemas/dataset.json breaks its JSON Schema (schemas/dataset.schema.json).",
    # verifying releases (eventdata/release.py, eventdata/compare.py) and the dataset's metadata
    "release-hash-mismatch": "A release's file does not match the sha256 datapackage.json or catalog.json gives.",
    "release-file-missing": "A file that a release's datapackage.json or catalog.json lists is missing.",
    "catalog-mismatch": "catalog.json lacks the release, or disagrees with its datapackage.json on a file's sha256.",
    "rebuild-value-differs": "A rebuild of the release from its sources gives another value in a data file.",
    "rebuild-column-differs": "A rebuild of the release gives other columns, or another type for a column.",
    "rebuild-rows-differ": "A rebuild of the release gives another number of rows.",
    "rebuild-metadata-differs": "A rebuild of the release gives another datapackage.json or Parquet metadata value.",
    "rebuild-file-differs": "A rebuild of the release lacks a data file, adds one, or gives other bytes for a source.",
    "dataset-key-unused": "schemas/dataset.json holds version or created, which eventdata no longer reads.",
}

#: How much a problem weighs (schemas/rules.csv gives each code its severity): an error blocks
#: validate, build, release and import; a warning is reported and counted but does not block.
SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Problem:
    """One finding about the data, located at a cell a coder can act on."""

    code: str
    message: str
    file: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"

    def __post_init__(self) -> None:
        if self.code not in PROBLEM_CODES:
            raise ValueError(f"unknown problem code {self.code!r}")  # a bug, not bad data
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def format(self) -> str:
        """One line: file:line: column=value [code] message."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        cell = ""
        if self.column is not None:
            cell = f" {self.column}"
            if self.value is not None:
                cell += f"={self.value!r}"
        weight = " warning:" if self.severity == "warning" else ""
        return f"{where}:{cell} [{self.code}]{weight} {self.message}"

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.column or "", self.code)


@dataclass(frozen=True)
class Report:
    """All findings of one validation run. Valid when it holds no error (warnings do not block)."""

    problems: tuple[Problem, ...] = ()
    files: tuple[str, ...] = ()
    rows: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def counts(self, severity: str | None = None) -> dict[str, int]:
        """Number of problems (of one severity, if given) per code, most frequent first."""
        chosen = (p.code for p in self.problems if severity is None or p.severity == severity)
        return dict(Counter(chosen).most_common())

    def to_dict(self) -> dict[str, Any]:
        """The full report as JSON-ready data."""
        return {
            "valid": self.valid,
            "files": list(self.files),
            "rows": self.rows,
            "problem_count": len(self.problems),
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "counts": self.counts(),
            "problems": [asdict(p) for p in self.problems],
        }
