"""Fast exact 'passage in text' for long texts: a lazily refined index of the text's word starts.

An article can be a single news story or the notes of a whole ACLED export (a million events, 150 MB).
Each row's evidence must occur in it, so a dataset asks a million questions of one text. A plain
`passage in text` scans the text each time; an index on the first few bytes of each word is no better
when thousands of notes start alike ("On 3 February 2022, ..."). Here the word starts are sorted by
their first 8 bytes; a range of starts that still shares its 8 bytes with too many others is sorted by
the next 8 bytes the first time a passage reaches it, and so on: a trie over the text's words, built
only where passages look, with numpy doing every comparison.

Many passages at once (`find_all`) are answered in bulk instead: every word start of the text is hashed on
its next 16 bytes; each passage is looked up by the rarest of its own inner words (a word after a space
inside the passage, so an occurrence that starts inside a word is found too), and the few places that share
that window are compared byte by byte, 8 bytes at a time, in numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

KEY = 8  # bytes per level
FEW = 32  # a range this small is compared directly
SMALL = 20_000  # below this many characters a plain search is as fast
WINDOW = 2 * KEY  # bytes hashed at each word start for the bulk search
MANY_CANDIDATES = 100_000  # a passage whose every inner word is this common is searched on its own
PAIRS = 2_000_000  # (passage, candidate start) pairs compared at once
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class _Level:
    """Word starts that share a prefix, sorted by the 8 bytes that follow it, and those bytes as keys."""

    starts: np.ndarray
    keys: np.ndarray


def _keys(data: np.ndarray, starts: np.ndarray, offset: int) -> np.ndarray:
    """The 8 bytes at start + offset of each start, as big-endian integers (data ends in 8 zero bytes or more)."""
    every = np.ndarray((len(data) - KEY + 1,), dtype=">u8", buffer=data, strides=(1,))  # a key at each byte
    keys: np.ndarray = every[starts + offset].astype(np.uint64)
    return keys


def _key_range(part: bytes) -> tuple[np.uint64, np.uint64]:
    """The smallest and largest 8-byte keys that begin with part (at most 8 bytes)."""
    low = int.from_bytes(part.ljust(KEY, b"\x00"), "big")
    high = int.from_bytes(part.ljust(KEY, b"\xff"), "big")
    return np.uint64(low), np.uint64(high)


class TextIndex:
    """`passage in index` is `passage in text`, answered without scanning the text for passages that start a word."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._data: np.ndarray | None = None
        self._raw = b""
        self._starts = np.zeros(0, dtype=np.int64)
        self._levels: dict[bytes, _Level] = {}
        self._answers: dict[str, bool] = {}
        self._windows: tuple[np.ndarray, np.ndarray] | None = None  # sorted window hashes, their word starts

    def _level(self, prefix: bytes, starts: np.ndarray) -> _Level:
        """The starts sharing prefix, sorted by their next 8 bytes (computed once per prefix)."""
        level = self._levels.get(prefix)
        if level is None:
            assert self._data is not None
            keys = _keys(self._data, starts, len(prefix))
            order = np.argsort(keys, kind="stable")
            level = self._levels[prefix] = _Level(starts[order], keys[order])
        return level

    def _root(self) -> _Level:
        self._prepare()
        return self._level(b"", self._starts)

    def _prepare(self) -> None:
        if self._data is None:
            self._raw = self.text.encode("utf-8")
            raw = np.frombuffer(self._raw, dtype=np.uint8)
            starts = np.concatenate([np.zeros(1, dtype=np.int64), np.flatnonzero(raw == 0x20) + 1])
            starts = starts[starts < len(raw)]
            self._data = np.concatenate([raw, np.zeros(WINDOW, dtype=np.uint8)])  # reads past the end see zeros
            self._starts = starts

    def _starts_with(self, candidates: np.ndarray, wanted: bytes) -> bool:
        """Whether the text at any candidate position starts with wanted."""
        return any(self._raw.startswith(wanted, int(position)) for position in candidates.tolist())

    def __contains__(self, passage: str) -> bool:
        if len(self.text) < SMALL:
            return passage in self.text
        known = self._answers.get(passage)
        if known is not None:
            return known
        wanted = passage.encode("utf-8")
        if not wanted or b"\x00" in wanted:  # the index reads zero bytes past the text's end
            return passage in self.text
        level, offset = self._root(), 0
        while True:
            part = wanted[offset : offset + KEY]
            low_key, high_key = _key_range(part)
            low = int(np.searchsorted(level.keys, low_key, side="left"))
            high = int(np.searchsorted(level.keys, high_key, side="right"))
            if low == high:
                break
            members = level.starts[low:high]
            if offset + len(part) >= len(wanted):  # the keys compared every byte of the passage
                return True
            offset += KEY
            if len(members) <= FEW:
                if self._starts_with(members, wanted):
                    return True
                break
            level = self._level(wanted[:offset], members)
        return passage in self.text  # a passage that starts inside a word

    def find_all(self, passages: Sequence[str]) -> list[bool]:
        """`[p in text for p in passages]`, answered in bulk."""
        self.prefetch(passages)
        return [p in self for p in passages]

    def prefetch(self, passages: Iterable[str]) -> None:
        """Answer the passages in bulk, for later `p in index` questions (a short text needs none)."""
        if len(self.text) < SMALL:
            return
        asked = [p for p in dict.fromkeys(passages) if p not in self._answers]
        self._answers.update(self._bulk(asked, [p.encode("utf-8") for p in asked]))  # short ones: one by one later

    def _window_index(self) -> tuple[np.ndarray, np.ndarray]:
        if self._windows is None:
            self._prepare()
            assert self._data is not None
            hashes = _window_hashes(self._data, self._starts)
            order = np.argsort(hashes, kind="stable")
            self._windows = hashes[order], self._starts[order]
        return self._windows

    def _bulk(self, asked: list[str], wanted: list[bytes]) -> dict[str, bool]:
        """Answers for the passages that have an inner word with 16 bytes after it (and no NUL)."""
        sizes = np.array([len(w) for w in wanted], dtype=np.int64)
        if not len(sizes) or sizes.max(initial=0) <= WINDOW:
            return {}
        buffer = np.frombuffer(b"".join(wanted) + bytes(WINDOW), dtype=np.uint8)
        ends = np.cumsum(sizes)
        begins = ends - sizes
        anchors = np.flatnonzero(buffer[: int(ends[-1])] == 0x20) + 1  # a word after a space inside a passage
        owner = np.searchsorted(ends, anchors, side="right")
        anchors, owner = anchors[owner < len(sizes)], owner[owner < len(sizes)]
        keep = anchors + WINDOW <= ends[owner]
        anchors, owner = anchors[keep], owner[keep]
        if not len(anchors):
            return {}
        hashes, places = self._window_index()
        sought = _window_hashes(buffer, anchors)
        low = np.searchsorted(hashes, sought, side="left")
        counts = np.searchsorted(hashes, sought, side="right") - low
        order = np.lexsort((counts, owner))  # by passage, the rarest window first
        first = order[np.unique(owner[order], return_index=True)[1]]
        passages, counts = owner[first], counts[first]
        clean = np.array([b"\x00" not in w for w in wanted], dtype=bool)[passages] & (counts <= MANY_CANDIDATES)
        first, passages, counts = first[clean], passages[clean], counts[clean]
        found = np.zeros(len(sizes), dtype=bool)
        group = np.cumsum(counts) // PAIRS  # the candidates are compared in groups of about PAIRS
        for part in np.split(np.arange(len(first)), np.flatnonzero(np.diff(group)) + 1):
            chosen, many = first[part], counts[part]
            starts = places[_ranges(low[chosen], many)] - np.repeat(anchors[chosen] - begins[passages[part]], many)
            found |= self._compare(buffer, begins, sizes, np.repeat(passages[part], many), starts)
        return {asked[i]: bool(found[i]) for i in passages.tolist()}

    def _compare(
        self, buffer: np.ndarray, begins: np.ndarray, sizes: np.ndarray, owners: np.ndarray, starts: np.ndarray
    ) -> np.ndarray:
        """Which passages (bytes of buffer) occur at one of their candidate starts: 8 bytes a step, all at once."""
        assert self._data is not None
        found = np.zeros(len(sizes), dtype=bool)
        inside = (starts >= 0) & (starts + sizes[owners] <= len(self._raw))
        owners, starts = owners[inside], starts[inside]
        offset = 0
        while len(owners):
            left = np.minimum(sizes[owners] - offset, KEY).astype(np.uint64)
            shift = np.uint64(8) * (np.uint64(KEY) - left)
            same = (_keys(self._data, starts, offset) >> shift) == (_keys(buffer, begins[owners], offset) >> shift)
            owners, starts = owners[same], starts[same]
            offset += KEY
            found[owners[sizes[owners] <= offset]] = True
            alive = ~found[owners]
            owners, starts = owners[alive], starts[alive]
        return found


def _ranges(low: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The indices low[i] .. low[i] + counts[i] - 1 of every i, concatenated."""
    total = int(counts.sum())
    shifts = np.repeat(low - (np.cumsum(counts) - counts), counts)
    ranges: np.ndarray = np.arange(total, dtype=np.int64) + shifts
    return ranges


def _window_hashes(data: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """A hash of the 16 bytes at each start (equal bytes, equal hash)."""
    hashes: np.ndarray = (_keys(data, starts, 0) * _MIX) ^ _keys(data, starts, KEY)
    return hashes
