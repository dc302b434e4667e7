"""What the report shows, read from a release folder's files and aggregated in Arrow and pandas.

Everything is computed from the written files (data/events.parquet, data/articles.csv, changes/*.csv,
the optional agreement table), so `eventdata report` and the build give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from eventdata import progress
from eventdata.changes import MODIFIED_COLUMNS, TIMESTAMP, column_differences
from eventdata.errors import ReleaseError
from eventdata.schema import Codebook, to_arrow_schema

#: The per-field agreement table a release may hold (columns `field`, `alpha`, and any others); shown when present.
AGREEMENT_FILE = "agreement/fields.csv"
LISTED = 100  # rows of long lists (modified values, deleted and added events) shown in the report
UNKNOWN = "(none)"


@dataclass(frozen=True)
class ReleaseInfo:
    """The release the report is about."""

    name: str
    title: str
    version: str
    released: date
    previous: str | None


@dataclass(frozen=True)
class Headline:
    events: int
    fatalities: int
    countries: int
    articles: int
    coders: int
    first_date: date | None
    last_date: date | None


@dataclass(frozen=True)
class ChangeSummary:
    """The delta against the previous release, from changes/."""

    previous: str | None
    added: int
    compared: int  # events in both versions: the N of "changed values n / N"
    modified_events: int
    per_column: list[tuple[str, int]]  # codebook order, only columns with changes (timestamp excluded)
    modified_values: pd.DataFrame  # event_id_cnty, column, old_value, new_value (first LISTED, no timestamp)
    modified_total: int
    deleted: pd.DataFrame  # event_id_cnty, reason (first LISTED)
    deleted_total: int
    deleted_reasons: list[tuple[str, int]]
    added_events: pd.DataFrame  # event_id_cnty, event_date, event_type, country, location, fatalities (first LISTED)
    added_by_type: list[tuple[str, int]]


@dataclass(frozen=True)
class ConstraintCheck:
    column: str
    constraint: str
    violations: int


@dataclass(frozen=True)
class ReportData:
    info: ReleaseInfo
    headline: Headline
    event_types: list[str]  # the codebook's order
    periods: pd.DataFrame  # period, event_type, events, fatalities
    period_unit: str  # "month" or "year"
    by_country: pd.DataFrame  # country, events, fatalities
    by_admin1: pd.DataFrame  # country, admin1, events, fatalities
    precision: dict[str, pd.DataFrame]  # field → code, label, events
    points: pd.DataFrame  # latitude, longitude, event_type, events, fatalities, location
    places: pd.DataFrame  # location, country, admin1, events, fatalities (top LISTED)
    changes: ChangeSummary
    constraints: list[ConstraintCheck]
    events_checked: int
    agreement: pd.DataFrame | None


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


def vocabulary_order(codebook: Codebook, field: str) -> list[str]:
    """The values of a field's vocabulary, in the codebook's order."""
    reference = codebook.field(field).get("eventdata", {}).get("vocabulary")
    return [str(v) for v in codebook.vocabulary_values(reference)] if reference else []


def vocabulary_labels(codebook: Codebook, field: str) -> dict[str, str]:
    """code → label of a coded field (time_precision, geo_precision), from its vocabulary."""
    reference = codebook.field(field).get("eventdata", {}).get("vocabulary")
    if not reference:
        return {}
    table, _, column = str(reference).partition(".")
    frame = codebook.vocabulary(table)
    if "label" not in frame.columns:
        return {}
    return {str(code): str(label) for code, label in zip(frame[column], frame["label"], strict=True)}


#: Columns the charts and tables read; other columns are read only when a constraint needs their values.
SHOWN_COLUMNS = (
    "event_id_cnty", "event_date", "event_type", "country", "admin1", "location", "latitude", "longitude",
    "fatalities", "time_precision", "geo_precision", "coder",
)  # fmt: skip


def read_events(package_dir: Path, codebook: Codebook) -> tuple[pa.Table, dict[str, int]]:
    """The columns the report needs, and the null counts (from the Parquet statistics) of the others.

    A column whose only constraint is `required` is not read: its row-group statistics count its nulls.
    """
    path = package_dir / "data" / "events.parquet"
    if not path.is_file():
        raise ReleaseError(f"{path} is missing: {package_dir} is not a complete release.")
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise _damaged(path, err) from err
    metadata = parquet.metadata
    differences = column_differences(parquet.schema_arrow, to_arrow_schema(codebook))
    if differences:  # the charts and checks read each column as its type: another one is a damaged file
        raise ReleaseError(
            f"{path} does not match the release's Table Schema (its codebook): it {'; it '.join(differences)}. "
            f"{package_dir} is damaged: restore the file from a backup or the published copy (eventdata verify "
            "lists what differs)."
        )
    positions = {metadata.schema.column(i).name: i for i in range(metadata.num_columns)}
    nulls: dict[str, int] = {}
    columns = []
    for field in codebook.fields:
        name = field["name"]
        if name not in positions:
            continue
        if name in SHOWN_COLUMNS or set(field.get("constraints", {})) - {"required"}:
            columns.append(name)
            continue
        stats = [metadata.row_group(g).column(positions[name]).statistics for g in range(metadata.num_row_groups)]
        if all(st is not None and st.has_null_count for st in stats):
            nulls[name] = sum(st.null_count for st in stats if st is not None)
        else:
            columns.append(name)
    lacking = [name for name in SHOWN_COLUMNS if name not in positions]
    if lacking:
        raise ReleaseError(
            f"{path} lacks the column(s) {', '.join(lacking)} that every release has: {package_dir} is damaged; "
            "restore the file from a backup or the published copy (eventdata verify lists what differs)."
        )
    try:
        return pq.read_table(path, columns=columns), nulls
    except (pa.ArrowException, OSError) as err:
        raise _damaged(path, err) from err


def _damaged(path: Path, err: Exception) -> ReleaseError:
    """A release file that pyarrow cannot read, named with its size and the cause."""
    return ReleaseError(
        f"{path} ({path.stat().st_size} bytes) cannot be read ({err}); the release is damaged: "
        "restore the file from a backup or the published copy (eventdata verify lists what differs)."
    )


def _read_release_csv(path: Path, convert_options: pa_csv.ConvertOptions) -> pa.Table:
    """A CSV file of a release, read by pyarrow; a damaged one or one without the columns asked for is named."""
    try:
        return pa_csv.read_csv(path, convert_options=convert_options)
    except (pa.ArrowException, OSError) as err:
        raise _damaged(path, err) from err


def _frame(table: pa.Table) -> pd.DataFrame:
    """The columns the charts need, as pandas (strings as categoricals)."""
    columns: dict[str, Any] = {}
    for name in ("event_type", "country", "admin1", "location"):
        encoded = pc.fill_null(_plain(table.column(name)), UNKNOWN).combine_chunks().dictionary_encode()
        columns[name] = pd.Categorical.from_codes(
            encoded.indices.to_numpy(zero_copy_only=False), categories=encoded.dictionary.to_pylist()
        )
    dates = table.column("event_date").combine_chunks()
    columns["event_date"] = dates.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    for name in ("fatalities", "time_precision", "geo_precision"):
        columns[name] = pc.fill_null(table.column(name), 0).to_numpy().astype("int64")
    for name in ("latitude", "longitude"):
        columns[name] = table.column(name).to_numpy().astype("float64")
    return pd.DataFrame(columns)


def _headline(events: pd.DataFrame, table: pa.Table, articles: int) -> Headline:
    if events.empty:
        return Headline(0, 0, 0, articles, 0, None, None)
    coders = pc.count_distinct(_plain(table.column("coder"))).as_py()
    first, last = events["event_date"].min(), events["event_date"].max()
    return Headline(
        len(events),
        int(events["fatalities"].sum()),
        int(events["country"].nunique()),
        articles,
        int(coders),
        pd.Timestamp(first).date(),
        pd.Timestamp(last).date(),
    )


def _periods(events: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Events and fatalities per month (per year for spans over 15 years) and event type."""
    months = events["event_date"].to_numpy().astype("datetime64[M]")
    unit = "month"
    if len(months) and (months.max() - months.min()).astype(int) > 180:
        unit = "year"
        months = months.astype("datetime64[Y]")
    frame = pd.DataFrame(
        {
            "period": months.astype("int64"),
            "event_type": events["event_type"],
            "fatalities": events["fatalities"],
            "events": 1,
        }
    )
    grouped = frame.groupby(["period", "event_type"], observed=True, sort=True)[["events", "fatalities"]].sum()
    grouped = grouped.reset_index()
    step = "M" if unit == "month" else "Y"
    labels = np.datetime_as_string(grouped["period"].to_numpy().astype(f"datetime64[{step}]"))
    return grouped.assign(period=labels), unit


