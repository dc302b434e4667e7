"""Where the time of `eventdata build` goes: each stage of validation and of the package write, timed on N events.

Usage::

    python benchmarks/bench_stages.py [--events N] [--workdir DIR] [--seed S] [--rows-per-sheet K]
                                      [--repeat R] [--profile STAGE[,STAGE]] [--keep-package]

Uses the dataset of run_benchmarks.py (generated once per arguments, reused after). Runs what ``build_package``
runs, in the same order and with the same arguments (``timestamp`` = the release time, ``today`` = now), but
calls the stages of ``validate_project`` / ``validate_events`` and of ``stage`` / ``commit_package`` one by one:

- reading: ``load_codebook`` + ``read_articles``; ``read_sheet`` of every sheet and their concatenation;
- the reference lists derivation and resolution need: ``load_actors``, ``load_places`` (with its checks of the
  place list against the reference data), ``read_registry`` + ``read_deletions``;
- ``parse_types`` (and inter2 = 0 where actor2 is empty), ``apply_actors``, ``apply_places``, ``apply_ids``,
  ``apply_derivations``, ``check_with_pandera``, the cross-field checks, ``check_articles``;
- ``events_table``, the deltas (``carry_timestamps`` + ``compute_changes``) and ``commit_package``, whose calls
  of write_csv / write_parquet / copy_sources / record_sources / hashing are timed separately by wrapping them.

It answers "what do deriving fields and resolving places add to the build?": derive/resolve is apply_actors +
apply_places + apply_ids + apply_derivations, and, counted with it, loading the lists those need; the
foundation is everything else (reading, type parsing, pandera, checks, writing). The table gives each stage's
share of the whole and the ratio derive/resolve : foundation.

Validation runs the pipeline's own declared steps (eventdata.validate.STEPS and the registered rules), each timed
one after the other (validate runs actors, places and ids at once, and pandera and the rules at once, one per
core: their seconds here are what each costs alone, and a build takes up to the smaller of each group less);
the package stages follow build_package's order: when it changes, this script must follow (it stops when the
data does not come out valid). Each run is a fresh process (peak MB is
its own); ``--repeat R`` makes R runs and shows each stage's fastest, which helps on a busy machine.
``--profile STAGE`` runs those stages under pyinstrument (slower; the table marks them) and prints the profile.
Prints Markdown; asserts no speed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run_benchmarks  # noqa: E402  (a sibling script, found through sys.path)

#: Stage → group. "derive" stages are what derivation and resolution add; the rest is the foundation.
GROUPS = {
    "read codebook + article index": "foundation",
    "read sheets (read_sheet × sheets + concat)": "foundation",
    "load actor list (load_actors)": "lists",
    "load place list (load_places)": "lists",
    "read id registry + deletions": "lists",
    "parse_types": "foundation",
    "apply_actors": "derive",
    "apply_places": "derive",
    "apply_ids": "derive",
    "apply_derivations": "derive",
    "pandera (check_with_pandera)": "foundation",
    "cross-field checks (8)": "foundation",
    "check_articles": "foundation",
    "events_table": "foundation",
    "deltas (carry_timestamps + compute_changes)": "foundation",
    "write package (commit_package)": "foundation",
}
#: Stages whose time does not grow with the events: rows/s would mean nothing. (The deltas are empty for a first
#: release: bench_changes.py times them for a second one.)
FIXED_COST = {
    "read codebook + article index",
    "load actor list (load_actors)",
    "load place list (load_places)",
    "deltas (carry_timestamps + compute_changes)",
}
#: Step of the validation pipeline (eventdata.validate.STEPS) → its stage in the table.
STEP_STAGES = {
    "parse": "parse_types",
    "no second actor": "parse_types",
    "actors": "apply_actors",
    "places": "apply_places",
    "ids": "apply_ids",
    "derive": "apply_derivations",
    "pandera": "pandera (check_with_pandera)",
}
REST = "the rest (codebook.md, changelog, datapackage.json, README, rename)"
PROFILE_NAMES = {
    "read": "read sheets (read_sheet × sheets + concat)",
    "places-list": "load place list (load_places)",
    "actors-list": "load actor list (load_actors)",
    "parse": "parse_types",
    "actors": "apply_actors",
    "places": "apply_places",
    "ids": "apply_ids",
    "derive": "apply_derivations",
    "pandera": "pandera (check_with_pandera)",
    "checks": "cross-field checks (8)",
    "articles": "check_articles",
    "events_table": "events_table",
    "deltas": "deltas (carry_timestamps + compute_changes)",
    "write": "write package (commit_package)",
}


def _status_mb(key: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS: now, VmHWM: peak), in MB; 0 elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            line = next((line for line in handle if line.startswith(key + ":")), "")
    except OSError:
        return 0.0
    return int(line.split()[1]) / 1024 if line else 0.0


def _reset_peak() -> None:
    """Start a new peak (VmHWM) of this process at its current resident set (Linux: clear_refs 5)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        pass


