"""Time the release deltas (eventdata.changes) on N synthetic events, beside the build's own write cost.

Usage::

    python benchmarks/bench_changes.py [--events N] [--seed S] [--profile]

Builds an events table of N rows (default 1,000,000) in the release schema of the repository's codebook
(``eventdata.schema.to_arrow_schema`` + ``eventdata.package.normalise_table``, so it is laid out exactly as a
release's events.parquet), with realistic values drawn by numpy from the codebook's vocabularies: consistent
event / sub-event / disorder types, a few countries with their ISO codes and regions, skewed place and actor
pools, mostly-zero fatalities, multi-value source and tag cells, notes built from the other cells (~200
characters), timestamps of several earlier releases. A next version then has 1% of the rows modified (one to
three of fatalities, notes, geo_precision, source, tags each), 0.1% deleted and 0.5% added, and every row
stamped with the new release time, as ``stage()`` hands it to ``carry_timestamps``.

Times, each on the same inputs:

- ``carry_timestamps(previous, current)``: unchanged rows get their previous timestamp back;
- ``compute_changes(previous, current, date, reasons)``: added rows, modified cells, deleted ids;
- writing changes/added.csv, modified.csv and deleted.csv (``write_csv``, as ``write_package`` does);
- reading those CSVs back as ``update_parquet`` does (``load._read_changes``' options);
- the update: ``apply_changes`` + ``from_text`` + ``normalise_table`` (``update_parquet`` per version, without
  its Parquet write), checked to give the new version back;
- for comparison, the build's write of the events: events.parquet (``write_parquet``) + events.csv
  (``write_csv``).

Seconds are wall-clock time of the call; rows/s divides the rows the step handles (the events, or the change
rows for the changes CSVs) by it. Prints a Markdown table; asserts nothing. ``--profile`` adds the top
functions of cProfile for compute_changes and carry_timestamps.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from eventdata.changes import MODIFIED_COLUMNS, apply_changes, carry_timestamps, compute_changes, from_text
from eventdata.package import normalise_table, write_csv, write_parquet
from eventdata.schema import load_codebook, to_arrow_schema

REPO = Path(__file__).resolve().parent.parent
DEFAULT_EVENTS = 1_000_000
DEFAULT_SEED = 20260201
RELEASED = date(2026, 2, 1)
NEW_TIME = int(datetime(2026, 2, 1, tzinfo=UTC).timestamp())
EARLIER_RELEASES = [int(datetime(2025, m, 1, tzinfo=UTC).timestamp()) for m in range(1, 13)]
FIRST_DAY, LAST_DAY = np.datetime64("2018-01-01"), np.datetime64("2025-12-31")
MODIFIABLE = ("fatalities", "notes", "geo_precision", "source", "tags")

#: country → (share of events, bounding box lat0, lat1, lon0, lon1)
COUNTRIES = {
    "Syria": (0.55, 32.5, 37.2, 35.8, 42.0),
    "Iraq": (0.18, 29.5, 37.3, 39.0, 48.5),
    "Turkey": (0.12, 36.0, 42.0, 26.0, 44.8),
    "Lebanon": (0.06, 33.1, 34.6, 35.1, 36.6),
    "Yemen": (0.09, 12.6, 18.9, 42.6, 53.0),
}
#: (actor name template, inter): state forces, rebels, militias, rioters, protesters, civilians, external forces
ACTORS = [
    ("Military Forces of {country} (2000-)", 1),
    ("Police Forces of {country} (2000-)", 1),
    ("Islamic State ({country})", 2),
    ("Unidentified Armed Group ({country})", 3),
    ("Tribal Militia ({country})", 4),
    ("Rioters ({country})", 5),
    ("Protesters ({country})", 6),
    ("Civilians ({country})", 7),
    ("Military Forces of Russia (2000-)", 8),
    ("Military Forces of the United States (2021-)", 8),
]
OUTLETS = [
    "SANA", "Syrian Observatory for Human Rights", "Rudaw", "Anadolu Agency", "Shafaq News", "L'Orient-Le Jour",
    "Enab Baladi", "Al Masdar News", "North Press Agency", "Saba News Agency", "Asharq Al-Awsat", "Twitter",
]  # fmt: skip
CODERS = ["Rania Haddad", "Zeynep Çelik", "Omar Al-Khatib", "Léa Dubois", "Ahmad Nouri", "Sofía Pérez", "maintainers"]
SYLLABLES = ["al", "ma", "ra", "bad", "kha", "sha", "der", "tal", "jab", "qas", "hum", "zay", "nou", "rif", "bir"]

T = TypeVar("T")
MISSING = np.array(None, dtype=object)  # a missing cell, for np.where


def _names(rng: np.random.Generator, count: int) -> np.ndarray:
    """count distinct-looking place names such as 'Tal Rifbir' (a few collide, as real names do)."""
    syllables = np.array(SYLLABLES)
    first = np.char.capitalize(syllables[rng.integers(0, len(syllables), count)].astype(str))
    second = np.char.add(
        np.char.capitalize(syllables[rng.integers(0, len(syllables), count)].astype(str)),
        syllables[rng.integers(0, len(syllables), count)],
    )
    return np.char.add(np.char.add(first, " "), second)


def _skewed(rng: np.random.Generator, pool: int, size: int, exponent: float = 1.1) -> np.ndarray:
    """Indices into a pool, a few entries taking most draws (Zipf-like)."""
    weights = 1.0 / np.arange(1, pool + 1) ** exponent
    return rng.choice(pool, size=size, p=weights / weights.sum())


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of arrays and literals (nulls as empty strings)."""
    arrays = [p if isinstance(p, pa.Array | pa.ChunkedArray) else pa.scalar(p) for p in parts]
    arrays = [
        pc.fill_null(pc.cast(a, pa.string()), "") if isinstance(a, pa.Array | pa.ChunkedArray) else a for a in arrays
    ]
    return pc.binary_join_element_wise(*arrays, "")


