"""Measure duplicate detection (eventdata.duplicates.find_candidates) on synthetic events with planted re-reports.

Usage::

    python benchmarks/bench_duplicates.py [--seeds 3,4,5,6,7] [--events 20000] [--scale 1000000] [--fit 1,2]
    python benchmarks/bench_duplicates.py --ceiling 150 --fit 1,2   # boosted trees: how far the evidence goes

Events come from generate_events.duplicate_events (towns and villages, campaigns of daily events, an article per
country and day, 10% of the events reported again with shifted dates, alternate place names, actor aliases and
another coder's notes). Prints a table of precision and recall against the planted pairs per threshold, mean ± the
standard deviation over the seeds (and recall on the hard pairs, generate_events.hard_re_reports); then seconds
and peak memory of one run at --scale events (tracemalloc: Python allocations including numpy; and the process's
peak RSS). --fit SEEDS prints the weights a logistic regression fits on the blocked pairs of those seeds (how
eventdata.duplicates.WEIGHTS, BIAS and COMPETITION were made); measure on other seeds than those fitted.

How far the evidence can go (issue #11, the goal precision 0.95 at recall 0.9; --ceiling ROUNDS, about 20 minutes
at 150 rounds), measured 2026-12-03 on main's reasons (aeb2e1c) on 20,000 events of seeds 3-7 with models fitted on
the blocked pairs of seeds 1-2 (each event matched at most once per other article, as find_candidates does). The
logistic regression of WEIGHTS with its competition term: recall 0.61 at precision 0.95, precision 0.56 at recall
0.9. A lookup table of reason bit patterns (5,682 patterns, no competition): 0.46 and 0.48. Gradient-boosted trees
(150 rounds of depth 4, Newton steps, 48 quantile bins) on the same reason bits plus the two competition terms:
recall 0.72 at precision 0.95, precision 0.74 at recall 0.9 (0.918 / 0.803 at 0.5). The same trees on richer
evidence (the continuous notes cosine, days and km apart, fatalities of both and their difference, daily-series and
specifics flags, note lengths, and each pair's margin over the best other candidate of either event in notes
cosine, field evidence and score): recall 0.81 at precision 0.95, precision 0.85 at recall 0.9 (0.921 / 0.858 at
0.5). So the goal is out of reach of any model on this evidence; the flexible models show room between 0.61 and
0.81 recall at precision 0.95. With the same-setting and outmatched-notes reasons (refitted) the matcher measures
0.915 / 0.754 at 0.5 (was 0.896 / 0.721) and 0.955 / 0.696 at 0.7; the table before and after is in
benchmarks/README.md. --ceiling 150 on those reasons: trees on the reason bits and competition terms reach recall
0.776 at precision 0.95 (precision 0.793 at recall 0.9), on richer evidence 0.805 (0.854). With alone_in_setting
(a same-setting pair with no other event of that setting within 3 days of it; refitted) 0.933 / 0.833 at 0.5 and
0.954 / 0.772 at 0.7; at 1M events 55.7 s (was 54.2 s).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate_events import duplicate_events, hard_re_reports  # noqa: E402
from eventdata import duplicates  # noqa: E402
from eventdata.agreement import haversine_km  # noqa: E402
from eventdata.duplicates import DEFAULT_THRESHOLD, find_candidates  # noqa: E402

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _pairs(candidates: object) -> set[frozenset[str]]:
    return {frozenset(p) for p in zip(candidates["event_a"], candidates["event_b"], strict=True)}  # type: ignore[index]


def quality(seeds: list[int], events: int) -> None:
    """Print precision/recall per threshold over the seeds."""
    rows: dict[float, list[tuple[float, float, float]]] = {t: [] for t in THRESHOLDS}
    seconds = []
    for seed in seeds:
        frame, truth, aliases = duplicate_events(events, seed=seed)
        hard = hard_re_reports(frame, truth)
        start = time.perf_counter()
        candidates = find_candidates(frame, threshold=min(THRESHOLDS), aliases=aliases, reasons=False)
        seconds.append(time.perf_counter() - start)
        for threshold in THRESHOLDS:
            found = _pairs(candidates[candidates["score"] >= threshold])
            hits = len(found & truth)
            rows[threshold].append(
                (hits / max(1, len(found)), hits / len(truth), len(found & hard) / max(1, len(hard)))
            )
    print(f"{events:,} events per seed, seeds {','.join(map(str, seeds))} ({np.mean(seconds):.1f} s per run)")
    print(f"{'threshold':>9}  {'precision':>13}  {'recall':>13}  {'hard recall':>13}")
    for threshold in THRESHOLDS:
        values = np.array(rows[threshold])
        mean, spread = values.mean(axis=0), values.std(axis=0)
        mark = " (default)" if threshold == DEFAULT_THRESHOLD else ""
        print(
            f"{threshold:>9}  {mean[0]:.3f} ± {spread[0]:.3f}  {mean[1]:.3f} ± {spread[1]:.3f}  "
            f"{mean[2]:.3f} ± {spread[2]:.3f}{mark}"
        )


def scale(events: int, seed: int, threshold: float) -> None:
    """Print time and peak memory of one run at `events` events."""
    start = time.perf_counter()
    frame, truth, aliases = duplicate_events(events, seed=seed)
    generated = time.perf_counter() - start
    tracemalloc.start()
    start = time.perf_counter()
    candidates = find_candidates(frame, threshold=threshold, aliases=aliases)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    found = _pairs(candidates)
    hits = len(found & truth)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{len(frame):,} events ({generated:.1f} s to generate): find_candidates {seconds:.1f} s, "
        f"peak {peak / 1e6:.0f} MB traced, {rss:.0f} MB process RSS; {len(found):,} candidates, "
        f"precision {hits / max(1, len(found)):.3f}, recall {hits / len(truth):.3f} (threshold {threshold})"
    )


def _logistic_fit(features: np.ndarray, labels: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Weights (the last one the intercept) of an L2-penalised logistic regression, by Newton steps."""
    design = np.hstack([features, np.ones((len(features), 1))])
    penalty = l2 * np.diag(np.r_[np.ones(features.shape[1]), 0.0])
    weights = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(design @ weights)))
        gradient = design.T @ (p - labels) + penalty @ weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-6:
            break
    return weights