class Stages:
    """Times stages (wall and CPU seconds) and their memory; runs the chosen ones under pyinstrument."""

    def __init__(self, profiled: set[str]) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.rss_after: dict[str, float] = {}  # resident MB when the stage ended
        self.peak: dict[str, float] = {}  # highest resident MB during the stage
        self.profiled = profiled
        self.profiles: dict[str, str] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        profiler = None
        if name in self.profiled:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.005)
            profiler.start()
        _reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
            self.rss_after[name] = _status_mb("VmRSS")
            self.peak[name] = max(self.peak.get(name, 0.0), _status_mb("VmHWM"))
            if profiler is not None:
                profiler.stop()
                self.profiles[name] = profiler.output_text(unicode=True, color=False)


def _wrap(module: Any, attribute: str, label: Callable[..., str], into: dict[str, list[float]]) -> Callable[[], None]:
    """Replace module.attribute by a timed wrapper adding to into[label(*args)]; returns the undo."""
    original = getattr(module, attribute)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent = into.setdefault(label(*args, **kwargs), [0.0, 0.0])
            spent[0] += time.perf_counter() - started
            spent[1] += time.process_time() - cpu

    setattr(module, attribute, timed)
    return lambda: setattr(module, attribute, original)


def run_stages(dataset: Path, package: Path, profiled: set[str]) -> tuple[Stages, dict[str, list[float]], int]:
    """build_package(load_project(dataset), package) stage by stage; returns the timings and the row count."""
    import pandas as pd

    import eventdata
    from eventdata import build as build_module
    from eventdata import validate as v
    from eventdata.actors import ACTORS_FILE, load_actors
    from eventdata.changes import carry_timestamps, compute_changes
    from eventdata.errors import Problem, Report
    from eventdata.gazetteer import PLACES_FILE, load_places
    from eventdata.ids import DELETIONS_FILE, read_deletions, read_registry
    from eventdata.package import events_table
    from eventdata.schema import load_codebook
    from eventdata.sources.articles import read_articles
    from eventdata.sources.sheets import SHEET_COLUMN, display_path, read_sheet

    stages = Stages(profiled)
    project = eventdata.load_project(dataset)
    codebook = load_codebook(project.schemas_dir)
    published = [a.published for a in eventdata.Dataset.open(project).articles.values()]
    version, created = "1.0.0-draft", build_module.draft_datetime(None, published)  # a first build's draft
    timestamp, today = int(created.timestamp()), datetime.now(UTC).date()

    # --- validate_project --------------------------------------------------------------------------------
    with stages("read codebook + article index"):
        codebook = load_codebook(project.schemas_dir)
        articles, problems = read_articles(project.articles_index, project.articles_dir)
    countries = codebook.vocabulary_values("countries.country")
    with stages("load place list (load_places)"):
        gazetteer, place_problems = load_places(project.schemas_dir, codebook)
    problems.extend(place_problems)
    with stages("load actor list (load_actors)"):
        actors = load_actors(project.schemas_dir, countries) if (project.schemas_dir / ACTORS_FILE).is_file() else None
    with stages("read id registry + deletions"):
        registry = read_registry(project.id_registry)
        deleted = read_deletions(project.seeds_dir / DELETIONS_FILE)
    with stages("read sheets (read_sheet × sheets + concat)"):
        frames = []
        sheet_paths = project.sheet_paths()
        for path in sheet_paths:
            sheet = read_sheet(path, codebook.field_names, codebook.input_required_fields)
            problems.extend(sheet.problems)
            frame = sheet.frame
            frame[SHEET_COLUMN] = display_path(path)
            frames.append(frame)
        raw = pd.concat(frames, ignore_index=True)
        del frames
    absent = {(p.file, p.column) for p in problems if p.code == "missing-column" and p.column}

    # --- validate_events: the pipeline's own steps (eventdata.validate.STEPS), each timed ---------------------
    references = v.References(
        articles=articles,
        actors=actors,
        gazetteer=gazetteer if (project.schemas_dir / PLACES_FILE).is_file() else None,
        registry=registry,
        deleted=deleted,
    )
    state = v.start(raw, codebook, references, today=today, timestamp=timestamp, absent=absent)
    for step in v.STEPS:
        if not step.applies(state):
            continue
        if step.name == "rules":
            for registered in v.RULES:
                with stages("check_articles" if registered.name == "check_articles" else "cross-field checks (8)"):
                    registered(state)
        else:
            with stages(STEP_STAGES[step.name]):
                step.run(state)
        state.findings.events = state.events
    typed, new_ids, findings = state.events, state.new_ids, state.findings
    problems.extend(findings.problems())
    report = Report(
        problems=tuple(sorted(problems, key=Problem.sort_key)),
        files=tuple(display_path(p) for p in sheet_paths),
        rows=len(typed),
    )
    if not report.valid:
        shown = "\n".join(p.format() for p in report.problems[:10])
        raise SystemExit(f"the synthetic data is invalid ({len(report.problems)} problems):\n{shown}")
    validation = v.Validation(report, typed, articles, codebook, new_ids, {display_path(p): p for p in sheet_paths})
    del raw, findings

    # --- stage() and commit_package() ------------------------------------------------------------------------
    with stages("events_table"):
        table = events_table(validation.events, codebook)
    with stages("deltas (carry_timestamps + compute_changes)"):
        table = carry_timestamps(None, table)
        changes = compute_changes(None, table, created.date(), read_deletions(project.seeds_dir / DELETIONS_FILE))
    staged = build_module.Staged(validation, codebook, table, changes, (), None)

    parts: dict[str, list[float]] = {}
    undo = [
        _wrap(build_module, "write_csv", lambda _, path, **k: f"write_csv {path.parent.name}/{path.name}", parts),
        _wrap(
            build_module, "write_parquet", lambda _, path, **k: f"write_parquet {path.parent.name}/{path.name}", parts
        ),
        _wrap(build_module, "copy_sources", lambda *a, **k: "copy_sources (queued on the write pool)", parts),
        _wrap(build_module, "record_sources", lambda *a, **k: "record_sources (ids written, inputs listed)", parts),
        _wrap(build_module, "events_resources", lambda *a, **k: "resources (sha256 of written files)", parts),
        _wrap(build_module, "changes_resources", lambda *a, **k: "resources (sha256 of written files)", parts),
        _wrap(build_module, "release_readme", lambda *a, **k: "release_readme", parts),
        _wrap(build_module, "write_report", lambda *a, **k: "write_report (report.html)", parts),
    ]
    if package.exists():
        shutil.rmtree(package)
    try:
        with stages("write package (commit_package)"):
            status, _ = build_module.commit_package(staged, project, package, version=version, created=created)
    finally:
        for restore in undo:
            restore()
    if status != "built":
        raise SystemExit(f"commit_package ended with status {status!r}")
    return stages, parts, report.rows


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole > 0 else ""


