"""The evidence index answers exactly as `passage in text`, on texts where thousands of passages start alike."""

from __future__ import annotations

import random

import pytest

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


def questions(rng: random.Random) -> tuple[str, list[str]]:
    """A long text of alike notes and passages that are in it, start inside a word, or are not in it."""
    lines = notes(4000, rng)
    text = " ".join(lines)
    assert len(text) > textindex.SMALL
    asked = [*rng.sample(lines, 300)]
    asked += [line[: rng.randint(1, len(line))] for line in rng.sample(lines, 300)]  # prefixes, some < 8 bytes
    asked += [line[rng.randint(1, len(line) - 1) :] for line in rng.sample(lines, 300)]  # may start inside a word
    asked += [line.replace("gunmen", "gunman") + " x" for line in rng.sample(lines, 300)]  # mostly absent
    asked += [" ".join(lines[i : i + 3]) for i in range(0, 300, 7)]  # across notes
    asked += [lines[-1], text[-3:], text[-9:], text[-40:], text[-41:], text[1:60], text, text + " more", ""]
    asked += ["Ma‘arrat an-Nu‘mān", "\x00", "zzzz zzzz zzzz", f"x {text[:40]}", f"{lines[5]}\x00 {lines[6]}"]
    return text, asked


def test_the_index_agrees_with_a_plain_search_on_alike_passages() -> None:
    text, asked = questions(random.Random(7))
    index = TextIndex(text)
    answers = [p in index for p in asked]
    assert answers == [p in text for p in asked]
    assert True in answers
    assert False in answers


def test_a_short_text_is_searched_plainly() -> None:
    index = TextIndex("On 3 February 2022, US forces raided Atmeh.")
    assert "raided Atmeh" in index
    assert "ided Atm" in index
    assert "raided Idlib" not in index


@pytest.mark.parametrize("pairs", [textindex.PAIRS, 1_000])
def test_the_bulk_search_agrees_with_a_plain_search(monkeypatch: pytest.MonkeyPatch, pairs: int) -> None:
    monkeypatch.setattr(textindex, "PAIRS", pairs)  # small: the candidates are compared in many groups
    text, asked = questions(random.Random(11))
    index = TextIndex(text)
    answers = index.find_all(asked)
    assert answers == [p in text for p in asked]
    assert answers.count(True) > 500
    assert answers.count(False) > 100
    assert [p in index for p in asked] == answers  # the one-by-one answers reuse the bulk ones


def test_a_passage_that_starts_inside_a_word_is_found_in_bulk() -> None:
    words = [f"w{i:05d}" for i in range(6000)]
    text = " ".join(words)
    index = TextIndex(text)
    inside = text[text.index("w01234") + 3 : text.index("w01240")]  # '234 w01235 ... '
    assert index.find_all([inside, inside + "x", "01234 w01235 w01236 w01237"]) == [True, False, True]
