"""The parsed-sheet cache: what is loaded from it is what parsing gives, and it never changes a result."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from eventdata.build import build_package
from eventdata.project import Project
from eventdata.schema import load_codebook
from eventdata.sources import sheet_cache, sheets
from eventdata.sources.sheet_cache import ENTRY_SUFFIX, TEMPORARY_MARK, SheetCache, prune
from eventdata.sources.sheets import read_sheet
from eventdata.validate import validate_project
from tests.conftest import copy_dataset


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of its own, used for every sheet (the fixtures' sheets are far under MIN_BYTES)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("EVENTDATA_SHEET_CACHE_DIR", str(folder))
    monkeypatch.setattr(sheets, "MIN_BYTES", 0)
    return folder


def _damaged_sheet(project: Project) -> Path:
    """The seed sheet with a ragged row and a control character: a sheet whose problems are cached too."""
    sheet = next(iter(project.sheet_paths()))
    lines = sheet.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("Atmeh", "At\x07meh", 1)
    lines.append("only,three,cells")
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sheet


def _read(path: Path, project: Project, cache: SheetCache | None) -> sheets.Sheet:
    codebook = load_codebook(project.schemas_dir)
    return read_sheet(path, codebook.field_names, codebook.input_required_fields, "event_id_cnty", cache=cache)


def test_a_sheet_loaded_from_the_cache_is_the_sheet_parsed(tmp_path: Path, cache_folder: Path) -> None:
    project = copy_dataset(tmp_path / "dataset")
    sheet = _damaged_sheet(project)
    parsed = _read(sheet, project, None)
    assert {p.code for p in parsed.problems} >= {"control-character"}, parsed.problems

    first = SheetCache(cache_folder)
    missed = _read(sheet, project, first)
    first.close()
    assert (first.hits, first.misses) == (0, 1)
    assert len(list(cache_folder.glob(f"*{ENTRY_SUFFIX}"))) == 1
    again = SheetCache(cache_folder)
    loaded = _read(sheet, project, again)
    again.close()
    assert (again.hits, again.misses) == (1, 0)
    for sheet_read in (missed, loaded):
        assert sheet_read.table.equals(parsed.table)
        assert sheet_read.table.schema == parsed.table.schema
        assert sheet_read.lines.tolist() == parsed.lines.tolist()
        assert sheet_read.problems == parsed.problems
        assert sheet_read.readable
    pd.testing.assert_frame_equal(loaded.frame, parsed.frame)


def test_an_edited_or_damaged_entry_is_parsed_again(tmp_path: Path, cache_folder: Path) -> None:
    project = copy_dataset(tmp_path / "dataset")
    sheet = next(iter(project.sheet_paths()))
    cache = SheetCache(cache_folder)
    _read(sheet, project, cache)
    cache.close()
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("Atmeh", "Atmah", 1), encoding="utf-8")
    edited = SheetCache(cache_folder)
    assert "Atmah" in _read(sheet, project, edited).table.column("location").to_pylist()
    edited.close()
    assert (edited.hits, edited.misses) == (0, 1)
    for entry in cache_folder.glob(f"*{ENTRY_SUFFIX}"):
        entry.write_bytes(entry.read_bytes()[:100])  # a truncated entry: not an Arrow file any more
    damaged = SheetCache(cache_folder)
    assert _read(sheet, project, damaged).table.equals(_read(sheet, project, None).table)
    damaged.close()
    assert damaged.misses == 1
    repaired = SheetCache(cache_folder)  # the damaged entry was replaced by the sheet parsed again
    assert _read(sheet, project, repaired).table.equals(_read(sheet, project, None).table)
    repaired.close()
    assert (repaired.hits, repaired.misses) == (1, 0)


def test_a_failed_validation_leaves_no_cache_writer_running(
    tmp_path: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import eventdata.validate as validate

    project = copy_dataset(tmp_path / "dataset")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a step failed")

    monkeypatch.setattr(validate, "start", broken)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            validate_project(project)
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "eventdata-sheet-cache" and t.is_alive()]


def test_validation_and_the_package_are_the_same_with_a_cold_a_warm_and_no_cache(
    tmp_path: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_dataset(tmp_path / "dataset")
    _damaged_sheet(project)
    runs = []
    for setting in (str(cache_folder), str(cache_folder), ""):  # cold, warm, off
        monkeypatch.setenv("EVENTDATA_SHEET_CACHE_DIR", setting)
        runs.append(validate_project(project, timestamp=1))
    assert list(cache_folder.glob(f"*{ENTRY_SUFFIX}"))
    for run in runs[1:]:
        assert run.report.problems == runs[0].report.problems
        pd.testing.assert_frame_equal(run.events, runs[0].events)

    fixed = copy_dataset(tmp_path / "valid")
    packages = []
    for number, setting in enumerate((str(cache_folder), str(cache_folder), "")):
        monkeypatch.setenv("EVENTDATA_SHEET_CACHE_DIR", setting)
        target = tmp_path / f"package-{number}"
        build_package(fixed, target)
        packages.append({p.relative_to(target): hashlib.sha256(p.read_bytes()).hexdigest() for p in target.rglob("*")
                         if p.is_file()})  # fmt: skip
    assert packages[0] == packages[1] == packages[2]


def test_the_cache_is_off_when_its_folder_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTDATA_SHEET_CACHE_DIR", "")
    assert sheet_cache.cache_dir() is None
    monkeypatch.setenv("EVENTDATA_SHEET_CACHE_DIR", "off")
    assert SheetCache.configured() is None
    monkeypatch.delenv("EVENTDATA_SHEET_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert sheet_cache.cache_dir() == tmp_path / "eventdata" / "sheets"


def test_prune_removes_the_least_recently_used_entries_and_stale_temporary_files(tmp_path: Path) -> None:
    now = time.time()
    for age, name in enumerate(("newest", "middle", "oldest")):
        entry = tmp_path / f"{name}{ENTRY_SUFFIX}"
        entry.write_bytes(b"x" * 1000)
        os.utime(entry, (now - age * 60, now - age * 60))
    stale, fresh = tmp_path / f"a{TEMPORARY_MARK}1-1", tmp_path / f"b{TEMPORARY_MARK}1-2"
    for part, age in ((stale, 7200), (fresh, 0)):
        part.write_bytes(b"partial")
        os.utime(part, (now - age, now - age))
    prune(tmp_path, 2000)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"newest{ENTRY_SUFFIX}", f"middle{ENTRY_SUFFIX}", fresh.name]
    )


def test_a_command_stores_no_more_than_the_cache_may_hold(
    tmp_path: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_dataset(tmp_path / "dataset")
    monkeypatch.setenv("EVENTDATA_SHEET_CACHE_MAX_MB", "0")
    cache = SheetCache(cache_folder)
    for sheet in project.sheet_paths():
        _read(sheet, project, cache)
    cache.close()
    assert not list(cache_folder.glob(f"*{ENTRY_SUFFIX}"))  # nothing fits: nothing is written and nothing pruned