def _regions(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = events.assign(events=1)
    by_country = frame.groupby("country", observed=True)[["events", "fatalities"]].sum().reset_index()
    by_country = by_country.sort_values(["events", "country"], ascending=[False, True], kind="stable")
    by_admin1 = frame.groupby(["country", "admin1"], observed=True)[["events", "fatalities"]].sum().reset_index()
    by_admin1 = by_admin1.sort_values(["events", "country", "admin1"], ascending=[False, True, True], kind="stable")
    return by_country.reset_index(drop=True), by_admin1.reset_index(drop=True)


def _precision(events: pd.DataFrame, codebook: Codebook) -> dict[str, pd.DataFrame]:
    shares = {}
    for field in ("time_precision", "geo_precision"):
        labels = vocabulary_labels(codebook, field)
        counts = events[field].value_counts().sort_index()
        codes = sorted({int(c) for c in labels} | {int(c) for c in counts.index})
        shares[field] = pd.DataFrame(
            {
                "code": codes,
                "label": [labels.get(str(c), str(c)) for c in codes],
                "events": [int(counts.get(c, 0)) for c in codes],
            }
        )
    return shares


def _points(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events and fatalities per point and event type (for the map), and per place (for its table)."""
    frame = events.assign(events=1)
    points = (
        frame.groupby(["latitude", "longitude", "event_type"], observed=True, sort=True)
        .agg(events=("events", "sum"), fatalities=("fatalities", "sum"), location=("location", "first"))
        .reset_index()
    )
    points["location"] = points["location"].astype(str)
    places = frame.groupby(["location", "country", "admin1"], observed=True)[["events", "fatalities"]].sum()
    places = places.reset_index().sort_values(
        ["events", "fatalities", "location"], ascending=[False, False, True], kind="stable"
    )
    return points, places.head(LISTED).reset_index(drop=True)


def _read_text_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise ReleaseError(f"{path} is missing: the release has no complete changes/ folder.")
    table = _read_release_csv(
        path,
        pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            include_columns=list(columns),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _changes(package_dir: Path, previous: str | None, table: pa.Table, codebook: Codebook) -> ChangeSummary:
    changes = package_dir / "changes"
    ids = _plain(table.column("event_id_cnty"))
    if previous is None:  # a first release adds every event (changes/added.csv holds them all)
        added_count, is_added = table.num_rows, None
    else:
        added_ids = _read_text_csv(changes / "added.csv", ("event_id_cnty",))["event_id_cnty"]
        added_count = len(added_ids)
        is_added = pc.is_in(ids, value_set=pa.array(added_ids.tolist(), pa.string()))
    modified = _read_text_csv(changes / "modified.csv", MODIFIED_COLUMNS)
    deleted = _read_text_csv(changes / "deleted.csv", ("event_id_cnty", "reason"))
    values = modified[modified["column"] != TIMESTAMP]
    counts = values["column"].value_counts()
    per_column = [(name, int(counts[name])) for name in codebook.field_names if name in counts.index]
    reason_counts = deleted["reason"].fillna("no reason given").value_counts()
    reasons = sorted(((str(r), int(n)) for r, n in reason_counts.items()), key=lambda item: (-item[1], item[0]))
    added = table if is_added is None else table.filter(is_added)
    type_counts = pc.value_counts(_plain(added.column("event_type"))).to_pylist()
    added_by_type = sorted(((str(c["values"]), int(c["counts"])) for c in type_counts), key=lambda i: (-i[1], i[0]))
    listed = added.slice(0, LISTED).select(
        ["event_id_cnty", "event_date", "event_type", "country", "location", "fatalities"]
    )
    added_frame = pa.table({n: _plain(listed.column(n)) for n in listed.column_names}).to_pandas()
    return ChangeSummary(
        previous=previous,
        added=added_count,
        compared=table.num_rows - added_count,
        modified_events=int(modified["event_id_cnty"].nunique()),
        per_column=per_column,
        modified_values=values.head(LISTED).reset_index(drop=True),
        modified_total=len(values),
        deleted=deleted.head(LISTED).reset_index(drop=True),
        deleted_total=len(deleted),
        deleted_reasons=reasons,
        added_events=added_frame.head(LISTED),
        added_by_type=added_by_type,
    )


def _rows_where(column: pa.ChunkedArray, test: Callable[[pa.Array, Any], pa.Array], argument: Any) -> int:
    """How many non-null rows test(values, argument) holds for; a dictionary column's values are tested once."""
    total = 0
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            hit = pc.fill_null(test(chunk.dictionary, argument), False).to_numpy(zero_copy_only=False)
            total += int(np.asarray(hit, dtype=bool)[pc.drop_null(chunk.indices).to_numpy()].sum())
        else:
            total += int(pc.sum(pc.fill_null(test(pc.drop_null(chunk), argument), False)).as_py() or 0)
    return total


def _outside(values: pa.Array, allowed: pa.Array) -> pa.Array:
    return pc.invert(pc.is_in(values, value_set=allowed))


def _among(values: pa.Array, chosen: pa.Array) -> pa.Array:
    return pc.is_in(values, value_set=chosen)


def _constraint_checks(table: pa.Table, nulls: dict[str, int], codebook: Codebook) -> list[ConstraintCheck]:
    """The Table Schema's constraints, checked again on the released events (in Arrow; each distinct value once)."""
    checks: list[ConstraintCheck] = []
    for field in codebook.fields:
        name = field["name"]
        constraints = field.get("constraints", {})
        if name in nulls and constraints.get("required"):
            checks.append(ConstraintCheck(name, "required", nulls[name]))
            continue
        if name not in table.column_names or not constraints:
            continue
        column = table.column(name)
        value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        present = len(column) - column.null_count
        distinct = None
        if constraints.get("required"):
            checks.append(ConstraintCheck(name, "required", column.null_count))
        if constraints.get("unique") or "pattern" in constraints:
            distinct = pc.unique(pc.drop_null(_plain(column)))
        if constraints.get("unique"):
            assert distinct is not None
            checks.append(ConstraintCheck(name, "unique", present - len(distinct)))
        if "enum" in constraints:
            values = pa.array(constraints["enum"]).cast(value_type)
            outside = _rows_where(column, _outside, values)
            reference = field.get("eventdata", {}).get("vocabulary")
            label = f"in the vocabulary {str(reference).split('.')[0]}" if reference else "one of the listed values"
            checks.append(ConstraintCheck(name, label, outside))
        low, high = constraints.get("minimum"), constraints.get("maximum")
        if (low is not None or high is not None) and present:
            below = _rows_where(column, pc.less, low) if low is not None else 0
            above = _rows_where(column, pc.greater, high) if high is not None else 0
            bounds = f"{'' if low is None else low}..{'' if high is None else high}"
            checks.append(ConstraintCheck(name, f"within {bounds}", below + above))
        if "pattern" in constraints:
            assert distinct is not None
            matches = pc.match_substring_regex(distinct, f"^(?:{constraints['pattern']})$")
            bad = distinct.filter(pc.invert(matches))
            failing = _rows_where(column, _among, bad) if len(bad) else 0
            separator = field.get("eventdata", {}).get("separator")
            label = f"values joined by {separator!r}" if field.get("eventdata", {}).get("vocabulary") else "pattern"
            checks.append(ConstraintCheck(name, label if separator else "pattern", failing))
    return checks


def _agreement(package_dir: Path) -> pd.DataFrame | None:
    path = package_dir / AGREEMENT_FILE
    if not path.is_file():
        return None
    frame: pd.DataFrame = _read_release_csv(path, pa_csv.ConvertOptions()).to_pandas()
    return frame


def _articles(package_dir: Path) -> int:
    path = package_dir / "data" / "articles.csv"
    if not path.is_file():
        return 0
    table = _read_release_csv(path, pa_csv.ConvertOptions(include_columns=["article_id"]))
    return int(table.num_rows)


def gather(package_dir: Path, codebook: Codebook, info: ReleaseInfo) -> ReportData:
    """Read a release folder and aggregate everything the report shows."""
    making = f"making the report of {info.version}"
    progress.stage(making, "reading data/events.parquet")
    table, nulls = read_events(package_dir, codebook)
    progress.stage(making, f"counting {table.num_rows:,} events by period, place and precision")
    events = _frame(table)
    periods, unit = _periods(events)
    by_country, by_admin1 = _regions(events)
    points, places = _points(events)
    present = {str(t) for t in events["event_type"].cat.remove_unused_categories().cat.categories}
    ordered = vocabulary_order(codebook, "event_type")
    event_types = [t for t in ordered if t in present] + sorted(present - set(ordered))
    headline = _headline(events, table, _articles(package_dir))
    precision = _precision(events, codebook)
    progress.stage(making, "reading changes/")
    changes = _changes(package_dir, info.previous, table, codebook)
    progress.stage(making, f"checking {table.num_rows:,} events against the codebook's constraints")
    constraints = _constraint_checks(table, nulls, codebook)
    return ReportData(
        info=info,
        headline=headline,
        event_types=event_types,
        periods=periods,
        period_unit=unit,
        by_country=by_country,
        by_admin1=by_admin1,
        precision=precision,
        points=points,
        places=places,
        changes=changes,
        constraints=constraints,
        events_checked=table.num_rows,
        agreement=_agreement(package_dir),
    )


def period_range(periods: pd.Series) -> list[str]:
    """Every period ('2022-01' or '2022') from the first to the last, empty ones included."""
    if periods.empty:
        return []
    first, last = np.datetime64(str(periods.min())), np.datetime64(str(periods.max()))
    return [str(p) for p in np.datetime_as_string(np.arange(first, last + 1))]
