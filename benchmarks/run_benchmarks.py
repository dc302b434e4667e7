"""Time `validate` and `build` on N synthetic events, beside `frictionless validate` and plain pyarrow.

Usage::

    python benchmarks/run_benchmarks.py [--events N] [--workdir DIR] [--skip-frictionless] [--frictionless-rows M]

Generates the dataset with generate_events.py (or reuses it when the work folder already holds one made with the
same arguments), then runs each step in a fresh Python process, so that the peak memory reported for a step
(ru_maxrss of that process) is its own:

- validate: ``eventdata.validate_project(eventdata.load_project(dataset))``;
- build: ``eventdata.build_package(project, out_dir)`` (validates again, then writes the package);
- frictionless validate: ``frictionless.validate(datapackage.json, resource_name="events")`` on the built package's
  events CSV, as ``frictionless validate --resource-name events`` does; ``--frictionless-rows M`` checks the first
  M rows only and says so in the table;
- pyarrow CSV → Parquet: read every sheet with pyarrow.csv, concatenate, write one zstd Parquet file: the floor for
  "read the sheets and write Parquet" with no checks at all.

Seconds are wall-clock time of the measured call, without interpreter start-up and imports; peak MB is the whole
process's maximum resident set, imports included; CPU s is the user + system time of the process during the call,
all threads together: above seconds when a step uses several cores, well below when it waited (for the disk, or
for a core on a busy machine). ``--repeat R`` runs each step R times and reports the fastest run (and the highest
peak), which helps on a busy machine. Prints the machine and a Markdown table. This is a script,
not a test: nothing fails when a step is slow.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_WORKDIR = HERE / "out"
STEPS = ("validate", "build", "frictionless", "pyarrow")


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


def step_validate(dataset: Path, package: Path, limit: int | None) -> dict[str, Any]:
    import eventdata

    with Timer() as timer:
        validation = eventdata.validate_project(eventdata.load_project(dataset))
    report = validation.report
    if not report.valid:
        shown = "\n".join(p.format() for p in report.problems[:10])
        raise SystemExit(f"the synthetic data is invalid ({len(report.problems)} problems):\n{shown}")
    return timer.result(report.rows)


def step_build(dataset: Path, package: Path, limit: int | None) -> dict[str, Any]:
    import eventdata

    if package.exists():
        shutil.rmtree(package)
    with Timer() as timer:
        result = eventdata.build_package(eventdata.load_project(dataset), out_dir=package)
    if result.status != "built":
        raise SystemExit(f"build ended with status {result.status!r}: {len(result.report.problems)} problems")
    size = sum(p.stat().st_size for p in package.rglob("*") if p.is_file())
    return timer.result(result.report.rows, note=f"package {size / 1e6:,.0f} MB")


def step_frictionless(dataset: Path, package: Path, limit: int | None) -> dict[str, Any]:
    import frictionless

    descriptor = package / "datapackage.json"
    if not descriptor.is_file():
        raise SystemExit(f"{descriptor} does not exist; run the build step first.")
    with Timer() as timer:
        report = frictionless.validate(str(descriptor), resource_name="events", limit_rows=limit)
    task = report.tasks[0]
    if not report.valid:
        shown = "\n".join(e.message for e in task.errors[:5])
        raise SystemExit(f"frictionless found {len(task.errors)} errors in the built package:\n{shown}")
    return timer.result(task.stats["rows"])


def step_pyarrow(dataset: Path, package: Path, limit: int | None) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    target = package.parent / f"{package.name}-pyarrow.parquet"
    with Timer() as timer:
        tables = [pa_csv.read_csv(path) for path in sorted((dataset / "seeds" / "sheets").glob("*.csv"))]
        # Type inference can differ between sheets (a column that is empty in one sheet is null-typed there).
        table = pa.concat_tables(tables, promote_options="permissive")
        pq.write_table(table, target, compression="zstd")
    return timer.result(table.num_rows, note=f"Parquet {target.stat().st_size / 1e6:,.0f} MB")


STEP_FUNCTIONS: dict[str, Callable[[Path, Path, int | None], dict[str, Any]]] = {
    "validate": step_validate,
    "build": step_build,
    "frictionless": step_frictionless,
    "pyarrow": step_pyarrow,
}


def run_step_here(name: str, dataset: Path, package: Path, limit: int | None) -> None:
    """Body of a step process: run the step and print its measurements as JSON on the last line."""
    result = STEP_FUNCTIONS[name](dataset, package, limit)
    result["peak_mb"] = _peak_mb()
    print(json.dumps(result))


def run_step(name: str, dataset: Path, package: Path, limit: int | None) -> dict[str, Any]:
    """Run a step in a fresh Python process and collect what it measured."""
    command = [sys.executable, str(Path(__file__).resolve()), "--step", name, "--dataset", str(dataset)]
    command += ["--package", str(package)]
    if limit is not None:
        command += ["--frictionless-rows", str(limit)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(f"step {name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}", file=sys.stderr)
        return {"failed": True, "wall": wall}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
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


# --- the report ----------------------------------------------------------------------------------------------


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
    ]


def table(rows: list[tuple[str, dict[str, Any], str]]) -> list[str]:
    lines = ["| step | rows | seconds | rows/s | peak MB | CPU s |", "|---|---:|---:|---:|---:|---:|"]
    for label, result, rows_text in rows:
        if result.get("failed"):
            lines.append(f"| {label} | failed | | | | |")
            continue
        rate = result["rows"] / result["seconds"] if result["seconds"] > 0 else float("inf")
        lines.append(
            f"| {label} | {rows_text or format(result['rows'], ',')} | {result['seconds']:,.1f} | {rate:,.0f} | "
            f"{result['peak_mb']:,.0f} | {result['cpu']:,.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="synthetic events (default 1,000,000)")
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help=f"work folder (default {DEFAULT_WORKDIR})"
    )
    parser.add_argument("--seed", type=int, default=20240203, help="generator seed (default 20240203)")
    parser.add_argument("--rows-per-sheet", type=int, default=5_000, help="rows per coding sheet (default 5,000)")
    parser.add_argument("--skip-frictionless", action="store_true", help="leave out frictionless validate")
    parser.add_argument(
        "--frictionless-rows", type=int, default=None, help="let frictionless check only the first M rows"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each step R times; report the fastest run and the highest peak"
    )
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    # Internal: run one step in this process.
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--package", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.step:
        run_step_here(args.step, args.dataset, args.package, args.frictionless_rows)
        return 0

    workdir = args.workdir.resolve()
    started = time.perf_counter()
    dataset, info, reused = ensure_dataset(workdir, args.events, args.seed, args.rows_per_sheet)
    generation = time.perf_counter() - started
    package = workdir / f"package-{args.events}"
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    if args.skip_frictionless and "frictionless" in steps:
        steps.remove("frictionless")
    limit = args.frictionless_rows if args.frictionless_rows and args.frictionless_rows < info["events"] else None

    labels = {
        "validate": "`eventdata validate` (validate_project)",
        "build": "`eventdata build` (build_package: validate + write)",
        "frictionless": "`frictionless validate` (events resource)",
        "pyarrow": "pyarrow CSV → Parquet (no checks)",
    }
    results: list[tuple[str, dict[str, Any], str]] = []
    for name in steps:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        runs = [run_step(name, dataset, package, limit if name == "frictionless" else None) for _ in range(args.repeat)]
        result = min(runs, key=lambda r: float("inf") if r.get("failed") else r["seconds"])
        if not result.get("failed"):
            result["peak_mb"] = max(r["peak_mb"] for r in runs if not r.get("failed"))
        label, rows_text = labels[name], ""
        if name == "frictionless" and limit is not None and not result.get("failed"):
            label = f"`frictionless validate` (first {result['rows']:,} rows only; rows/s from that sample)"
            rows_text = f"{result['rows']:,} of {info['events']:,}"
        results.append((label, result, rows_text))
        if result.get("failed") and name == "build" and "frictionless" in steps:
            print("build failed: frictionless has no package to check.", file=sys.stderr)

    source = "reused" if reused else f"generated in {generation:,.1f} s"
    lines = [
        f"## {info['events']:,} events",
        "",
        *machine(),
        f"- data: {info['events']:,} events in {info['sheets']} sheets of {info['rows_per_sheet']:,} rows "
        f"({info['bytes_of_sheets'] / 1e6:,.0f} MB of CSV), {info['articles']} articles, seed {info['seed']}; {source}",
        f"- each step run {args.repeat} time(s) in a fresh process; seconds: the fastest run; peak MB: the highest"
        if args.repeat > 1
        else "- each step run once in a fresh process",
        "",
        *table(results),
    ]
    notes = [
        f"- {labels[name].split(' (')[0]}: {result['note']}"
        for name, (_, result, _) in zip(steps, results, strict=True)
        if result.get("note")
    ]
    for name, (_, result, _) in zip(steps, results, strict=True):
        if name == "frictionless" and limit is not None and not result.get("failed"):
            estimate = info["events"] / (result["rows"] / result["seconds"])
            notes.append(
                f"- frictionless validate checked a sample; all {info['events']:,} rows would take ≈ {estimate:,.0f} s"
            )
    if notes:
        lines += ["", *notes]
    print("\n".join(lines))
    return 1 if any(r.get("failed") for _, r, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
