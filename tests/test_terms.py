"""Redistribution terms: the vocabulary, each article's terms, ACLED imports, and the record a release carries."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from eventdata.acled import import_acled
from eventdata.build import build_package
from eventdata.cli import cli
from eventdata.errors import SchemaFileError
from eventdata.project import Project
from eventdata.release import release_version, verify_release
from eventdata.schema import load_codebook
from eventdata.sources.articles import read_articles
from eventdata.terms import RECORD_KEY, default_terms_path, terms_vocabulary
from eventdata.validate import validate_project
from tests.conftest import REPO, SEED_ARTICLE, read_rows

BUILTIN_TERMS = default_terms_path()
ACLED_HEADER = [
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
    "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction", "civilian_targeting",
    "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude", "geo_precision",
    "source", "source_scale", "notes", "fatalities", "tags", "timestamp",
]  # fmt: skip


def acled_rows(count: int = 3) -> list[dict[str, str]]:
    """A small ACLED export made up for the tests: battles in Saraqib, Idlib, in September 2024."""
    return [
        {
            "event_id_cnty": f"SYR9100{n:02d}", "event_date": f"2024-09-{n:02d}", "year": "2024",
            "time_precision": "1", "disorder_type": "Political violence", "event_type": "Battles",
            "sub_event_type": "Armed clash", "actor1": "Military Forces of Syria (2000-2024)", "assoc_actor_1": "",
            "inter1": "1", "actor2": "Unidentified Armed Group (Syria)", "assoc_actor_2": "", "inter2": "3",
            "interaction": "13", "civilian_targeting": "", "iso": "760", "region": "Middle East", "country": "Syria",
            "admin1": "Idlib", "admin2": "Idlib", "admin3": "Saraqab", "location": "Saraqib", "latitude": "35.8646",
            "longitude": "36.8006", "geo_precision": "1", "source": "Reuters", "source_scale": "International",
            "notes": f"On {n} September 2024, a clash near Saraqib.", "fatalities": str(n - 1), "tags": "",
            "timestamp": "1727000000",
        }
        for n in range(1, count + 1)
    ]  # fmt: skip


def write_export(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ACLED_HEADER, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def import_export(project: Project, tmp_path: Path, count: int = 3, name: str = "syria") -> None:
    result = import_acled(project, write_export(tmp_path / f"{name}.csv", acled_rows(count)), name=name)
    assert result.report.valid, [p.format() for p in result.report.problems]


def set_terms_column(project: Project, terms: dict[str, str]) -> None:
    """Give seeds/articles.csv a terms column with the given values (by article id)."""
    rows = read_rows(project.articles_index)
    header = [*rows[0].keys(), "terms"] if "terms" not in rows[0] else list(rows[0])
    with project.articles_index.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows([r | {"terms": terms.get(r["article_id"], r.get("terms", ""))} for r in rows])


def edit_dataset(project: Project, **changes: Any) -> None:
    path = project.schemas_dir / "dataset.json"
    path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")) | changes, indent=2) + "\n")


def run(project: Project, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project.root), *args])


def descriptor(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path / "datapackage.json").read_text(encoding="utf-8"))
    return data


# --- the vocabulary and each article's terms ---------------------------------------------------------


def test_terms_index_without_the_column_gives_every_article_the_default(project: Project) -> None:
    assert "terms" not in read_rows(project.articles_index)[0]
    validation = validate_project(project)
    assert validation.report.valid
    assert {a.terms for a in validation.articles.values()} == {"coded"}

    built = build_package(project)

    assert built.status == "built"
    assert RECORD_KEY not in descriptor(built.package_dir)  # nothing restricted: releases read as before
    assert "terms" not in read_rows(built.package_dir / "data" / "articles.csv")[0]


def test_terms_builtin_vocabulary_applies_to_a_dataset_without_terms_csv(project: Project) -> None:
    (project.schemas_dir / "vocabularies" / "terms.csv").unlink()  # a dataset made before terms.csv existed
    vocabulary = terms_vocabulary(load_codebook(project.schemas_dir))
    assert vocabulary.source == str(BUILTIN_TERMS)
    assert list(vocabulary.terms) == [r["terms"] for r in read_rows(BUILTIN_TERMS)]
    assert {n for n, t in vocabulary.terms.items() if not t.redistribute} == {"acled-terms", "gtd-terms", "unknown"}
    assert vocabulary.default == "coded"
    assert vocabulary.for_article("", "acled") == "acled-terms"  # publishers match in any case
    assert vocabulary.for_article("", "Reuters") == "coded"
    assert vocabulary.for_article("cc-by-4.0", "ACLED") == "cc-by-4.0"  # a written cell wins
    assert vocabulary.for_article("cc-by", "x") is None


def test_terms_read_articles_resolves_terms_only_with_the_vocabulary(project: Project) -> None:
    vocabulary = terms_vocabulary(load_codebook(project.schemas_dir))
    plain, _ = read_articles(project.articles_index, project.articles_dir)
    resolved, _ = read_articles(project.articles_index, project.articles_dir, vocabulary)
    assert (plain[SEED_ARTICLE].terms, resolved[SEED_ARTICLE].terms) == ("", "coded")
    set_terms_column(project, {SEED_ARTICLE: "gtd-terms"})
    written, problems = read_articles(project.articles_index, project.articles_dir, vocabulary)
    assert (written[SEED_ARTICLE].terms, problems) == ("gtd-terms", [])


def test_terms_the_flagship_build_is_still_identical_to_its_release(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "dist-data", root / "dist-data")
    for folder in ("schemas", "seeds"):  # the inputs 1.1.1 records (the repository's own may have moved on since)
        shutil.copytree(REPO / "dist-data" / "eventdata-seeds" / "1.1.1" / "sources" / folder, root / folder)

    built = build_package(Project(root))

    assert (built.status, built.version) == ("unchanged", "1.1.1")


def test_terms_a_datasets_own_vocabulary_replaces_the_builtin_and_is_in_its_codebook(project: Project) -> None:
    own = project.schemas_dir / "vocabularies" / "terms.csv"
    own.write_text(
        BUILTIN_TERMS.read_text(encoding="utf-8") + "ucdp-terms,yes,UCDP,UCDP data (CC BY 4.0),,Rows from UCDP GED.\n",
        encoding="utf-8",
    )
    set_terms_column(project, {SEED_ARTICLE: "ucdp-terms"})

    validation = validate_project(project)

    assert validation.report.valid, [p.format() for p in validation.report.problems]
    assert validation.articles[SEED_ARTICLE].terms == "ucdp-terms"
    built = build_package(project)
    assert "## terms" in (built.package_dir / "codebook.md").read_text(encoding="utf-8")
    assert [t["terms"] for t in descriptor(built.package_dir)[RECORD_KEY]["terms"]] == ["ucdp-terms"]


def test_terms_an_unknown_value_is_located_and_exits_1(project: Project) -> None:
    set_terms_column(project, {SEED_ARTICLE: "CC-BY"})

    result = run(project, "validate")

    assert result.exit_code == 1, result.output
    index = project.articles_index.relative_to(project.root).as_posix()
    assert f"{index}:2: terms='CC-BY' [enum-error] terms must be one of coded, cc-by-4.0," in result.stderr
    assert "schemas/vocabularies/terms.csv)" in result.stderr
    assert run(project, "build").exit_code == 1
    assert not any(project.dist_dir.iterdir())


def test_terms_a_broken_vocabulary_is_named_with_its_line(project: Project) -> None:
    path = project.schemas_dir / "vocabularies" / "terms.csv"
    path.write_text(BUILTIN_TERMS.read_text(encoding="utf-8").replace("acled-terms,no,", "acled-terms,maybe,"), "utf-8")

    with pytest.raises(SchemaFileError, match=r"terms\.csv:5: redistribute='maybe' \[enum-error\] must be yes or no"):
        terms_vocabulary(load_codebook(project.schemas_dir))
    result = run(project, "validate")
    assert result.exit_code == 2
    assert "redistribute='maybe' [enum-error] must be yes or no" in result.stderr
    assert "Traceback" not in result.output


# --- ACLED imports --------------------------------------------------------------------------------


def test_terms_acled_import_marks_its_article_and_adds_the_column(project: Project, tmp_path: Path) -> None:
    before = read_rows(project.articles_index)

    import_export(project, tmp_path)

    rows = read_rows(project.articles_index)
    assert list(rows[0]) == [*before[0], "terms"]
    assert rows[:-1] == [r | {"terms": ""} for r in before]  # the rows it had keep their values
    assert (rows[-1]["article_id"], rows[-1]["publisher"], rows[-1]["terms"]) == ("acled-syria", "ACLED", "acled-terms")
    articles = validate_project(project).articles
    assert (articles["acled-syria"].terms, articles[SEED_ARTICLE].terms) == ("acled-terms", "coded")


def test_terms_acled_rows_imported_before_the_column_existed_keep_acleds_terms(
    project: Project, tmp_path: Path
) -> None:
    import_export(project, tmp_path)
    rows = read_rows(project.articles_index)
    with project.articles_index.open("w", encoding="utf-8", newline="") as handle:  # the column removed again
        writer = csv.DictWriter(handle, fieldnames=[k for k in rows[0] if k != "terms"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    assert validate_project(project).articles["acled-syria"].terms == "acled-terms"  # by its publisher


# --- the record in the release --------------------------------------------------------------------


def test_terms_release_records_rows_per_terms_and_names_the_restricted(project: Project, tmp_path: Path) -> None:
    import_export(project, tmp_path, count=3)

    built = build_package(project)

    seed_rows = len(read_rows(project.sheets_dir / f"{SEED_ARTICLE}.csv"))
    assert descriptor(built.package_dir)[RECORD_KEY] == {
        "restricted_rows": 3,
        "terms": [
            {
                "terms": "coded",
                "title": "Coded by the dataset's coders",
                "redistribute": True,
                "rows": seed_rows,
                "articles": [{"article_id": SEED_ARTICLE, "publisher": "unknown", "rows": seed_rows}],
            },
            {
                "terms": "acled-terms",
                "title": "ACLED Terms of Use and Attribution Policy",
                "path": "https://acleddata.com/terms-of-use-and-attribution-policy",
                "redistribute": False,
                "rows": 3,
                "articles": [{"article_id": "acled-syria", "publisher": "ACLED", "rows": 3}],
            },
        ],
    }
    readme = (built.package_dir / "README.md").read_text(encoding="utf-8")
    assert "- 3 events are under terms that do not allow publishing them (ACLED Terms of Use" in readme
    events = read_rows(built.package_dir / "data" / "events.csv")
    assert sum(e["article_id"] == "acled-syria" for e in events) == 3


def test_terms_release_with_restricted_rows_verifies_byte_for_byte(project: Project, tmp_path: Path) -> None:
    import_export(project, tmp_path)
    released = release_version(project)
    assert released.status == "released"

    results = verify_release(project, released.version)

    assert [(r.ok, r.rebuilt) for r in results] == [(True, True)], [r.problems for r in results]


def test_terms_declared_grant_is_recorded_and_lifts_the_restriction(project: Project, tmp_path: Path) -> None:
    import_export(project, tmp_path)
    grant = {"granted_by": "ACLED", "reference": "Data sharing agreement 2026-117 of 2026-10-01"}
    edit_dataset(project, redistribution={"acled-terms": grant})

    record = descriptor(build_package(project).package_dir)[RECORD_KEY]

    assert record["restricted_rows"] == 0
    assert record["terms"][1]["granted"] == grant


@pytest.mark.parametrize(
    ("redistribution", "message"),
    [
        ({"acled": {"granted_by": "ACLED", "reference": "x"}}, "names terms 'acled', which .*terms.csv lacks"),
        (
            {"acled-terms": {"granted_by": "ACLED"}},
            r'redistribution.acled-terms.reference \[dataset-error\] "reference"',
        ),
        (["acled-terms"], r"redistribution=.* \[dataset-error\] must be an object"),
    ],
)
def test_terms_a_malformed_grant_is_refused_with_the_fix(
    project: Project, tmp_path: Path, redistribution: Any, message: str
) -> None:
    import_export(project, tmp_path)
    edit_dataset(project, redistribution=redistribution)

    with pytest.raises(SchemaFileError, match=message):
        build_package(project)
    result = run(project, "build")
    assert result.exit_code == 2
    assert "dataset.json" in result.stderr
    assert not any(project.dist_dir.iterdir())  # nothing half-written


def test_terms_committed_seed_releases_carry_no_record() -> None:
    root = Path(__file__).parent.parent / "dist-data" / "eventdata-seeds"
    releases = [p for p in sorted(root.iterdir()) if (p / "datapackage.json").is_file()]
    assert len(releases) >= 2
    assert all(RECORD_KEY not in descriptor(p) for p in releases)


def test_terms_init_writes_the_terms_column(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    header = (tmp_path / "new" / "seeds" / "articles.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[-1] == "terms"
    own = tmp_path / "new" / "schemas" / "vocabularies" / "terms.csv"
    assert own.read_bytes() == BUILTIN_TERMS.read_bytes()  # the dataset's own copy, listed in its codebook


def test_a_bad_terms_row_is_named_at_its_line_past_blank_lines(project: Project) -> None:
    path = project.schemas_dir / "vocabularies" / "terms.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    text = "\n".join([lines[0], "", "", *lines[1:], "shared,maybe,,Shared,,Rows of a shared source"]) + "\n"
    path.write_text(text, encoding="utf-8")
    last = len(text.splitlines())
    with pytest.raises(SchemaFileError, match=rf"terms\.csv:{last}: redistribute='maybe' \[enum-error\] must be yes"):
        terms_vocabulary(load_codebook(project.schemas_dir))
    result = CliRunner().invoke(cli, ["--project", str(project.root), "validate"])
    assert result.exit_code == 2
    assert f"terms.csv:{last}: redistribute='maybe'" in result.output