def stage_table(run: dict[str, Any]) -> list[str]:
    seconds_of, cpu_of, parts, rows = run["seconds"], run["cpu"], run["parts"], run["rows"]
    total = sum(seconds_of.values())
    lines = [
        "| stage | group | seconds | CPU s | rows/s | share of build | peak MB in stage | MB after |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, seconds in seconds_of.items():
        rate = f"{rows / seconds:,.0f}" if seconds > 0 and name not in FIXED_COST else ""
        mark = " (under pyinstrument)" if name in run["profiles"] else ""
        lines.append(
            f"| {name}{mark} | {GROUPS[name]} | {seconds:,.2f} | {cpu_of[name]:,.2f} | {rate} | "
            f"{_share(seconds, total)} | {run['stage_peak'][name]:,.0f} | {run['rss_after'][name]:,.0f} |"
        )
        if name.startswith("write package"):
            for part, (spent, cpu) in sorted(parts.items(), key=lambda item: (item[0] == REST, -item[1][0])):
                lines.append(f"| ↳ {part} | | {spent:,.2f} | {cpu:,.2f} | | {_share(spent, total)} | | |")
    lines.append(f"| **total (build_package)** | | **{total:,.2f}** | **{sum(cpu_of.values()):,.2f}** | "
                 f"**{rows / total:,.0f}** | 100% | **{run['peak_mb']:,.0f}** | |")  # fmt: skip
    return lines


def share_lines(seconds_of: dict[str, float]) -> list[str]:
    """derive/resolve against the foundation, with and without the reference lists counted as derive/resolve."""
    by_group: dict[str, float] = {}
    for name, seconds in seconds_of.items():
        by_group[GROUPS[name]] = by_group.get(GROUPS[name], 0.0) + seconds
    derive, lists, foundation = by_group.get("derive", 0.0), by_group.get("lists", 0.0), by_group.get("foundation", 0)
    return [
        "| | seconds | vs foundation |",
        "|---|---:|---:|",
        f"| foundation: reading, parse_types, pandera, checks, check_articles, events_table, deltas, write "
        f"| {foundation:,.2f} | 100% |",
        f"| derive/resolve: apply_actors + apply_places + apply_ids + apply_derivations | {derive:,.2f} | "
        f"+{_share(derive, foundation)} |",
        f"| the same + loading the actor list, place list and id registry | {derive + lists:,.2f} | "
        f"+{_share(derive + lists, foundation)} |",
    ]


def run_child(dataset: Path, package: Path, profiled: set[str], keep: bool) -> None:
    """Body of one run's process: all stages, printed as JSON on the last line."""
    started = time.perf_counter()
    stages, parts, rows = run_stages(dataset, package, profiled)
    wall = time.perf_counter() - started
    if not keep:
        shutil.rmtree(package, ignore_errors=True)
    write = "write package (commit_package)"
    parts[REST] = [
        stages.seconds[write] - sum(s for s, _ in parts.values()),
        stages.cpu[write] - sum(c for _, c in parts.values()),
    ]
    run = {"seconds": stages.seconds, "cpu": stages.cpu, "parts": parts, "rows": rows, "wall": wall}
    run |= {"rss_after": stages.rss_after, "stage_peak": stages.peak}
    print(json.dumps({**run, "profiles": stages.profiles, "peak_mb": run_benchmarks._peak_mb()}))


def fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each stage's (and write part's) fastest run; CPU s is the lowest too."""
    first = runs[0]
    return {
        "seconds": {name: min(r["seconds"][name] for r in runs) for name in first["seconds"]},
        "cpu": {name: min(r["cpu"][name] for r in runs) for name in first["cpu"]},
        "parts": {
            name: [min(r["parts"][name][0] for r in runs), min(r["parts"][name][1] for r in runs)]
            for name in first["parts"]
        },
        "rows": first["rows"],
        "rss_after": {name: max(r["rss_after"][name] for r in runs) for name in first["rss_after"]},
        "stage_peak": {name: max(r["stage_peak"][name] for r in runs) for name in first["stage_peak"]},
        "profiles": {k: v for r in runs for k, v in r["profiles"].items()},
        "peak_mb": max(r["peak_mb"] for r in runs),
        "wall": [r["wall"] for r in runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="synthetic events (default 1,000,000)")
    parser.add_argument("--workdir", type=Path, default=run_benchmarks.DEFAULT_WORKDIR, help="work folder")
    parser.add_argument("--seed", type=int, default=20240203, help="generator seed (default 20240203)")
    parser.add_argument("--rows-per-sheet", type=int, default=5_000, help="rows per coding sheet (default 5,000)")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run everything R times (fresh processes); report each stage's fastest"
    )
    parser.add_argument(
        "--profile", default="", help=f"comma-separated stages to profile with pyinstrument: {','.join(PROFILE_NAMES)}"
    )
    parser.add_argument("--keep-package", action="store_true", help="keep the package written (else removed)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # internal: one run, in this process
    args = parser.parse_args(argv)
    unknown = [p for p in args.profile.split(",") if p and p not in PROFILE_NAMES]
    if unknown:
        parser.error(f"unknown stage(s) {unknown}; choose from {', '.join(PROFILE_NAMES)}")
    profiled = {PROFILE_NAMES[p] for p in args.profile.split(",") if p}

    workdir = args.workdir.resolve()
    package = workdir / f"stages-package-{args.events}"
    if args.child:
        run_child(args.child, package, profiled, args.keep_package)
        return 0
    dataset, info, reused = run_benchmarks.ensure_dataset(workdir, args.events, args.seed, args.rows_per_sheet)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(dataset), "--workdir", str(workdir)]
    command += ["--events", str(args.events), "--profile", args.profile]
    command += ["--keep-package"] if args.keep_package else []
    runs = []
    for number in range(args.repeat):
        print(f"run {number + 1} of {args.repeat} ...", file=sys.stderr, flush=True)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"the run failed (exit {done.returncode}):\n{done.stderr[-3000:]}", file=sys.stderr)
            return 1
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    run = fastest(runs)

    walls = ", ".join(f"{w:,.1f}" for w in run["wall"])
    lines = [
        f"## Stages of `eventdata build`, {info['events']:,} events",
        "",
        *run_benchmarks.machine(),
        f"- data: {info['events']:,} events in {info['sheets']} sheets ({info['bytes_of_sheets'] / 1e6:,.0f} MB "
        f"of CSV), seed {info['seed']}; {'reused' if reused else 'generated'}",
        f"- {args.repeat} run(s), each in a fresh process ({walls} s; peak {run['peak_mb']:,.0f} MB)"
        + ("; each stage's fastest run shown" if args.repeat > 1 else ""),
        "",
        *stage_table(run),
        "",
        "Derive/resolve against the foundation (the criterion: at most +50%):",
        "",
        *share_lines(run["seconds"]),
    ]
    print("\n".join(lines))
    for name, text in run["profiles"].items():
        print(f"\n### pyinstrument: {name}\n\n```\n{text.strip()}\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
