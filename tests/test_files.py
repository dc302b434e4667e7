"""eventdata.files: the one JSON reader names the file, line and column of what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventdata.errors import ReleaseError, SchemaFileError
from eventdata.files import read_json


def test_read_json_gives_the_value(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"name": "events", "versions": [1, 2]}', encoding="utf-8")
    assert read_json(path, SchemaFileError) == {"name": "events", "versions": [1, 2]}


def test_read_json_locates_bad_json_at_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{\n  "name": "events",\n  "title" "x"\n}\n', encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"a\.json:3:11: not valid JSON \(Expecting ':' delimiter\)\. Fix it\.$"):
        read_json(path, ReleaseError, hint=" Fix it.")


def test_read_json_names_a_missing_file_and_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(SchemaFileError, match=r"b\.json is gone: restore it\.$"):
        read_json(tmp_path / "b.json", SchemaFileError, missing="is gone: restore it.")
    path = tmp_path / "c.json"
    path.write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(SchemaFileError, match=r"c\.json: not UTF-8 \(byte 7\)\."):
        read_json(path, SchemaFileError)
