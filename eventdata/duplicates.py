"""`eventdata duplicates`: pairs of events from different articles that are likely one event reported twice.

Blocking is vectorised numpy: every event gets an int64 key (country, 0.25° grid cell, day) and the pairs are
those whose keys differ by a day offset of 0..days and a neighbouring cell, found with np.searchsorted on the
sorted keys; so a pair is in one country, at most `days` apart and at most about 28 km apart (up to about 56 km
across cells). Each pair is scored in arrays by adding evidence: date, distance in km, admin1/admin2, event and
sub-event type, actors (canonical names, aliases resolved), fatalities (equal > close > far), the same place,
actors and sub-event type on another day (a campaign's next day as often as a re-report dated a day off) and
whether such a pair is alone in that setting (no other event of it, in any article, from DEFAULT_DAYS before the
earlier day to DEFAULT_DAYS after the later: a campaign has more days, a re-report is one more event), whether
either event belongs to a daily series of its article (same place, actors and sub-event type a day before or after:
candidates abound there, so each is less likely) and how alike the notes (and evidence) are. Evidence is in
log-odds; the score is its logistic, an estimate of the chance that the pair is one event (calibrated on the
synthetic benchmark, see WEIGHTS), and every candidate lists the reasons behind it. The notes are compared on
what the coded fields do not already say: each event's words (split in Arrow) minus those of its place, admin
names, actors and types, weighted by inverse document frequency (words every note has weigh nothing), as a cosine
(scipy sparse rows; computed only for pairs that could reach the threshold). Two notes that both name specifics
but share none are evidence against, and so are notes further from each other than those of a rival (another
candidate of either event; of a campaign's days, a re-report describes the one its notes name). Candidates then
compete: an event re-reported once is
one of its candidates, so the summed odds of each event's other candidate pairs lower a pair's score (COMPETITION;
a campaign of daily events reported by daily articles gives each day's event several alike candidates). An event
is the duplicate of at most one event of another article: candidates are assigned one-to-one per pair of articles,
best score first (greedy).

seeds/duplicates.csv records the coders' decisions (event_a,event_b,score,reasons,decision,coder,note; decision
duplicate or distinct). When an event of a pair marked duplicate is deleted (seeds/deletions.csv), the release's
changes/deleted.csv names the event it duplicated in a `duplicate_of` column (the column exists only then).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eventdata import progress
from eventdata.agreement import haversine_km
from eventdata.errors import Problem, SourceError
from eventdata.files import write_atomic
from eventdata.project import Project
from eventdata.sources.sheets import CsvFileError, display_path, ragged_message, read_csv

if TYPE_CHECKING:  # scipy is imported where pairs are scored: reading decisions and releasing need none of it
    from scipy import sparse

DUPLICATES_FILE = "duplicates.csv"
DUPLICATES_COLUMNS = ("event_a", "event_b", "score", "reasons", "decision", "coder", "note")
REQUIRED_COLUMNS = ("event_a", "event_b", "decision")
DECISIONS = ("duplicate", "distinct")
DEFAULT_DAYS = 3
DEFAULT_THRESHOLD = 0.5
CELL_DEGREES = 0.25
CHUNK = 4_000_000  # pairs scored at once
#: Pairs down to this chance compete with an event's other candidates (against_competitors).
COMPETITOR_FLOOR = 0.02
#: Evidence per reason, in log-odds: the score is the logistic of their sum plus BIAS and the competition
#: (COMPETITION), an estimate of the chance that the pair is one event. Fitted by logistic regression (numpy
#: Newton steps, L2 1.0; `python benchmarks/bench_duplicates.py --fit 1,2` prints them) on the blocked pairs of
#: benchmarks/generate_events.duplicate_events(20_000) seeds 1 and 2, the competition term refitted until it
#: settles; measured on other seeds (3 to 7, see bench_duplicates.py). The three type reasons, of which exactly one
#: holds, are shifted so that the same sub-event type weighs 0. The two daily-series reasons never hold there (an
#: article of that generator reports one day) and keep the weights fitted on its version 2. notes_outmatched is
#: fitted on the pairs that could be one event before it (COMPETITOR_FLOOR), as find_candidates adds it.
#: alone_in_setting rests on that generator's campaigns lasting 3-10 days: on data whose campaigns have gaps of more
#: than DEFAULT_DAYS it holds for pairs of two campaign days too (a re-fit on coded pairs would show it).
WEIGHTS = {
    "same_day": 5.7, "one_day": 3.5, "two_days": 2.6,
    "within_1km": -0.3, "within_10km": 0.5, "within_25km": 0.0, "beyond_50km": 0.0,
    "same_admin2": 2.0, "other_admin1": -1.8,
    "same_sub_event_type": 0.0, "same_event_type": -0.4, "other_event_type": -2.2,
    "same_actors": 3.9, "one_side_lacks_an_actor": 4.5, "conflicting_actor": -4.0, "other_actors": -4.4,
    "days_apart_within_daily_series": -1.7, "in_daily_series": -2.9,
    "same_fatalities": 3.3, "same_no_fatalities": 1.8, "close_fatalities": 1.7, "other_fatalities": 0.2,
    "notes_alike": 2.7, "notes_similar": 1.1, "notes_overlap": 0.6, "notes_touch": 0.3,
    "notes_differ": -2.0, "notes_barely_alike": -1.1,
    "same_setting_one_day": -3.7, "same_setting_two_days": -3.4, "same_setting_three_days": -4.5,
    "notes_outmatched": -1.5, "alone_in_setting": 4.3,
}  # fmt: skip
BIAS = -10.4
#: Log-odds per log(1 + summed odds of the other candidate pairs) of the event with more competition, and of the
#: one with less (fitted with WEIGHTS, without against_competitors' discount of a rival that is the other event's
#: report too, which moves the held-out precision and recall by less than 0.002): an event re-reported once is one
#: of its candidates, not several.
COMPETITION = (-0.71, -0.30)
DISTANCE_REASONS = ("within_1km", "within_10km", "within_25km", "beyond_50km")
#: Lower cosine bounds of the notes' bands (alike, similar, overlap, touch); NOTES_DIFFER bounds barely alike,
#: NOTES_NONE differ (these two count only when both notes name specifics).
NOTES_BANDS = ((0.8, "notes_alike"), (0.6, "notes_similar"), (0.4, "notes_overlap"), (0.3, "notes_touch"))
NOTES_DIFFER, NOTES_NONE = 0.2, 0.1
#: notes_outmatched: a rival (another candidate of either event) has notes closer by at least this cosine.
RIVAL_MARGIN = 0.1
#: A note names specifics when it has at least this many words beyond the coded fields.
SPECIFIC_WORDS = 4
TEXT_COLUMNS = ("notes", "evidence")
FIELD_COLUMNS = ("location", "admin1", "admin2", "admin3", "actor1", "actor2", "event_type", "sub_event_type")
DATE_CLAUSE = r"^\s*on \d{1,2} \pL+ \d{4},?"  # re2 (Arrow) syntax; the notes are lowercased first
NON_WORD = r"[^\pL\pN]+"
COLUMNS = (
    "event_id_cnty", "article_id", "country", "event_date", "latitude", "longitude", "admin1", "admin2",
    "event_type", "sub_event_type", "actor1", "actor2", "fatalities",
)  # fmt: skip


@dataclass(frozen=True)
class Prepared:
    """The events as arrays the blocking and scoring read."""

    ids: np.ndarray
    article: np.ndarray
    key: np.ndarray  # country, cell, day packed in int64
    day: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    admin1: np.ndarray
    admin2: np.ndarray
    event_type: np.ndarray
    sub_event_type: np.ndarray
    actor1: np.ndarray
    actor2: np.ndarray
    fatalities: np.ndarray
    in_series: np.ndarray  # its article has the same place, actors and sub-event type a day before or after
    setting: np.ndarray  # code of its place (point), pair of actors and sub-event type
    setting_days: np.ndarray  # setting << DAY_BITS | day of every event, sorted
    words: sparse.csr_matrix  # the notes' own words, IDF-weighted, rows of norm 1 (0 without notes)
    specific: np.ndarray  # the note names at least SPECIFIC_WORDS words beyond the coded fields


DAY_BITS, CELL_Y_BITS, CELL_X_BITS = 20, 11, 12


FINDING = "finding duplicates in {:,} events"  # the task the search reports its steps under


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of text compared case-insensitively, stripped (-1: missing); normalised once per value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = pd.Series(uniques, dtype="string").str.strip().str.casefold()
    merged, _ = pd.factorize(keys, use_na_sentinel=True)
    merged = np.append(merged, -1)  # code -1 (missing) stays -1
    return merged[codes].astype(np.int32)


def canonical(names: pd.Series, aliases: dict[str, str] | None) -> pd.Series:
    """Actor names with aliases replaced by the canonical name (casefolded keys); normalised once per name."""
    if not aliases:
        return names
    codes, uniques = pd.factorize(names, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="string")
    resolved = distinct.str.strip().str.casefold().map(aliases).fillna(distinct).to_numpy(dtype=object)
    return pd.Series(np.append(resolved, np.array([None], dtype=object))[codes], index=names.index, dtype="string")


def _text(events: pd.DataFrame, columns: list[str]) -> pa.Array:
    """The columns joined by spaces, lowercased, as one Arrow string array."""
    joined = events[columns[0]].fillna("").astype(str)
    for column in columns[1:]:
        joined = joined + " " + events[column].fillna("").astype(str)
    return pc.utf8_lower(pa.array(joined.to_numpy(dtype=object), type=pa.large_string()))


def _split(text: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(row, word) of every word of each text, in Arrow (no Python string per word)."""
    lists = pc.split_pattern_regex(text, NON_WORD)
    words = pc.list_flatten(lists)
    rows = pc.list_parent_indices(lists)
    present = pc.not_equal(words, "")
    return pc.filter(rows, present).to_numpy().astype(np.int64), pc.filter(words, present)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (in place: the input is reordered)."""
    values.sort()
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Whether each value is in a sorted array of distinct values (np.isin without its copies)."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    found: np.ndarray = sorted_set[at] == values
    return found


def note_words(events: pd.DataFrame) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Each event's notes/evidence words minus those of its coded fields, IDF-weighted, rows normalised; and
    whether the note names specifics (at least SPECIFIC_WORDS such words)."""
    from scipy import sparse

    n = len(events)
    columns = [c for c in TEXT_COLUMNS if c in events.columns]
    if not columns:
        return sparse.csr_matrix((n, 1)), np.zeros(n, dtype=bool)
    rows, words = _split(pc.replace_substring_regex(_text(events, columns), DATE_CLAUSE, ""))
    encoded = pc.dictionary_encode(words)
    vocabulary = encoded.dictionary
    size = max(1, len(vocabulary))
    rows *= size  # in place: keys row * size + word, each word once per event
    rows += encoded.indices.to_numpy()
    own = _sorted_unique(rows)
    del rows, words, encoded
    fields = [c for c in FIELD_COLUMNS if c in events.columns]
    if fields:
        field_rows, field_words = _split(_text(events, fields))
        codes = pc.index_in(field_words, value_set=vocabulary)
        known = pc.is_valid(codes)
        said = pc.filter(field_rows, known).to_numpy().astype(np.int64)
        said *= size
        said += pc.filter(codes, known).to_numpy()
        own = own[~_member(own, _sorted_unique(said))]
        del said
    rows, codes = own // size, (own % size).astype(np.int32)
    del own
    frequency = np.bincount(codes, minlength=size)
    weight = np.log((1 + n) / (1 + frequency))[codes]
    norm = np.sqrt(np.bincount(rows, weights=weight * weight, minlength=n))
    weight /= np.where(norm > 0, norm, 1.0)[rows]  # rows of norm 1 (a word of every note weighs 0; a row of only
    # such words stays 0)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    matrix = sparse.csr_matrix((weight, codes, indptr), shape=(n, size))  # keys are sorted: rows in order
    return matrix, np.bincount(rows, minlength=n) >= SPECIFIC_WORDS


