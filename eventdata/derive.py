"""Columns the codebook lets the tool compute, so coders never type them.

Each derivation takes the parsed events frame and returns the derived column; a
value typed by the coder is compared with it (`derived-mismatch`) and replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from eventdata.schema import Codebook

if TYPE_CHECKING:
    from eventdata.pipeline import State

DERIVED_MISMATCH = (
    "the tool derives {derived!r} from the other columns; leave {column} empty (or delete the column) and the tool "
    "fills it."
)


def lookup(values: pd.Series, mapping: Mapping[Any, Any]) -> pd.Series:
    """values.map(mapping), looked up once per distinct value."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([mapping.get(v) for v in pd.Series(distinct).tolist()] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _date_column(codebook: Codebook) -> str:
    return str(next(f["name"] for f in codebook.fields if f["type"] == "date"))


def derive_year(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """Year of event_date."""
    years: pd.Series = events[_date_column(codebook)].dt.year.astype("Int64")
    return years


def derive_disorder_type(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """Disorder type of the sub-event type (sub_event_types.csv)."""
    table = codebook.vocabulary("sub_event_types")
    mapping = dict(zip(table["sub_event_type"], table["disorder_type"], strict=True))
    return lookup(events["sub_event_type"], mapping).astype(events["sub_event_type"].dtype)


def derive_interaction(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """10*inter1 for one-sided events, else 10*min(inter1, inter2) + max(inter1, inter2)."""
    from eventdata.columns import columns, role_code

    first, second = columns(codebook).actor_types[:2]
    none = role_code(codebook, "actor_types", "no-actor")
    inter1 = events[first]
    inter2 = events[second].fillna(none)
    low = np.minimum(inter1, inter2)
    high = np.maximum(inter1, inter2)
    return (10 * inter1).where(inter2 == none, 10 * low + high).astype("Int64")


def _country_column(events: pd.DataFrame, codebook: Codebook, column: str) -> pd.Series:
    table = codebook.vocabulary("countries")
    return lookup(events["country"], dict(zip(table["country"], table[column], strict=True)))


def derive_iso(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """ISO 3166-1 numeric code of the country (countries.csv)."""
    table = codebook.vocabulary("countries")
    codes, distinct = pd.factorize(events["country"], use_na_sentinel=True)
    iso = dict(zip(table["country"], table["iso"], strict=True))
    mapped = pd.Series([iso.get(v) for v in pd.Series(distinct).tolist()] + [None], dtype=object)
    numbers = pd.to_numeric(mapped).astype("Int64")  # converted once per distinct country
    taken: pd.Series = numbers.take(np.where(codes < 0, len(distinct), codes)).set_axis(events.index)
    return taken


def derive_region(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """World region of the country (countries.csv)."""
    return _country_column(events, codebook, "region").astype(events["country"].dtype)


def derive_timestamp(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """Last-changed time: the release time, for rows first published or changed in this release."""
    return pd.Series(timestamp, index=events.index, dtype="Int64")


DERIVERS: dict[str, Callable[[pd.DataFrame, Codebook, int], pd.Series]] = {
    "year": derive_year,
    "disorder_type": derive_disorder_type,
    "interaction": derive_interaction,
    "iso": derive_iso,
    "region": derive_region,
    "timestamp": derive_timestamp,
}


def apply_derivations(state: State) -> None:
    """Fill derivable columns; where a sheet typed one, it must equal the derived value."""
    from eventdata.pipeline import text_of

    events, codebook = state.events, state.codebook
    derived = events.copy(deep=False)
    for name in codebook.derived_fields:
        kind = codebook.derivation(name)
        if kind not in DERIVERS:
            continue
        computed = DERIVERS[kind](derived, codebook, state.timestamp).astype(events[name].dtype)
        given = events[name]
        differs = (given.notna() & computed.notna() & (given != computed).fillna(False)).to_numpy(dtype=bool)
        if differs.any():
            shown = [text_of(v) for v in computed[differs].astype(object).tolist()]
            state.findings.add(differs, "derived-mismatch", name, DERIVED_MISMATCH, {"derived": shown, "column": name})
        derived[name] = computed.where(computed.notna(), given)
    state.events = derived


def country_iso3(codebook: Codebook) -> dict[str, str]:
    """Country name → ISO3 code."""
    table = codebook.vocabulary("countries")
    return dict(zip(table["country"], table["iso3"], strict=True))


def country_id_prefix(codebook: Codebook) -> dict[str, str]:
    """Country name → the prefix of its event ids: ACLED's country code (countries.csv acled_code), else ISO3."""
    table = codebook.vocabulary("countries")
    acled = table["acled_code"] if "acled_code" in table.columns else table["iso3"]
    return {c: a or i for c, i, a in zip(table["country"], table["iso3"], acled, strict=True)}
