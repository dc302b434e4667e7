"""eventdata's validate, build and release beside the anchors (pyarrow, polars, DuckDB, frictionless), in one run.

Usage::

    python benchmarks/run_benchmarks.py                       # 1,000,000 events: the table, the ratios, the targets
    python benchmarks/run_benchmarks.py --sizes 1000000,3000000,10000000   # + the scaling table (10M: long)
    python benchmarks/run_benchmarks.py --quick               # 50,000 and 150,000 events, in a few minutes

Generates each dataset with generate_events.py (or reuses it when the work folder holds one made with the same
arguments), then runs every step in a fresh Python process. The parent measures each process whole: its wall time
from start to exit (interpreter start-up and imports included) and its peak resident memory (ru_maxrss from
wait4); the process also reports the wall and CPU seconds of the measured call alone. The steps:

- ``validate``: ``eventdata.validate_project`` of the dataset (read every sheet, resolve, derive, every check);
- ``build``: ``eventdata.build_package`` into a new folder (validates again, then writes the package);
- ``validate-warm``: validate again, with the parsed-sheet cache the ``validate`` step filled (every other
  eventdata step starts from an empty cache: it parses every sheet);
- ``release`` and ``rerelease``: ``eventdata.release_version`` of a copy of the dataset (the sheets are hard links,
  never written), then one sheet of the ~200 edited (the notes of 10 rows) and released again, with the sheet
  cache the release filled: the incremental re-release, as a share of the full release;
- ``frictionless``: ``frictionless.validate`` of the built package's events resource, as
  ``frictionless validate --resource-name events`` does (``--frictionless-rows M``: the first M rows only, with the
  time for every row extrapolated);
- ``pyarrow``: every sheet read with pyarrow.csv, concatenated, written as one zstd Parquet file: the floor for
  "read the sheets and write Parquet", with no checks;
- ``pyarrow-files``: the pyarrow anchor writing the files a package holds of the events: the same read, then zstd
  Parquet, the CSV of every column, the CSV of the ACLED columns and the sha256 of each, on a thread per core (as
  the build writes them): the floor for "read the sheets and write what a release publishes", with no checks;
- ``polars``: every sheet read with polars, the checks of the published Table Schema that polars expressions can
  state (required, types, enum, minimum/maximum, pattern, unique, sub-event type within event type), typed
  columns written as zstd Parquet;
- ``duckdb``: ``COPY (SELECT * FROM read_csv(sheets/*.csv)) TO events.parquet (COMPRESSION zstd)``.

The first size gets the full table with every step and the ratios to the pyarrow anchor (time and memory, whole
processes) and to frictionless; every size gets a row of the scaling table (``--scaling-steps``). A process whose
memory passes ``--memory-limit-gb`` (default: 90% of the memory available when the run starts) is stopped and
its row says so, so that a size that does not fit cannot take the machine down. ``--repeat R`` runs each step R
times and keeps the fastest run (and the highest peak). This is a script, not a test: nothing fails when a step
is slow; it exits 1 when a step fails.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_WORKDIR = HERE / "out"
STEPS = (
    "validate", "validate-warm", "build", "release", "rerelease", "frictionless", "pyarrow", "pyarrow-files", "polars",
    "duckdb",
)  # fmt: skip
#: The parsed-sheet cache (eventdata.sources.sheet_cache) a step starts from: its own empty folder (cold), or the
#: folder an earlier step filled (a validation run again, a re-release after the release).
WARM_FROM = {"validate-warm": "validate", "rerelease": "release"}
SCALING_STEPS = ("validate", "build", "pyarrow", "polars", "duckdb")
LABELS = {
    "validate": "`eventdata validate` (validate_project)",
    "validate-warm": "`eventdata validate` again, sheets parsed before (sheet cache)",
    "build": "`eventdata build` (build_package: validate + write)",
    "release": "`eventdata release`, first release (release_version)",
    "rerelease": "`eventdata release` again after editing 1 sheet (incremental re-release)",
    "frictionless": "`frictionless validate` (events resource of the package)",
    "pyarrow": "pyarrow: CSV → zstd Parquet (no checks)",
    "pyarrow-files": "pyarrow: CSV → Parquet + 2 CSVs + sha256, a package's event files (no checks)",
    "polars": "polars: CSV → checks → zstd Parquet",
    "duckdb": "DuckDB: COPY read_csv → zstd Parquet (no checks)",
}
FIRST_RELEASE = date(2025, 11, 15)
EDITED_ROWS = 10


def _peak_mb() -> float:
    """Peak resident set of this process in MB (ru_maxrss is in KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Timer:
    """Wall-clock seconds of a block, and CPU seconds of this process (all its threads) during it."""

    def __enter__(self) -> Timer:
        self.seconds, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds, self.cpu = time.perf_counter() - self.seconds, time.process_time() - self.cpu

    def result(self, rows: int, **extra: Any) -> dict[str, Any]:
        return {"rows": rows, "seconds": self.seconds, "cpu": self.cpu, **extra}


# --- steps: each runs in its own process and prints one JSON line ------------------------------------------


def _sheets(dataset: Path) -> list[Path]:
    return sorted((dataset / "seeds" / "sheets").glob("*.csv"))


def step_validate(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import eventdata

    with Timer() as timer:
        validation = eventdata.validate_project(eventdata.load_project(dataset))
    report = validation.report
    if not report.valid:
        shown = "\n".join(p.format() for p in report.problems[:10])
        raise SystemExit(f"the synthetic data is invalid ({len(report.problems)} problems):\n{shown}")
    return timer.result(report.rows)


def step_build(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import eventdata

    package = work / "package"
    shutil.rmtree(package, ignore_errors=True)
    with Timer() as timer:
        result = eventdata.build_package(eventdata.load_project(dataset), out_dir=package)
    if result.status != "built":
        raise SystemExit(f"build ended with status {result.status!r}: {len(result.report.problems)} problems")
    size = sum(p.stat().st_size for p in package.rglob("*") if p.is_file())
    return timer.result(result.report.rows, note=f"package {size / 1e6:,.0f} MB")


def copy_dataset(dataset: Path, target: Path) -> None:
    """A dataset folder to release: schemas/ copied, seeds/ hard links (a release replaces files, never writes them)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(dataset / "schemas", target / "schemas")
    try:
        shutil.copytree(dataset / "seeds", target / "seeds", copy_function=os.link)
    except OSError:  # another file system: copies
        shutil.rmtree(target / "seeds", ignore_errors=True)
        shutil.copytree(dataset / "seeds", target / "seeds")


def step_release(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import eventdata
    from eventdata.release import release_version

    copy = work / "release-dataset"
    copy_dataset(dataset, copy)
    with Timer() as timer:
        result = release_version(eventdata.load_project(copy), release_date=FIRST_RELEASE)
    if result.status != "released":
        raise SystemExit(f"release ended with status {result.status!r}: {len(result.report.problems)} problems")
    return timer.result(result.report.rows, note=f"version {result.version}")


def edit_one_sheet(copy: Path) -> tuple[str, int]:
    """Correct the notes of EDITED_ROWS rows of the middle sheet, as a coder would; the sheet and the row count."""
    sheets = _sheets(copy)
    sheet = sheets[len(sheets) // 2]
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    notes = rows[0].index("notes")
    for row in rows[1 : EDITED_ROWS + 1]:
        row[notes] += " (corrected)"
    sheet.unlink()  # a hard link to the generated dataset: write a new file
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return sheet.name, len(sheets)


def step_rerelease(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import eventdata
    from eventdata.catalog import list_releases
    from eventdata.release import release_version

    copy = work / "release-dataset"
    project = eventdata.load_project(copy)
    name = str(eventdata.schema.load_codebook(project.schemas_dir).dataset["name"])
    releases = list_releases(project.dist_dir / name, name) if project.dist_dir.is_dir() else []
    if not releases:
        raise SystemExit(f"{copy} has no release: run the release step first.")
    sheet, count = edit_one_sheet(copy)
    released = date.fromordinal(FIRST_RELEASE.toordinal() + len(releases))
    with Timer() as timer:
        result = release_version(project, release_date=released)
    if result.status != "released":
        raise SystemExit(f"re-release ended with status {result.status!r}: {len(result.report.problems)} problems")
    counts = result.counts
    return timer.result(
        result.report.rows,
        note=f"{sheet} of {count} sheets edited: version {result.version}, {counts.get('modified', 0)} corrected",
    )


def step_frictionless(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import frictionless

    descriptor = work / "package" / "datapackage.json"
    if not descriptor.is_file():
        raise SystemExit(f"{descriptor} does not exist; run the build step first.")
    with Timer() as timer:
        report = frictionless.validate(str(descriptor), resource_name="events", limit_rows=limit)
    task = report.tasks[0]
    if not report.valid:
        shown = "\n".join(e.message for e in task.errors[:5])
        raise SystemExit(f"frictionless found {len(task.errors)} errors in the built package:\n{shown}")
    return timer.result(task.stats["rows"])


def step_pyarrow(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    target = work / "pyarrow.parquet"
    with Timer() as timer:
        tables = [pa_csv.read_csv(path) for path in _sheets(dataset)]
        # Type inference can differ between sheets (a column that is empty in one sheet is null-typed there).
        table = pa.concat_tables(tables, promote_options="permissive")
        pq.write_table(table, target, compression="zstd")
    return timer.result(table.num_rows, note=f"Parquet {target.stat().st_size / 1e6:,.0f} MB")


def step_pyarrow_files(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    import eventdata
    from eventdata.schema import load_codebook

    codebook = load_codebook(eventdata.load_project(dataset).schemas_dir)

    def hashed(path: Path) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def parquet(table: pa.Table, path: Path) -> str:
        pq.write_table(table, path, compression="zstd")
        return hashed(path)

    def text(table: pa.Table, path: Path) -> str:
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(eol="\r\n"))
        return hashed(path)

    with Timer() as timer:
        tables = [pa_csv.read_csv(path) for path in _sheets(dataset)]
        table = pa.concat_tables(tables, promote_options="permissive")
        acled = table.select([c for c in codebook.acled_field_names if c in table.column_names])
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            jobs = [
                pool.submit(parquet, table, work / "files.parquet"),
                pool.submit(text, table, work / "files-events.csv"),
                pool.submit(text, acled, work / "files-acled.csv"),
            ]
            [job.result() for job in jobs]
    written = sum(p.stat().st_size for p in work.glob("files*"))
    return timer.result(table.num_rows, note=f"{written / 1e6:,.0f} MB written and hashed")


def polars_checks(dataset: Path, columns: list[str]) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """The published Table Schema's checks as polars expressions (True where a row breaks one), and the dtypes."""
    import polars as pl

    import eventdata
    from eventdata.schema import load_codebook, published_table_schema

    codebook = load_codebook(eventdata.load_project(dataset).schemas_dir)
    schema = published_table_schema(codebook)
    types = {"integer": pl.Int64, "number": pl.Float64, "boolean": pl.Boolean}
    checks: list[tuple[str, Any]] = []
    dtypes: dict[str, Any] = {}
    for field in schema["fields"]:
        name, kind, rules = field["name"], field.get("type", "string"), field.get("constraints", {})
        if name not in columns:
            continue  # a derived column: not in the coders' sheets
        text = pl.col(name)
        if kind == "date":
            value = text.str.to_date("%Y-%m-%d", strict=False)
        elif kind in types:
            value = text.cast(types[kind], strict=False)
        else:
            value = text
        if value is not text:
            dtypes[name] = value
            checks.append((f"{name}: {kind}", text.is_not_null() & value.is_null()))
        if rules.get("required"):
            checks.append((f"{name}: required", text.is_null()))
        if "enum" in rules:
            checks.append((f"{name}: enum", text.is_not_null() & ~text.is_in([str(v) for v in rules["enum"]])))
        if "pattern" in rules:
            checks.append((f"{name}: pattern", text.is_not_null() & ~text.str.contains(f"^(?:{rules['pattern']})$")))
        for bound, broken in (("minimum", value.lt), ("maximum", value.gt)):
            if bound in rules and kind in ("integer", "number"):
                checks.append((f"{name}: {bound}", broken(rules[bound]).fill_null(False)))
        if rules.get("unique"):
            checks.append((f"{name}: unique", text.is_not_null() & text.is_duplicated()))
    sub_events = codebook.vocabulary("sub_event_types") if "sub_event_types" in codebook.vocabularies else None
    if sub_events is not None and {"event_type", "sub_event_type"} <= set(columns):
        pairs = [f"{a}\x1f{b}" for a, b in zip(sub_events["event_type"], sub_events["sub_event_type"], strict=True)]
        pair = pl.concat_str([pl.col("event_type"), pl.col("sub_event_type")], separator="\x1f")
        checks.append(("sub_event_type within event_type", pair.is_not_null() & ~pair.is_in(pairs)))
    return checks, dtypes


def step_polars(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import polars as pl

    target = work / "polars.parquet"
    with Timer() as timer:
        frames = [pl.read_csv(path, infer_schema=False) for path in _sheets(dataset)]
        events = pl.concat(frames, how="diagonal_relaxed")
        checks, dtypes = polars_checks(dataset, events.columns)
        broken = events.select([expr.sum().alias(label) for label, expr in checks]).row(0, named=True)
        events.with_columns(**dtypes).write_parquet(target, compression="zstd")
    failed = {label: n for label, n in broken.items() if n}
    if failed:
        raise SystemExit(f"polars found rows that break the schema: {failed}")
    return timer.result(
        events.height, note=f"{len(checks)} checks, none broken; Parquet {target.stat().st_size / 1e6:,.0f} MB"
    )


def step_duckdb(dataset: Path, work: Path, limit: int | None) -> dict[str, Any]:
    import duckdb

    target = work / "duckdb.parquet"
    sheets = str(dataset / "seeds" / "sheets" / "*.csv").replace("'", "''")
    with Timer() as timer:
        connection = duckdb.connect()
        connection.execute(
            f"COPY (SELECT * FROM read_csv('{sheets}')) "
            f"TO '{str(target).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, COMPRESSION zstd)"
        )
        rows = connection.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
    return timer.result(int(rows[0]) if rows else 0, note=f"Parquet {target.stat().st_size / 1e6:,.0f} MB")


STEP_FUNCTIONS: dict[str, Callable[[Path, Path, int | None], dict[str, Any]]] = {
    "validate": step_validate,
    "validate-warm": step_validate,
    "build": step_build,
    "release": step_release,
    "rerelease": step_rerelease,
    "frictionless": step_frictionless,
    "pyarrow": step_pyarrow,
    "pyarrow-files": step_pyarrow_files,
    "polars": step_polars,
    "duckdb": step_duckdb,
}


def run_step_here(name: str, dataset: Path, work: Path, limit: int | None) -> None:
    """Body of a step process: run the step and print its measurements as JSON on the last line."""
    print(json.dumps(STEP_FUNCTIONS[name](dataset, work, limit)))


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            line = next((line for line in handle if line.startswith("VmRSS:")), "")
    except OSError:
        return 0.0
    return int(line.split()[1]) / 1024 if line else 0.0


def run_step(name: str, dataset: Path, work: Path, limit: int | None, memory_limit_mb: float) -> dict[str, Any]:
    """Run a step in a fresh Python process; its own measurements plus the whole process's wall time and peak."""
    command = [sys.executable, str(Path(__file__).resolve()), "--step", name, "--dataset", str(dataset)]
    command += ["--work", str(work)]
    if limit is not None:
        command += ["--frictionless-rows", str(limit)]
    env = dict(os.environ, POLARS_MAX_THREADS=os.environ.get("POLARS_MAX_THREADS", str(os.cpu_count() or 1)))
    cache = work / f"sheet-cache-{WARM_FROM.get(name, name)}"
    if name not in WARM_FROM:
        shutil.rmtree(cache, ignore_errors=True)  # every other step parses every sheet (cold)
    env["EVENTDATA_SHEET_CACHE_DIR"] = str(cache)
    started = time.perf_counter()
    with open(work / f"{name}.out", "w+b") as out, open(work / f"{name}.err", "w+b") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        stopped = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            rss = _rss_mb(process.pid)
            if rss > memory_limit_mb and not stopped:
                stopped = rss
                process.kill()
            time.sleep(0.05)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    if stopped:
        return {"failed": f"stopped at {stopped / 1024:,.1f} GB (memory limit {memory_limit_mb / 1024:,.1f} GB)",
                "wall": wall, "peak_mb": peak}  # fmt: skip
    if process.returncode != 0:
        print(f"step {name} failed (exit {process.returncode}):\n{stderr[-3000:]}", file=sys.stderr)
        return {"failed": f"exit {process.returncode}", "wall": wall, "peak_mb": peak}
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result.update(wall=wall, peak_mb=peak)
    return result


def best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest successful run, with the highest peak of them all."""
    done = [r for r in runs if not r.get("failed")]
    if not done:
        return runs[0]
    result = dict(min(done, key=lambda r: r["wall"]))
    result["peak_mb"] = max(r["peak_mb"] for r in done)
    return result


# --- the dataset ---------------------------------------------------------------------------------------------


def ensure_dataset(workdir: Path, events: int, seed: int, rows_per_sheet: int) -> tuple[Path, dict[str, Any], bool]:
    """The dataset folder for these arguments: reused when it was made from the same codebook, generated otherwise."""
    sys.path.insert(0, str(HERE))
    import generate_events

    dataset = workdir / f"events-{events}-seed{seed}-k{rows_per_sheet}"
    marker = dataset / "benchmark.json"
    wanted = {
        "generator_version": generate_events.GENERATOR_VERSION,
        "codebook_sha256": generate_events.codebook_digest(),
        "events": events,
        "seed": seed,
        "rows_per_sheet": rows_per_sheet,
    }
    if marker.is_file():
        info: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
        if all(info.get(k) == v for k, v in wanted.items()):
            return dataset, info, True
    if dataset.exists():
        shutil.rmtree(dataset)  # a folder this script made, for other arguments or unfinished
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(HERE / "generate_events.py"), str(dataset), "--events", str(events)]
    command += ["--seed", str(seed), "--rows-per-sheet", str(rows_per_sheet)]
    subprocess.run(command, check=True)
    return dataset, json.loads(marker.read_text(encoding="utf-8")), False


def eventdata_revision() -> str:
    """' (git abc1234)' when eventdata runs from a git checkout, noting uncommitted changes to it; else ''."""
    spec = importlib.util.find_spec("eventdata")
    if spec is None or spec.origin is None:
        return ""
    checkout = Path(spec.origin).resolve().parent.parent
    git = ["git", "-C", str(checkout)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run([*git, "status", "--porcelain", "eventdata"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f" (git {head.stdout.strip()}{', with uncommitted changes' if dirty.stdout.strip() else ''})"


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            total = next(line for line in handle if line.startswith("MemTotal"))
        memory = f", {int(total.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for package in ("eventdata", "pandas", "pyarrow", "pandera", "numpy", "frictionless"):
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            version = "(not installed)"
        versions.append(f"{package} {version}{eventdata_revision() if package == 'eventdata' else ''}")
    load = f"; load average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else ""
    return [
        f"- machine: {cpu}, {usable} usable cores (of {os.cpu_count()}){memory}; {platform.platform()}{load}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); {', '.join(versions)}",
        f"- Arrow memory pool: eventdata's steps {_eventdata_pool()} (eventdata.allocator), the anchors pyarrow's "
        f"default ({_default_pool()})",
    ]


def _default_pool() -> str:
    import pyarrow as pa

    return str(pa.default_memory_pool().backend_name)


def _eventdata_pool() -> str:
    code = "from eventdata.allocator import use_jemalloc; print(use_jemalloc())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


# --- the report ----------------------------------------------------------------------------------------------


def _ratio(value: float, anchor: float) -> str:
    return f"{value / anchor:,.1f}×" if anchor > 0 else ""


def main_table(results: dict[str, dict[str, Any]], info: dict[str, Any]) -> list[str]:
    """Every step at one size: call and process seconds, peak memory, CPU, and ratios to the pyarrow anchor."""
    anchor = results.get("pyarrow", {})
    lines = [
        "| step | rows | call s | process s | peak MB | CPU s | rows/s | time ÷ pyarrow | memory ÷ pyarrow "
        "| CPU ÷ pyarrow |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        label = LABELS[name]
        if result.get("failed"):
            lines.append(
                f"| {label} | {result['failed']} | | {result['wall']:,.1f} | {result['peak_mb']:,.0f} | | | | | |"
            )
            continue
        rows = f"{result['rows']:,}"
        if name == "frictionless" and result["rows"] < info["events"]:
            label = f"`frictionless validate` (first {result['rows']:,} rows; rows/s from that sample)"
            rows = f"{result['rows']:,} of {info['events']:,}"
        rate = result["rows"] / result["seconds"] if result["seconds"] > 0 else float("inf")
        ratios = ["", "", ""]
        if anchor and not anchor.get("failed") and name != "pyarrow":
            ratios = [
                _ratio(result["wall"], anchor["wall"]),
                _ratio(result["peak_mb"], anchor["peak_mb"]),
                _ratio(result["cpu"], anchor["cpu"]),
            ]
        lines.append(
            f"| {label} | {rows} | {result['seconds']:,.1f} | {result['wall']:,.1f} | {result['peak_mb']:,.0f} | "
            f"{result['cpu']:,.1f} | {rate:,.0f} | {' | '.join(ratios)} |"
        )
    return lines


def target_lines(results: dict[str, dict[str, Any]], info: dict[str, Any]) -> list[str]:
    """The targets of the speed issue, measured: each ratio and whether it is met."""

    def ok(name: str) -> dict[str, Any] | None:
        result = results.get(name)
        return result if result and not result.get("failed") else None

    lines = []
    build, pyarrow, validate = ok("build"), ok("pyarrow"), ok("validate")
    if build and pyarrow:
        time_ratio, memory_ratio = build["wall"] / pyarrow["wall"], build["peak_mb"] / pyarrow["peak_mb"]
        cpu_ratio = build["cpu"] / pyarrow["cpu"] if pyarrow["cpu"] > 0 else float("inf")
        lines.append(
            f"- build ÷ pyarrow anchor, time: {time_ratio:,.1f}× (target ≤ 2×: {_met(time_ratio <= 2)}; "
            f"CPU time {cpu_ratio:,.1f}×)"
        )
        lines.append(
            f"- build ÷ pyarrow anchor, peak memory: {memory_ratio:,.1f}× (target ≤ 2×: {_met(memory_ratio <= 2)})"
        )
    files = ok("pyarrow-files")
    if build and files:  # not a target: the same work as the build's writes, without its checks
        lines.append(
            f"- build ÷ pyarrow writing the same event files (Parquet + 2 CSVs + sha256): "
            f"{build['wall'] / files['wall']:,.1f}× the time, {build['peak_mb'] / files['peak_mb']:,.1f}× the "
            "peak memory (not a target: what the checks and the rest of the package cost)"
        )
    friction = ok("frictionless")
    if validate and friction:
        seconds = friction["seconds"] * info["events"] / friction["rows"]  # every row, when it checked a sample
        sampled = " (extrapolated from its sample)" if friction["rows"] < info["events"] else ""
        speedup = seconds / validate["seconds"]
        cpu = friction["cpu"] * info["events"] / friction["rows"] / validate["cpu"] if validate["cpu"] > 0 else 0.0
        lines.append(
            f"- validate vs frictionless validate of the same table: {speedup:,.1f}× faster, measured calls "
            f"{validate['seconds']:,.1f} s vs {seconds:,.1f} s{sampled} (target ≥ 10×: {_met(speedup >= 10)}; "
            f"CPU time {cpu:,.1f}×)"
        )
    warm = ok("validate-warm")
    if warm and friction:
        seconds = friction["seconds"] * info["events"] / friction["rows"]
        lines.append(
            f"- validate again with the sheets parsed before (sheet cache): {warm['seconds']:,.1f} s, "
            f"{seconds / warm['seconds']:,.1f}× faster than frictionless (not the target's measure: that is the "
            "first validation above)"
        )
    release, again = ok("release"), ok("rerelease")
    if release and again:
        share = again["wall"] / release["wall"]
        cpu_share = again["cpu"] / release["cpu"] if release["cpu"] > 0 else 0.0
        lines.append(
            f"- incremental re-release (1 sheet edited) ÷ full release: {share:.0%} "
            f"({again['wall']:,.1f} s vs {release['wall']:,.1f} s; target ≤ 10%: {_met(share <= 0.10)}; "
            f"CPU time {cpu_share:.0%})"
        )
    return lines


def _met(met: bool) -> str:
    return "met" if met else "not met"


def scaling_table(by_size: dict[int, dict[str, dict[str, Any]]], steps: list[str]) -> list[str]:
    """Process seconds and peak MB of each step at each size, and how they grow from the smallest size."""
    header = "| events | " + " | ".join(f"{s} s | {s} MB" for s in steps) + " |"
    lines = [header, "|---:|" + "---:|---:|" * len(steps)]
    for size, results in by_size.items():
        cells = []
        for step in steps:
            result = results.get(step)
            if result is None:
                cells += ["", ""]
            elif result.get("failed"):
                cells += [result["failed"], f"{result['peak_mb']:,.0f}"]
            else:
                cells += [f"{result['wall']:,.1f}", f"{result['peak_mb']:,.0f}"]
        lines.append(f"| {size:,} | " + " | ".join(cells) + " |")
    sizes = list(by_size)
    if len(sizes) > 1:
        lines.append("")
        for step in steps:
            points = [(n, by_size[n][step]) for n in sizes if step in by_size[n] and not by_size[n][step].get("failed")]
            if len(points) < 2:
                continue
            (n0, r0), (n1, r1) = points[0], points[-1]
            grow = math.log(r1["wall"] / r0["wall"]) / math.log(n1 / n0) if r0["wall"] > 0 and n1 > n0 else 0.0
            lines.append(
                f"- {step}: {n0:,} → {n1:,} events (×{n1 / n0:,.0f}): time ×{r1['wall'] / r0['wall']:,.1f} "
                f"(∝ n^{grow:.2f}), peak memory ×{r1['peak_mb'] / r0['peak_mb']:,.1f}"
            )
    return lines


def predicted_peak_mb(by_size: dict[int, dict[str, dict[str, Any]]], step: str, events: int) -> float:
    """The peak of a step at `events` (0: unknown): on the line through its two largest smaller sizes measured,
    else proportional to the one (a fixed cost, such as the imports, then counts once, not per event)."""
    measured = sorted(
        (n, float(r[step]["peak_mb"]))
        for n, r in by_size.items()
        if step in r and not r[step].get("failed") and n < events
    )
    if not measured:
        return 0.0
    n, peak = measured[-1]
    if len(measured) == 1:
        return peak * events / n
    m, smaller = measured[-2]
    return peak + max(peak - smaller, 0.0) / (n - m) * (events - n)


def _available_mb() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            line = next(line for line in handle if line.startswith("MemAvailable"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return float("inf")


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as err:
        raise SystemExit(f"--sizes {text!r}: give event counts separated by commas, e.g. 1000000,3000000") from err
    if not sizes or min(sizes) < 1:
        raise SystemExit("--sizes needs at least one positive event count.")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=None, help="one size: synthetic events (default 1,000,000)")
    parser.add_argument("--sizes", default=None, help="sizes, comma-separated: the first gets the full table")
    parser.add_argument("--quick", action="store_true", help="50,000 and 150,000 events (200 sheets each)")
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help=f"work folder (default {DEFAULT_WORKDIR})"
    )
    parser.add_argument("--seed", type=int, default=20240203, help="generator seed (default 20240203)")
    parser.add_argument(
        "--rows-per-sheet", type=int, default=None, help="rows per coding sheet (default 5,000; --quick: 200 sheets)"
    )
    parser.add_argument("--skip-frictionless", action="store_true", help="leave out frictionless validate")
    parser.add_argument("--frictionless-rows", type=int, default=None, help="let frictionless check the first M rows")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each step R times: the fastest run, the highest peak"
    )
    parser.add_argument("--steps", default=",".join(STEPS), help=f"steps at the first size, of {','.join(STEPS)}")
    parser.add_argument(
        "--scaling-steps", default=",".join(SCALING_STEPS), help="steps at the other sizes (default: %(default)s)"
    )
    parser.add_argument("--memory-limit-gb", type=float, default=None, help="stop a step past this resident size")
    parser.add_argument(
        "--try-all",
        action="store_true",
        help="run a step even when its peak, extrapolated from a smaller size, is above the memory limit",
    )
    parser.add_argument("--keep", action="store_true", help="keep the packages and Parquet files of every size")
    # Internal: run one step in this process.
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.step:
        run_step_here(args.step, args.dataset, args.work, args.frictionless_rows)
        return 0

    if args.sizes:
        sizes = _sizes(args.sizes)
    elif args.quick:
        sizes = [50_000, 150_000]
    else:
        sizes = [args.events or 1_000_000]
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    scaling = [s.strip() for s in args.scaling_steps.split(",") if s.strip()]
    unknown = sorted(set(steps + scaling) - set(STEPS))
    if unknown:
        raise SystemExit(f"unknown step(s) {', '.join(unknown)}; the steps are {', '.join(STEPS)}")
    if args.skip_frictionless and "frictionless" in steps:
        steps.remove("frictionless")
    for name, module in (("polars", "polars"), ("duckdb", "duckdb"), ("frictionless", "frictionless")):
        if importlib.util.find_spec(module) is None and (name in steps or name in scaling):
            print(
                f"{module} is not installed (pip install -e '.[bench]'): the {name} step is left out.", file=sys.stderr
            )
            steps, scaling = [s for s in steps if s != name], [s for s in scaling if s != name]
    memory_limit = args.memory_limit_gb * 1024 if args.memory_limit_gb else 0.9 * _available_mb()
    workdir = args.workdir.resolve()

    by_size: dict[int, dict[str, dict[str, Any]]] = {}
    first: tuple[dict[str, Any], dict[str, dict[str, Any]], str] | None = None
    for index, events in enumerate(sizes):
        rows_per_sheet = args.rows_per_sheet or (max(1, events // 200) if args.quick else 5_000)
        started = time.perf_counter()
        print(f"{events:,} events: dataset ...", file=sys.stderr, flush=True)
        dataset, info, reused = ensure_dataset(workdir, events, args.seed, rows_per_sheet)
        source = "reused" if reused else f"generated in {time.perf_counter() - started:,.1f} s"
        work = workdir / f"work-{events}"
        work.mkdir(parents=True, exist_ok=True)
        wanted = steps if index == 0 else scaling
        order = [s for s in STEPS if s in wanted]  # build before frictionless, release before rerelease
        limit = args.frictionless_rows if args.frictionless_rows and args.frictionless_rows < events else None
        results: dict[str, dict[str, Any]] = {}
        for name in order:
            predicted = predicted_peak_mb(by_size, name, events)
            if predicted > memory_limit and not args.try_all:
                results[name] = {"failed": f"not run: ≈ {predicted / 1024:,.1f} GB predicted", "wall": 0.0,
                                 "peak_mb": predicted}  # fmt: skip
                print(f"{events:,} events: {name} left out, {results[name]['failed']}", file=sys.stderr, flush=True)
                continue
            print(f"{events:,} events: {name} ...", file=sys.stderr, flush=True)
            runs = []
            for _ in range(args.repeat):
                if name == "rerelease" and runs:  # each re-release follows a fresh full release
                    run_step("release", dataset, work, None, memory_limit)
                runs.append(run_step(name, dataset, work, limit if name == "frictionless" else None, memory_limit))
            results[name] = best(runs)
        by_size[events] = {s: r for s, r in results.items() if s in scaling}
        if first is None:
            first = (info, results, source)
        if not args.keep:
            for leftover in ("package", "release-dataset"):
                shutil.rmtree(work / leftover, ignore_errors=True)
            for parquet in work.glob("*.parquet"):
                parquet.unlink()

    assert first is not None
    info, results, source = first
    lines = [
        f"## {info['events']:,} events",
        "",
        *machine(),
        f"- data: {info['events']:,} events in {info['sheets']} sheets of {info['rows_per_sheet']:,} rows "
        f"({info['bytes_of_sheets'] / 1e6:,.0f} MB of CSV), {info['articles']} articles, seed {info['seed']}; {source}",
        f"- each step a fresh process, run {args.repeat} time(s): the fastest run, the highest peak; "
        f"memory limit {memory_limit / 1024:,.1f} GB",
        "- call s: the measured call alone; process s and peak MB: the whole process (start-up and imports "
        "included), which the time and memory ratios use; CPU s: the call's CPU time, all threads (steadier than "
        "wall time on a busy machine)",
        "",
        *main_table(results, info),
    ]
    notes = [f"- {name}: {r['note']}" for name, r in results.items() if r.get("note") and not r.get("failed")]
    targets = target_lines(results, info)
    if notes:
        lines += ["", *notes]
    if targets:
        lines += ["", "Targets:", "", *targets]
    if len(by_size) > 1:
        shown = [s for s in STEPS if s in scaling]
        lines += ["", "## Scaling (process seconds and peak MB)", "", *scaling_table(by_size, shown)]
    print("\n".join(lines))
    every = [r for done in by_size.values() for r in done.values()] + list(results.values())
    return 1 if any(r.get("failed") and not str(r["failed"]).startswith("not run") for r in every) else 0


if __name__ == "__main__":
    sys.exit(main())
