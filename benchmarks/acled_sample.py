"""Import ACLED's official sample (or a copy of it scaled to N rows), build it, and check the round trip.

Usage::

    python benchmarks/acled_sample.py SAMPLE [--rows N] [--workdir DIR] [--no-check]

SAMPLE is ``acled_old_deletion_dummy.rda`` from ACLED's R package acledR (``data/`` of
github.com/dtacled/acledR: 9,000 events of 2022 in the 31 current columns; reading it needs the
``rdata`` package, ``pip install rdata``) or a CSV export. ACLED's terms forbid redistributing its
rows, so the sample is never part of this repository: give its path.

The script writes the sample as an ACLED CSV export (ISO dates, whole numbers), creates a dataset
with ``eventdata init``, runs ``import_acled`` and ``build_package``, and prints their times. With
``--rows N`` above the sample's size, the rows are repeated with new event numbers (the same prefix,
the number plus a multiple of 1,000,000) to time a larger import. Unless ``--no-check``, it reads
``data/events-acled.csv`` of the release back and asserts that every event of the export comes back
with its event_id_cnty, actors, location (country, admin1-3, location, coordinates), fatalities and
notes, and that the columns which differ are the documented normalisations; it prints their counts.
This is a script, not a test: ACLED's rows are not in the repository for a test to read.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from eventdata.acled import import_acled
from eventdata.build import build_package
from eventdata.project import Project, init_project

#: The columns the release must give back exactly as the export has them.
KEPT = (
    "event_id_cnty", "actor1", "assoc_actor_1", "actor2", "assoc_actor_2", "country", "admin1", "admin2",
    "admin3", "location", "latitude", "longitude", "fatalities", "notes",
)  # fmt: skip
#: Columns that may differ, and why (README, "Importing ACLED exports").
NORMALISED = {
    "disorder_type": "schemas/acled_normalisations.csv",
    "civilian_targeting": "an optional column empty on every row is absent: derived from the event type",
    "tags": "an optional column empty on every row is absent",
    "timestamp": "a release's timestamp is the time of the version in which the row last changed",
}


def read_sample(path: Path) -> pd.DataFrame:
    """The sample as the cells of an ACLED CSV export (strings)."""
    if path.suffix.lower() != ".rda":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    import rdata  # only this script needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdata warns about R classes (tibble) it reads as data frames
        frames = rdata.read_rda(str(path))
    frame = next(iter(frames.values()))
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column == "event_date":  # R's Date: days since 1970-01-01
            out[column] = [(date(1970, 1, 1) + timedelta(days=int(v))).isoformat() for v in values]
        elif column in ("latitude", "longitude"):
            out[column] = [repr(float(v)) for v in values]
        elif values.dtype.kind == "f":
            out[column] = ["" if pd.isna(v) else str(int(v)) for v in values]
        else:
            out[column] = values.astype("string").fillna("").astype(str)
    return out.reset_index(drop=True)


def scaled(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The sample repeated to `rows` rows, each copy with new event numbers."""
    if rows <= len(frame):
        return frame.iloc[:rows].copy()
    copies = []
    parts = frame["event_id_cnty"].str.extract(r"^([A-Za-z]+)(\d+)$")
    for k in range(-(-rows // len(frame))):
        copy = frame.copy()
        copy["event_id_cnty"] = parts[0] + (parts[1].astype("int64") + k * 1_000_000).astype(str)
        copies.append(copy)
    return pd.concat(copies, ignore_index=True).iloc[:rows]


def round_trip(export: pd.DataFrame, release_csv: Path) -> dict[str, int]:
    """Assert every event comes back with its kept columns; the number of events per normalised column."""
    released = pd.read_csv(release_csv, dtype=str, keep_default_na=False).set_index("event_id_cnty")
    given = export.set_index("event_id_cnty")
    missing = given.index.difference(released.index)
    assert missing.empty, f"{len(missing)} event(s) missing from the release, e.g. {list(missing[:5])}"
    released = released.loc[given.index]
    for column in KEPT[1:]:
        a, b = given[column], released[column]
        numeric = column in ("latitude", "longitude", "fatalities")
        same = pd.to_numeric(a) == pd.to_numeric(b) if numeric else a == b
        assert same.all(), (
            f"{column}: {(~same).sum()} event(s) differ, e.g. {a[~same].iloc[0]!r} -> {b[~same].iloc[0]!r}"
        )
    differing = {}
    for column in given.columns:
        if column in KEPT or column not in released.columns:
            continue
        a, b = given[column], released[column]
        if column in ("latitude", "longitude") or column.startswith(
            ("inter", "iso", "year", "time", "geo", "timestamp")
        ):
            diff = pd.to_numeric(a, errors="coerce") != pd.to_numeric(b, errors="coerce")
        else:
            diff = a != b
        if diff.any():
            differing[column] = int(diff.sum())
    unexplained = {c: n for c, n in differing.items() if c not in NORMALISED}
    assert not unexplained, f"columns differ beyond the documented normalisations: {unexplained}"
    return differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sample", type=Path)
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="eventdata-acled-sample-"))
    sample = read_sample(args.sample)
    frame = scaled(sample, args.rows or len(sample))
    export = work / f"acled-sample-{len(frame)}.csv"
    work.mkdir(parents=True, exist_ok=True)
    frame.to_csv(export, index=False)
    project: Project = init_project(work / f"dataset-{len(frame)}")
    started = time.perf_counter()
    result = import_acled(project, export)
    imported = time.perf_counter() - started
    errors = result.report.counts("error")
    assert result.written, f"import refused: {errors}"
    assert not errors, f"import skipped rows: {errors}"
    started = time.perf_counter()
    built = build_package(project)
    building = time.perf_counter() - started
    assert built.status == "built", f"build: {built.status} {built.report.counts('error')}"
    print("| events | import s | build s | warnings | corrected |")
    print("|---:|---:|---:|---|---|")
    corrected = "; ".join(f"{i.column} {i.value!r}→{i.correct!r}: {n}" for i, n in result.normalised)
    warned = ", ".join(f"{n} {c}" for c, n in result.report.counts("warning").items())
    print(f"| {len(frame):,} | {imported:.1f} | {building:.1f} | {warned} | {corrected} |")
    if not args.no_check:
        differing = round_trip(frame, built.package_dir / "data" / "events-acled.csv")
        print(f"round trip: {len(frame):,} events give back {', '.join(KEPT)}; documented differences: {differing}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
