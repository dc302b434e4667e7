"""Time the release report (eventdata.report) on a release of N synthetic events.

Usage::

    python benchmarks/bench_report.py [--events N] [--workdir DIR] [--seed S] [--repeat R]

Uses the dataset of run_benchmarks.py (generate_events.py; generated once per arguments, reused after), builds
it once with ``eventdata.build_package`` into ``WORKDIR/report-package-N/`` (a first release: changes/added.csv
holds every event, the most the report reads), then times in this process:

- ``report_html`` as ``eventdata report`` runs it: the first call (cold: it loads the Natural Earth borders from
  the installed wheel) and the fastest of R more calls (warm);
- its parts: ``gather`` (read events.parquet, the article index and changes/*.csv; aggregate per month, country,
  admin1, precision and map point; re-check the column constraints) and ``render`` (SVG charts, the map with its
  borders, the HTML);
- and checks that the report is the package's report.html byte for byte.

Prints a Markdown table and the report's size; asserts no speed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_benchmarks import DEFAULT_WORKDIR, ensure_dataset  # noqa: E402

import eventdata  # noqa: E402
from eventdata.report import REPORT_FILE, report_html  # noqa: E402
from eventdata.report.data import ReleaseInfo, gather  # noqa: E402
from eventdata.report.page import render  # noqa: E402
from eventdata.schema import load_codebook  # noqa: E402

T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    value = call()
    return value, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--seed", type=int, default=20260201)
    parser.add_argument("--rows-per-sheet", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    workdir = args.workdir.resolve()
    dataset, _, reused = ensure_dataset(workdir, args.events, args.seed, args.rows_per_sheet)
    package = workdir / f"report-package-{args.events}"
    build_seconds = None
    if not (package / REPORT_FILE).is_file():
        result, build_seconds = timed(lambda: eventdata.build_package(eventdata.load_project(dataset), package))
        if result.status == "invalid":
            raise SystemExit(f"the synthetic data is invalid: {result.report.problems[:3]}")
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    codebook = load_codebook(package / "sources" / "schemas")
    released = date.fromisoformat(descriptor["created"][:10])
    version = descriptor["version"]

    def whole() -> str:
        return report_html(package, codebook, version=version, released=released, previous=None)

    html, cold = timed(whole)
    warm = min(timed(whole)[1] for _ in range(args.repeat))
    info = ReleaseInfo(str(codebook.dataset["name"]), str(codebook.dataset["name"]), version, released, None)
    gathered = [timed(lambda: gather(package, codebook, info)) for _ in range(args.repeat)]
    data = gathered[0][0]
    render_seconds = min(timed(lambda: render(data, codebook))[1] for _ in range(args.repeat))
    same = html.encode("utf-8") == (package / REPORT_FILE).read_bytes()

    rows = data.headline.events
    print(f"# bench_report: {rows:,} events\n")
    print(
        f"Python {platform.python_version()}, pandas {pd.__version__}, pyarrow {pa.__version__}, "
        f"{platform.machine()}; dataset {'reused' if reused else 'generated'}; "
        + (f"package built in {build_seconds:.1f} s (report included)." if build_seconds else "package reused.")
        + "\n"
    )
    print("| step | seconds | events/s |")
    print("|---|---:|---:|")
    for label, seconds in (
        ("report_html, first call (loads the borders)", cold),
        (f"report_html, fastest of {args.repeat}", warm),
        ("↳ gather: read + aggregate + re-check constraints", min(s for _, s in gathered)),
        ("↳ render: charts, map, HTML", render_seconds),
    ):
        print(f"| {label} | {seconds:.2f} | {rows / seconds:,.0f} |")
    marks = html.count('<circle class="event"')
    print(
        f"\nreport.html: {len(html.encode('utf-8')) / 1e6:.2f} MB, {marks:,} map circles "
        f"({len(data.points):,} points by place and event type before merging); "
        f"identical to the build's report.html: {'yes' if same else 'NO'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
