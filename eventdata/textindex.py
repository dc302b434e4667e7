"""Fast exact 'passage in text' for long texts: a lazily refined index of the text's word starts.

An article can be a single news story or the notes of a whole ACLED export (a million events, 150 MB).
Each row's evidence must occur in it, so a dataset asks a million questions of one text. A plain
`passage in text` scans the text each time; an index on the first few bytes of each word is no better
when thousands of notes start alike ("On 3 February 2022, ..."). Here the word starts are sorted by
their first 8 bytes; a range of starts that still shares its 8 bytes with too many others is sorted by
the next 8 bytes the first time a passage reaches it, and so on: a trie over the text's words, built
only where passages look, with numpy doing every comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEY = 8  # bytes per level
FEW = 32  # a range this small is compared directly
SMALL = 20_000  # below this many characters a plain search is as fast


@dataclass(frozen=True)
class _Level:
    """Word starts that share a prefix, sorted by the 8 bytes that follow it, and those bytes as keys."""

    starts: np.ndarray
    keys: np.ndarray


def _keys(data: np.ndarray, starts: np.ndarray, offset: int) -> np.ndarray:
    """The 8 bytes at start + offset of each start, as big-endian integers (past the end: zero bytes)."""
    keys = np.zeros(len(starts), dtype=np.uint64)
    for i in range(KEY):
        keys |= data[starts + (offset + i)].astype(np.uint64) << np.uint64(8 * (KEY - 1 - i))
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
        if self._data is None:
            self._raw = self.text.encode("utf-8")
            raw = np.frombuffer(self._raw, dtype=np.uint8)
            starts = np.concatenate([np.zeros(1, dtype=np.int64), np.flatnonzero(raw == 0x20) + 1])
            starts = starts[starts < len(raw)]
            self._data = np.concatenate([raw, np.zeros(KEY, dtype=np.uint8)])  # reads past the end see zeros
            self._starts = starts
        return self._level(b"", self._starts)

    def _starts_with(self, candidates: np.ndarray, wanted: bytes) -> bool:
        """Whether the text at any candidate position starts with wanted."""
        return any(self._raw.startswith(wanted, int(position)) for position in candidates.tolist())

    def __contains__(self, passage: str) -> bool:
        if len(self.text) < SMALL:
            return passage in self.text
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
