"""build_package: a valid, reproducible, never-overwritten data package that pandas, pyarrow and DuckDB read."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import frictionless
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from eventdata.build import BuildResult, build_package
from eventdata.errors import ReleaseError, SourceError
from eventdata.project import Project
from eventdata.read import read_events
from tests.conftest import SEED_ARTICLE, read_rows, write_rows

PACKAGE_FILES = {
    "README.md",
    "codebook.md",
    "datapackage.json",
    "data/articles.csv",
    "data/events.csv",
    "data/events.parquet",
}
INTEGER_DUCKDB_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
TABLE_SCHEMA_ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "date": pa.date32()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_hashes(package_dir: Path) -> dict[str, str]:
    """sha256 of every file below package_dir, by relative path."""
    return {p.relative_to(package_dir).as_posix(): sha256(p) for p in sorted(package_dir.rglob("*")) if p.is_file()}


def dataset_json(project: Project) -> dict[str, Any]:
    return json.loads((project.schemas_dir / "dataset.json").read_text(encoding="utf-8"))


def descriptor(package_dir: Path) -> dict[str, Any]:
    return json.loads((package_dir / "datapackage.json").read_text(encoding="utf-8"))


def resource(package: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in package["resources"] if r["name"] == name)


def id_number(event_id: str) -> int:
    return int(event_id[3:])


def plain(table: pa.Table) -> pa.Table:
    """The table with dictionary columns decoded, so CSV and Parquet readings compare."""
    fields = [
        pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type, f.nullable)
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))


def assert_frictionless_valid(path: Path) -> frictionless.Report:
    report = frictionless.validate(str(path))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    return report


@pytest.fixture
def built(project: Project) -> BuildResult:
    """The seeds dataset, built into the project's dist-data/."""
    result = build_package(project)
    assert result.status == "built", [p.format() for p in result.report.problems]
    return result


# --- what a build writes ----------------------------------------------------------------------


def test_every_recorded_hash_and_size_is_that_of_the_file_written(built: BuildResult) -> None:
    """Digests remembered while writing (hard link, sources copied on the write pool) match the bytes on disk."""
    package = built.package_dir
    record = descriptor(package)
    hashes = file_hashes(package)
    for resource in record["resources"]:
        assert resource["hash"] == f"sha256:{hashes[resource['path']]}", resource["path"]
        assert resource["bytes"] == (package / resource["path"]).stat().st_size
    for source in record["eventdata:sources"]:
        assert source["sha256"] == hashes[source["path"]], source["path"]
    # A first build adds every event: changes/added.csv holds the bytes of data/events.csv, linked where possible.
    assert hashes["changes/added.csv"] == hashes["data/events.csv"]


def test_build_writes_every_package_file(project: Project, built: BuildResult, seed_rows: list[dict[str, str]]) -> None:
    dataset = dataset_json(project)
    # Nothing is released yet: the package is a draft of what `eventdata release` would make, never a version.
    assert (built.draft, built.version, built.next_version) == (True, "1.0.0-draft", "1.0.0")
    assert built.package_dir == project.dist_dir / dataset["name"] / "draft"
    assert descriptor(built.package_dir)["version"] == "1.0.0-draft"
    assert built.report.valid
    assert built.report.rows == len(seed_rows)
    assert set(file_hashes(built.package_dir)) >= PACKAGE_FILES
    assert built.files == file_hashes(built.package_dir)  # every file written has its sha256 in the result


def test_build_passes_frictionless_validate(built: BuildResult) -> None:
    path = built.package_dir / "datapackage.json"
    report = assert_frictionless_valid(path)
    assert len(report.tasks) == len(descriptor(built.package_dir)["resources"])
    assert {task.name for task in report.tasks} >= {"events", "events-parquet", "articles"}


