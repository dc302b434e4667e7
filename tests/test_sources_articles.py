"""The article index: safe ids, hashes and publication dates."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from eventdata.project import Project
from eventdata.sources.articles import is_safe_article_id, read_articles
from tests.conftest import SEED_ARTICLE, read_rows


def test_articles_read_seed_article(project: Project) -> None:
    articles, problems = read_articles(project.articles_index, project.articles_dir)
    assert problems == []
    article = articles[SEED_ARTICLE]
    assert article.published == date(2022, 2, 3)
    assert article.publisher == "unknown"
    assert article.bytes == (project.articles_dir / f"{SEED_ARTICLE}.txt").stat().st_size
    assert "Atmeh" in article.text


@pytest.mark.parametrize("article_id", ["../etc/passwd", "/abs", "a/b", "..", "a..b", "", ".hidden", "a b"])
def test_articles_reject_ids_that_could_escape(article_id: str) -> None:
    assert not is_safe_article_id(article_id)


def test_articles_index_with_escaping_id_is_a_problem(project: Project) -> None:
    with project.articles_index.open("a", encoding="utf-8") as handle:
        handle.write("../../secret,t,p,,2022-01-01,en,00,\n")
    _, problems = read_articles(project.articles_index, project.articles_dir)
    assert [(p.line, p.column, p.code) for p in problems] == [(3, "article_id", "invalid-article-id")]


def test_articles_hash_mismatch_is_reported(project: Project) -> None:
    path = project.articles_dir / f"{SEED_ARTICLE}.txt"
    path.write_text(path.read_text(encoding="utf-8") + " edited", encoding="utf-8")
    _, problems = read_articles(project.articles_index, project.articles_dir)
    assert [(p.line, p.column, p.code) for p in problems] == [(2, "sha256", "article-hash-mismatch")]


def test_articles_missing_text_and_bad_date(project: Project) -> None:
    with project.articles_index.open("a", encoding="utf-8") as handle:
        handle.write("ghost,t,p,,2022-02-30,en,00,\n")
    _, problems = read_articles(project.articles_index, project.articles_dir)
    assert [(p.line, p.column, p.code) for p in problems] == [
        (3, "published", "type-error"),
        (3, "article_id", "article-missing-text"),
    ]


def test_articles_published_after_today_and_unknown_language_are_located(project: Project) -> None:
    rows = read_rows(project.articles_index)
    text = project.articles_index.read_text(encoding="utf-8")
    project.articles_index.write_text(
        text.replace(f",{rows[0]['published']},en,", ",9999-12-31,xxx,", 1), encoding="utf-8"
    )

    articles, problems = read_articles(project.articles_index, project.articles_dir)

    assert [(p.line, p.column, p.value, p.code) for p in problems] == [
        (2, "published", "9999-12-31", "future-date"),
        (2, "language", "xxx", "enum-error"),
    ]
    assert problems[0].message.startswith("the article cannot have been published after today (")
    assert problems[1].message.startswith("the language must be an ISO 639 code such as en, ar, fr or ckb")
    assert list(articles) == [SEED_ARTICLE]  # its events are not reported a second time


def test_articles_published_today_is_accepted(project: Project) -> None:
    rows = read_rows(project.articles_index)
    text = project.articles_index.read_text(encoding="utf-8")
    today = datetime.now(UTC).date().isoformat()
    project.articles_index.write_text(text.replace(f",{rows[0]['published']},", f",{today},", 1), encoding="utf-8")

    _, problems = read_articles(project.articles_index, project.articles_dir)

    assert problems == []


def test_articles_index_lines_count_past_bom_blank_lines_and_multiline_notes(project: Project) -> None:
    first = read_rows(project.articles_index)[0]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(first), lineterminator="\n")
    writer.writeheader()
    out.write("\n")
    writer.writerow(first | {"notes": "two\nline notes"})
    out.write("\n")
    writer.writerow(first | {"article_id": "second", "published": "2022-02-30"})
    project.articles_index.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))

    articles, problems = read_articles(project.articles_index, project.articles_dir)

    assert list(articles) == [SEED_ARTICLE]
    assert articles[SEED_ARTICLE].notes == "two\nline notes"
    assert ("published", 6) in {(p.column, p.line) for p in problems}  # header 1, blank 2, 3-4, blank 5, row 6


def test_articles_index_with_an_unbalanced_quote_is_a_located_problem(project: Project) -> None:
    with project.articles_index.open("a", encoding="utf-8") as handle:
        handle.write('\nbroken,"title\n')
    lines = project.articles_index.read_text(encoding="utf-8").count("\n")

    articles, problems = read_articles(project.articles_index, project.articles_dir)

    assert articles == {}
    assert [(p.code, p.line) for p in problems] == [("source-error", lines)]  # the record starts there
    assert "unbalanced double quote" in problems[0].message