def generate_events(n: int, rng: np.random.Generator, next_number: dict[str, int], schema: pa.Schema) -> pa.Table:
    """n events in the release schema; ids continue from next_number (updated in place)."""
    codebook_dir = REPO / "schemas"
    countries = pd.read_csv(codebook_dir / "vocabularies" / "countries.csv", keep_default_na=False)
    countries = countries.set_index("country").loc[list(COUNTRIES)]
    sub_events = pd.read_csv(codebook_dir / "vocabularies" / "sub_event_types.csv", keep_default_na=False)
    sub_weights = np.where(sub_events["event_type"].isin(["Battles", "Explosions/Remote violence"]), 4.0, 1.0)
    sub_weights[sub_events["sub_event_type"].eq("Peaceful protest").to_numpy()] = 6.0

    names = list(COUNTRIES)
    country = rng.choice(len(names), size=n, p=np.array([COUNTRIES[c][0] for c in names]) / 1.0)
    numbers = np.empty(n, dtype=np.int64)
    for index, name in enumerate(names):
        mask = country == index
        iso3 = str(countries.at[name, "iso3"])
        start = next_number.get(iso3, 0)
        numbers[mask] = np.arange(start + 1, start + 1 + int(mask.sum()))
        next_number[iso3] = start + int(mask.sum())
    prefix = pa.array(countries["iso3"].to_numpy()[country], pa.string())
    event_id = _join(prefix, pa.array(numbers))

    days = rng.integers(0, int((LAST_DAY - FIRST_DAY).astype(int)) + 1, n)
    event_date = (FIRST_DAY + days).astype("datetime64[D]")
    year = event_date.astype("datetime64[Y]").astype(int) + 1970

    sub = rng.choice(len(sub_events), size=n, p=sub_weights / sub_weights.sum())
    event_type = sub_events["event_type"].to_numpy()[sub]
    civilian_rule = sub_events["civilian_targeting"].to_numpy()[sub]
    civilian = np.where(
        (civilian_rule == "required") | ((civilian_rule == "allowed") & (rng.random(n) < 0.3)),
        "Civilian targeting",
        MISSING,
    )

    actor_templates = np.array([a for a, _ in ACTORS])
    actor_inters = np.array([i for _, i in ACTORS])
    country_names = np.array(names)[country]
    first_actor = np.where(event_type == "Protests", 6, np.where(event_type == "Riots", 5, _skewed(rng, 6, n, 0.8)))
    first_actor = np.clip(first_actor, 0, len(ACTORS) - 1)
    second_actor = np.where(event_type == "Violence against civilians", 7, _skewed(rng, len(ACTORS), n, 0.6))
    no_second = (event_type == "Protests") & (rng.random(n) < 0.9) | (event_type == "Strategic developments")
    actor1 = pa.array(np.char.replace(actor_templates[first_actor].astype(str), "{country}", country_names.astype(str)))
    actor2_values = np.char.replace(actor_templates[second_actor].astype(str), "{country}", country_names.astype(str))
    actor2 = pa.array(np.where(no_second, MISSING, actor2_values), pa.string())
    inter1 = actor_inters[first_actor]
    inter2 = np.where(no_second, 0, actor_inters[second_actor])
    low, high = np.minimum(inter1, inter2), np.maximum(inter1, inter2)
    interaction = np.where(inter2 == 0, inter1 * 10, low * 10 + high)
    assoc = np.where(rng.random(n) < 0.08, "Tribal Militia (Syria); Civilians (Syria)", MISSING)

    places_per_country = 4_000
    place = _skewed(rng, places_per_country, n, 0.9)
    place_names = _names(rng, places_per_country * len(names)).reshape(len(names), places_per_country)
    location = place_names[country, place]
    admin1 = np.char.add("Governorate ", (place % 14).astype(str))
    admin2 = np.char.add("District ", (place % 60).astype(str))
    admin3 = np.where(place % 3 == 0, MISSING, np.char.add("Subdistrict ", (place % 250).astype(str)))
    boxes = np.array([COUNTRIES[c][1:] for c in names])
    fraction = rng.random((2, n))
    latitude = np.round(boxes[country, 0] + fraction[0] * (boxes[country, 1] - boxes[country, 0]), 4)
    longitude = np.round(boxes[country, 2] + fraction[1] * (boxes[country, 3] - boxes[country, 2]), 4)

    fatalities = np.where(rng.random(n) < 0.68, 0, np.minimum(rng.geometric(0.15, n), 400))
    fatalities = np.where(np.isin(sub_events["sub_event_type"].to_numpy()[sub], ["Peaceful protest"]), 0, fatalities)
    outlets = np.array(OUTLETS)
    two_sources = rng.random(n) < 0.25
    source = np.where(
        two_sources,
        np.char.add(np.char.add(outlets[_skewed(rng, len(OUTLETS), n)], "; "), outlets[_skewed(rng, len(OUTLETS), n)]),
        outlets[_skewed(rng, len(OUTLETS), n)],
    )
    scales = np.array(["National", "Subnational", "National-International", "Other-National", "New media"])
    source_scale = scales[_skewed(rng, len(scales), n)]
    tags = np.where(
        event_type == "Protests",
        np.where(rng.random(n) < 0.6, "crowd size=no report", "crowd size=around 200"),
        np.where(rng.random(n) < 0.05, "women targeted: candidates for office", MISSING),
    )
    article = rng.integers(0, 60_000, n)
    article_id = _join(pa.array(article), "_", pa.array(rng.integers(0, 16**6, n)))
    sentences = np.array(
        [
            f"Sources report {w} in the area on the day in question, citing local residents and officials ({k})."
            for k, w in enumerate(["clashes", "shelling", "a protest", "an air strike", "arrests", "an attack"] * 50)
        ]
    )
    evidence = sentences[rng.integers(0, len(sentences), n)]
    coder = np.array(CODERS)[_skewed(rng, len(CODERS), n)]

    columns: dict[str, Any] = {
        "event_id_cnty": event_id,
        "event_date": pa.array(event_date, pa.date32()),
        "year": year,
        "time_precision": rng.choice([1, 2, 3], size=n, p=[0.86, 0.1, 0.04]),
        "disorder_type": sub_events["disorder_type"].to_numpy()[sub],
        "event_type": event_type,
        "sub_event_type": sub_events["sub_event_type"].to_numpy()[sub],
        "actor1": actor1,
        "assoc_actor_1": assoc,
        "inter1": inter1,
        "actor2": actor2,
        "assoc_actor_2": np.where(rng.random(n) < 0.03, "Civilians (Syria)", MISSING),
        "inter2": inter2,
        "interaction": interaction,
        "civilian_targeting": civilian,
        "iso": countries["iso"].to_numpy()[country],
        "region": countries["region"].to_numpy()[country],
        "country": country_names,
        "admin1": admin1,
        "admin2": admin2,
        "admin3": admin3,
        "location": location,
        "latitude": latitude,
        "longitude": longitude,
        "geo_precision": rng.choice([1, 2, 3], size=n, p=[0.7, 0.22, 0.08]),
        "source": source,
        "source_scale": source_scale,
        "fatalities": fatalities,
        "tags": tags,
        "timestamp": np.array(EARLIER_RELEASES)[rng.integers(0, len(EARLIER_RELEASES), n)],
        "article_id": article_id,
        "evidence": evidence,
        "coder": coder,
    }
    date_text = pc.strftime(pa.array(event_date.astype("datetime64[s]"), pa.timestamp("s")), "%d %B %Y")
    columns["notes"] = _join(
        "On ", date_text, ", ", actor1, " and ", pa.array(actor2_values), " were involved in ",
        pa.array(sub_events["sub_event_type"].to_numpy()[sub]), " in ", pa.array(location), " (",
        pa.array(admin1), "). ", pa.array(fatalities), " fatalities reported by ", pa.array(source), ".",
    )  # fmt: skip
    arrays = []
    for field in schema:
        values = columns[field.name]
        target = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, from_pandas=True)
        arrays.append(pc.cast(array, target))
    plain = pa.schema([pa.field(f.name, a.type, f.nullable) for f, a in zip(schema, arrays, strict=True)])
    return normalise_table(pa.Table.from_arrays(arrays, schema=plain), schema)


