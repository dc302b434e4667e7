"""The pandera step and the named rules of validation (CODEBOOK.md, "Checks a tool can enforce").

Each rule is registered (eventdata.pipeline.RULES) with its problem codes, the columns it reads, its message
templates and its docstring; the codebook's "Checks" section is generated from the registry. Rules work on
whole columns and on each distinct value once; their findings go into the findings table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from eventdata.columns import columns, role_code, role_values, vocabulary_column
from eventdata.derive import country_id_prefix, country_iso3
from eventdata.pipeline import RULES, Findings, State, rule
from eventdata.schema import Codebook, to_pandera
from eventdata.sources.articles import Article
from eventdata.sources.sheets import LINE_COLUMN, SHEET_COLUMN, closest
from eventdata.textindex import TextIndex

EVIDENCE_SEPARATOR = re.compile(r"\s*(?:\.\.\.|…)\s*")
SEPARATOR_MARK = re.compile(r"\.\.\.|…")


@cache
def whitespace_patterns() -> tuple[str, str]:
    """RE2 patterns of what str.split() splits text at (Python's own notion, Unicode included): a run of it, and
    what normalising changes inside a text (any of it but a single space, or two spaces)."""
    every = np.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")  # each code point once
    spaces = [m.start() for m in re.finditer(r"\s", every)]  # str patterns' \s is str.isspace(): 25 ms, not 90
    run = "[" + "".join(f"\\x{{{c:x}}}" for c in spaces) + "]+"
    unusual = "[" + "".join(f"\\x{{{c:x}}}" for c in spaces if c != 0x20) + "]|  "
    return run, unusual


def literal(text: str) -> str:
    """Text used as a message template as it is (its braces escaped)."""
    return text.replace("{", "{{").replace("}", "}}")


def _groups(codes: np.ndarray) -> dict[int, np.ndarray]:
    """Row positions of each code (codes ≥ 0), rows in order."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]) if len(codes) else np.array([], int)
    bounds = np.r_[starts, len(codes)]
    return {
        int(sorted_codes[s]): order[s:e] for s, e in zip(bounds[:-1], bounds[1:], strict=True) if sorted_codes[s] >= 0
    }


def _mask(series: pd.Series) -> np.ndarray:
    return series.fillna(False).to_numpy(dtype=bool)


# --- pandera -------------------------------------------------------------------------------------------


def check_with_pandera(state: State) -> None:
    """Run the schema generated from the Table Schema and turn its failure cases into problems."""
    events, codebook, findings = state.events, state.codebook, state.findings
    generated = to_pandera(codebook)
    frame = events[codebook.field_names]
    try:
        generated.schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    else:
        return
    if cases["index"].isna().any():
        case = cases[cases["index"].isna()].iloc[0]
        raise RuntimeError(
            f"pandera reported a failure without a row: {case['column']} {case['check']} {case['failure_case']}"
        )
    cases = cases.assign(row=cases["index"].astype("int64"), check=cases["check"].astype(str))
    derived = set(codebook.derived_fields)
    counted = cases[~((cases["check"] == "not_nullable") & cases["column"].isin(derived))]
    rows_with_problems = findings.rows | set(counted["row"].tolist())
    found = findings.found()
    before = set(zip(found["row"].tolist(), found["column"].tolist(), strict=True))
    keep = [(r, c) not in before for r, c in zip(cases["row"].tolist(), cases["column"].tolist(), strict=True)]
    cases = cases[keep]
    # A value the tool derived: the columns it is derived from are already reported.
    skip = []
    for row, column in zip(cases["row"].tolist(), cases["column"].tolist(), strict=True):
        skip.append(column in derived and row in rows_with_problems and _left_empty(findings, row, str(column)))
    cases = cases[~np.asarray(skip, dtype=bool)].drop_duplicates(["row", "column"])
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        column, check = str(column), str(check)
        rows = group["row"].to_numpy()
        spec = codebook.field(column)
        values = group["failure_case"].tolist()
        if check == "not_nullable":
            findings.add(
                rows, "required-error", column, literal(f"{column} is required. {spec.get('description', '')}".strip())
            )
        elif check == "field_uniqueness":
            shown = pd.Series(values).astype(str)
            used = events[events[column].astype("string").isin(set(shown))]
            where = (
                (used[SHEET_COLUMN].astype(str) + ":" + used[LINE_COLUMN].astype(str))
                .groupby(used[column].astype(str).to_numpy(), sort=False)
                .agg(", ".join)
            )
            findings.add(
                rows,
                "unique-error",
                column,
                "{value} is used on several rows ({rows}); each value must be unique.",
                {"value": values, "rows": [where.get(v, "") for v in shown]},
                values,
            )
        else:
            number = group["check_number"].iloc[0]
            info = generated.checks.get((column, int(number))) if isinstance(number, int | np.integer) else None
            if info is None:
                findings.add(rows, "type-error", column, literal(f"{column} failed {check}."), value=values)
                continue
            hint: dict[str, str] = {}
            if info.code == "enum-error":
                allowed = [str(v) for v in spec["constraints"]["enum"]]
                for value in set(map(str, values)):
                    hint[value] = closest(value, allowed) or (
                        f" Allowed: {', '.join(allowed)}."
                        if len(allowed) <= 12
                        else " See the vocabulary in `eventdata codebook`."
                    )
            findings.add(
                rows,
                info.code,
                column,
                literal(f"{column} {info.rule}.") + "{hint}",
                {"hint": [hint.get(str(v), "") for v in values]},
                values,
            )


def _left_empty(findings: Findings, row: int, column: str) -> bool:
    """True when the coder typed nothing in the cell (so its value, if any, was derived)."""
    if column not in findings.raw.columns:
        return True
    cell: Any = findings.raw[column].iloc[row]
    return cell is None or bool(pd.isna(cell))


# --- named cross-field and cross-file rules ---------------------------------------------------------------


def _codes(text: str) -> set[int]:
    return {int(v) for v in text.split(";") if v.strip()}


def _optional_actors(codebook: Codebook) -> list[tuple[str, str]]:
    """(actor column, its actor-type column) of the actors a row may leave empty."""
    return [
        (a.name, a.actor_type)
        for a in columns(codebook).actors
        if a.actor_type and not codebook.field(a.name).get("constraints", {}).get("required")
    ]


@rule(
    "sub-event-type-mismatch",
    ("sub_event_type", "event_type"),
    "{sub_event_type!r} belongs to {owner!r}, not {event_type!r}. Sub-event types of {event_type}: {listed}.",
)
def check_sub_event_type(state: State) -> None:
    """A sub-event type belongs to exactly one event type (check 1)."""
    events, codebook = state.events, state.codebook
    table = codebook.vocabulary("sub_event_types")
    owner = dict(zip(table["sub_event_type"], table["event_type"], strict=True))
    expected = state.mapped("sub_event_type", owner)
    known_type = _mask(events["event_type"].isin(set(table["event_type"])))
    bad = expected.notna().to_numpy() & known_type & _mask(expected != events["event_type"])
    if not bad.any():
        return
    by_type = table.groupby("event_type", sort=False)["sub_event_type"].agg(list).to_dict()
    types = events["event_type"][bad].astype(str).tolist()
    state.findings.add(
        bad,
        "sub-event-type-mismatch",
        "sub_event_type",
        check_sub_event_type.messages["sub-event-type-mismatch"],
        {
            "sub_event_type": events["sub_event_type"][bad].astype(str).tolist(),
            "owner": expected[bad].astype(str).tolist(),
            "event_type": types,
            "listed": [", ".join(by_type.get(t, [])) for t in types],
        },
    )


def _actor_pairs(codebook: Codebook) -> list[str]:
    return [c for pair in _optional_actors(codebook) for c in pair]


@rule(
    "actor2-inter2-mismatch",
    _actor_pairs,
    {
        "actor2-inter2-mismatch": "{inter} must be {none} when {actor} is empty; "
        "name {actor} or set {inter} to {none}.",
        "actor2-inter2-mismatch (named)": "{inter} is {none} but {actor} is named; give {actor}'s actor type (1-8).",
    },
)
def check_actor2_inter2(state: State) -> None:
    """actor2 is empty exactly when inter2 is 0 (check 3)."""
    events, codebook = state.events, state.codebook
    none = role_code(codebook, "actor_types", "no-actor")
    templates = list(check_actor2_inter2.messages.values())
    for actor, inter in _optional_actors(codebook):
        no_actor = events[actor].isna().to_numpy()
        zero = _mask(events[inter] == none)
        known = events[inter].notna().to_numpy()
        params = {"inter": inter, "actor": actor, "none": none}
        state.findings.add(no_actor & known & ~zero, "actor2-inter2-mismatch", inter, templates[0], params)
        state.findings.add(~no_actor & zero, "actor2-inter2-mismatch", inter, templates[1], params)


def _actor_type_columns(codebook: Codebook) -> list[str]:
    return ["event_type", *(c for a in columns(codebook).actors for c in (a.name, a.actor_type) if c)]


@rule(
    ("actor2-required", "inter-not-allowed"),
    _actor_type_columns,
    {
        "actor2-required": "{event_type} events need a second actor ({actor}); code one-sided events as another "
        "event type.",
        "inter-not-allowed": "{rule}; see the actor types in the codebook.",
        "inter-not-allowed (derived)": "the actor list gives this actor {column} {code} ({label}), but {rule}; "
        "code the actor that took part, or another event type.",
    },
)
def check_actor_types(state: State) -> None:
    """Each event type admits certain actor types and may need a second actor (checks 4, 5, 7)."""
    events, codebook, findings = state.events, state.codebook, state.findings
    table = codebook.vocabulary("event_types")
    types = codebook.vocabulary("actor_types")
    labels = dict(zip(types["inter"].astype(int), types["actor_type"], strict=True)) if "actor_type" in types else {}
    declared = columns(codebook)
    optional = {a for a, _ in _optional_actors(codebook)}
    templates = check_actor_types.messages
    # event_types.csv names the event columns it constrains: actor2 (required/optional), inter1, inter2, ...
    required_of = [a.name for a in declared.actors if a.name in table.columns]
    allowed_of = [(a.name, a.actor_type) for a in declared.actors if a.actor_type and a.actor_type in table.columns]
    type_codes, distinct_types = state.distinct("event_type")
    code_of = {value: k for k, value in enumerate(distinct_types.tolist()) if isinstance(value, str)}
    for row in table.to_dict("records"):
        name = row["event_type"]
        if name not in code_of:
            continue
        rows = type_codes == code_of[name]
        for actor in required_of:
            if row[actor] == "required":
                findings.add(
                    rows & events[actor].isna().to_numpy(),
                    "actor2-required",
                    actor,
                    templates["actor2-required"],
                    {"event_type": name, "actor": actor},
                )
        for actor, column in allowed_of:
            assert column is not None
            allowed = _codes(row[column])
            values = events[column]
            checked = rows & values.notna().to_numpy()
            if actor in optional:
                checked &= events[actor].notna().to_numpy()
            bad = checked & ~_mask(values.isin(allowed))
            if not bad.any():
                continue
            rule_text = f"{name} events take {column} in {sorted(allowed)}"
            typed = (
                findings.raw[column].notna().to_numpy(dtype=bool)
                if column in findings.raw.columns
                else np.zeros(len(events), dtype=bool)
            )
            findings.add(bad & typed, "inter-not-allowed", column, templates["inter-not-allowed"], {"rule": rule_text})
            # The code was derived from the actor list: the coder typed the actor, so the problem is named there.
            derived = bad & ~typed
            if derived.any():
                codes = values[derived].astype(int).tolist()
                findings.add(
                    derived,
                    "inter-not-allowed",
                    actor,
                    templates["inter-not-allowed (derived)"],
                    {"column": column, "code": codes, "label": [labels.get(c, "?") for c in codes], "rule": rule_text},
                    events[actor][derived].astype(object).tolist(),
                )


@rule(
    "civilian-targeting-rule",
    ("sub_event_type", "civilian_targeting"),
    {
        "civilian-targeting-rule": "{sub_event_type} events are never coded as civilian targeting; leave it empty.",
        "civilian-targeting-rule (required)": "{sub_event_type} events target civilians: write 'Civilian targeting'.",
    },
)
def check_civilian_targeting(state: State) -> None:
    """civilian_targeting only where the sub-event type allows it, and always where it requires it (checks 5, 8)."""
    events, codebook = state.events, state.codebook
    table = codebook.vocabulary("sub_event_types")
    rule_of = state.mapped(
        "sub_event_type", dict(zip(table["sub_event_type"], table["civilian_targeting"], strict=True))
    )
    targeted = events["civilian_targeting"].notna().to_numpy()
    templates = list(check_civilian_targeting.messages.values())
    for chosen, template in (
        (_mask(rule_of == "never") & targeted, templates[0]),
        (_mask(rule_of == "required") & ~targeted, templates[1]),
    ):
        if chosen.any():
            shown = events["sub_event_type"][chosen].astype(str).tolist()
            state.findings.add(
                chosen, "civilian-targeting-rule", "civilian_targeting", template, {"sub_event_type": shown}
            )


@rule(
    "civilians-in-battle",
    lambda codebook: ["event_type", *columns(codebook).associates],
    "civilians are never associated actors in a battle; "
    "code their harm as a separate Violence against civilians event.",
)
def check_civilians_in_battle(state: State) -> None:
    """Civilians are never associated actors in a battle (check 6)."""
    from eventdata.actors import CIVILIAN_ASSOCIATES

    battles = _mask(state.events["event_type"].isin(role_values(state.codebook, "event_types", "battles")))
    for column, civilians in state.notes.get(CIVILIAN_ASSOCIATES, {}).items():
        state.findings.add(
            battles & civilians,
            "civilians-in-battle",
            column,
            check_civilians_in_battle.messages["civilians-in-battle"],
        )


@rule(
    "fatalities-not-allowed",
    ("sub_event_type", "fatalities"),
    "{sub_event_type} events have at most {limit} fatalities; a protest with deaths is 'Excessive force against "
    "protesters' or a riot.",
)
def check_fatalities_allowed(state: State) -> None:
    """Peaceful protests and protests with intervention have no fatalities (check 9)."""
    events = state.events
    table = state.codebook.vocabulary("sub_event_types")
    limits = {k: int(v) for k, v in zip(table["sub_event_type"], table["max_fatalities"], strict=True) if v != ""}
    limit = state.mapped("sub_event_type", limits)
    bad = limit.notna().to_numpy() & _mask(events["fatalities"] > limit)
    if bad.any():
        state.findings.add(
            bad,
            "fatalities-not-allowed",
            "fatalities",
            check_fatalities_allowed.messages["fatalities-not-allowed"],
            {
                "sub_event_type": events["sub_event_type"][bad].astype(str).tolist(),
                "limit": limit[bad].astype(int).tolist(),
            },
        )


def _date_column(codebook: Codebook) -> str:
    return str(next(f["name"] for f in codebook.fields if f["type"] == "date"))


@rule(
    "time-precision-date",
    lambda codebook: [vocabulary_column(codebook, "time_precision"), _date_column(codebook)],
    "with {column} {code} (month) the date is the 15th, or the 1st or last day of the month.",
)
def check_time_precision_date(state: State) -> None:
    """A month-precision date is the 1st, 15th/16th or last day of the month (check 10)."""
    events, codebook = state.events, state.codebook
    precision = vocabulary_column(codebook, "time_precision")
    month = role_code(codebook, "time_precision", "month")
    dates = events[_date_column(codebook)]
    monthly = _mask(events[precision] == month) & dates.notna().to_numpy()
    if not monthly.any():
        return
    ok = (dates.dt.day.isin([1, 15, 16]) | dates.dt.is_month_end).fillna(True).to_numpy(dtype=bool)
    state.findings.add(
        monthly & ~ok,
        "time-precision-date",
        _date_column(codebook),
        check_time_precision_date.messages["time-precision-date"],
        {"column": precision, "code": month},
    )


@rule("id-country-prefix", ("event_id_cnty", "country"), "events in {country} have ids starting with {expected}.")
def check_id_country_prefix(state: State) -> None:
    """An event id starts with its country's ACLED code, or ISO3 if no other country's ids use it (check 13)."""
    events, codebook = state.events, state.codebook
    prefixes = country_id_prefix(codebook)
    taken = set(prefixes.values())
    iso3 = {c: i for c, i in country_iso3(codebook).items() if i == prefixes[c] or i not in taken}
    ids = pa_arrow.array(events["event_id_cnty"].astype("string").array)
    matched = pc.extract_regex(ids, r"^(?P<prefix>[A-Za-z]+)").flatten()[0]  # null where no match
    if isinstance(matched, pa_arrow.ChunkedArray):
        matched = matched.combine_chunks()
    encoded = pc.dictionary_encode(matched)
    prefix_codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    prefix_values = encoded.dictionary.to_pylist()
    country_codes, countries = pd.factorize(events["country"], use_na_sentinel=True)
    country_values = pd.Series(countries, dtype=object).tolist()
    # Each distinct (country, prefix) is judged once.
    width = len(prefix_values) + 1
    pair_codes, pairs = pd.factorize(np.where(country_codes < 0, -1, country_codes * width + prefix_codes + 1))
    wrong = np.zeros(len(pairs) + 1, dtype=bool)
    for k, pair in enumerate(np.asarray(pairs).tolist()):
        if pair < 0 or pair % width == 0:
            continue
        country, prefix = country_values[pair // width], prefix_values[pair % width - 1]
        wanted = prefixes.get(country)
        wrong[k] = wanted is not None and prefix != wanted and prefix != iso3.get(country)
    bad = wrong[np.where(pair_codes < 0, len(pairs), pair_codes)]
    if bad.any():
        shown = events["country"][bad].astype(str)
        state.findings.add(
            bad,
            "id-country-prefix",
            "event_id_cnty",
            check_id_country_prefix.messages["id-country-prefix"],
            {"country": shown.tolist(), "expected": [str(prefixes[c]) for c in shown.tolist()]},
        )


ARTICLE_MESSAGES = {
    "future-date": "the date is after today ({today}).",
    "missing-article": "article {article!r} is not in seeds/articles.csv.{hint}",
    "date-after-publication": "the event is dated after its article was published ({published}).",
    "evidence-not-found": "this passage does not occur in the cited article(s); quote the text exactly "
    "(whitespace may differ; separate passages with ' ... ').",
}


@rule(tuple(ARTICLE_MESSAGES), ("event_date", "article_id", "evidence"), ARTICLE_MESSAGES)
def check_articles(state: State) -> None:
    """Each event cites known articles, quotes them, and is not dated after them or in the future (check 12).

    An article the index lists but that cannot be used (its text is missing, its date unreadable) is
    reported once, at the index; rows citing it get no second problem.
    """
    _check_articles(
        state.events, state.references.articles, state.findings, state.today, state.references.listed_articles
    )


def _check_articles(
    events: pd.DataFrame, articles: dict[str, Article], findings: Findings, today: date, listed: frozenset[str]
) -> None:
    dates = events["event_date"]
    future = _mask(dates > pd.Timestamp(today))
    findings.add(future, "future-date", "event_date", ARTICLE_MESSAGES["future-date"], {"today": today.isoformat()})
    cell_codes, distinct_cells = pd.factorize(events["article_id"], use_na_sentinel=True)
    cells = pd.Series(distinct_cells, dtype=object)
    published = {key: pd.Timestamp(a.published) for key, a in articles.items()}
    known = set(articles)
    earliest_of = np.full(len(cells) + 1, np.datetime64("NaT"), dtype="datetime64[s]")
    missing_of: dict[int, list[str]] = {}
    for code, cell in enumerate(cells.tolist()):
        cited = [a for a in str(cell).split("; ") if a != ""]
        dated = [published[a] for a in cited if a in known]
        if dated:
            earliest_of[code] = min(dated).to_datetime64().astype("datetime64[s]")
        gone = [a for a in cited if a not in known and a not in listed]
        if gone:
            missing_of[code] = gone
    rows_of = _groups(cell_codes) if missing_of else {}
    hints: dict[str, str] = {}
    for code, gone in missing_of.items():
        for article_id in gone:
            if article_id not in hints:
                hints[article_id] = closest(article_id, list(articles))
            findings.add(
                rows_of[code],
                "missing-article",
                "article_id",
                ARTICLE_MESSAGES["missing-article"],
                {"article": article_id, "hint": hints[article_id]},
                article_id,
            )
    earliest = earliest_of[np.where(cell_codes < 0, len(cells), cell_codes)]
    day = dates.to_numpy(dtype="datetime64[s]")
    after = (day > earliest) & ~np.isnat(earliest) & ~np.isnat(day) & ~future
    if after.any():
        shown = pd.Series(earliest[after]).dt.date.astype(str).tolist()
        findings.add(
            after,
            "date-after-publication",
            "event_date",
            ARTICLE_MESSAGES["date-after-publication"],
            {"published": shown},
        )
    # Rows repeat the same article and passage often (one article, many events): each distinct (cited cell,
    # evidence) pair is checked once, each distinct (article, passage) is asked of the article's index once,
    # all in arrays; Python sees each distinct evidence text once (to split it) and each failure once.
    evidence_codes, distinct_evidence = pd.factorize(events["evidence"], use_na_sentinel=True)
    width = len(distinct_evidence) + 1
    pairs = np.where((cell_codes < 0) | (evidence_codes < 0), -1, cell_codes.astype(np.int64) * width + evidence_codes)
    pair_codes, distinct_pairs = pd.factorize(pairs, use_na_sentinel=False)
    failing = _evidence_failures(
        np.asarray(distinct_pairs, dtype=np.int64), width, cells.tolist(), distinct_evidence.array, articles
    )
    if failing:
        rows_of = _groups(pair_codes)
        for code, passage in failing:
            findings.add(
                rows_of[code],
                "evidence-not-found",
                "evidence",
                ARTICLE_MESSAGES["evidence-not-found"],
                value=passage,
            )


def _passages(text: str) -> list[tuple[str, str]]:
    """An evidence cell's passages (split at '...' or '…'): each as typed, and with its whitespace normalised.

    The passages are those of EVIDENCE_SEPARATOR.split, found faster: split at the marks, then the whitespace
    next to each mark stripped.
    """
    parts = SEPARATOR_MARK.split(text)
    if len(parts) > 1:
        last = len(parts) - 1
        parts = [p.lstrip() if i == last else p.rstrip() if i == 0 else p.strip() for i, p in enumerate(parts)]
    return [(p, " ".join(p.split())) for p in parts]


def _normalised_passages(values: pa_arrow.Array) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The non-empty normalised passages of each text, in order, computed in Arrow.

    Returns (the text each passage is of, its code, the distinct normalised passages by code): the passages
    `wanted` of _passages(text) that are not empty. Missing texts have none.
    """
    parts = pc.split_pattern_regex(values, SEPARATOR_MARK.pattern)
    owner = pc.list_parent_indices(parts).to_numpy()
    passages = pc.list_flatten(parts)
    whitespace_run, unusual_whitespace = whitespace_patterns()
    unusual = pc.match_substring_regex(passages, unusual_whitespace)  # few are: the regex replaces only those
    if pc.any(unusual).as_py():  # each copy of the texts is as large as the column: made only when needed
        collapsed = pc.replace_substring_regex(passages.filter(unusual), whitespace_run, " ")
        passages = pc.replace_with_mask(passages, unusual, collapsed)
    normalised = pc.utf8_trim(passages, " ")
    del parts, passages
    kept = pc.not_equal(normalised, "").to_numpy(zero_copy_only=False)
    if not kept.all():
        normalised = normalised.filter(pa_arrow.array(kept))
    encoded = pc.dictionary_encode(normalised)
    del normalised
    return owner[kept], encoded.indices.to_numpy().astype(np.int64), encoded.dictionary.to_pylist()


def _csr(lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lists of ints as (offsets, flat values)."""
    sizes = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    flat = np.fromiter((v for x in lists for v in x), dtype=np.int64, count=int(offsets[-1]))
    return offsets, flat


def _expand(owners: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each owner o, the positions offsets[o]..offsets[o + 1]: (index into owners, position), in order."""
    sizes = offsets[owners + 1] - offsets[owners]
    which = np.repeat(np.arange(len(owners)), sizes)
    starts = np.repeat(offsets[owners] - np.r_[0, np.cumsum(sizes)[:-1]], sizes) if len(owners) else sizes
    return which, starts + np.arange(len(which))


def _evidence_failures(
    distinct_pairs: np.ndarray,
    width: int,
    cells: list[Any],
    evidence: Sequence[Any] | pd.api.extensions.ExtensionArray,
    articles: dict[str, Article],
) -> list[tuple[int, str]]:
    """(pair code, passage as typed) of every passage not found in any article its cell cites, in pair order.

    Pair code k is the (cited cell, evidence) pair distinct_pairs[k] = cell * width + evidence (-1: either
    missing). Pairs citing an article that is not known are skipped (reported as missing-article).
    """
    article_ids = list(articles)
    article_index = {a: i for i, a in enumerate(article_ids)}
    cited: list[list[int]] = []
    for cell in cells:
        named = [a for a in cell.split("; ") if a] if isinstance(cell, str) else []
        cited.append([article_index[a] for a in named] if named and all(a in article_index for a in named) else [])
    cell_offsets, cell_articles = _csr(cited)
    codes = np.flatnonzero(distinct_pairs >= 0)
    cell_of, evidence_of = distinct_pairs[codes] // width, distinct_pairs[codes] % width
    usable = cell_offsets[cell_of + 1] > cell_offsets[cell_of]
    codes, cell_of, evidence_of = codes[usable], cell_of[usable], evidence_of[usable]
    used, evidence_of = np.unique(evidence_of, return_inverse=True)
    if hasattr(evidence, "__arrow_array__"):  # Arrow-backed text stays in Arrow
        texts_used = pa_arrow.chunked_array(evidence.__arrow_array__()).combine_chunks().take(pa_arrow.array(used))
    else:  # large_string (64-bit offsets) either way: the distinct evidence of 10M events may pass 2 GB
        texts_used = pa_arrow.array(
            [evidence[code] if isinstance(evidence[code], str) else None for code in used.tolist()],
            pa_arrow.large_string(),
        )
    owner, wanted_of, texts = _normalised_passages(texts_used)
    slot_offsets = np.zeros(len(used) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(used)), out=slot_offsets[1:])
    pair_at, passage_at = _expand(evidence_of, slot_offsets)  # one per (pair, passage), pair order then passage
    wanted_at = wanted_of[passage_at]
    ask_at, article_pos = _expand(cell_of[pair_at], cell_offsets)  # × each article the pair's cell cites
    article_at = cell_articles[article_pos]
    distinct = max(1, len(texts))
    keys, key_of = np.unique(article_at * distinct + wanted_at[ask_at], return_inverse=True)
    answers = np.zeros(len(keys), dtype=bool)
    key_article, key_wanted = keys // distinct, keys % distinct
    bounds = np.flatnonzero(np.r_[True, key_article[1:] != key_article[:-1], True]) if len(keys) else np.zeros(1, int)
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        article = articles[article_ids[int(key_article[start])]]
        index = TextIndex(" ".join(article.text.split()))
        answers[start:end] = index.find_all([texts[w] for w in key_wanted[start:end].tolist()])
    found = np.bincount(ask_at, weights=answers[key_of], minlength=len(wanted_at)) > 0
    missed = np.flatnonzero(~found)
    first_of = slot_offsets[owner]  # each passage's position among its text's non-empty passages
    return [
        (int(codes[pair_at[m]]), _typed_passage(texts_used[int(owner[p])].as_py(), int(p - first_of[p])))
        for m, p in zip(missed.tolist(), passage_at[missed].tolist(), strict=True)
    ]


def _typed_passage(text: str, position: int) -> str:
    """The non-empty passage at position of text, as typed."""
    return [typed for typed, wanted in _passages(text) if wanted][position]


# --- the Checks section of the codebook ---------------------------------------------------------------------


def checks_markdown(codebook: Codebook, severities: dict[str, str], rules: Sequence[Any] = RULES) -> str:
    """The codebook's "Checks" section: every registered rule, its codes and their severity, the columns it reads."""
    lines = [
        "## Checks",
        "",
        "Besides the column constraints above, validation runs these rules, in this order "
        "(severities from schemas/rules.csv).",
        "",
        "| rule | codes | severity | columns | what it checks |",
        "|---|---|---|---|---|",
    ]
    for registered in rules:
        codes = ", ".join(f"`{c}`" for c in registered.codes)
        severity = ", ".join(dict.fromkeys(severities.get(c, "error") for c in registered.codes))
        read = ", ".join(f"`{c}`" for c in registered.columns(codebook))
        doc = " ".join(registered.doc.split()).replace("|", "\\|")
        lines.append(f"| {registered.name} | {codes} | {severity} | {read} | {doc} |")
    return "\n".join(lines) + "\n"