def notes_cosine(p: Prepared, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cosine of the notes' own words of each pair (0 when either has none)."""
    out = np.zeros(len(i))
    step = 500_000
    for start in range(0, len(i), step):
        a, b = p.words[i[start : start + step]], p.words[j[start : start + step]]
        out[start : start + step] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def prepare(events: pd.DataFrame, aliases: dict[str, str] | None = None) -> Prepared:
    """Arrays of the events (missing columns are an error naming them)."""
    missing = [c for c in COLUMNS if c not in events.columns]
    if missing:
        raise SourceError(f"the events lack the columns {', '.join(missing)} that duplicate detection reads.")
    actors = pd.concat([canonical(events["actor1"], aliases), canonical(events["actor2"], aliases)])
    actor_codes = _codes(actors.reset_index(drop=True))
    lat = pd.to_numeric(events["latitude"]).to_numpy(dtype=float, na_value=np.nan)
    lon = pd.to_numeric(events["longitude"]).to_numpy(dtype=float, na_value=np.nan)
    day = (pd.to_datetime(events["event_date"]).to_numpy().astype("datetime64[D]").astype(np.int64)) + 40_000
    country = _codes(events["country"]).astype(np.int64) + 1
    cx = np.floor((np.nan_to_num(lon) + 180) / CELL_DEGREES).astype(np.int64) + 1
    cy = np.floor((np.nan_to_num(lat) + 90) / CELL_DEGREES).astype(np.int64) + 1
    key = (((country << CELL_X_BITS | cx) << CELL_Y_BITS | cy) << DAY_BITS) | day
    dated = pd.to_datetime(events["event_date"]).notna().to_numpy()
    key[np.isnan(lat) | np.isnan(lon) | (country == 0) | ~dated] = -1  # no place or country: never blocked with others
    cited, citations = pd.factorize(events["article_id"], use_na_sentinel=True)
    firsts = pd.Series(citations, dtype="string").str.split(";").str[0].str.strip().to_numpy(dtype=object)
    first_article = pd.Series(np.append(firsts, np.array([None], dtype=object))[cited], dtype="string")
    n = len(events)
    article = _codes(first_article)
    sub_event_type = _codes(events["sub_event_type"])
    a1, a2 = actor_codes[:n].astype(np.int64), actor_codes[n:].astype(np.int64)
    series_of = pd.DataFrame(
        {"article": article, "lat": lat, "lon": lon, "low": np.minimum(a1, a2), "high": np.maximum(a1, a2),
         "sub": sub_event_type}
    )  # fmt: skip
    group = series_of.groupby(list(series_of.columns), sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
    series = group << DAY_BITS | day
    in_series = np.isin(series + 1, series) | np.isin(series - 1, series)
    places = series_of.drop(columns="article")  # the setting in every article
    setting_codes = places.groupby(list(places.columns), sort=False, dropna=False).ngroup().to_numpy(dtype=np.int64)
    progress.stage(FINDING.format(n), "the words of the notes")
    words, specific = note_words(events)
    return Prepared(
        ids=events["event_id_cnty"].astype(object).where(events["event_id_cnty"].notna(), None).to_numpy(),
        article=article,
        key=key,
        day=day,
        lat=lat,
        lon=lon,
        admin1=_codes(events["admin1"]),
        admin2=_codes(events["admin2"]),
        event_type=_codes(events["event_type"]),
        sub_event_type=sub_event_type,
        actor1=actor_codes[:n],
        actor2=actor_codes[n:],
        fatalities=pd.to_numeric(events["fatalities"]).fillna(-1).to_numpy(dtype=np.int64),
        in_series=in_series,
        setting=setting_codes,
        setting_days=np.sort(setting_codes << DAY_BITS | day),
        words=words,
        specific=specific,
    )


def _shifts(days: int) -> Iterator[tuple[int, bool]]:
    """Key offsets to look at (each unordered pair once), and whether the offset is zero."""
    for delta in range(days + 1):
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if delta == 0 and (dx, dy) <= (0, 0):
                    if (dx, dy) == (0, 0):
                        yield 0, True
                    continue
                yield ((dx << CELL_Y_BITS) + dy << DAY_BITS) + delta, False


def blocked_pairs(prepared: Prepared, days: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Chunks of (i, j) row pairs in one country, within `days` and neighbouring grid cells, other articles."""
    order = np.argsort(prepared.key, kind="stable")
    valid = order[prepared.key[order] >= 0]
    sorted_keys = prepared.key[valid]
    for shift, same in _shifts(days):
        lo = np.searchsorted(sorted_keys, sorted_keys + shift, side="left")
        hi = np.searchsorted(sorted_keys, sorted_keys + shift, side="right")
        if same:
            lo = np.maximum(lo, np.arange(len(sorted_keys)) + 1)  # i < j within the same key
        counts = np.maximum(hi - lo, 0)
        total = int(counts.sum())
        if total == 0:
            continue
        ends = np.cumsum(counts)
        start = 0
        while start < len(counts):
            stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + CHUNK, side="right"))
            stop = max(stop, start + 1)
            c = counts[start:stop]
            left = np.repeat(np.arange(start, stop), c)
            offsets = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
            right = np.repeat(lo[start:stop], c) + offsets
            i, j = valid[left], valid[right]
            other = prepared.article[i] != prepared.article[j]
            yield i[other], j[other]
            start = stop


def _adder(evidence: np.ndarray, bits: np.ndarray) -> Callable[[np.ndarray, str], None]:
    """A function adding a reason's weight to the pairs of a mask and setting its bit."""
    names = list(WEIGHTS)

    def add(mask: np.ndarray, reason: str) -> None:
        evidence[mask] += WEIGHTS[reason]
        bits[:] |= mask.astype(np.int64) << names.index(reason)

    return add


def score_pairs(p: Prepared, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score of each pair and the bit set of its reasons (bit k: the k-th key of WEIGHTS), notes included."""
    evidence, bits = field_evidence(p, i, j)
    add_notes_evidence(p, i, j, notes_cosine(p, i, j), evidence, bits)
    return probability(evidence), bits


def probability(evidence: np.ndarray) -> np.ndarray:
    """The score: the logistic of the evidence (log-odds) plus BIAS."""
    score: np.ndarray = 1.0 / (1.0 + np.exp(-(evidence + BIAS)))
    return score


def add_notes_evidence(
    p: Prepared, i: np.ndarray, j: np.ndarray, cosine: np.ndarray, evidence: np.ndarray, bits: np.ndarray
) -> None:
    """Add the notes' evidence (alike, similar, overlapping; differing when both name specifics) in place."""
    add = _adder(evidence, bits)
    upper = np.inf
    for lower, reason in NOTES_BANDS:
        add((cosine >= lower) & (cosine < upper), reason)
        upper = lower
    both = p.specific[i] & p.specific[j]
    add(both & (cosine < NOTES_NONE), "notes_differ")
    add(both & (cosine >= NOTES_NONE) & (cosine < NOTES_DIFFER), "notes_barely_alike")


def add_rival_notes_evidence(
    n: int, i: np.ndarray, j: np.ndarray, cosine: np.ndarray, evidence: np.ndarray, bits: np.ndarray
) -> np.ndarray:
    """Add notes_outmatched in place to the pairs (i, j) of n events whose notes are further apart than those of
    a rival by at least RIVAL_MARGIN, and return each pair's best rival cosine (-1: none). Rivals are the other
    pairs of either event that could be one event (a chance of COMPETITOR_FLOOR before this reason): of a
    campaign's days, the one a re-report describes is the one its notes name."""
    competing = probability(evidence) >= COMPETITOR_FLOOR
    rival: np.ndarray = np.maximum(*_best_other(n, i, j, np.where(competing, cosine, -1.0)))
    _adder(evidence, bits)((rival >= 0) & (cosine <= rival - RIVAL_MARGIN), "notes_outmatched")
    return rival


def _best_other(n: int, i: np.ndarray, j: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pair, the largest value of the other pairs of its first event and of its second (-1: none)."""
    ends = np.concatenate([i, j])
    values = np.concatenate([value, value])
    pair = np.concatenate([np.arange(len(i)), np.arange(len(i))])
    order = np.lexsort((-values, ends))
    ends, values, pair = ends[order], values[order], pair[order]
    first = np.flatnonzero(np.concatenate([[True], ends[1:] != ends[:-1]])) if len(ends) else np.zeros(0, np.int64)
    best, second, best_pair = np.full(n, -1.0), np.full(n, -1.0), np.full(n, -1)
    best[ends[first]], best_pair[ends[first]] = values[first], pair[first]
    follows = first + 1
    has = follows < len(ends)
    has[has] = ends[follows[has]] == ends[first[has]]
    second[ends[first[has]]] = values[follows[has]]
    rows = np.arange(len(i))
    return np.where(best_pair[i] == rows, second[i], best[i]), np.where(best_pair[j] == rows, second[j], best[j])


def field_evidence(p: Prepared, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evidence of each pair from the coded fields (not the notes) and the bit set of its reasons."""
    bits = np.zeros(len(i), dtype=np.int64)
    evidence = np.zeros(len(i))
    add = _adder(evidence, bits)

    gap = np.abs(p.day[i] - p.day[j])
    add(gap == 0, "same_day")
    add(gap == 1, "one_day")
    add(gap == 2, "two_days")
    add((gap > 0) & p.in_series[i] & p.in_series[j], "days_apart_within_daily_series")
    add(p.in_series[i] | p.in_series[j], "in_daily_series")  # candidates abound: each is less likely
    km = np.asarray(haversine_km(p.lat[i], p.lon[i], p.lat[j], p.lon[j]))
    add(km <= 1, "within_1km")
    add((km > 1) & (km <= 10), "within_10km")
    add((km > 10) & (km <= 25), "within_25km")
    add(km > 50, "beyond_50km")
    add((p.admin2[i] >= 0) & (p.admin2[i] == p.admin2[j]), "same_admin2")
    add((p.admin1[i] >= 0) & (p.admin1[j] >= 0) & (p.admin1[i] != p.admin1[j]), "other_admin1")
    same_sub = p.sub_event_type[i] == p.sub_event_type[j]
    same_type = p.event_type[i] == p.event_type[j]
    add(same_sub, "same_sub_event_type")
    add(same_type & ~same_sub, "same_event_type")
    add(~same_type, "other_event_type")
    a1, a2, b1, b2 = p.actor1[i], p.actor2[i], p.actor1[j], p.actor2[j]
    a2 = np.where(a2 == a1, -1, a2)
    b2 = np.where(b2 == b1, -1, b2)

    def hit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        found: np.ndarray = ((x >= 0) & (x == y)).astype(np.int64)
        return found

    shared = hit(a1, b1) + hit(a1, b2) + hit(a2, b1) + hit(a2, b2)
    size_a = (a1 >= 0).astype(np.int64) + (a2 >= 0)
    size_b = (b1 >= 0).astype(np.int64) + (b2 >= 0)
    union = size_a + size_b - shared
    add((shared > 0) & (shared == union), "same_actors")
    subset = (shared > 0) & (shared < union) & ((shared == size_a) | (shared == size_b))
    add(subset, "one_side_lacks_an_actor")
    add((shared > 0) & (shared < union) & ~subset, "conflicting_actor")
    add((shared == 0) & (size_a > 0) & (size_b > 0), "other_actors")
    fa, fb = p.fatalities[i], p.fatalities[j]
    known = (fa >= 0) & (fb >= 0)
    add(known & (fa == fb) & (fa > 0), "same_fatalities")
    add(known & (fa == fb) & (fa == 0), "same_no_fatalities")
    low, high = np.minimum(fa, fb), np.maximum(fa, fb)
    close = known & (fa != fb) & (low > 0) & (high <= 2 * low)
    add(close, "close_fatalities")
    add(known & (fa != fb) & ~close & (high - low > 2), "other_fatalities")
    # One place, the same actors and sub-event type on another day: a campaign's next day as often as a re-report
    # dated a day off (within_1km alone cannot say which).
    setting = (km <= 1) & same_sub & (shared > 0) & (shared == union)
    add(setting & (gap == 1), "same_setting_one_day")
    add(setting & (gap == 2), "same_setting_two_days")
    add(setting & (gap == 3), "same_setting_three_days")
    # ... unless no other event of that setting is near: a campaign has more days, a re-report is one more event.
    add(_alone_in_setting(p, i, j, setting & (gap > 0)), "alone_in_setting")
    return evidence, bits


def _alone_in_setting(p: Prepared, i: np.ndarray, j: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Which candidate pairs are the only events of their settings from DEFAULT_DAYS before the earlier to
    DEFAULT_DAYS after the later (in every article)."""
    alone = np.zeros(len(i), dtype=bool)
    rows = np.flatnonzero(candidates)
    if not len(rows):
        return alone
    a, b = i[rows], j[rows]
    first = np.minimum(p.day[a], p.day[b]) - DEFAULT_DAYS
    last = np.maximum(p.day[a], p.day[b]) + DEFAULT_DAYS

    def near(setting: np.ndarray) -> np.ndarray:
        high = np.searchsorted(p.setting_days, setting << DAY_BITS | last, side="right")
        found: np.ndarray = high - np.searchsorted(p.setting_days, setting << DAY_BITS | first, side="left")
        return found

    pair = 1 + (p.setting[a] == p.setting[b])  # the pair's own events of each setting
    alone[rows] = (near(p.setting[a]) == pair) & (near(p.setting[b]) == pair)
    return alone


def reason_text(
    bits: int,
    p: Prepared,
    i: int,
    j: int,
    gap: int,
    km: float,
    cosine: float = 0.0,
    rivals: float = 0.0,
    rival_cosine: float = -1.0,
) -> str:
    """The reasons of one pair, as a coder reads them."""
    parts = []
    names = list(WEIGHTS)
    for k, name in enumerate(names):
        if bits >> k & 1:
            text = name.replace("_", " ")
            if name in ("one_day", "two_days"):
                text = f"{gap} day{'s' if gap > 1 else ''} apart"
            elif name.startswith("within") or name == "beyond_50km":
                text = f"{km:.1f} km apart"
            elif name in ("same_fatalities", "close_fatalities", "other_fatalities"):
                text = f"{name.split('_')[0]} fatalities ({p.fatalities[i]} and {p.fatalities[j]})"
            elif name == "notes_outmatched":
                text = f"another candidate's notes are closer (cosine {rival_cosine:.2f} against {cosine:.2f})"
            elif name.startswith("notes_"):
                text = f"{text} (cosine {cosine:.2f})"
            elif name.startswith("same_setting_"):
                text = f"same place, actors and sub-event type {gap} day{'s' if gap > 1 else ''} apart"
            elif name == "alone_in_setting":
                text = f"no other event of that place, actors and sub-event type within {DEFAULT_DAYS} days"
            parts.append(f"{text} ({WEIGHTS[name]:+g})")
    if not any(bits >> names.index(name) & 1 for name in DISTANCE_REASONS):
        parts.insert(0, f"{km:.1f} km apart (+0)")
    if gap > 2:
        parts.insert(0, f"{gap} days apart (+0)")
    if rivals >= 0.005:
        parts.append(f"competing candidates (summed odds {rivals:.2f}) ({COMPETITION[0] * np.log1p(rivals):+.1f})")
    return "; ".join(parts)


def _rowwise(left: sparse.csr_matrix, right: sparse.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The sum over k of left[i, k] * right[j, k] for each pair (in chunks)."""
    out = np.zeros(len(i))
    step = 500_000
    for start in range(0, len(i), step):
        a, b = left[i[start : start + step]], right[j[start : start + step]]
        out[start : start + step] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def against_competitors(
    n: int, i: np.ndarray, j: np.ndarray, score: np.ndarray, threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's score once its events' other candidates compete with it, and that competition (the summed odds
    of the other candidate pairs of the event with more of them): COMPETITION weighs log(1 + those odds) of each
    event. A pair among many alike ones (a campaign of daily events, a busy place) counts for less than one alone.
    A candidate k of i competes with the pair (i, j) only as far as k is not j's event too (its odds times one
    minus the score of (j, k)): three reports of one event do not compete with each other. Scores below
    `threshold` stay below it and are not refined."""
    from scipy import sparse

    odds = score / np.maximum(1.0 - score, 1e-12)
    total = np.bincount(i, weights=odds, minlength=n) + np.bincount(j, weights=odds, minlength=n)
    shared_i, shared_j = np.zeros(len(i)), np.zeros(len(i))
    refine = np.flatnonzero(score >= threshold)
    if len(refine):
        rows, columns = np.concatenate([i, j]), np.concatenate([j, i])
        as_odds = sparse.csr_matrix((np.concatenate([odds, odds]), (rows, columns)), shape=(n, n))
        as_score = sparse.csr_matrix((np.concatenate([score, score]), (rows, columns)), shape=(n, n))
        a, b = i[refine], j[refine]
        shared_i[refine] = _rowwise(as_odds, as_score, a, b)  # i's candidates that are j's event too
        shared_j[refine] = _rowwise(as_odds, as_score, b, a)
    others_i = np.maximum(total[i] - odds - shared_i, 0.0)
    others_j = np.maximum(total[j] - odds - shared_j, 0.0)
    more, less = np.maximum(others_i, others_j), np.minimum(others_i, others_j)
    evidence = np.log(np.maximum(odds, 1e-300)) + COMPETITION[0] * np.log1p(more) + COMPETITION[1] * np.log1p(less)
    relative: np.ndarray = 1.0 / (1.0 + np.exp(-evidence))
    return relative, more


def one_to_one(p: Prepared, i: np.ndarray, j: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indexes of the pairs kept when each event matches at most one event of each other article: greedy, best
    score first (ties by row), a pair is kept when neither event has a match in the other's article yet. (An optimal
    assignment per pair of articles, scipy's linear_sum_assignment, found 0.001 more recall on the benchmark.)"""
    order = np.lexsort((j, i, -score))
    article = p.article
    taken: set[tuple[int, int]] = set()
    kept = []
    for k, x, y in zip(order.tolist(), i[order].tolist(), j[order].tolist(), strict=True):
        left, right = (x, int(article[y])), (y, int(article[x]))
        if left in taken or right in taken:
            continue
        taken.add(left)
        taken.add(right)
        kept.append(k)
    return np.sort(np.array(kept, dtype=np.int64))


def find_candidates(
    events: pd.DataFrame,
    *,
    days: int = DEFAULT_DAYS,
    threshold: float = DEFAULT_THRESHOLD,
    aliases: dict[str, str] | None = None,
    reasons: bool = True,
) -> pd.DataFrame:
    """Candidate pairs (event_a, event_b, score, reasons, row_a, row_b), best first."""
    finding = FINDING.format(len(events))
    progress.stage(finding, "preparing")
    prepared = prepare(events.reset_index(drop=True), aliases)
    found: list[tuple[np.ndarray, ...]] = []
    floor = min(threshold, COMPETITOR_FLOOR)
    for i, j in blocked_pairs(prepared, days):
        progress.advance("event pairs scored", len(i), detail=finding)
        evidence, bits = field_evidence(prepared, i, j)
        could = probability(evidence + WEIGHTS["notes_alike"]) >= floor  # notes read only where they matter
        i, j, evidence, bits = i[could], j[could], evidence[could], bits[could]
        cosine = notes_cosine(prepared, i, j)
        add_notes_evidence(prepared, i, j, cosine, evidence, bits)
        keep = probability(evidence) >= floor
        found.append((i[keep], j[keep], evidence[keep], bits[keep], cosine[keep]))
    i, j, evidence, bits, cosine = (
        (np.concatenate(parts) for parts in zip(*found, strict=True))
        if found
        else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64),
              np.zeros(0))
    )  # fmt: skip
    rival_cosine = add_rival_notes_evidence(len(prepared.ids), i, j, cosine, evidence, bits)
    score = probability(evidence)
    score, rivals = against_competitors(len(prepared.ids), i, j, score, threshold)
    keep = score >= threshold
    i, j, score, bits, cosine, rivals, rival_cosine = (
        x[keep] for x in (i, j, score, bits, cosine, rivals, rival_cosine)
    )
    progress.stage(finding, f"best match per article of {len(i):,} pairs")
    kept = one_to_one(prepared, i, j, score)
    i, j, score, bits, cosine, rivals, rival_cosine = (
        x[kept] for x in (i, j, score, bits, cosine, rivals, rival_cosine)
    )
    swap = prepared.ids[i].astype(str) > prepared.ids[j].astype(str) if len(i) else np.zeros(0, dtype=bool)
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    frame = pd.DataFrame(
        {
            "event_a": prepared.ids[i],
            "event_b": prepared.ids[j],
            "score": np.round(score, 3),
            "row_a": i,
            "row_b": j,
        }
    )
    if reasons:
        progress.stage(finding, f"reasons of {len(i):,} candidates")
        gaps = np.abs(prepared.day[i] - prepared.day[j]).tolist()
        kms = np.asarray(haversine_km(prepared.lat[i], prepared.lon[i], prepared.lat[j], prepared.lon[j])).tolist()
        frame["reasons"] = [
            reason_text(int(b), prepared, int(x), int(y), g, k, c, r, o)
            for b, x, y, g, k, c, r, o in zip(
                bits.tolist(),
                i.tolist(),
                j.tolist(),
                gaps,
                kms,
                cosine.tolist(),
                rivals.tolist(),
                rival_cosine.tolist(),
                strict=True,
            )
        ]
    return frame.sort_values(["score", "event_a", "event_b"], ascending=[False, True, True]).reset_index(drop=True)


# --- the coders' decisions -----------------------------------------------------------------------------------


def duplicates_path(project: Project) -> Path:
    return project.seeds_dir / DUPLICATES_FILE


def read_decision_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """seeds/duplicates.csv as (line, column → stripped cell) rows, and what keeps the file or a row from being read.

    Read by the CSV reader of every seeds file: a file that is not UTF-8, is empty, is malformed or lacks a column
    is a problem naming the file (and line), as is a ragged row (left out); no rows when the file is absent.
    """
    if not path.is_file():
        return [], []
    name = display_path(path)
    try:
        records = read_csv(path)
    except CsvFileError as err:
        detail = {
            "empty-file": f"the file is empty: it needs the header {','.join(DUPLICATES_COLUMNS)} (`eventdata "
            "duplicates --write` writes it), or delete the file while no pair is marked.",
            "encoding-error": f"the file is not UTF-8: {err.detail}",
        }.get(err.code, err.detail)
        return [], [Problem(err.code, detail, name, err.line)]
    problems = [
        Problem("duplicate-column", "the header names this column twice.", name, records.header_line, column)
        for column in sorted({c for c in records.header if records.header.count(c) > 1})
    ]
    missing = [c for c in REQUIRED_COLUMNS if c not in records.header]
    problems += [
        Problem(
            "missing-column",
            f"the header lacks {column}; the file's columns are {','.join(DUPLICATES_COLUMNS)}.",
            name,
            records.header_line,
            column,
        )
        for column in missing
    ]
    if problems:
        return [], problems
    rows = []
    width = len(records.header)
    for line, cells in records.rows:
        if len(cells) != width:
            code = "extra-cell" if len(cells) > width else "missing-cell"
            problems.append(Problem(code, ragged_message(len(cells), width), name, line))
            continue
        rows.append((line, {c: cells[i].strip() for i, c in enumerate(records.header)}))
    return rows, problems


def read_decisions(project: Project) -> pd.DataFrame:
    """seeds/duplicates.csv as strings (empty frame when absent); SourceError naming the first problem of the file.

    Validation reports every problem of the file (decision_problems); this reader is for files that passed it.
    """
    path = duplicates_path(project)
    rows, problems = read_decision_rows(path)
    problems += _value_problems(rows, display_path(path))
    if problems:
        first = min(problems, key=Problem.sort_key)
        raise SourceError(f"{first.format()} Run `eventdata validate` to see every problem of the file.")
    columns = list(dict.fromkeys([*DUPLICATES_COLUMNS, *(c for _, row in rows for c in row)]))
    return pd.DataFrame({c: pd.Series([row.get(c, "") for _, row in rows], dtype=object) for c in columns})


def _value_problems(rows: list[tuple[int, dict[str, str]]], name: str) -> list[Problem]:
    """Cells of seeds/duplicates.csv that are not a score in [0, 1] or a decision (duplicate, distinct, empty)."""
    problems = []
    for line, row in rows:
        score = row.get("score", "")
        if score:
            try:
                number = float(score)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                problems.append(
                    Problem("type-error", "a score is a number from 0 to 1 (or empty).", name, line, "score", score)
                )
            elif not 0 <= number <= 1:
                code = "minimum-error" if number < 0 else "maximum-error"
                problems.append(Problem(code, "a score is a number from 0 to 1.", name, line, "score", score))
        decision = row.get("decision", "")
        if decision and decision not in DECISIONS:
            problems.append(
                Problem(
                    "enum-error",
                    f"a decision is {' or '.join(DECISIONS)}, or empty while the pair is undecided.",
                    name,
                    line,
                    "decision",
                    decision,
                )
            )
    return problems


def decision_problems(project: Project, registry_ids: pd.Series) -> list[Problem]:
    """Every problem of seeds/duplicates.csv: the file, ids the registry (`registry_ids`, seeds/event_ids.csv)
    lacks, a pair of one event, a pair listed twice, a score outside [0, 1], an unknown decision."""
    path = duplicates_path(project)
    rows, problems = read_decision_rows(path)
    name = display_path(path)
    problems += _value_problems(rows, name)
    named = {row[c] for _, row in rows for c in ("event_a", "event_b") if row[c]}
    registered = registry_ids.astype("string").str.strip()
    known = set(registered[registered.isin(list(named))].dropna()) if named else set()  # only these are asked
    seen: dict[frozenset[str], tuple[int, str]] = {}
    for line, row in rows:
        a, b, decision = row["event_a"], row["event_b"], row["decision"]
        cells = [("event_a", a), ("event_b", b)] if a != b or not a else [("event_a", a)]  # one id: checked once
        for column, event in cells:
            if not event:
                problems.append(Problem("required-error", "a pair names two events by id.", name, line, column, event))
            elif event not in known:
                problems.append(
                    Problem(
                        "unregistered-id",
                        "the id registry (seeds/event_ids.csv) has no such event; check the id (ids are written in "
                        "the sheets' event_id_cnty column).",
                        name,
                        line,
                        column,
                        event,
                    )
                )
        if not (a and b):
            continue
        if a == b:
            problems.append(
                Problem(
                    "unique-error",
                    "event_b is event_a: a pair is two different events, an event cannot duplicate itself.",
                    name,
                    line,
                    "event_b",
                    b,
                )
            )
            continue
        pair = frozenset((a, b))
        if pair in seen:
            first, before = seen[pair]
            conflict = (
                f" with the decision {before!r}, and here {decision!r}: the pair cannot be both"
                if before and decision and before != decision
                else ""
            )
            problems.append(
                Problem(
                    "unique-error",
                    f"the pair {a} / {b} is already listed on line {first}{conflict}; list each pair once, with "
                    "one decision.",
                    name,
                    line,
                    "event_b",
                    b,
                )
            )
        else:
            seen[pair] = (line, decision)
    return problems


def decided_duplicates(project: Project) -> dict[str, str]:
    """Each event of a pair marked duplicate → the other event."""
    frame = read_decisions(project)
    marked = frame[frame["decision"].str.strip() == "duplicate"]
    partner: dict[str, str] = {}
    for a, b in zip(marked["event_a"].str.strip(), marked["event_b"].str.strip(), strict=True):
        partner.setdefault(a, b)
        partner.setdefault(b, a)
    return partner


def with_duplicate_of(deleted: pa.Table, project: Project) -> pa.Table:
    """changes/deleted.csv with `duplicate_of` when a deleted event was marked a duplicate; else as it is."""
    if not duplicates_path(project).is_file() or deleted.num_rows == 0:
        return deleted
    partner = decided_duplicates(project)
    of = [partner.get(str(i)) for i in deleted.column("event_id_cnty").to_pylist()]
    if not any(of):
        return deleted
    return deleted.append_column("duplicate_of", pa.array(of, type=pa.string()))


def duplicate_of_schema(resources: list[dict[str, Any]], deleted: pa.Table) -> list[dict[str, Any]]:
    """The changes-deleted resource's schema gains `duplicate_of` when the table has it."""
    if "duplicate_of" not in deleted.column_names:
        return resources
    for resource in resources:
        if resource.get("name") == "changes-deleted":
            schema = dict(resource["schema"])
            schema["fields"] = [
                *schema["fields"],
                {"name": "duplicate_of", "type": "string", "description": "The event this deleted one duplicated."},
            ]
            resource["schema"] = schema
    return resources


def new_candidates(candidates: pd.DataFrame, project: Project) -> pd.DataFrame:
    """Candidates whose pair seeds/duplicates.csv does not list yet."""
    listed = read_decisions(project)
    known = {frozenset((a.strip(), b.strip())) for a, b in zip(listed["event_a"], listed["event_b"], strict=True)}
    mask = [frozenset((a, b)) not in known for a, b in zip(candidates["event_a"], candidates["event_b"], strict=True)]
    return candidates[mask]


def append_candidates(candidates: pd.DataFrame, project: Project) -> int:
    """Add the new candidates to seeds/duplicates.csv, undecided, for a coder to mark; how many were added."""
    fresh = new_candidates(candidates, project)
    path = duplicates_path(project)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    header = list(DUPLICATES_COLUMNS)
    if text:  # the file's own columns, in its order (a coder may have added or moved some), as the reader finds them
        try:
            header = read_csv(path).header
        except CsvFileError as err:
            raise SourceError(err.message(display_path(path))) from err
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if not text:
        writer.writerow(header)
    elif not text.endswith("\n"):
        out.write("\n")
    for row in fresh.itertuples(index=False):
        cells = {"event_a": row.event_a, "event_b": row.event_b, "score": f"{row.score:.3f}", "reasons": row.reasons}
        writer.writerow([cells.get(column, "") for column in header])
    if len(fresh):
        write_atomic(path, text + out.getvalue())
    return len(fresh)
