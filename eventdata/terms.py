"""Redistribution terms of the sources: the terms vocabulary, grants, and what a release records about them.

The vocabulary has one row per terms (``terms``), whether rows coded from a source under them may be
published to a public repository (``redistribute``: yes/no), the publishers whose articles take them
by default (``publishers``, ';'-separated; ``*`` marks the terms of every other article), a title, a
URL and a description. It is part of the default codebook (schemas/vocabularies/terms.csv, listed
in the codebook like every vocabulary), so `eventdata init` copies it into new datasets; a dataset
made before it existed uses the default codebook's. An article's terms are its ``terms`` cell in
seeds/articles.csv; an empty cell, or an index without the column, takes the default for its publisher.

schemas/dataset.json may declare rights the holders granted: ``"redistribution": {"<terms>":
{"granted_by": "...", "reference": "..."}}``. A release records its terms in datapackage.json under
``eventdata:terms`` when any article is not under the default terms or a grant is declared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from eventdata.errors import SchemaFileError
from eventdata.schema import VOCABULARY_DIR, Codebook
from eventdata.sources.sheets import read_records

TERMS_TABLE = "terms"
TERMS_COLUMNS = ("terms", "redistribute", "publishers", "title", "url", "description")
EVERY_PUBLISHER = "*"
GRANTS_KEY = "redistribution"
GRANT_FIELDS = ("granted_by", "reference")
RECORD_KEY = "eventdata:terms"


@dataclass(frozen=True)
class Terms:
    """One entry of the terms vocabulary."""

    name: str
    redistribute: bool
    title: str
    url: str
    publishers: tuple[str, ...]


@dataclass(frozen=True)
class TermsVocabulary:
    """The terms a dataset knows, and which apply to an article that names none."""

    terms: dict[str, Terms]
    default: str
    source: str

    def for_article(self, cell: str, publisher: str) -> str | None:
        """The terms of an article: its cell, else its publisher's default, else the default; None if unknown."""
        if cell:
            return cell if cell in self.terms else None
        folded = publisher.casefold()
        for terms in self.terms.values():
            if folded in (p.casefold() for p in terms.publishers):
                return terms.name
        return self.default


def terms_vocabulary(codebook: Codebook) -> TermsVocabulary:
    """The dataset's terms vocabulary (schemas/vocabularies/terms.csv), or the one eventdata ships."""
    frame = codebook.vocabularies.get(TERMS_TABLE)
    if frame is not None:
        path = codebook.path / VOCABULARY_DIR / f"{TERMS_TABLE}.csv"
        _, records = read_records(path, SchemaFileError, "Vocabulary")  # the frame's rows, with their lines
        return _parse_vocabulary(frame, str(path), [line for line, _ in records])
    builtin = default_terms_path()
    try:
        frame = pd.read_csv(builtin, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError as err:
        raise SchemaFileError(f"{builtin} is missing from this installation of eventdata; reinstall it.") from err
    return _parse_vocabulary(frame, str(builtin))


def default_terms_path() -> Path:
    """The terms vocabulary of the default codebook eventdata ships (for datasets made before terms.csv)."""
    from eventdata.project import default_codebook_dir

    return default_codebook_dir() / VOCABULARY_DIR / f"{TERMS_TABLE}.csv"


def _parse_vocabulary(frame: pd.DataFrame, source: str, lines: list[int] | None = None) -> TermsVocabulary:
    """The terms of a vocabulary frame; lines: the line of each row (default: header = 1, no blank lines)."""
    missing = [c for c in TERMS_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaFileError(f"{source}: add the column(s) {', '.join(missing)} to the header.")
    terms: dict[str, Terms] = {}
    defaults = []
    rows = frame.to_dict("records")
    for line, row in zip(lines or range(2, len(rows) + 2), rows, strict=True):
        name, flag = row["terms"].strip(), row["redistribute"].strip().lower()
        if not name or name in terms:
            raise SchemaFileError(f"{source}:{line}: terms {name!r} must be given and listed once.")
        if flag not in ("yes", "no"):
            raise SchemaFileError(f"{source}:{line}: redistribute={row['redistribute']!r} must be yes or no.")
        publishers = tuple(p.strip() for p in row["publishers"].split(";") if p.strip())
        if EVERY_PUBLISHER in publishers:
            defaults.append(name)
        others = tuple(p for p in publishers if p != EVERY_PUBLISHER)
        terms[name] = Terms(name, flag == "yes", row["title"].strip(), row["url"].strip(), others)
    if len(defaults) != 1:
        raise SchemaFileError(
            f"{source}: exactly one terms must have publishers '{EVERY_PUBLISHER}' (the terms of an article "
            f"that names none); found {len(defaults)}."
        )
    return TermsVocabulary(terms, defaults[0], source)


def read_grants(codebook: Codebook, vocabulary: TermsVocabulary) -> dict[str, dict[str, str]]:
    """The rights declared in schemas/dataset.json ("redistribution"), checked; {} when none."""
    where = codebook.path / "dataset.json"
    grants = codebook.dataset.get(GRANTS_KEY, {})
    if not isinstance(grants, dict):
        raise SchemaFileError(
            f'{where}: {GRANTS_KEY} must be an object such as {{"acled-terms": {{"granted_by": "ACLED", '
            '"reference": "agreement of 2026-01-15"}}.'
        )
    checked: dict[str, dict[str, str]] = {}
    for name, grant in grants.items():
        if name not in vocabulary.terms:
            known = ", ".join(vocabulary.terms)
            raise SchemaFileError(
                f"{where}: {GRANTS_KEY} names terms {name!r}, which {vocabulary.source} lacks ({known})."
            )
        if not _is_grant(grant):
            raise SchemaFileError(
                f"{where}: {GRANTS_KEY}.{name} must give granted_by (who holds the rights and granted them) and "
                "reference (the agreement or letter, so readers can check it)."
            )
        checked[name] = {k: grant[k].strip() for k in GRANT_FIELDS}
    return checked


def _is_grant(grant: Any) -> bool:
    return isinstance(grant, dict) and all(isinstance(grant.get(k), str) and grant[k].strip() for k in GRANT_FIELDS)


def terms_record(
    articles: Iterable[Any],
    rows_per_article: Mapping[str, int],
    vocabulary: TermsVocabulary,
    grants: Mapping[str, Mapping[str, str]],
) -> dict[str, Any] | None:
    """The eventdata:terms section of datapackage.json; None when every article has the default terms and no grant."""
    by_terms: dict[str, list[Any]] = {}
    for article in sorted(articles, key=lambda a: a.article_id):
        by_terms.setdefault(article.terms or vocabulary.default, []).append(article)
    if set(by_terms) <= {vocabulary.default} and not grants:
        return None
    entries = []
    for name in vocabulary.terms:  # vocabulary order
        if name not in by_terms and name not in grants:
            continue
        terms = vocabulary.terms[name]
        listed = by_terms.get(name, [])
        entry: dict[str, Any] = {"terms": name, "title": terms.title}
        if terms.url:
            entry["path"] = terms.url
        entry["redistribute"] = terms.redistribute
        entry["rows"] = sum(rows_per_article.get(a.article_id, 0) for a in listed)
        entry["articles"] = [
            {"article_id": a.article_id, "publisher": a.publisher, "rows": rows_per_article.get(a.article_id, 0)}
            for a in listed
        ]
        if name in grants:
            entry["granted"] = dict(grants[name])
        entries.append(entry)
    restricted = sum(e["rows"] for e in entries if not e["redistribute"] and "granted" not in e)
    return {"restricted_rows": restricted, "terms": entries}
