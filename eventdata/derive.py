"""Columns the codebook lets the tool compute, so coders never type them.

Each derivation takes the parsed events frame and returns the derived column; a
value typed by the coder is compared with it (`derived-mismatch`) and replaced.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from eventdata.schema import Codebook


def derive_year(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """Year of event_date."""
    years: pd.Series = events["event_date"].dt.year.astype("Int64")
    return years


def derive_disorder_type(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """Disorder type of the sub-event type (sub_event_types.csv)."""
    table = codebook.vocabulary("sub_event_types")
    mapping = dict(zip(table["sub_event_type"], table["disorder_type"], strict=True))
    return events["sub_event_type"].map(mapping).astype(events["sub_event_type"].dtype)


def derive_interaction(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """10*inter1 for one-sided events, else 10*min(inter1, inter2) + max(inter1, inter2)."""
    inter1 = events["inter1"]
    inter2 = events["inter2"].fillna(0)
    low = np.minimum(inter1, inter2)
    high = np.maximum(inter1, inter2)
    return (10 * inter1).where(inter2 == 0, 10 * low + high).astype("Int64")


def _country_column(events: pd.DataFrame, codebook: Codebook, column: str) -> pd.Series:
    table = codebook.vocabulary("countries")
    return events["country"].map(dict(zip(table["country"], table[column], strict=True)))


def derive_iso(events: pd.DataFrame, codebook: Codebook, timestamp: int) -> pd.Series:
    """ISO 3166-1 numeric code of the country (countries.csv)."""
    return pd.to_numeric(_country_column(events, codebook, "iso")).astype("Int64")


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


def country_iso3(codebook: Codebook) -> dict[str, str]:
    """Country name → ISO3 code."""
    table = codebook.vocabulary("countries")
    return dict(zip(table["country"], table["iso3"], strict=True))


def country_id_prefix(codebook: Codebook) -> dict[str, str]:
    """Country name → the prefix of its event ids: ACLED's country code (countries.csv acled_code), else ISO3."""
    table = codebook.vocabulary("countries")
    acled = table["acled_code"] if "acled_code" in table.columns else table["iso3"]
    return {c: a or i for c, i, a in zip(table["country"], table["iso3"], acled, strict=True)}