def test_build_passes_frictionless_cli(built: BuildResult) -> None:
    executable = Path(sys.executable).parent / "frictionless"
    completed = subprocess.run(
        [str(executable), "validate", "--json", str(built.package_dir / "datapackage.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert json.loads(completed.stdout)["valid"] is True


def test_build_package_records_bytes_and_sha256_of_each_file(built: BuildResult) -> None:
    package = descriptor(built.package_dir)
    paths = []
    for entry in package["resources"]:
        path = built.package_dir / entry["path"]
        assert entry["bytes"] == path.stat().st_size, entry["path"]
        assert entry["hash"] == f"sha256:{sha256(path)}", entry["path"]
        paths.append(entry["path"])
    assert set(paths) >= PACKAGE_FILES - {"datapackage.json", "README.md"}
    readme = (built.package_dir / "README.md").read_text(encoding="utf-8")
    for path in paths:
        assert sha256(built.package_dir / path) in readme, path


# --- reading the Parquet ------------------------------------------------------------------------


def test_build_parquet_types_in_pyarrow(built: BuildResult, seed_rows: list[dict[str, str]]) -> None:
    path = built.package_dir / "data" / "events.parquet"
    table = pq.read_table(path)
    assert table.num_rows == len(seed_rows)
    schema = table.schema
    assert schema.field("event_date").type == pa.date32()
    assert pa.types.is_integer(schema.field("fatalities").type)
    assert pa.types.is_dictionary(schema.field("event_type").type)
    assert pa.types.is_string(schema.field("event_type").type.value_type)
    assert schema.field("latitude").type == pa.float64()
    assert b"pandas" not in (schema.metadata or {})  # no pandas metadata: the bytes do not depend on pandas
    column_names = [c["name"] for c in resource(descriptor(built.package_dir), "events")["schema"]["fields"]]
    assert table.column_names == column_names  # codebook order
    metadata = pq.ParquetFile(path).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_build_parquet_types_in_pandas(built: BuildResult, seed_rows: list[dict[str, str]]) -> None:
    events = pd.read_parquet(built.package_dir / "data" / "events.parquet")
    assert len(events) == len(seed_rows)
    dates = events["event_date"]
    assert pd.api.types.is_datetime64_any_dtype(dates) or all(type(d) is dt.date for d in dates)
    assert pd.api.types.is_integer_dtype(events["fatalities"])
    assert isinstance(events["event_type"].dtype, pd.CategoricalDtype)
    by_id = {r["event_id_cnty"]: r for r in seed_rows}
    for event_id, date, fatalities, event_type in events[
        ["event_id_cnty", "event_date", "fatalities", "event_type"]
    ].itertuples(index=False):
        assert pd.Timestamp(date) == pd.Timestamp(by_id[event_id]["event_date"])
        assert fatalities == int(by_id[event_id]["fatalities"])
        assert event_type == by_id[event_id]["event_type"]


def test_build_parquet_types_in_duckdb(built: BuildResult, seed_rows: list[dict[str, str]]) -> None:
    path = (built.package_dir / "data" / "events.parquet").as_posix()
    relation = duckdb.sql(f"select event_id_cnty, event_date, fatalities, event_type from '{path}'")
    types = dict(zip(relation.columns, (str(t) for t in relation.types), strict=True))
    assert types["event_date"] == "DATE"
    assert types["fatalities"] in INTEGER_DUCKDB_TYPES
    assert types["event_type"] in {"VARCHAR", "ENUM"} or types["event_type"].startswith("ENUM")
    rows = relation.fetchall()
    expected = [
        (r["event_id_cnty"], dt.date.fromisoformat(r["event_date"]), int(r["fatalities"]), r["event_type"])
        for r in sorted(seed_rows, key=lambda r: id_number(r["event_id_cnty"]))
    ]
    assert rows == expected
    total = duckdb.sql(f"select sum(fatalities) from '{path}'").fetchall()
    assert total == [(sum(int(r["fatalities"]) for r in seed_rows),)]


def test_build_csv_and_parquet_hold_the_same_rows(built: BuildResult) -> None:
    fields = resource(descriptor(built.package_dir), "events")["schema"]["fields"]
    column_types = {f["name"]: TABLE_SCHEMA_ARROW_TYPES[f["type"]] for f in fields}
    from_csv = pa_csv.read_csv(
        built.package_dir / "data" / "events.csv",
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types=column_types, strings_can_be_null=True),
    )
    from_parquet = plain(pq.read_table(built.package_dir / "data" / "events.parquet"))
    assert from_csv.column_names == from_parquet.column_names
    assert from_csv.num_rows == from_parquet.num_rows
    from_parquet = from_parquet.cast(from_csv.schema)
    for name in from_csv.column_names:
        assert from_csv[name].equals(from_parquet[name]), name

    # pandas, typed from the published Table Schema, gives the frame read_events gives.
    dates = [f["name"] for f in fields if f["type"] == "date"]
    dtypes = {"string": "string", "integer": "Int64", "number": "Float64"}
    frame = pd.read_csv(
        built.package_dir / "data" / "events.csv",
        dtype={f["name"]: dtypes[f["type"]] for f in fields if f["type"] != "date"},
        keep_default_na=False,
        na_values=[""],
        parse_dates=dates,
    )
    events = read_events(built.package_dir)
    pd.testing.assert_frame_equal(frame, events.astype(frame.dtypes.to_dict()))


def test_build_sorts_rows_by_id_number(project: Project, seed_rows: list[dict[str, str]]) -> None:
    write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", list(reversed(seed_rows)))
    result = build_package(project)
    assert result.status == "built"
    ids = [r["event_id_cnty"] for r in seed_rows]
    expected = sorted(ids, key=id_number)
    assert expected != sorted(ids), "the seeds need ids of more than one digit for this test to mean something"
    parquet_ids = pq.read_table(result.package_dir / "data" / "events.parquet")["event_id_cnty"].to_pylist()
    csv_ids = pd.read_csv(result.package_dir / "data" / "events.csv", dtype=str)["event_id_cnty"].tolist()
    assert parquet_ids == expected
    assert csv_ids == expected
    assert parquet_ids.index("SYR2") < parquet_ids.index("SYR10")


# --- reproducibility ----------------------------------------------------------------------------


def test_build_twice_gives_identical_files(project: Project, tmp_path: Path) -> None:
    copy = Project(tmp_path / "elsewhere" / "dataset")
    shutil.copytree(project.root, copy.root)
    first = build_package(project, tmp_path / "first")
    second = build_package(project, tmp_path / "second")
    third = build_package(copy, tmp_path / "third")
    assert (first.status, second.status, third.status) == ("built", "built", "built")
    hashes = file_hashes(first.package_dir)
    assert set(hashes) >= PACKAGE_FILES
    assert file_hashes(second.package_dir) == hashes
    assert file_hashes(third.package_dir) == hashes
    assert first.files == second.files == third.files == hashes


def test_build_source_date_epoch_sets_created_and_timestamp(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def build(folder: str) -> tuple[str, set[int], dict[str, str]]:
        result = build_package(project, tmp_path / folder)
        assert result.status == "built"
        timestamps = set(pq.read_table(result.package_dir / "data" / "events.parquet")["timestamp"].to_pylist())
        return descriptor(result.package_dir)["created"], timestamps, file_hashes(result.package_dir)

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # No release yet: a draft is dated by the newest article it draws on (never by the clock).
    newest = max(r["published"] for r in read_rows(project.articles_index))
    created, timestamps, release_hashes = build("release-date")
    assert created == f"{newest}T00:00:00Z"
    day = dt.date.fromisoformat(newest)
    assert timestamps == {int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())}

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    created, timestamps, epoch_hashes = build("epoch")
    assert created == "2023-11-14T22:13:20Z"
    assert timestamps == {1700000000}
    assert build("epoch-again")[2] == epoch_hashes
    changed = {name for name in epoch_hashes if epoch_hashes[name] != release_hashes[name]}
    assert {"datapackage.json", "data/events.csv", "data/events.parquet", "README.md"} <= changed
    assert epoch_hashes["codebook.md"] == release_hashes["codebook.md"]


# --- what a build refuses to do --------------------------------------------------------------------


def test_build_invalid_sheet_writes_nothing(project: Project, edit_sheet: Callable[..., Path], tmp_path: Path) -> None:
    edit_sheet({1: {"fatalities": "-3"}})
    result = build_package(project)
    assert result.status == "invalid"
    assert [(p.line, p.column, p.code) for p in result.report.problems] == [(3, "fatalities", "minimum-error")]
    assert list(project.dist_dir.rglob("*")) == []  # no package folder, no temporary folder
    out = tmp_path / "out" / "package"
    assert build_package(project, out).status == "invalid"
    assert not (tmp_path / "out").exists()


def test_build_same_version_identical_content_is_unchanged(project: Project, built: BuildResult) -> None:
    before = file_hashes(built.package_dir)
    mtimes = {p: p.stat().st_mtime_ns for p in built.package_dir.rglob("*")}
    again = build_package(project)
    assert again.status == "unchanged"
    assert again.package_dir == built.package_dir
    assert again.files == before
    assert file_hashes(built.package_dir) == before
    assert {p: p.stat().st_mtime_ns for p in built.package_dir.rglob("*")} == mtimes
    assert list(built.package_dir.parent.iterdir()) == [built.package_dir]  # no temporary folder left


def test_build_of_changed_sheets_replaces_the_draft(
    project: Project, built: BuildResult, seed_rows: list[dict[str, str]], edit_sheet: Callable[..., Path]
) -> None:
    before = file_hashes(built.package_dir)
    edit_sheet({1: {"notes": seed_rows[1]["notes"] + " Corrected."}})
    again = build_package(project)
    assert (again.status, again.package_dir, again.version) == ("built", built.package_dir, "1.0.0-draft")
    after = file_hashes(again.package_dir)
    assert after == again.files
    assert after["data/events.csv"] != before["data/events.csv"]
    assert list(built.package_dir.parent.iterdir()) == [built.package_dir]  # no temporary folder left


def test_build_after_release_is_the_release_then_a_draft_of_the_next_version(
    project: Project, seed_rows: list[dict[str, str]], edit_sheet: Callable[..., Path]
) -> None:
    from eventdata.release import release_version

    released = release_version(project, release_date=dt.date(2026, 12, 1))
    assert (released.status, released.version) == ("released", "1.0.0")
    assert released.path is not None
    release_files = file_hashes(released.path)
    same = build_package(project)
    assert (same.status, same.package_dir, same.version, same.draft) == ("unchanged", released.path, "1.0.0", False)
    edit_sheet({1: {"notes": seed_rows[1]["notes"] + " Corrected."}})
    draft = build_package(project)
    assert (draft.status, draft.version, draft.next_version, draft.previous) == (
        "built",
        "1.0.1-draft",
        "1.0.1",
        "1.0.0",
    )
    assert draft.counts["modified"] == 1
    assert file_hashes(released.path) == release_files  # a release is never touched by build
    corrected = release_version(project, release_date=dt.date(2026, 12, 2))
    assert (corrected.status, corrected.version) == ("released", "1.0.1")  # the version the draft announced


def test_build_refuses_an_out_dir_with_other_content_and_leaves_inputs_untouched(
    project: Project, tmp_path: Path, seed_rows: list[dict[str, str]]
) -> None:
    out = tmp_path / "out"
    assert build_package(project, out).status == "built"
    before = file_hashes(out)
    new_event = dict(seed_rows[1], event_id_cnty="", event_date="2022-01-19", notes="On 19 January 2022, a new event.")
    write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", [*seed_rows, new_event])
    inputs = file_hashes(project.seeds_dir)
    with pytest.raises(ReleaseError) as caught:
        build_package(project, out)
    assert str(out) in str(caught.value)
    assert file_hashes(project.seeds_dir) == inputs
    assert file_hashes(out) == before


@pytest.mark.parametrize("inside", ["seeds/sheets/package", "schemas", "seeds"])
def test_build_refuses_an_out_dir_among_the_inputs(project: Project, inside: str) -> None:
    inputs = {folder: file_hashes(project.root / folder) for folder in ("schemas", "seeds")}
    with pytest.raises(SourceError, match=r"Cannot build into .*: it is inside .*, which holds the dataset's inputs"):
        build_package(project, project.root / inside)
    assert {folder: file_hashes(project.root / folder) for folder in ("schemas", "seeds")} == inputs
    assert not (project.root / "seeds" / "sheets" / "package").exists()


# --- reading a package back -----------------------------------------------------------------------


def test_read_events_same_frame_from_folder_descriptor_and_parquet(built: BuildResult) -> None:
    package_dir = built.package_dir
    from_folder = read_events(package_dir)
    for source in (
        str(package_dir),
        package_dir / "datapackage.json",
        str(package_dir / "datapackage.json"),
        package_dir / "data" / "events.parquet",
    ):
        pd.testing.assert_frame_equal(read_events(source), from_folder)
    assert pd.api.types.is_datetime64_any_dtype(from_folder["event_date"])
    assert pd.api.types.is_integer_dtype(from_folder["fatalities"])
    assert isinstance(from_folder["event_type"].dtype, pd.CategoricalDtype)
    assert from_folder["event_id_cnty"].tolist() == sorted(from_folder["event_id_cnty"], key=id_number)


# --- the hashes are checked -------------------------------------------------------------------------


def tamper(path: Path) -> None:
    """Change one lower-case letter in the second half of the file, keeping its size."""
    data = bytearray(path.read_bytes())
    index = next(i for i in range(len(data) // 2, len(data)) if ord("a") <= data[i] <= ord("y"))
    data[index] += 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["data/events.csv", "data/events.parquet", "data/articles.csv", "codebook.md"])
def test_build_tampered_file_fails_frictionless_validate(built: BuildResult, name: str) -> None:
    assert_frictionless_valid(built.package_dir / "datapackage.json")
    size = (built.package_dir / name).stat().st_size
    tamper(built.package_dir / name)
    assert (built.package_dir / name).stat().st_size == size
    report = frictionless.validate(str(built.package_dir / "datapackage.json"))
    assert not report.valid
    errors = report.flatten(["type", "note"])
    assert ["hash-count", f'expected is "{built.files[name]}" and actual is "{sha256(built.package_dir / name)}"'] in (
        errors
    )


# --- an empty dataset ---------------------------------------------------------------------------------


def test_build_empty_dataset(project: Project) -> None:
    for sheet in project.sheet_paths():
        sheet.unlink()
    result = build_package(project)
    assert result.status == "built"
    assert result.report.rows == 0
    assert set(file_hashes(result.package_dir)) >= PACKAGE_FILES
    assert_frictionless_valid(result.package_dir / "datapackage.json")
    table = pq.read_table(result.package_dir / "data" / "events.parquet")
    assert table.num_rows == 0
    assert table.schema.field("event_date").type == pa.date32()
    events = read_events(result.package_dir)
    assert events.empty
    assert list(events.columns) == table.column_names
    assert (result.package_dir / "data" / "events.csv").read_text(encoding="utf-8").count("\n") == 1  # header only


# --- categoricals: the codebook's whole vocabulary, in every version --------------------------------------


def test_build_parquet_dictionaries_hold_the_whole_vocabulary_in_codebook_order(built: BuildResult) -> None:
    from eventdata.schema import load_codebook

    codebook = load_codebook(built.package_dir / "sources" / "schemas")
    frame = pd.read_parquet(built.package_dir / "data" / "events.parquet")
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    assert categorical == ["disorder_type", "event_type", "sub_event_type", "region", "country"]
    for name in categorical:
        vocabulary = codebook.field(name)["constraints"]["enum"]
        assert list(frame[name].cat.categories) == vocabulary, name
        assert len(vocabulary) > frame[name].nunique()  # unused values are kept
    assert descriptor(built.package_dir)["eventdata:package_format"] == 2
    events = read_events(built.package_dir)
    assert {c: events[c].dtype for c in categorical} == {c: frame[c].dtype for c in categorical}


def test_read_events_of_two_versions_gives_identical_categorical_dtypes() -> None:
    from tests.conftest import REPO

    releases = REPO / "dist-data" / "eventdata-seeds"
    old, new = read_events(releases / "1.0.0"), read_events(releases / "1.1.0")
    assert old.dtypes.to_dict() == new.dtypes.to_dict()
    assert isinstance(old["event_type"].dtype, pd.CategoricalDtype)
    assert len(old["country"].cat.categories) > 200  # the countries vocabulary, not the one country present
    both = pd.concat([old, new], ignore_index=True)
    for name in ("disorder_type", "event_type", "sub_event_type", "region", "country"):
        assert both[name].dtype == old[name].dtype, name


def test_read_events_of_an_empty_dataset_keeps_the_vocabulary(project: Project) -> None:
    for sheet in project.sheet_paths():
        sheet.unlink()
    result = build_package(project)
    events = read_events(result.package_dir)
    assert events.empty
    assert list(events["event_type"].cat.categories)[:2] == ["Battles", "Protests"]


def test_build_of_the_repository_is_its_latest_release_in_its_own_format(tmp_path: Path) -> None:
    """The inputs 1.1.1 recorded reproduce the seeds release 1.1.1 (package format 2): build is that release."""
    from tests.conftest import REPO

    root = tmp_path / "repository"
    shutil.copytree(REPO / "dist-data", root / "dist-data")
    release = root / "dist-data" / "eventdata-seeds" / "1.1.1"
    for folder in ("schemas", "seeds"):  # the inputs 1.1.1 records (the repository's own may have moved on since)
        shutil.copytree(release / "sources" / folder, root / folder)
    assert descriptor(release)["eventdata:package_format"] == 2
    result = build_package(Project(root))
    assert (result.status, result.package_dir, result.version, result.draft) == ("unchanged", release, "1.1.1", False)
    assert result.report.warnings == ()
    copied = build_package(Project(root), tmp_path / "copy")
    assert copied.status == "built"
    assert file_hashes(tmp_path / "copy") == file_hashes(release)
    assert not (release.parent / "draft").exists()


def test_build_of_the_repository_as_1_1_0_left_it_is_that_release(tmp_path: Path) -> None:
    """The inputs 1.1.0 recorded, with the releases up to 1.1.0, reproduce the seeds release 1.1.0 (format 2).

    Its schemas/dataset.json still names version 1.1.0, as eventdata did then: the key is ignored, with a warning.
    """
    from tests.conftest import REPO

    root = tmp_path / "repository"
    shutil.copytree(REPO / "dist-data", root / "dist-data", ignore=shutil.ignore_patterns("1.1.1"))
    release = root / "dist-data" / "eventdata-seeds" / "1.1.0"
    for folder in ("schemas", "seeds"):
        shutil.copytree(release / "sources" / folder, root / folder)
    assert descriptor(release)["eventdata:package_format"] == 2
    result = build_package(Project(root))
    assert (result.status, result.package_dir, result.version, result.draft) == ("unchanged", release, "1.1.0", False)
    assert [(p.code, p.column, p.severity) for p in result.report.warnings] == [
        ("dataset-key-unused", "version", "warning"),
        ("dataset-key-unused", "created", "warning"),
    ]
    copied = build_package(Project(root), tmp_path / "copy")
    assert copied.status == "built"
    assert file_hashes(tmp_path / "copy") == file_hashes(release)
    assert not (release.parent / "draft").exists()


def test_build_after_a_metadata_change_only_is_a_draft_release_would_not_make(project: Project) -> None:
    from eventdata.release import release_version

    assert release_version(project, release_date=dt.date(2026, 12, 1)).status == "released"
    path = project.schemas_dir / "dataset.json"
    path.write_text(json.dumps({**dataset_json(project), "description": "Reworded."}), encoding="utf-8")
    draft = build_package(project)
    assert (draft.status, draft.draft, draft.version, draft.next_version) == ("built", True, "1.0.1-draft", None)
    assert release_version(project, release_date=dt.date(2026, 12, 2)).status == "nothing-to-release"


# --- a build only reads its inputs --------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    completed = subprocess.run(  # noqa: S603
        ["git", "-C", str(root), *args],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root), "PATH": "/usr/bin:/bin"},
    )
    return completed.stdout


