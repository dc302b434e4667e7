"""Every CSV the tool reads keeps the one reader's contract: BOM, blank lines, multi-line cells, ragged rows.

Each reader gets the same file layout (tests.test_sources_sheets.messy): a byte order mark, the header on
line 1, blank lines, a quoted cell spanning lines 3-4, a whitespace-only record, and a last row on line 7.
Well formed, the file reads with its values; with a ragged last row, the reader's error names the file and
line 7 (an error the CLI shows with exit 2, never a traceback).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eventdata.errors import EventdataError, PublishError, SchemaFileError, SourceError
from eventdata.project import Project
from eventdata.schema import load_codebook
from tests.conftest import REPO
from tests.test_sources_sheets import messy

CODEBOOK = load_codebook(REPO / "schemas")


def read_severities(path: Path) -> Any:
    from eventdata.rules import _read_severities

    return _read_severities(path)


def read_normalisations(path: Path) -> Any:
    from eventdata.acled.values import load_normalisations

    return [(n.column, n.value, n.correct, n.source) for n in load_normalisations(path.parent, CODEBOOK)]


def read_assignments(path: Path) -> Any:
    from eventdata.agreement import read_assignments

    return read_assignments(Project(path.parent.parent))


def read_decisions(path: Path) -> Any:
    from eventdata.adjudicate import read_decisions

    return read_decisions(path)


def write_ids(path: Path) -> Any:
    from eventdata.ids import sheet_with_ids

    return sheet_with_ids(path, {3: "SYR8", 7: "SYR9"})


def read_deletions(path: Path) -> Any:
    from eventdata.ids import read_deletions

    return read_deletions(path)


def read_registry(path: Path) -> Any:
    from eventdata.ids import read_registry

    return read_registry(path).to_dict("records")


def read_release_countries(path: Path) -> Any:
    from eventdata.publish.hdx import _release_rows

    return _release_rows(path, ("country", "iso3"))


def read_places(path: Path) -> Any:
    from eventdata.gazetteer import load_places

    gazetteer, problems = load_places(path.parent, CODEBOOK)
    return gazetteer.places[["location", "alternate_names", "_line"]].to_dict("records"), problems


@dataclass(frozen=True)
class Case:
    """One reader: where its file goes, the header, the multi-line row, a sound and a ragged last row."""

    file: str
    header: str
    multiline: str
    last: str
    ragged: str
    read: Callable[[Path], Any]
    error: type[EventdataError]
    expected: Any


CASES = {
    "rule severities": Case(
        "rules.csv",
        "code,severity,reason",
        'derived-mismatch,warning,"coders fill it\nby hand"',
        "unknown-location,error,",
        "unknown-location,error,,more",
        read_severities,
        SchemaFileError,
        None,  # checked below: a dict of every rule
    ),
    "ACLED normalisations": Case(
        "acled_normalisations.csv",
        "column,value,correct,sub_event_type,source",
        'disorder_type,Demostrations,Demonstrations,,"ACLED\'s sample,\nline two"',
        "event_type,Riot,Riots,,typo",
        "event_type,Riot",
        read_normalisations,
        SchemaFileError,
        [
            ("disorder_type", "Demostrations", "Demonstrations", "ACLED's sample,\nline two"),
            ("event_type", "Riot", "Riots", "typo"),
        ],
    ),
    "coder assignments": Case(
        "seeds/assignments.csv",
        "article_id,coder",
        'a1,"ana\n"',
        "a1,ben",
        "a2",
        read_assignments,
        SchemaFileError,
        {"a1": ["ana", "ben"]},
    ),
    "adjudication decisions": Case(
        "decisions.csv",
        "field,decision",
        'notes,"keep\nboth"',
        "fatalities,3",
        "fatalities,3,4",
        read_decisions,
        SourceError,
        [{"field": "notes", "decision": "keep\nboth"}, {"field": "fatalities", "decision": "3"}],
    ),
    "id writing": Case(
        "sheet.csv",
        "notes,event_id_cnty,country",
        '"On 3 February,\na raid",,Syria',
        "later,,Syria",
        "later",
        write_ids,
        SourceError,
        '\ufeffnotes,event_id_cnty,country\n\n"On 3 February,\na raid",SYR8,Syria\n\n  ,  \nlater,SYR9,Syria\n',
    ),
    "deletions": Case(
        "deletions.csv",
        "event_id_cnty,reason",
        'SYR1,"a duplicate\nof SYR2"',
        "SYR3,withdrawn",
        "SYR3,withdrawn,extra",
        read_deletions,
        SourceError,
        {"SYR1": "a duplicate\nof SYR2", "SYR3": "withdrawn"},
    ),
    "id registry": Case(
        "event_ids.csv",
        "event_id_cnty,first_sheet",
        'SYR1,"a\nb.csv"',
        "SYR2,c.csv",
        "SYR2",
        read_registry,
        SourceError,
        [{"event_id_cnty": "SYR1", "first_sheet": "a\nb.csv"}, {"event_id_cnty": "SYR2", "first_sheet": "c.csv"}],
    ),
    "HDX: a release's countries": Case(
        "countries.csv",
        "country,iso3",
        '"Syria\n",SYR',
        "Iraq,IRQ",
        "Iraq,IRQ,368",
        read_release_countries,
        PublishError,
        [{"country": "Syria", "iso3": "SYR"}, {"country": "Iraq", "iso3": "IRQ"}],
    ),
    "place list": Case(
        "places.csv",
        "location,alternate_names,country,admin1,admin2,admin3,latitude,longitude,geonames_id,coordinate_source",
        'Atmeh,"Atma\nAtme",Syria,Idlib,Harim,Dana,36.2119,36.6851,,maps',
        "Barisha,,Syria,Idlib,Harim,,36.1627,36.6336,,maps",
        "Barisha,,Syria,Idlib,Harim,,36.1627,36.6336,,maps,extra",
        read_places,
        SchemaFileError,
        (
            [
                {"location": "Atmeh", "alternate_names": "Atma\nAtme", "_line": 3},
                {"location": "Barisha", "alternate_names": "", "_line": 7},
            ],
            [],
        ),
    ),
}


def write(tmp_path: Path, case: Case, last: str) -> Path:
    path = tmp_path / "schemas" / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(messy(case.header, case.multiline, last))
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_reader_reads_past_bom_blank_lines_and_multi_line_cells(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    result = case.read(write(tmp_path, case, case.last))
    if name == "rule severities":
        assert result["derived-mismatch"] == "warning"
        assert result["unknown-location"] == "error"
    else:
        assert result == case.expected


@pytest.mark.parametrize("name", list(CASES))
def test_reader_names_the_file_and_line_of_a_ragged_row(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    path = write(tmp_path, case, case.ragged)
    with pytest.raises(case.error) as caught:
        case.read(path)
    message = str(caught.value)
    assert f"{path.name}:7: the row has " in message, message
    assert "check for a stray or missing comma or quote" in message


@pytest.mark.parametrize("name", ["rule severities", "deletions"])
def test_a_ragged_row_in_a_dataset_file_is_exit_2_with_its_line(tmp_path: Path, name: str) -> None:
    from eventdata.cli import cli
    from eventdata.project import init_project

    case = CASES[name]
    root = tmp_path / "data"
    init_project(root)
    target = root / ("schemas/rules.csv" if name == "rule severities" else "seeds/deletions.csv")
    target.write_bytes(messy(case.header, case.multiline, case.ragged))
    result = CliRunner().invoke(cli, ["--project", str(root), "validate"])
    assert result.exit_code == 2, result.output
    assert f"{target.name}:7: " in result.output
    assert "cells but the header has" in result.output
    assert "Traceback" not in result.output
