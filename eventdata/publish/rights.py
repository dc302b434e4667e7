"""The licence guardrail: rows whose terms forbid redistribution never go to a public repository.

A release records the terms of its rows in datapackage.json (``eventdata:terms``, written by
`eventdata build` from schemas/vocabularies/terms.csv and seeds/articles.csv). A public target
(Zenodo, CKAN, HDX: anyone can download what they hold) refuses a release that holds rows, or
their source texts in sources/, under terms that do not allow redistribution, unless
schemas/dataset.json granted the right for those terms (recorded in the release as ``granted``).
The refusal comes from `check`, so `--check`, `--dry-run` and a real run stop before any request.

Folders and fsspec URLs (a local disk, a bucket) are not public targets: who may read them is
their owner's choice, so they take every release. A publisher says so with ``public = False``;
every other publisher is treated as public.
"""

from __future__ import annotations

from typing import Any

from eventdata.catalog import Release
from eventdata.errors import Problem, PublishError, Report
from eventdata.publish import Publisher, PublishResult

#: The section of datapackage.json (eventdata.terms.RECORD_KEY; this package does not import pandas).
RECORD_KEY = "eventdata:terms"
SHOWN_ARTICLES = 5


def is_public(publisher: Publisher) -> bool:
    """True unless the publisher declares itself non-public (folders, buckets)."""
    return bool(getattr(publisher, "public", True))


def restricted_terms(release: Release) -> list[dict[str, Any]]:
    """The release's terms entries that forbid redistribution and carry no grant, with rows or sources."""
    record = release.descriptor().get(RECORD_KEY)
    if record is None:
        return []
    entries = _checked_entries(release, record)
    return [e for e in entries if e.get("redistribute") is False and not e.get("granted") and e.get("articles")]


def _checked_entries(release: Release, record: Any) -> list[dict[str, Any]]:
    """The terms entries of a release's record, refused when damaged: the guardrail never passes what it cannot read."""

    def damaged(what: str) -> PublishError:
        return PublishError(
            f"{release.descriptor_path}: {RECORD_KEY}{what}, so the rows' redistribution terms cannot be read and "
            f"nothing is published; restore datapackage.json of release {release.version} from a backup or the "
            "published copy (eventdata verify lists what differs)."
        )

    if not isinstance(record, dict):
        raise damaged(f" must be an object ({{...}}), not {type(record).__name__}")
    entries = record.get("terms", [])
    if not isinstance(entries, list):
        raise damaged(f".terms must be a list ([...]), not {type(entries).__name__}")
    for index, entry in enumerate(entries):
        where = f".terms[{index}]"
        if not isinstance(entry, dict):
            raise damaged(f"{where} must be an object ({{...}}), not {type(entry).__name__}")
        if not isinstance(entry.get("redistribute"), bool):
            raise damaged(f"{where}.redistribute must be true or false, not {entry.get('redistribute')!r}")
        articles = entry.get("articles", [])
        if not isinstance(articles, list) or not all(isinstance(a, dict) for a in articles):
            raise damaged(f"{where}.articles must be a list of objects, not {articles!r}")
    return entries


def restriction_problems(release: Release, target: str) -> list[Problem]:
    """One problem per terms that keeps the release off a public target, naming its rows' sources."""
    problems = []
    for entry in restricted_terms(release):
        name = str(entry.get("terms", "?"))
        articles = entry["articles"]
        named = ", ".join(
            f"{a.get('article_id')} ({a.get('publisher')}, {a.get('rows', 0)} rows)" for a in articles[:SHOWN_ARTICLES]
        )
        if len(articles) > SHOWN_ARTICLES:
            named += f" and {len(articles) - SHOWN_ARTICLES} more articles"
        link = f" ({entry['path']})" if entry.get("path") else ""
        terms = f"{entry.get('title', name)}{link}, which does not allow redistributing them; {target} would make"
        rows = entry.get("rows", 0)
        if rows:
            found = f"{rows} row(s) come from {named}, under {terms} them, and their source texts in sources/, public."
        else:
            found = f"The source texts of {named} in sources/ are under {terms} them public."
        message = found + (
            " Publish this release to a folder or a private bucket instead, or, if the holder granted you the right, "
            f'declare it in schemas/dataset.json as "redistribution": {{"{name}": {{"granted_by": "…", '
            '"reference": "…"}} and release a new version.'
        )
        where = str(release.descriptor_path)
        problems.append(Problem("redistribution-not-allowed", message, where, None, RECORD_KEY, name))
    return problems


class GuardedPublisher:
    """A public target behind the guardrail: check reports restricted rows, publish refuses them."""

    def __init__(self, inner: Publisher) -> None:
        self.inner = inner
        self.name = inner.name

    def check(self, release: Release) -> Report:
        problems = restriction_problems(release, self.name)
        report = self.inner.check(release)
        if not problems:
            return report
        return Report(tuple(problems) + report.problems, report.files, report.rows, report.stats)

    def publish(self, release: Release, *, dry_run: bool) -> PublishResult:
        problems = restriction_problems(release, self.name)
        if problems:
            raise PublishError(" ".join(p.message for p in problems) + " Nothing was sent.")
        return self.inner.publish(release, dry_run=dry_run)

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "inner":
            raise AttributeError(attribute)
        return getattr(self.inner, attribute)  # the target's own helpers (plan, dataset_fields, …)