def fit(seeds: list[int], events: int, rounds: int = 4) -> None:
    """Print WEIGHTS, BIAS and COMPETITION fitted on the blocked pairs of the seeds' events."""
    names = list(duplicates.WEIGHTS)
    blocks = []
    for seed in seeds:
        frame, truth, aliases = duplicate_events(events, seed=seed)
        prepared = duplicates.prepare(frame.reset_index(drop=True), aliases)
        parts = []
        for i, j in duplicates.blocked_pairs(prepared, duplicates.DEFAULT_DAYS):
            evidence, bits = duplicates.field_evidence(prepared, i, j)
            cosine = duplicates.notes_cosine(prepared, i, j)
            duplicates.add_notes_evidence(prepared, i, j, cosine, evidence, bits)
            parts.append((i, j, bits, evidence, cosine))
        i, j, bits, evidence, cosine = (np.concatenate(p) for p in zip(*parts, strict=True))
        duplicates.add_rival_notes_evidence(len(prepared.ids), i, j, cosine, evidence, bits)
        features = ((bits[:, None] >> np.arange(len(names))) & 1).astype(float)
        labels = np.array([frozenset((prepared.ids[a], prepared.ids[b])) in truth for a, b in zip(i, j, strict=True)])
        blocks.append((features, labels.astype(float), i, j, len(prepared.ids)))
    weights, bias = np.zeros(len(names)), duplicates.BIAS
    competition = np.zeros(2)
    for _ in range(rounds):  # the competition is computed from the previous round's weights until it settles
        rows = []
        for features, _, i, j, n in blocks:
            score = 1.0 / (1.0 + np.exp(-(features @ weights + bias)))
            odds = np.where(score >= duplicates.COMPETITOR_FLOOR, score / (1 - score), 0.0)
            total = np.bincount(i, weights=odds, minlength=n) + np.bincount(j, weights=odds, minlength=n)
            others_i, others_j = total[i] - odds, total[j] - odds
            rows.append(
                np.c_[features, np.log1p(np.maximum(others_i, others_j)), np.log1p(np.minimum(others_i, others_j))]
            )
        fitted = _logistic_fit(np.vstack(rows), np.concatenate([b[1] for b in blocks]))
        weights, competition, bias = fitted[: len(names)], fitted[len(names) : -1], fitted[-1]
    shift = weights[names.index("same_sub_event_type")]  # exactly one type reason holds: same sub-event type → 0
    for name in ("same_sub_event_type", "same_event_type", "other_event_type"):
        weights[names.index(name)] -= shift
    print(f"fitted on {events:,} events of seeds {','.join(map(str, seeds))}:")
    print("WEIGHTS = {" + ", ".join(f'"{n}": {w:.1f}' for n, w in zip(names, weights, strict=True)) + "}")
    print(f"BIAS = {bias + shift:.1f}\nCOMPETITION = ({competition[0]:.2f}, {competition[1]:.2f})")


