"""add_article and new_sheet: an article's text and index row written by the tool, a sheet from the codebook."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eventdata.cli import cli
from eventdata.errors import SourceError
from eventdata.intake import add_article, new_sheet
from eventdata.project import Project, init_project
from eventdata.schema import load_codebook
from eventdata.sources.articles import listed_article_ids, read_articles
from tests.conftest import SEED_ARTICLE, SEED_SHEET, read_rows

TEXT = "On 3 February 2022, a raid in Atmeh left 13 people dead.\n"


@pytest.fixture
def fresh(tmp_path: Path) -> Project:
    return init_project(tmp_path / "ds")


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "raid.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_add_article_copies_the_text_and_indexes_it_with_its_sha256(fresh: Project, article: Path) -> None:
    digest = hashlib.sha256(article.read_bytes()).hexdigest()
    added = add_article(
        fresh, article, title="US raid", publisher="Example News", published=date(2022, 2, 3), url="https://x.org/a"
    )
    assert added.article_id == f"000_{digest[:16]}"
    assert added.text_path.read_bytes() == article.read_bytes()
    articles, problems = read_articles(fresh.articles_index, fresh.articles_dir)
    assert problems == []
    listed = articles[added.article_id]
    assert (listed.title, listed.publisher, listed.url, listed.published, listed.language, listed.sha256) == (
        "US raid",
        "Example News",
        "https://x.org/a",
        date(2022, 2, 3),
        "en",
        digest,
    )


def test_add_article_numbers_after_the_existing_ones(project: Project, article: Path) -> None:
    added = add_article(project, article, title="unknown", publisher="unknown", published=date(2022, 2, 3))
    assert added.article_id.startswith("001_")  # the seed article is 000_…
    before = project.articles_index.read_text(encoding="utf-8")
    assert before.endswith(f",{added.sha256},\n")
    assert len(read_articles(project.articles_index, project.articles_dir)[0]) == 2


def test_add_article_refuses_the_same_text_twice_and_writes_nothing(fresh: Project, article: Path) -> None:
    first = add_article(fresh, article, title="a", publisher="b", published=date(2022, 2, 3))
    index = fresh.articles_index.read_bytes()
    texts = sorted(p.name for p in fresh.articles_dir.iterdir())
    copy = article.with_name("same.txt")
    copy.write_bytes(article.read_bytes())
    with pytest.raises(SourceError) as caught:
        add_article(fresh, copy, title="c", publisher="d", published=date(2022, 2, 3), article_id="other")
    assert f"same text (sha256 {first.sha256}) as article {first.article_id!r}" in str(caught.value)
    assert "seeds/articles.csv:2" in str(caught.value)
    assert fresh.articles_index.read_bytes() == index
    assert sorted(p.name for p in fresh.articles_dir.iterdir()) == texts


def test_add_article_refuses_an_id_in_use(fresh: Project, article: Path, tmp_path: Path) -> None:
    add_article(fresh, article, title="a", publisher="b", published=date(2022, 2, 3), article_id="raid")
    other = tmp_path / "other.txt"
    other.write_text("Another text.\n", encoding="utf-8")
    with pytest.raises(SourceError, match="Article id 'raid' is already used"):
        add_article(fresh, other, title="a", publisher="b", published=date(2022, 2, 3), article_id="raid")
    with pytest.raises(SourceError, match="must be a file name"):
        add_article(fresh, other, title="a", publisher="b", published=date(2022, 2, 3), article_id="../x")
    assert not (fresh.articles_dir / "other.txt").exists()


def test_add_article_refuses_text_that_is_not_utf8(fresh: Project, tmp_path: Path) -> None:
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Alep, Syrie: manifestation à midi.".encode("latin-1"))
    with pytest.raises(SourceError, match="not UTF-8 at byte"):
        add_article(fresh, latin, title="a", publisher="b", published=date(2022, 2, 3))
    assert list(fresh.articles_dir.iterdir()) == []


def test_add_article_keeps_crlf_and_the_index_never_half_written(project: Project, article: Path) -> None:
    crlf = project.articles_index.read_bytes().replace(b"\n", b"\r\n")
    project.articles_index.write_bytes(crlf)
    add_article(project, article, title='A "quoted", title', publisher="p", published=date(2022, 2, 3))
    data = project.articles_index.read_bytes()
    assert data.startswith(crlf)
    assert data.count(b"\r\n") == crlf.count(b"\r\n") + 1
    rows = list(csv.DictReader(data.decode("utf-8").splitlines()))
    assert rows[-1]["title"] == 'A "quoted", title'


def test_new_sheet_has_the_columns_a_coder_types_in_codebook_order(fresh: Project, article: Path) -> None:
    added = add_article(fresh, article, title="a", publisher="b", published=date(2022, 2, 3))
    path = new_sheet(fresh, added.article_id, coder="A. Coder")
    codebook = load_codebook(fresh.schemas_dir)
    header, row = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    # Every column but those the tool derives; event_id_cnty is kept, as the tool writes the ids into it.
    derived = {f["name"] for f in codebook.fields if f.get("eventdata", {}).get("derived")} - {"event_id_cnty"}
    assert header == [n for n in codebook.field_names if n not in derived]
    with SEED_SHEET.open(encoding="utf-8", newline="") as handle:
        assert header == next(csv.reader(handle))  # the layout of the flagship's sheet
    assert dict(zip(header, row, strict=True)) == {
        c: added.article_id if c == "article_id" else "A. Coder" if c == "coder" else "" for c in header
    }
    with pytest.raises(SourceError, match="never overwritten"):
        new_sheet(fresh, added.article_id)


def test_new_sheet_for_an_unknown_article_suggests_the_closest(project: Project) -> None:
    with pytest.raises(SourceError) as caught:
        new_sheet(project, SEED_ARTICLE[:-1])
    assert f"Did you mean {SEED_ARTICLE!r}?" in str(caught.value)


def test_cli_add_article_and_new_sheet(tmp_path: Path, article: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "mine"
    work.mkdir()
    monkeypatch.chdir(work)
    created = run("init")
    assert created.exit_code == 0, created.output
    assert created.stdout == ".\n"
    assert json.loads((work / "schemas" / "dataset.json").read_text(encoding="utf-8"))["name"] == "mine"
    added = run("add-article", article, "--title", "US raid", "--publisher", "unknown", "--published", "2022-02-03")
    assert added.exit_code == 0, added.output
    article_id = added.stdout.strip()
    assert f"Start its sheet with `eventdata new-sheet {article_id}`" in added.stderr
    again = run("add-article", article, "--title", "x", "--publisher", "y", "--published", "2022-02-03")
    assert again.exit_code == 2
    assert again.stdout == ""
    assert "same text" in again.stderr
    assert "Traceback" not in again.output
    sheet = run("new-sheet", article_id, "--coder", "me")
    assert sheet.exit_code == 0, sheet.output
    assert sheet.stdout == f"seeds/sheets/{article_id}.csv\n"
    assert (work / "seeds" / "sheets" / f"{article_id}.csv").is_file()
    bad_date = run("add-article", article, "--title", "x", "--publisher", "y", "--published", "3 Feb 2022")
    assert bad_date.exit_code == 2
    assert "YYYY-MM-DD" in bad_date.stderr or "%Y-%m-%d" in bad_date.stderr


LANGUAGE_RULE = (
    "the language must be an ISO 639 code such as en, ar, fr or ckb (the two-letter code where there is one; "
    "eventdata/data/languages.csv lists the 8182 codes), optionally with a region or script such as pt-BR."
)


@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("xxx", ""),
        ("xx", ""),
        ("EN", " Did you mean 'en'?"),
        ("Arabic", " Did you mean 'ar' (Arabic)?"),
        ("en_GB", ""),
    ],
)
def test_cli_add_article_refuses_an_unknown_language_and_writes_nothing(
    fresh: Project, article: Path, language: str, hint: str
) -> None:
    index = fresh.articles_index.read_bytes()
    result = run(
        "--project", fresh.root, "add-article", article, "--title", "T", "--publisher", "P",
        "--published", "2022-02-03", "--language", language,
    )  # fmt: skip

    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: --language {language!r}: {LANGUAGE_RULE}{hint} Nothing was written.\n"
    assert fresh.articles_index.read_bytes() == index
    assert list(fresh.articles_dir.iterdir()) == []


@pytest.mark.parametrize("language", ["en", "ar", "fr", "pt-BR", "zh-Hant", "ckb", "prs", "ckb-IQ", "ara"])
def test_add_article_takes_iso_639_codes_with_subtags(fresh: Project, article: Path, language: str) -> None:
    add_article(fresh, article, title="T", publisher="P", published=date(2022, 2, 3), language=language)

    assert [row["language"] for row in read_rows(fresh.articles_index)] == [language]


@pytest.mark.parametrize(
    ("index_text", "line"),
    [
        ('article_id,sha256\n"a,b\n', 2),  # a quote left open would swallow the appended row
        ('article_id,sha256\nx1,abc\n"a"b,c\n', 3),
    ],
)
def test_a_malformed_index_is_named_at_its_line_and_nothing_is_written(
    fresh: Project, article: Path, index_text: str, line: int
) -> None:
    fresh.articles_index.write_text(index_text, encoding="utf-8")
    with pytest.raises(SourceError, match=rf"articles\.csv:{line}: not a well-formed CSV row"):
        add_article(fresh, article, title="T", publisher="P", published=date(2022, 2, 3))
    assert fresh.articles_index.read_text(encoding="utf-8") == index_text
    assert list(fresh.articles_dir.iterdir()) == []
    result = run("--project", fresh.root, "new-sheet", "x1")
    assert result.exit_code == 2
    assert f"articles.csv:{line}: not a well-formed CSV row" in result.output


def test_new_sheet_name_given_with_its_csv_suffix_is_not_doubled(fresh: Project, article: Path) -> None:
    added = add_article(fresh, article, title="T", publisher="P", published=date(2022, 2, 3))
    path = new_sheet(fresh, added.article_id, name="raid.csv")
    assert path == fresh.sheets_dir / "raid.csv"


@pytest.mark.parametrize("option", ["title", "publisher", "url", "notes"])
def test_add_article_refuses_a_control_character_validate_would_refuse(
    fresh: Project, article: Path, option: str
) -> None:
    before = fresh.articles_index.read_bytes()
    metadata = {"title": "T", "publisher": "P", "url": "", "notes": ""} | {option: "a\x07b"}
    with pytest.raises(SourceError, match=rf"--{option} 'a\\x07b': .*control character U\+0007 at character 2"):
        add_article(fresh, article, published=date(2022, 2, 3), **metadata)
    assert fresh.articles_index.read_bytes() == before
    assert list(fresh.articles_dir.iterdir()) == []


def test_a_lone_carriage_return_in_metadata_is_kept_in_its_cell(fresh: Project, article: Path) -> None:
    added = add_article(fresh, article, title="A\rB", publisher="P", published=date(2022, 2, 3), notes="x\ry")
    path = new_sheet(fresh, added.article_id, coder="C\rD")

    (row,) = [r for r in read_rows(fresh.articles_index) if r["article_id"] == added.article_id]
    assert (row["title"], row["notes"]) == ("A\rB", "x\ry")
    (sheet_row,) = read_rows(path)
    assert sheet_row["coder"] == "C\rD"


def test_add_article_reads_the_index_with_the_shared_reader(fresh: Project, article: Path) -> None:
    first = add_article(fresh, article, title="T", publisher="P", published=date(2022, 2, 3))
    rows = read_rows(fresh.articles_index)
    # the index as a spreadsheet saves it: BOM, CRLF, a blank line and notes over two lines
    text = (
        ",".join(rows[0])
        + "\r\n\r\n"
        + ",".join(f'"{v}"' for v in rows[0].values()).replace('"T"', '"Two\r\nlines"')
        + "\r\n"
    )
    fresh.articles_index.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    other = article.with_name("other.txt")
    other.write_text("Another text.\n", encoding="utf-8")

    with pytest.raises(SourceError, match=rf"same text .* \({first.article_id!r}|articles\.csv:3\)"):
        add_article(fresh, article, title="T", publisher="P", published=date(2022, 2, 3))
    added = add_article(fresh, other, title="U", publisher="P", published=date(2022, 2, 4))

    data = fresh.articles_index.read_bytes()
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert added.index_line == 5
    assert listed_article_ids(fresh.articles_index) == {first.article_id, added.article_id}
