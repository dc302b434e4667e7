"""The command line: exit codes, located messages on stderr, results on stdout, and the files written."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventdata.cli import cli
from eventdata.project import Project, load_project
from eventdata.schema import load_codebook
from eventdata.validate import validate_project
from tests.conftest import REPO, SEED_ARTICLE, write_rows

#: The seed sheet as the CLI names it when run from tmp_path (the `in_dir` fixture) on the `project` fixture.
SHEET = f"dataset/seeds/sheets/{SEED_ARTICLE}.csv"


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def written(project: Project) -> list[Path]:
    return sorted(project.dist_dir.rglob("*"))


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None)


def package_files(package_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(package_dir).as_posix(): p.read_bytes() for p in package_dir.rglob("*") if p.is_file()}


# --- validate ----------------------------------------------------------------------------------


def test_cli_validate_seeds_exit_0(project: Project, in_dir: Path, seed_rows: list[dict[str, str]]) -> None:
    result = run("--project", "dataset", "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"{len(seed_rows)} event(s) in 1 sheet(s): valid." in result.stderr


def test_cli_validate_bad_sheet_exit_1_with_located_lines(
    project: Project, in_dir: Path, edit_sheet: Callable[..., Path]
) -> None:
    edit_sheet({1: {"fatalities": "-3"}, 4: {"event_type": "Battle"}})
    result = run("--project", "dataset", "validate")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{SHEET}:3: fatalities='-3' [minimum-error] ")
    assert lines[1].startswith(f"{SHEET}:6: event_type='Battle' [enum-error] ")
    assert "Did you mean 'Battles'?" in lines[1]
    assert lines[2].startswith("2 problem(s) in 1 sheet(s)")
    assert_no_traceback(result)


@pytest.mark.parametrize(
    "paths",
    [
        (SHEET, SHEET),
        (SHEET, f"./{SHEET}"),
        ("dataset/seeds/sheets", SHEET),
        (SHEET, "dataset/seeds/../seeds/sheets"),
    ],
    ids=["same-path-twice", "spelled-two-ways", "folder-then-its-sheet", "sheet-then-its-folder"],
)
def test_cli_validate_reads_a_sheet_named_twice_once(
    project: Project, in_dir: Path, seed_rows: list[dict[str, str]], paths: tuple[str, str]
) -> None:
    result = run("--project", "dataset", "validate", *paths, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["files"], report["rows"], report["problem_count"]) == ([SHEET], len(seed_rows), 0)
    assert result.stderr == f"{len(seed_rows)} event(s) in 1 sheet(s): valid.\n"


def test_cli_validate_refuses_an_article_published_after_today_or_in_an_unknown_language(
    project: Project, in_dir: Path
) -> None:
    index = project.articles_index
    index.write_text(index.read_text(encoding="utf-8").replace(",2022-02-03,en,", ",9999-12-31,xxx,"), encoding="utf-8")

    result = run("--project", "dataset", "validate")

    assert (result.exit_code, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        "dataset/seeds/articles.csv:2: language='xxx' [enum-error] the language must be an ISO 639 code"
    )
    assert lines[1].startswith(
        "dataset/seeds/articles.csv:2: published='9999-12-31' [future-date] the article cannot have been published "
        "after today ("
    )
    assert lines[2:] == ["2 problem(s) in 1 sheet(s), 12 row(s): 1 enum-error, 1 future-date."]


@pytest.mark.parametrize("make", [Path.mkdir, lambda path: None], ids=["empty-folder", "missing-folder"])
def test_cli_project_not_a_dataset_exit_2(tmp_path: Path, make: Callable[[Path], object]) -> None:
    folder = tmp_path / "not-a-dataset"
    make(folder)
    result = run("--project", folder, "validate")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert str(folder) in result.stderr
    assert "eventdata init" in result.stderr
    assert_no_traceback(result)


@pytest.mark.parametrize(
    "changes", [{}, {1: {"fatalities": "-3"}, 2: {"event_id_cnty": "SYR2"}}], ids=["valid", "invalid"]
)
def test_cli_validate_json_equals_library_report(
    project: Project, in_dir: Path, edit_sheet: Callable[..., Path], changes: dict[int, dict[str, str]]
) -> None:
    edit_sheet(changes)
    result = run("--project", "dataset", "validate", "--json")
    expected = validate_project(load_project("dataset")).report.to_dict()
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))
    assert result.exit_code == (0 if expected["valid"] else 1)
    assert expected["problem_count"] == (3 if changes else 0)


# --- build -------------------------------------------------------------------------------------


def test_cli_build_prints_package_dir(project: Project, in_dir: Path) -> None:
    result = run("--project", "dataset", "build")
    assert result.exit_code == 0, result.output
    dataset = json.loads((project.schemas_dir / "dataset.json").read_text(encoding="utf-8"))
    package_dir = Path("dataset") / "dist-data" / dataset["name"] / "draft"  # nothing is released yet
    assert result.stdout == f"{package_dir}\n"
    assert "Draft 1.0.0-draft of 12 event(s) was written" in result.stderr
    assert "A draft is not a release: `eventdata release` makes version 1.0.0." in result.stderr
    assert json.loads((package_dir / "datapackage.json").read_text(encoding="utf-8"))["version"] == "1.0.0-draft"
    for name in ("datapackage.json", "README.md", "codebook.md", "data/events.csv", "data/events.parquet"):
        assert (package_dir / name).is_file(), name


def test_cli_build_invalid_writes_nothing(project: Project, in_dir: Path, edit_sheet: Callable[..., Path]) -> None:
    edit_sheet({1: {"fatalities": "-3"}})
    result = run("--project", "dataset", "build")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"{SHEET}:3: fatalities='-3' [minimum-error] ")
    assert "Nothing was written" in result.stderr
    assert written(project) == []
    out = in_dir / "out"
    assert run("--project", "dataset", "build", "--out-dir", out).exit_code == 1
    assert not out.exists()


def test_cli_build_twice_says_identical(project: Project, in_dir: Path) -> None:
    first = run("--project", "dataset", "build")
    assert first.exit_code == 0, first.output
    files = package_files(Path(first.stdout.strip()))
    second = run("--project", "dataset", "build")
    assert second.exit_code == 0, second.output
    assert second.stdout == first.stdout
    assert "Draft 1.0.0-draft of 12 event(s) is up to date" in second.stderr
    assert package_files(Path(first.stdout.strip())) == files


def test_cli_build_after_a_release_is_that_release(project: Project, in_dir: Path) -> None:
    released = run("--project", "dataset", "release", "--date", "2026-12-01")
    assert released.exit_code == 0, released.output
    files = package_files(Path(released.stdout.strip()))
    built = run("--project", "dataset", "build")
    assert built.exit_code == 0, built.output
    assert built.stdout == released.stdout
    assert "The sheets hold released version 1.0.0, unchanged" in built.stderr
    assert package_files(Path(built.stdout.strip())) == files


def test_cli_build_of_edited_sheets_is_a_draft_never_a_release(
    project: Project, in_dir: Path, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    released = run("--project", "dataset", "release", "--date", "2026-12-01")
    assert released.exit_code == 0, released.output
    release_dir = Path(released.stdout.strip())
    files = package_files(release_dir)
    edit_sheet({1: {"notes": seed_rows[1]["notes"] + " Corrected."}})
    built = run("--project", "dataset", "build")
    assert built.exit_code == 0, built.output
    assert Path(built.stdout.strip()) == release_dir.parent / "draft"
    assert "Draft 1.0.1-draft of 12 event(s) was written (since 1.0.0: 0 added, 1 corrected, 0 deleted)" in (
        built.stderr
    )
    assert "`eventdata release` makes version 1.0.1." in built.stderr
    assert package_files(release_dir) == files  # the release is untouched
    assert sorted(p.name for p in release_dir.parent.iterdir()) == ["1.0.0", "CHANGELOG.md", "catalog.json", "draft"]
    again = run("--project", "dataset", "release", "--date", "2026-12-02")
    assert again.exit_code == 0, again.output
    assert "Released 1.0.1" in again.stderr


def test_cli_build_out_dir_with_other_content_exit_2(
    project: Project, in_dir: Path, edit_sheet: Callable[..., Path], seed_rows: list[dict[str, str]]
) -> None:
    first = run("--project", "dataset", "build", "--out-dir", "out")
    assert first.exit_code == 0, first.output
    files = package_files(in_dir / "out")
    edit_sheet({1: {"notes": seed_rows[1]["notes"] + " Corrected."}})
    second = run("--project", "dataset", "build", "--out-dir", "out")
    assert second.exit_code == 2
    assert second.stdout == ""
    held, differs = second.stderr.split(", which differs from this build in ")
    assert held == "Error: Cannot build into out: it holds a package of version 1.0.0-draft (datapackage.json)"
    assert differs.startswith("README.md, ")
    assert differs.endswith(
        f"sources/seeds/sheets/{SEED_ARTICLE}.csv. A build never overwrites a folder, so nothing was written: delete "
        "out and build again to replace it, or give another --out-dir.\n"
    )
    assert_no_traceback(second)
    assert package_files(in_dir / "out") == files


@pytest.mark.parametrize("released", [False, True], ids=["draft", "copy-of-the-release"])
def test_cli_build_out_dir_that_is_not_a_package_says_what_it_holds(
    project: Project, in_dir: Path, released: bool
) -> None:
    if released:  # the sheets hold the latest release: build copies it to --out-dir
        assert run("--project", "dataset", "release", "--date", "2026-12-01").exit_code == 0
    out = in_dir / "out"
    (out / "photos").mkdir(parents=True)
    for name in ("notes.txt", "a.csv", "b.csv", "c.csv", "d.csv"):
        (out / name).write_text("mine\n", encoding="utf-8")
    files = package_files(out)

    result = run("--project", "dataset", "build", "--out-dir", "out")

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: Cannot build into out: it is not empty and not a package, it holds a.csv, b.csv, c.csv, d.csv, "
        "notes.txt … and 1 more. A build writes only into a new or empty folder and never deletes what is there, so "
        "nothing was written: give another --out-dir such as out/package, or empty out first.\n"
    )
    assert_no_traceback(result)
    assert package_files(out) == files
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "c.csv", "d.csv", "notes.txt", "photos"]
    assert run("--project", "dataset", "build", "--out-dir", "out/package").exit_code == 0


def test_cli_build_bad_source_date_epoch_exit_2(project: Project, in_dir: Path) -> None:
    result = run("--project", "dataset", "build", env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert result.exit_code == 2
    assert "SOURCE_DATE_EPOCH" in result.stderr
    assert_no_traceback(result)
    assert written(project) == []


# --- init and codebook -----------------------------------------------------------------------------


def test_cli_init_then_build(in_dir: Path) -> None:
    created = run("init", "ds")
    assert created.exit_code == 0, created.output
    assert created.stdout == "ds\n"
    assert (in_dir / "ds" / "schemas" / "events.schema.json").is_file()
    built = run("--project", "ds", "build")
    assert built.exit_code == 0, built.output
    package_dir = Path(built.stdout.strip())
    assert package_dir == Path("ds") / "dist-data" / "ds" / "draft"
    assert (package_dir / "datapackage.json").is_file()
    assert (package_dir / "data" / "events.parquet").is_file()


def test_cli_init_non_empty_folder_exit_2(in_dir: Path) -> None:
    (in_dir / "ds").mkdir()
    (in_dir / "ds" / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = run("init", "ds")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ds exists and is not empty")
    assert_no_traceback(result)
    assert [p.name for p in (in_dir / "ds").iterdir()] == ["notes.txt"]


NAME_RULE = (
    "must match ^[a-z0-9][a-z0-9._-]*$: the dataset's name, which names its folder in dist-data/: lower case "
    "letters, digits, '.', '_' or '-', such as \"my-events\". Nothing was written: give another with --name."
)
TOO_LONG_NAME = (
    "has 300 characters; at most 100 are allowed, since it names the folder dist-data/<name>/, the release archives "
    "<name>-<version>.zip and the dataset on CKAN and HDX. Nothing was written: give a shorter one with --name."
)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 300, f"'{'a' * 40}…' {TOO_LONG_NAME}"),
        ("My Events", f"'My Events' {NAME_RULE}"),
        ("../up", f"'../up' {NAME_RULE}"),
        ("-events", f"'-events' {NAME_RULE}"),
        ("events/2026", f"'events/2026' {NAME_RULE}"),
        ("events\n", f"'events\\n' {NAME_RULE}"),
    ],
    ids=["300-characters", "upper-case-and-space", "parent-folder", "leading-dash", "slash", "final-line-break"],
)
def test_cli_init_refuses_an_unusable_name_exit_2(in_dir: Path, name: str, message: str) -> None:
    result = run("init", "ds", "--name", name)

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: Dataset name {message}\n"
    assert_no_traceback(result)
    assert list(in_dir.iterdir()) == []


def test_cli_init_takes_a_name_of_100_characters(in_dir: Path) -> None:
    result = run("init", "ds", "--name", "a" * 100)

    assert result.exit_code == 0, result.output
    assert json.loads((in_dir / "ds" / "schemas" / "dataset.json").read_text(encoding="utf-8"))["name"] == "a" * 100


def test_cli_codebook_prints_every_column(project: Project, tmp_path: Path) -> None:
    result = run("--project", project.root, "codebook")
    assert result.exit_code == 0, result.output
    for name in load_codebook(project.schemas_dir).field_names:
        assert f"`{name}`" in result.stdout, name
    output = tmp_path / "codebook.md"
    to_file = run("--project", project.root, "codebook", "-o", output)
    assert to_file.exit_code == 0, to_file.output
    assert to_file.stdout == ""
    assert output.read_text(encoding="utf-8") == result.stdout


@pytest.mark.parametrize(
    ("output", "folder"),
    [
        ("dataset/schemas/dataset.json", "schemas"),
        ("dataset/schemas/vocabularies/codebook.md", "schemas"),
        ("dataset/seeds/articles.csv", "seeds"),
        ("dataset/seeds/sheets/codebook.csv", "seeds"),
    ],
)
def test_cli_codebook_refuses_an_output_inside_the_inputs(
    project: Project, in_dir: Path, output: str, folder: str
) -> None:
    before = package_files(project.root)

    result = run("--project", "dataset", "codebook", "-o", output)

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: Cannot write the codebook to {output}: it is inside dataset/{folder}, which holds the dataset's "
        "inputs (a file written there would replace or add to them). "
        "Nothing was written: give a file outside schemas/ and seeds/, e.g. -o codebook.md.\n"
    )
    assert package_files(project.root) == before


@pytest.mark.parametrize("command", ["codebook", "report"])
@pytest.mark.parametrize(
    "output",
    [
        "dataset/seeds/articles.csv",
        "dataset/dist-data/eventdata-seeds/1.0.0/codebook.md",
        "dataset/dist-data/eventdata-seeds/x.html",
    ],
)
def test_cli_codebook_and_report_refuse_an_output_in_the_inputs_or_the_releases(
    project: Project, in_dir: Path, command: str, output: str
) -> None:
    assert run("--project", "dataset", "release", "--date", "2026-12-01").exit_code == 0
    before = package_files(project.root)

    result = run("--project", "dataset", command, "-o", output)

    assert (result.exit_code, result.stdout) == (2, "")
    what = "the codebook" if command == "codebook" else "the report"
    inside = "dataset/dist-data/eventdata-seeds" if "dist-data" in output else "dataset/seeds"
    assert result.stderr.startswith(f"Error: Cannot write {what} to {output}: it is inside {inside}, "), result.stderr
    assert "Nothing was written" in result.stderr
    assert package_files(project.root) == before


# --- corrupt inputs: each its own located message, exit 1 and nothing written ------------------------


def not_utf8(project: Project, seed_rows: list[dict[str, str]]) -> None:
    path = write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", seed_rows)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"Al-Hasakah", "Al-Hasakâh".encode("latin-1"), 1)
    path.write_bytes(b"\n".join(lines))


def without_coder(project: Project, seed_rows: list[dict[str, str]]) -> None:
    assert "coder" in load_codebook(project.schemas_dir).input_required_fields
    write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", seed_rows, [c for c in seed_rows[0] if c != "coder"])


def edit(changes: dict[int, dict[str, str]]) -> Callable[[Project, list[dict[str, str]]], None]:
    def apply(project: Project, seed_rows: list[dict[str, str]]) -> None:
        rows = [dict(r) for r in seed_rows]
        for index, cells in changes.items():
            rows[index].update(cells)
        write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", rows)

    return apply


#: name → (how to corrupt the sheet, the exact problems as (line, column, code), the start of the first line shown).
CORRUPT = {
    "impossible-date": pytest.param(
        edit({1: {"event_date": "2022-02-30"}}),
        [(3, "event_date", "type-error")],
        f"{SHEET}:3: event_date='2022-02-30' [type-error] expected a real date written YYYY-MM-DD",
    ),
    "negative-fatalities": (
        edit({1: {"fatalities": "-3"}}),
        [(3, "fatalities", "minimum-error")],
        f"{SHEET}:3: fatalities='-3' [minimum-error] fatalities must be at least 0",
    ),
    # latitude is filled from the place list: a listed place's coordinates win over a typed value...
    "latitude-listed-place": (
        edit({1: {"latitude": "123.4"}}),
        [(3, "latitude", "derived-mismatch")],
        f"{SHEET}:3: latitude='123.4' [derived-mismatch] the place list gives latitude '36.4788'",
    ),
    # ...and for a place not yet listed the typed value is range-checked.
    "latitude-new-place": (
        edit({1: {"latitude": "123.4", "location": "Nowhere"}}),
        [(3, "latitude", "maximum-error"), (3, "location", "unknown-location")],
        f"{SHEET}:3: latitude='123.4' [maximum-error] latitude must be at most 90",
    ),
    "unknown-event-type": (
        edit({1: {"event_type": "Battle"}}),
        [(3, "event_type", "enum-error")],
        f"{SHEET}:3: event_type='Battle' [enum-error] event_type is not in the codebook's list of values. "
        "Did you mean 'Battles'?",
    ),
    "duplicated-id": (
        edit({2: {"event_id_cnty": "SYR2"}}),
        [(3, "event_id_cnty", "unique-error"), (4, "event_id_cnty", "unique-error")],
        f"{SHEET}:3: event_id_cnty='SYR2' [unique-error] SYR2 is used on several rows ({SHEET}:3, {SHEET}:4)",
    ),
    "missing-article": (
        edit({1: {"article_id": "999_0000000000000000"}}),
        [(3, "article_id", "missing-article")],
        f"{SHEET}:3: article_id='999_0000000000000000' [missing-article] article '999_0000000000000000' is not",
    ),
    "not-utf8": (
        not_utf8,
        [(3, None, "encoding-error")],
        f"{SHEET}:3: [encoding-error] byte 0xe2 at character",
    ),
}


def problems(result: Result) -> list[tuple[int | None, str | None, str]]:
    return [(p["line"], p["column"], p["code"]) for p in json.loads(result.stdout)["problems"]]


@pytest.mark.parametrize(("corrupt", "expected", "message"), list(CORRUPT.values()), ids=list(CORRUPT))
def test_cli_corrupt_input_located_exit_1_nothing_written(
    project: Project,
    in_dir: Path,
    seed_rows: list[dict[str, str]],
    corrupt: Callable[[Project, list[dict[str, str]]], None],
    expected: list[tuple[int | None, str | None, str]],
    message: str,
) -> None:
    corrupt(project, seed_rows)
    checked = run("--project", "dataset", "validate", "--json")
    assert checked.exit_code == 1
    assert problems(checked) == expected
    built = run("--project", "dataset", "build")
    assert built.exit_code == 1
    assert built.stdout == ""
    assert built.stderr.startswith(message)
    assert len(built.stderr.splitlines()) == len(expected) + 2  # one line per problem, a summary, "Nothing was written"
    assert_no_traceback(built)
    assert written(project) == []


def test_cli_impossible_date_is_located(project: Project, in_dir: Path, seed_rows: list[dict[str, str]]) -> None:
    """The part of the impossible-date case that holds today (the exact list is xfailed above)."""
    edit({1: {"event_date": "2022-02-30"}})(project, seed_rows)
    result = run("--project", "dataset", "build")
    assert result.exit_code == 1
    assert f"{SHEET}:3: event_date='2022-02-30' [type-error] " in result.stderr
    assert written(project) == []


@pytest.mark.parametrize("day", ["2200-01-01", "2262-04-12", "2263-02-03", "9999-12-31"])
def test_cli_far_future_date_is_one_future_date_problem_not_an_inactive_actor(
    project: Project, in_dir: Path, edit_sheet: Callable[..., Path], day: str
) -> None:
    edit_sheet({0: {"event_date": day}})

    result = run("--project", "dataset", "validate")

    assert (result.exit_code, result.stdout) == (1, "")
    today = result.stderr.split("after today (", 1)[1][:10]
    assert result.stderr.splitlines() == [
        f"{SHEET}:2: event_date={day!r} [future-date] the date is after today ({today}).",
        "1 problem(s) in 1 sheet(s), 12 row(s): 1 future-date.",
    ]


def test_cli_sheet_missing_column_located_exit_1(
    project: Project, in_dir: Path, seed_rows: list[dict[str, str]]
) -> None:
    without_coder(project, seed_rows)
    checked = run("--project", "dataset", "validate", "--json")
    assert checked.exit_code == 1
    found = problems(checked)
    assert found[0] == (1, "coder", "missing-column")
    assert {column for _, column, _ in found} == {"coder"}  # the header problem, and at most its consequences
    built = run("--project", "dataset", "build")
    assert built.exit_code == 1
    assert built.stderr.startswith(
        f"{SHEET}:1: coder [missing-column] the sheet lacks the required column 'coder'; add it to the header."
    )
    assert written(project) == []


# --- the real entry point, once --------------------------------------------------------------------


def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPATH")}
    env["PYTHONWARNINGS"] = "error"
    return env


def python_m_eventdata(args: Sequence[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventdata", *(str(a) for a in args)],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_cli_python_m_eventdata_help(tmp_path: Path) -> None:
    completed = python_m_eventdata(["--help"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Usage: ")
    for name in cli.commands:
        assert name in completed.stdout
    assert completed.stderr == ""


@pytest.mark.slow
def test_cli_python_m_eventdata_build(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(REPO / "schemas", copy / "schemas")
    shutil.copytree(REPO / "seeds", copy / "seeds")
    completed = python_m_eventdata(["--project", copy, "build"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    package_dir = Path(completed.stdout.strip())
    assert package_dir.parent.parent == copy / "dist-data"
    assert (package_dir / "datapackage.json").is_file()
    assert "Draft 1.0.0-draft" in completed.stderr
    assert "Traceback" not in completed.stderr


# --- warnings: empty metadata is said, never a failure -------------------------------------------------


def test_cli_validate_and_build_warn_about_empty_metadata(in_dir: Path) -> None:
    assert run("init", "ds").exit_code == 0
    validated = run("--project", "ds", "validate")
    assert validated.exit_code == 0, validated.output
    warnings = [line for line in validated.stderr.splitlines() if "[metadata-missing] warning: " in line]
    assert [w.split(" [")[0] for w in warnings] == [
        "ds/schemas/dataset.json: contributors",
        "ds/schemas/dataset.json: description",
        "ds/schemas/dataset.json: licenses",
    ]
    assert '"roles": ["creator"]' in warnings[0]
    as_json = run("--project", "ds", "validate", "--json")
    assert as_json.exit_code == 0
    report = json.loads(as_json.stdout)
    assert (report["valid"], report["error_count"], report["warning_count"]) == (True, 0, 3)
    assert [(w["column"], w["severity"]) for w in report["problems"]] == [
        ("contributors", "warning"),
        ("description", "warning"),
        ("licenses", "warning"),
    ]
    built = run("--project", "ds", "build")
    assert built.exit_code == 0
    assert sum("] warning: " in line for line in built.stderr.splitlines()) == 3
    # Filled in as the warnings say, they are gone.
    dataset_path = in_dir / "ds" / "schemas" / "dataset.json"
    dataset = json.loads(dataset_path.read_text(encoding="utf-8"))
    dataset["description"] = "Events coded from local news."
    dataset["licenses"] = [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}]
    dataset["contributors"] = [{"title": "A. Coder", "roles": ["creator"]}]
    dataset_path.write_text(json.dumps(dataset), encoding="utf-8")
    clean = run("--project", "ds", "validate")
    assert clean.exit_code == 0
    assert "warning" not in clean.stderr


# --- a sheet without an id column ----------------------------------------------------------------------


def test_cli_assign_ids_says_it_added_the_id_column_and_accepts_old_layout_rows(
    project: Project, in_dir: Path, seed_rows: list[dict[str, str]]
) -> None:
    columns = [c for c in seed_rows[0] if c != "event_id_cnty"]
    sheet = write_rows(
        project.sheets_dir / f"{SEED_ARTICLE}.csv", [{**r, "event_id_cnty": ""} for r in seed_rows[:2]], columns
    )
    project.id_registry.unlink()
    (project.seeds_dir / "deletions.csv").unlink()  # a first build: nothing assigned, so nothing deleted
    built = run("--project", "dataset", "build")  # only reads the sheet: the ids are provisional
    assert built.exit_code == 0, built.output
    assert "2 row(s) have no id yet: `eventdata assign-ids` gives them one" in built.stderr
    assert sheet.read_text(encoding="utf-8").splitlines()[0] == ",".join(columns)
    first = run("--project", "dataset", "assign-ids")
    assert first.exit_code == 0, first.output
    assert f"{SHEET}: had no event_id_cnty column; the tool added it as the last column" in first.stderr
    header = sheet.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join([*columns, "event_id_cnty"])
    # A row appended in the layout the sheet had before: it lacks only the trailing id cell.
    with sheet.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow([seed_rows[2][c] for c in columns])
    validated = run("--project", "dataset", "validate")
    assert validated.exit_code == 0, validated.output
    second = run("--project", "dataset", "assign-ids")
    assert second.exit_code == 0, second.output
    assert "had no event_id_cnty column" not in second.stderr
    ids = [line.rsplit(",", 1)[1] for line in sheet.read_text(encoding="utf-8").splitlines()[1:]]
    assert ids == ["SYR1", "SYR2", "SYR3"]


def test_cli_release_says_it_added_the_id_column(
    project: Project, in_dir: Path, seed_rows: list[dict[str, str]]
) -> None:
    columns = [c for c in seed_rows[0] if c != "event_id_cnty"]
    write_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv", seed_rows[:1], columns)
    project.id_registry.unlink()
    (project.seeds_dir / "deletions.csv").unlink()  # a first build: nothing assigned, so nothing deleted
    released = run("--project", "dataset", "release", "--date", "2026-12-01")
    assert released.exit_code == 0, released.output
    assert f"{SHEET}: had no event_id_cnty column; the tool added it as the last column" in released.stderr
    assert "Released 1.0.0 (first release): 1 added" in released.stderr


# --- --json findings in the shape of validate --json -------------------------------------------------------

REPORT_KEYS = {"valid", "files", "rows", "problem_count", "error_count", "warning_count", "counts", "problems"}
PROBLEM_KEYS = {"code", "message", "file", "line", "column", "value", "severity"}


def test_cli_publish_check_json_lists_the_findings_as_validate_json_does(tmp_path: Path) -> None:
    root = tmp_path / "repository"
    for folder in ("schemas", "seeds", "dist-data"):
        shutil.copytree(REPO / folder, root / folder)

    folder = run("--project", root, "publish", "1.1.0", "--to", tmp_path / "out", "--check", "--json")
    assert folder.exit_code == 0, folder.output
    assert json.loads(folder.stdout) == {
        "valid": True,
        "files": [str(root / "dist-data" / "eventdata-seeds" / "1.1.0" / "datapackage.json")],
        "rows": 0,
        "problem_count": 0,
        "error_count": 0,
        "warning_count": 0,
        "counts": {},
        "problems": [],
    }
    hdx = run("--project", root, "publish", "1.1.0", "--to", "hdx", "--organization", "acme", "--check", "--json")
    assert hdx.exit_code == 1
    payload = json.loads(hdx.stdout)
    assert set(payload) == REPORT_KEYS
    assert payload["valid"] is False
    assert payload["error_count"] == len(payload["problems"]) > 0
    assert all(set(p) == PROBLEM_KEYS for p in payload["problems"])
    assert {"column": "keywords", "value": "ACLED"}.items() <= next(
        p for p in payload["problems"] if p["value"] == "ACLED"
    ).items()
    assert "[enum-error]" in hdx.stderr  # the human lines stay, on stderr
    assert not (tmp_path / "out").exists()


def test_cli_import_acled_json_lists_the_skipped_rows_as_validate_json_does(project: Project, tmp_path: Path) -> None:
    from tests.test_acled import acled_export, write_export

    rows = acled_export(1, seed=3)[:4]
    rows[1] = dict(rows[1], event_type="Battle")
    export = write_export(tmp_path / "export.csv", rows)

    result = run("--project", project.root, "import", "acled", export, "--json")

    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == REPORT_KEYS
    assert payload["valid"] is False
    problem = next(p for p in payload["problems"] if p["column"] == "event_type")
    assert set(problem) == PROBLEM_KEYS
    assert (problem["value"], problem["line"], problem["severity"]) == ("Battle", 3, "error")
    assert "event_type='Battle'" in result.stderr