def _blocked(seed: int, events: int) -> dict[str, Any]:
    """The blocked pairs of a seed's events with their reason bits, evidence, labels and continuous evidence."""
    frame, truth, aliases = duplicate_events(events, seed=seed)
    hard = hard_re_reports(frame, truth)
    p = duplicates.prepare(frame.reset_index(drop=True), aliases)
    parts = []
    for i, j in duplicates.blocked_pairs(p, duplicates.DEFAULT_DAYS):
        evidence, bits = duplicates.field_evidence(p, i, j)
        fields = evidence.copy()
        cosine = duplicates.notes_cosine(p, i, j)
        duplicates.add_notes_evidence(p, i, j, cosine, evidence, bits)
        parts.append((i, j, bits, evidence, cosine, fields))
    i, j, bits, evidence, cosine, fields = (np.concatenate(x) for x in zip(*parts, strict=True))
    duplicates.add_rival_notes_evidence(len(p.ids), i, j, cosine, evidence, bits)
    pair = [frozenset(x) for x in zip(p.ids[i], p.ids[j], strict=True)]
    fa, fb = p.fatalities[i].astype(float), p.fatalities[j].astype(float)
    words = np.diff(p.words.indptr)
    rich = np.c_[
        cosine, np.abs(p.day[i] - p.day[j]), haversine_km(p.lat[i], p.lon[i], p.lat[j], p.lon[j]), np.abs(fa - fb),
        np.minimum(fa, fb), np.maximum(fa, fb), p.in_series[i], p.in_series[j], p.specific[i], p.specific[j],
        np.minimum(words[i], words[j]), np.maximum(words[i], words[j]), fields,
    ]  # fmt: skip
    return {
        "prepared": p, "i": i, "j": j, "bits": bits, "evidence": evidence, "cosine": cosine, "fields": fields,
        "rich": rich, "label": np.array([x in truth for x in pair]), "hard": np.array([x in hard for x in pair]),
        "truth": len(truth), "hards": len(hard),
    }  # fmt: skip


def _features(block: dict[str, Any], rich: bool) -> np.ndarray:
    """Reason bits and the two competition terms; with `rich`, the continuous evidence and each pair's margins over
    the best other candidate of either event (notes cosine, field evidence, evidence)."""
    names = list(duplicates.WEIGHTS)
    i, j, n = block["i"], block["j"], len(block["prepared"].ids)
    bits = ((block["bits"][:, None] >> np.arange(len(names))) & 1).astype(float)
    odds = np.exp(np.minimum(block["evidence"] + duplicates.BIAS, 30))
    total = np.bincount(i, odds, n) + np.bincount(j, odds, n)
    others_i, others_j = np.log1p(total[i] - odds), np.log1p(total[j] - odds)
    columns = [bits, np.maximum(others_i, others_j), np.minimum(others_i, others_j)]
    if rich:
        columns.append(block["rich"])
        for name in ("cosine", "fields", "evidence"):
            low = block[name].min() - 1
            rival_i, rival_j = duplicates._best_other(n, i, j, block[name] - low)  # -1: no rival
            rival = np.maximum(rival_i, rival_j) + low
            columns += [block[name] - rival, block[name] - np.minimum(rival_i, rival_j) - low]
    return np.column_stack(columns)


def _boosted_trees(codes: np.ndarray, labels: np.ndarray, rounds: int, depth: int = 4) -> list[Any]:
    """Gradient-boosted trees on binned features (logistic loss, Newton leaves, shrinkage 0.1, L2 1)."""
    bins = int(codes.max()) + 1
    base = float(np.log(labels.mean() / (1 - labels.mean())))
    raw = np.full(len(labels), base)
    trees: list[Any] = [base]
    for _ in range(rounds):
        p = 1 / (1 + np.exp(-raw))
        gradient, hessian = p - labels, p * (1 - p)
        nodes, levels = [np.arange(len(labels))], []
        for _ in range(depth):
            splits, children = [], []
            for rows in nodes:
                best = (0.0, -1, 0)
                g, h = gradient[rows], hessian[rows]
                whole = g.sum() ** 2 / (h.sum() + 1)
                for f in range(codes.shape[1]):
                    gl = np.cumsum(np.bincount(codes[rows, f], g, bins))
                    hl = np.cumsum(np.bincount(codes[rows, f], h, bins))
                    gain = gl**2 / (hl + 1) + (g.sum() - gl) ** 2 / (h.sum() - hl + 1) - whole
                    gain[(hl < 1) | (h.sum() - hl < 1)] = 0
                    k = int(np.argmax(gain))
                    if gain[k] > best[0]:
                        best = (float(gain[k]), f, k)
                splits.append(best[1:])
                left = codes[rows, best[1]] <= best[2] if best[1] >= 0 else np.ones(len(rows), dtype=bool)
                children += [rows[left], rows[~left]]
            levels.append(splits)
            nodes = children
        leaves = np.array([-0.1 * gradient[r].sum() / (hessian[r].sum() + 1) for r in nodes])
        for rows, value in zip(nodes, leaves, strict=True):
            raw[rows] += value
        trees.append((levels, leaves))
    return trees