def committed_dataset(tmp_path: Path) -> Project:
    """A copy of the dataset whose rows all have ids, as a git repository (with the repository's .gitignore, which
    ignores drafts) with everything committed."""
    from tests.conftest import REPO, copy_dataset

    project = copy_dataset(tmp_path / "repo")
    shutil.copyfile(REPO / ".gitignore", project.root / ".gitignore")
    git(project.root, "init", "-q")
    git(project.root, "add", "-A")
    git(project.root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "dataset")
    return project


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_build_leaves_git_status_clean_on_rows_with_ids(tmp_path: Path) -> None:
    project = committed_dataset(tmp_path)

    result = build_package(project)

    assert (result.status, result.unassigned) == ("built", 0)
    assert (result.package_dir / "datapackage.json").is_file()
    assert git(project.root, "status", "--porcelain", "--untracked-files=all") == ""
    # and a release afterwards adds only its version folder, catalog and changelog: no input changes
    from eventdata.release import release_version

    assert release_version(project, release_date=dt.date(2026, 12, 1)).status == "released"
    changed = git(project.root, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert all(line.startswith("?? dist-data/eventdata-seeds/") for line in changed), changed


def test_build_of_rows_without_ids_gives_provisional_ids_and_leaves_the_inputs_unchanged(
    project: Project, seed_rows: list[dict[str, str]]
) -> None:
    from eventdata.assign import assign_new_ids

    new_event = dict(seed_rows[1], event_id_cnty="", event_date="2022-01-19", notes="On 19 January 2022, a new event.")
    write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", [*seed_rows, new_event])
    inputs = {folder: file_hashes(project.root / folder) for folder in ("schemas", "seeds")}

    result = build_package(project)

    assert (result.status, result.unassigned) == ("built", 1)
    assert {folder: file_hashes(project.root / folder) for folder in ("schemas", "seeds")} == inputs
    draft_ids = set(pq.read_table(result.package_dir / "data" / "events.parquet")["event_id_cnty"].to_pylist())
    (provisional,) = draft_ids - {r["event_id_cnty"] for r in seed_rows}
    # the draft's own copy of its sources has the provisional id, so the draft rebuilds from itself
    sources = result.package_dir / "sources" / "seeds"
    assert provisional in (sources / "event_ids.csv").read_text(encoding="utf-8")
    # assign-ids writes the very numbers the draft showed
    assigned = assign_new_ids(project)
    assert [event_id for _, _, event_id in assigned.ids] == [provisional]
    assert [r["event_id_cnty"] for r in read_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv")][-1] == provisional
    assert (project.seeds_dir / "event_ids.csv").read_bytes() == (sources / "event_ids.csv").read_bytes()


def test_build_after_a_readme_template_change_is_still_the_release(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventdata import build
    from eventdata.release import release_version

    released = release_version(project, release_date=dt.date(2026, 12, 1))
    assert released.path is not None
    real = build.release_readme
    monkeypatch.setattr(build, "release_readme", lambda *a: real(*a).replace("## Contents", "## What it holds"))

    again = build_package(project)

    assert (again.status, again.package_dir, again.version) == ("unchanged", released.path, "1.0.0")
