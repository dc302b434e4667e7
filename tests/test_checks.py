"""eventdata.checks internals: evidence passages split and found in arrays as a plain reading would."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from eventdata.checks import EVIDENCE_SEPARATOR, _evidence_failures, _normalised_passages, _passages
from eventdata.sources.articles import Article

PIECES = [" ", "  ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u3000", "\u200b"]
PIECES += [".", "..", "...", "…", "a", "B", "é", "x y"]
texts = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


@given(texts)
def test_passages_are_those_of_the_separator_pattern(text: str) -> None:
    assert _passages(text) == [(p, " ".join(p.split())) for p in EVIDENCE_SEPARATOR.split(text)]


@given(st.lists(st.one_of(st.none(), texts), max_size=20))
def test_normalised_passages_in_arrow_are_those_of_python(values: list[str | None]) -> None:
    """Python's whitespace (Unicode included) and both marks, split in Arrow as _passages splits one text."""
    expected = [(i, w) for i, v in enumerate(values) if isinstance(v, str) for _, w in _passages(v) if w]
    for text_type in (pa.string(), pa.large_string()):  # sheets hold large_string
        owner, codes, distinct = _normalised_passages(pa.array(values, text_type))
        assert list(zip(owner.tolist(), [distinct[c] for c in codes.tolist()], strict=True)) == expected
        assert len(set(distinct)) == len(distinct)


def article(key: str, text: str) -> Article:
    return Article(key, "t", "p", "", date(2022, 1, 1), "en", "", len(text), Path(f"{key}.txt"), text=text)


WORDS = ["raid", "Atmeh", "Idlib", "two", "killed", "strike", "near", "the", "camp"]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_evidence_failures_are_a_plain_search(data: st.DataObject) -> None:
    """Every passage not found in any cited article, in pair order then passage order (long and short texts)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    articles = {
        f"a{i}": article(f"a{i}", " ".join(rng.choice(WORDS, size=int(rng.choice([12, 6000]))).tolist()))
        for i in range(3)
    }
    cells = data.draw(st.lists(st.sampled_from(["a0", "a1", "a0; a2", "a1; zz", "", None]), min_size=1, max_size=6))
    evidence = data.draw(
        st.lists(
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=4)
            .map(" ".join)
            .flatmap(lambda w: st.sampled_from([w, f"{w} ... raid  camp", f" {w}\t", "…", f"{w} … zzz"])),
            min_size=1,
            max_size=6,
        )
    )
    width = len(evidence) + 1
    pairs = np.array(
        sorted({c * width + e for c in range(len(cells)) for e in range(len(evidence)) if rng.random() < 0.7}),
        dtype=np.int64,
    )
    expected = []
    for code, pair in enumerate(pairs.tolist()):
        cell, text = cells[pair // width], evidence[pair % width]
        cited = [a for a in cell.split("; ") if a] if isinstance(cell, str) else []
        if not cited or any(a not in articles for a in cited):
            continue
        bodies = [" ".join(articles[a].text.split()) for a in cited]
        for typed, wanted in _passages(text):
            if wanted and not any(wanted in body for body in bodies):
                expected.append((code, typed))

    assert _evidence_failures(pairs, width, cells, evidence, articles) == expected
    arrow = pd.array(evidence, dtype=pd.StringDtype("pyarrow"))  # as validation passes it: kept in Arrow
    assert _evidence_failures(pairs, width, cells, arrow, articles) == expected


def test_whitespace_patterns_hold_every_character_str_split_splits_at() -> None:
    from eventdata.checks import whitespace_patterns

    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    run, unusual = whitespace_patterns()
    assert run == "[" + "".join(f"\\x{{{c:x}}}" for c in spaces) + "]+"
    assert unusual == "[" + "".join(f"\\x{{{c:x}}}" for c in spaces if c != 0x20) + "]|  "