def _tree_scores(trees: list[Any], codes: np.ndarray) -> np.ndarray:
    raw = np.full(len(codes), trees[0])
    for levels, leaves in trees[1:]:
        node = np.zeros(len(codes), dtype=np.int64)
        for splits in levels:
            f = np.array([s[0] for s in splits])[node]
            k = np.array([s[1] for s in splits])[node]
            right = (f >= 0) & (codes[np.arange(len(codes)), np.maximum(f, 0)] > k)
            node = node * 2 + right
        raw += leaves[node]
    scores: np.ndarray = 1 / (1 + np.exp(-raw))
    return scores


def _precision_recall(blocks: list[dict[str, Any]], scores: list[np.ndarray], threshold: float) -> np.ndarray:
    """Mean precision, recall and hard recall over the blocks of the pairs kept one-to-one above the threshold."""
    values = []
    for block, score in zip(blocks, scores, strict=True):
        above = np.flatnonzero(score >= threshold)
        kept = above[duplicates.one_to_one(block["prepared"], block["i"][above], block["j"][above], score[above])]
        hits = block["label"][kept].sum()
        values.append((hits / max(1, len(kept)), hits / block["truth"], block["hard"][kept].sum() / block["hards"]))
    return np.mean(values, axis=0)


def ceiling(fit_seeds: list[int], seeds: list[int], events: int, rounds: int) -> None:
    """Print what boosted trees fitted on `fit_seeds` reach on `seeds`: on the reason bits and competition terms,
    and on richer evidence (how far any model on this evidence can go)."""
    train = [_blocked(s, events) for s in fit_seeds]
    test = [_blocked(s, events) for s in seeds]
    labels = np.concatenate([b["label"] for b in train]).astype(float)
    for rich in (False, True):
        features = np.vstack([_features(b, rich) for b in train])
        edges = [np.unique(np.quantile(f, np.linspace(0, 1, 49)[1:-1])) for f in features.T]

        def binned(x: np.ndarray, edges: list[np.ndarray] = edges) -> np.ndarray:
            return np.column_stack([np.searchsorted(e, c, side="right") for e, c in zip(edges, x.T, strict=True)])

        trees = _boosted_trees(binned(features), labels, rounds)
        scores = [_tree_scores(trees, binned(_features(b, rich))) for b in test]
        sweep = {t: _precision_recall(test, scores, t) for t in np.round(np.linspace(0.05, 0.99, 48), 3)}
        at_precision = max((v[1] for v in sweep.values() if v[0] >= 0.95), default=0.0)
        at_recall = max((v[0] for v in sweep.values() if v[1] >= 0.9), default=0.0)
        p, r, h = _precision_recall(test, scores, DEFAULT_THRESHOLD)
        print(
            f"boosted trees on {'richer evidence' if rich else 'the reason bits and competition'}: recall "
            f"{at_precision:.3f} at precision 0.95, precision {at_recall:.3f} at recall 0.9; at {DEFAULT_THRESHOLD}: "
            f"precision {p:.3f}, recall {r:.3f}, hard recall {h:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seeds", default="3,4,5,6,7", help="generator seeds measured (not those fitted)")
    parser.add_argument("--events", type=int, default=20_000, help="events per seed for precision/recall")
    parser.add_argument("--scale", type=int, default=1_000_000, help="events of the timed run (0: none)")
    parser.add_argument("--seed", type=int, default=3, help="seed of the timed run")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="threshold of the timed run")
    parser.add_argument("--fit", default="", help="seeds to fit the weights on (prints them; measures nothing)")
    parser.add_argument(
        "--ceiling", type=int, default=0, help="rounds of boosted trees fitted on --fit seeds (0: none)"
    )
    args = parser.parse_args(argv)
    if args.ceiling:
        ceiling([int(s) for s in (args.fit or "1,2").split(",")], [int(s) for s in args.seeds.split(",")], args.events,
                args.ceiling)  # fmt: skip
        return 0
    if args.fit:
        fit([int(s) for s in args.fit.split(",")], args.events)
        return 0
    quality([int(s) for s in args.seeds.split(",")], args.events)
    if args.scale:
        scale(args.scale, args.seed, args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
