"""The evidence index answers exactly as `passage in text`, on texts where thousands of passages start alike."""

from __future__ import annotations

import random

from eventdata import textindex
from eventdata.textindex import TextIndex

WORDS = [
    "On",
    "3",
    "February",
    "2022,",
    "unidentified",
    "gunmen",
    "shot",
    "killed",
    "Ma‘arrat",
    "an-Nu‘mān",
    "a",
    "the",
]


def notes(count: int, rng: random.Random) -> list[str]:
    """ACLED-like notes: most start with the same date words, then vary."""
    out = []
    for _ in range(count):
        day = rng.choice(["On 3 February 2022,", "On 3 February 2023,", "On 14 March 2021,"])
        out.append(" ".join([day, *rng.choices(WORDS, k=rng.randint(1, 12))]) + ".")
    return out


def test_the_index_agrees_with_a_plain_search_on_alike_passages() -> None:
    rng = random.Random(7)
    lines = notes(4000, rng)
    text = " ".join(lines)
    assert len(text) > textindex.SMALL
    index = TextIndex(text)
    asked = [*rng.sample(lines, 300)]
    asked += [line[: rng.randint(1, len(line))] for line in rng.sample(lines, 300)]  # prefixes, some < 8 bytes
    asked += [line[rng.randint(1, len(line) - 1) :] for line in rng.sample(lines, 300)]  # may start inside a word
    asked += [line.replace("gunmen", "gunman") + " x" for line in rng.sample(lines, 300)]  # mostly absent
    asked += [lines[-1], text[-3:], text[-9:], text, text + " more", "", "Ma‘arrat an-Nu‘mān", "\x00", "zzzz zzzz zzzz"]
    answers = [p in index for p in asked]
    assert answers == [p in text for p in asked]
    assert True in answers
    assert False in answers


def test_a_short_text_is_searched_plainly() -> None:
    index = TextIndex("On 3 February 2022, US forces raided Atmeh.")
    assert "raided Atmeh" in index
    assert "ided Atm" in index
    assert "raided Idlib" not in index
