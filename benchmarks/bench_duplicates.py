"""Time duplicate detection (eventdata.duplicates.find_candidates) on N synthetic events with planted re-reports.

Usage::

    python benchmarks/bench_duplicates.py [--events N] [--seed S]

Events come from generate_events.duplicate_events (towns and villages, campaigns of daily events, 10% of the
events reported again with shifted dates, alternate place names, actor aliases and another coder's notes). Prints
seconds, peak memory (tracemalloc, Python allocations including numpy), candidates, precision and recall against
the planted pairs, and recall on the hard ones (generate_events.hard_re_reports).
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate_events import DEFAULT_SEED, duplicate_events, hard_re_reports  # noqa: E402
from eventdata.duplicates import DEFAULT_THRESHOLD, find_candidates  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    events, truth, aliases = duplicate_events(args.events, seed=args.seed)
    hard = hard_re_reports(events, truth)
    generated = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    candidates = find_candidates(events, threshold=args.threshold, aliases=aliases)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    found = {frozenset(p) for p in zip(candidates["event_a"], candidates["event_b"], strict=True)}
    hits = len(found & truth)
    print(
        f"{len(events):,} events ({generated:.1f} s to generate): find_candidates {seconds:.1f} s, "
        f"peak {peak / 1e6:.0f} MB; {len(found):,} candidates, precision {hits / max(1, len(found)):.3f}, "
        f"recall {hits / len(truth):.3f} ({len(truth):,} planted re-reports, threshold {args.threshold}); "
        f"recall {len(found & hard) / max(1, len(hard)):.3f} on the {len(hard):,} dated on another day of a campaign"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