def next_version(previous: pa.Table, rng: np.random.Generator, schema: pa.Schema) -> tuple[pa.Table, dict[str, str]]:
    """1% of rows modified (1-3 columns), 0.1% deleted, 0.5% added; every row stamped NEW_TIME (as built)."""
    n = previous.num_rows
    order = rng.permutation(n)
    deleted = np.sort(order[: n // 1000])
    modified = np.sort(order[n // 1000 : n // 1000 + n // 100])
    keep = np.ones(n, dtype=bool)
    keep[deleted] = False

    columns = {name: previous.column(name).combine_chunks() for name in previous.column_names}
    primary = rng.integers(0, len(MODIFIABLE), len(modified))
    for position, name in enumerate(MODIFIABLE):
        rows = modified[(primary == position) | (rng.random(len(modified)) < 0.25)]
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        column = columns[name]
        if name == "fatalities":
            replacement = pc.add(column, pa.scalar(rng.integers(1, 6), column.type))
        elif name == "notes":
            replacement = _join(column, " Corrected after a second source.")
        elif name == "geo_precision":
            replacement = pc.cast(pc.add(pc.cast(column, pa.int16()), 1), pa.int16())
            replacement = pc.cast(
                pc.if_else(pc.greater(replacement, 3), pa.scalar(1, pa.int16()), replacement), column.type
            )
        elif name == "source":
            replacement = _join(column, "; Enab Baladi")
        else:
            replacement = pc.fill_null(_join(column, "; local source"), "local source")
        columns[name] = pc.if_else(pa.array(mask), replacement, column)
    edited = pa.Table.from_arrays(list(columns.values()), schema=schema).filter(pa.array(keep))

    numbers: dict[str, int] = {}
    ids = pd.Series(previous.column("event_id_cnty").to_pylist())
    parts = ids.str.extract(r"^([A-Z]{3})(\d+)$")
    for prefix, group in pd.to_numeric(parts[1]).groupby(parts[0]):
        numbers[str(prefix)] = int(group.max())
    added = generate_events(n // 200, rng, numbers, schema)
    combined = pa.concat_tables([edited, added])
    position = schema.get_field_index("timestamp")
    stamped = combined.set_column(
        position, schema.field(position), pa.array(np.full(combined.num_rows, NEW_TIME), schema.field(position).type)
    )
    reasons = {
        str(event_id): "Duplicate of another event."
        for event_id in previous.column("event_id_cnty").take(pa.array(deleted[::2])).to_pylist()
    }
    return normalise_table(stamped, schema), reasons


def timed(label: str, rows: int, call: Callable[[], T], results: list[tuple[str, int, float]]) -> T:
    started = time.perf_counter()
    value = call()
    results.append((label, rows, time.perf_counter() - started))
    return value


def read_changes(folder: Path, schema: pa.Schema) -> tuple[pa.Table, pd.DataFrame, list[str]]:
    """The changes CSVs read with the options of eventdata.load._read_changes."""
    added = pa_csv.read_csv(
        folder / "added.csv",
        convert_options=pa_csv.ConvertOptions(
            column_types={f.name: pa.string() for f in schema}, strings_can_be_null=True
        ),
    )
    modified = pa_csv.read_csv(
        folder / "modified.csv",
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in MODIFIED_COLUMNS},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    ).to_pandas()
    deleted = pa_csv.read_csv(
        folder / "deleted.csv", convert_options=pa_csv.ConvertOptions(column_types={"event_id_cnty": pa.string()})
    )
    return added, modified, deleted.column("event_id_cnty").to_pylist()


def profile(label: str, call: Callable[[], object], limit: int = 14) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(limit)
    print(f"\n### cProfile: {label}\n\n```")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
    print("```")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="events in the first version")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--profile", action="store_true", help="print cProfile of compute_changes, carry_timestamps")
    args = parser.parse_args(argv)

    schema = to_arrow_schema(load_codebook(REPO / "schemas"))
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    previous = generate_events(args.events, rng, {}, schema)
    current, reasons = next_version(previous, rng, schema)
    generated = time.perf_counter() - started
    n = current.num_rows
    results: list[tuple[str, int, float]] = []

    carried = timed("carry_timestamps", n, lambda: carry_timestamps(previous, current), results)
    changes = timed("compute_changes", n, lambda: compute_changes(previous, carried, RELEASED, reasons), results)
    change_rows = changes.added.num_rows + changes.modified.num_rows + changes.deleted.num_rows
    with tempfile.TemporaryDirectory(prefix="bench-changes-") as scratch:
        folder = Path(scratch)

        def write_changes() -> None:
            write_csv(changes.added, folder / "added.csv")
            write_csv(changes.modified, folder / "modified.csv")
            write_csv(changes.deleted, folder / "deleted.csv")

        timed("write changes/*.csv", change_rows, write_changes, results)
        added, modified, deleted = timed(
            "read changes/*.csv (update)", change_rows, lambda: read_changes(folder, schema), results
        )

        def update() -> pa.Table:
            text = apply_changes(previous, added, modified, deleted)
            typed = from_text(text.select([f.name for f in previous.schema]), previous.schema)
            return normalise_table(typed, previous.schema.remove_metadata())

        updated = timed("apply_changes + from_text + normalise_table", n, update, results)
        timed("build: write events.parquet", n, lambda: write_parquet(carried, folder / "events.parquet"), results)
        timed("build: write events.csv", n, lambda: write_csv(carried, folder / "events.csv"), results)
        sizes = {p.name: p.stat().st_size for p in folder.iterdir()}

    counts = changes.counts()
    print(f"# bench_changes: {args.events:,} events → {n:,} (seed {args.seed})\n")
    print(
        f"Python {platform.python_version()}, pandas {pd.__version__}, pyarrow {pa.__version__}, "
        f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"synthetic data generated in {generated:.1f} s.\n"
    )
    print(
        f"Changes: {counts['added']:,} added, {counts['modified']:,} events modified "
        f"({counts['modified_cells']:,} values + timestamps: {changes.modified.num_rows:,} rows in modified.csv), "
        f"{counts['deleted']:,} deleted, {counts['unchanged']:,} unchanged. Files: "
        + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(sizes.items()))
        + ".\n"
    )
    print("| step | rows | seconds | rows/s |")
    print("|---|---:|---:|---:|")
    for label, rows, seconds in results:
        print(f"| {label} | {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} |")
    build_write = sum(s for label, _, s in results if label.startswith("build:"))
    delta = sum(s for label, _, s in results if label in ("carry_timestamps", "compute_changes"))
    print(
        f"\ncarry_timestamps + compute_changes: {delta:.2f} s; the build's write of the events: {build_write:.2f} s. "
        f"Update gives the new version back: {'yes' if updated.equals(carried) else 'NO'}."
    )
    if args.profile:
        profile("compute_changes", lambda: compute_changes(previous, carried, RELEASED, reasons))
        profile("carry_timestamps", lambda: carry_timestamps(previous, current))
    return 0


if __name__ == "__main__":
    sys.exit(main())
