"""BM25 over the chunks, with bm25s; Snowball stemming when PyStemmer is installed.

The same analyser turns chunk texts and questions into terms, and tells the coverage check
which terms the corpus holds.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from guidesearch.embed import TextEncoder
from guidesearch.text import stopwords
from guidesearch.text import words as text_words


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer
    except ImportError:
        return None
    return Stemmer.Stemmer("english")


def stemmer_name() -> str:
    """Recorded in the manifest: an index built without stemming must not be read with it."""
    return "snowball-english" if _stemmer() is not None else "none"


# Words a question's BM25 search leaves out where they stand alone. "up" ends phrasal verbs that
# name no topic ("seize up", "flare up", "act up"), yet as a term it matches words it is no part
# of: the "up" of "check-ups" put "Preventing ..." first for "why do my calves seize up at
# night?". Joined by a hyphen it is part of the word ("check-ups", "follow-up") and stays. The
# other particles name topics too often to go: "Down syndrome", "passing out" (Fainting),
# "off-label", "over-the-counter" (review: bench/results/particles.md).
QUESTION_PARTICLES = frozenset({"up"})


@lru_cache(maxsize=8)
def _standing_alone(particles: frozenset[str]) -> re.Pattern:
    return re.compile(r"(?<![\w-])(?:" + "|".join(sorted(map(re.escape, particles))) + r")(?![\w-])", re.IGNORECASE)


def without_lone_particles(question: str) -> str:
    """The question without the QUESTION_PARTICLES that stand alone ("seize up", not "check-up")."""
    return _standing_alone(QUESTION_PARTICLES).sub(" ", question) if QUESTION_PARTICLES else question


def words(text: str) -> list[str]:
    """Lower-cased words of two or more characters, stopwords removed, not stemmed."""
    stop = stopwords()
    return [word for word in text_words(text) if len(word) > 1 and word not in stop]


def stem(word_list: Sequence[str]) -> list[str]:
    stemmer = _stemmer()
    return list(stemmer.stemWords(list(word_list))) if stemmer else list(word_list)


def analyse(text: str) -> list[str]:
    """The terms BM25 indexes and searches: words, stemmed."""
    return stem(words(text))


class LexicalIndex:
    """A BM25 index over texts, addressed by position (the same order as the vectors)."""

    def __init__(self, retriever) -> None:
        self._retriever = retriever

    @classmethod
    def build(cls, texts: Sequence[str]) -> "LexicalIndex":
        import bm25s
        retriever = bm25s.BM25()
        # An empty token list would break bm25s; a placeholder term matches no question.
        retriever.index([analyse(text) or ["\x00"] for text in texts], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0))

    @property
    def size(self) -> int:
        return int(self._retriever.scores["num_docs"])

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(self._retriever.vocab_dict)

    def share(self, term: str) -> float:
        """The share of texts that hold a term (analysed, as terms are): 0 for an unknown one."""
        return self._holding(term) / self.size if self.size else 0.0

    def ceiling(self, question: str) -> float:
        """The most any text could score for the question: the sum of its known terms' IDF,
        which a term's BM25 score approaches as a text repeats it (bm25s's Lucene scoring), each
        counted as often as scores() counts it: once per time the question holds it."""
        return sum(math.log(1.0 + (self.size - holding + 0.5) / (holding + 0.5))
                   for holding in map(self._holding, self._known_terms(question)))

    def scores(self, question: str) -> np.ndarray:
        """BM25 score of every text for the question (zeros when no term is known)."""
        known = self._known_terms(question)
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def _known_terms(self, question: str) -> list[str]:
        """The question's terms the index holds, in order, repeats kept (BM25 counts each),
        but for the particles that stand alone (QUESTION_PARTICLES)."""
        return [term for term in analyse(without_lone_particles(question)) if term in self._retriever.vocab_dict]

    def _holding(self, term: str) -> int:
        """How many texts hold a term: 0 for an unknown one."""
        index = self._retriever.vocab_dict.get(term)
        if index is None:
            return 0
        indptr = self._retriever.scores["indptr"]
        return int(indptr[index + 1] - indptr[index])


# Longer "words" (a base64 image, a run of letters) are no words a question holds: they stay out
# of the vocabulary and the spelling index, whose size grows with the square of a word's length.
MAX_WORD_CHARS = 40
# Words this long may be repaired across two typing slips (SpellingIndex).
LONG_WORD = 8
# Every vocabulary word is embedded at build time and held in memory: a corpus of random tokens
# must not make that unbounded. Real guides stay far below (MedQuAD: about 40,000 words).
MAX_VOCABULARY = 200_000


@dataclass(frozen=True)
class Vocabulary:
    """The corpus's words and their embeddings (saved with the index)."""

    words: tuple[str, ...]
    vectors: np.ndarray

    @classmethod
    def build(cls, texts: Sequence[str], encoder: TextEncoder, batch_size: int,
              cached: "Vocabulary | None" = None) -> "Vocabulary":
        found = _vocabulary_words(texts)
        known = {word: row for row, word in enumerate(cached.words)} if cached else {}
        vectors = np.zeros((len(found), encoder.dimension), dtype=np.float32)
        todo = [i for i, word in enumerate(found) if word not in known]
        for i, word in enumerate(found):
            if word in known:
                vectors[i] = cached.vectors[known[word]]
        if todo:
            vectors[todo] = encoder.encode([found[i] for i in todo], batch_size)
        return cls(tuple(found), vectors)

    def closest(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each unit vector (rows), the row of the corpus word closest in meaning, and its cosine."""
        similarities = vectors @ self.vectors.T
        rows = similarities.argmax(axis=1)
        return rows, similarities[np.arange(len(rows)), rows]

    def save(self, folder: Path) -> None:
        (folder / "vocabulary.json").write_text(json.dumps(self.words), encoding="utf-8")
        np.save(folder / "vocabulary.npy", self.vectors, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "Vocabulary":
        found = tuple(json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")))
        vectors = np.load(folder / "vocabulary.npy", allow_pickle=False)
        if vectors.shape[0] != len(found):
            raise ValueError(f"{len(found)} words but {vectors.shape[0]} vectors")
        return cls(found, vectors)


def _vocabulary_words(texts: Sequence[str]) -> list[str]:
    """The corpus's words, sorted: the MAX_VOCABULARY most frequent when there are more."""
    counts = Counter(word for text in texts for word in words(text)
                     if not word.isdigit() and len(word) <= MAX_WORD_CHARS)
    return sorted(word for word, _ in counts.most_common(MAX_VOCABULARY))


class SpellingIndex:
    """Finds corpus words one typing slip away from a word ("crmaps" -> "cramps").

    Words of five letters or more may differ by one insertion, deletion, substitution or swap
    of neighbours; four-letter words by a swap only ("pian" -> "pain"), since one changed letter
    turns too many short words into others ("toes" -> "does"). Words of LONG_WORD letters or
    more may differ by two slips ("exersize" -> "exercise", "neuropahty" -> "neuropathy"): long
    medical words are the ones people misspell twice, and two slips rarely turn one long word
    into another. Before any slip, "f" typed for "ph" is read as the word it sounds like
    ("hemofilia" -> "hemophilia", not "hemobilia" one changed letter away).

    Of several words as near, the one the corpus uses most wins (commonness: the share of texts
    holding a word), as in Norvig's corrector: over MedQuAD, "strok" is "stroke" (913 texts)
    rather than "stork" (1), "disese" "disease" rather than "disuse".
    """

    def __init__(self, vocabulary: Iterable[str], commonness: Callable[[str], float] = lambda _: 0.0) -> None:
        self._commonness = commonness
        self._by_delete: dict[str, list[str]] = {}
        self._long: dict[tuple[str, int], list[str]] = {}      # (first letter, length) -> words
        self._sounds: dict[str, str] = {}                       # "hemofilia" -> "hemophilia"
        # A word with a digit is a code, neither repaired nor offered ("omega" is not "omega3").
        for word in (w for w in vocabulary if 4 <= len(w) <= MAX_WORD_CHARS and not _has_digit(w)):
            if "ph" in word:
                self._sounds.setdefault(word.replace("ph", "f"), word)
            for key in _deletes(word) | {word}:
                self._by_delete.setdefault(key, []).append(word)
            if len(word) >= LONG_WORD - 2:
                self._long.setdefault((word[0], len(word)), []).append(word)

    def correct(self, word: str) -> str | None:
        """The corpus word one slip away (itself if known), or two slips for a long word; None
        when there is none.

        Among several, one with the same first letter wins (a slip on the first letter is rare),
        then the commonest, then the closest in length. A word with a digit is a code or a
        number, where a slip makes another ("17q23" is not "17q21").
        """
        if not 4 <= len(word) <= MAX_WORD_CHARS or _has_digit(word):
            return None
        sounds_like = self._sounds.get(word.replace("ph", "f")) if "f" in word else None
        if sounds_like and word not in self._by_delete.get(word, ()):      # not itself a corpus word
            return sounds_like
        found = {candidate for key in _deletes(word) | {word}
                 for candidate in self._by_delete.get(key, ()) if _one_slip(word, candidate)}
        if not found:
            return self._two_slips(word)
        return min(found, key=lambda c: (c != word, c[0] != word[0], -self._commonness(c), abs(len(c) - len(word)), c))

    def _two_slips(self, word: str) -> str | None:
        """The closest corpus word two slips away from a long word, with the same first letter
        (a slip on the first letter is rare, and checking it would mean reading every word)."""
        if len(word) < LONG_WORD:
            return None
        candidates = [c for size in range(len(word) - 2, len(word) + 3)
                      for c in self._long.get((word[0], size), ())]
        found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=2, limit=None)
        return min(((distance, -self._commonness(c), abs(len(c) - len(word)), c) for c, distance, _ in found),
                   default=(0, 0, 0, None))[3]


# Each part of a compound typed joined is a corpus word of this many letters at least: with
# two-letter parts too many words would split ("insure" into "in" and "sure").
MIN_PART = 3


def split_compound(word: str, known: Callable[[str], bool]) -> str | None:
    """A compound the guides write with a hyphen or a space, as typed joined ("checkups" ->
    "check-ups", "wellbeing" -> "well-being", "legcramps" -> "leg-cramps"): two corpus words
    (known) joined by a hyphen, or None. Of several splits the most even wins, the first on ties.
    A word with a digit is a code ("covid19"), not a compound."""
    if _has_digit(word) or not 2 * MIN_PART <= len(word) <= MAX_WORD_CHARS:
        return None
    found = [(word[:i], word[i:]) for i in range(MIN_PART, len(word) - MIN_PART + 1)
             if known(word[:i]) and known(word[i:])]
    if not found:
        return None
    head, tail = max(found, key=lambda parts: min(map(len, parts)))
    return f"{head}-{tail}"


def _has_digit(word: str) -> bool:
    return any(char.isdigit() for char in word)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _one_slip(typed: str, known: str) -> bool:
    if typed == known:
        return True
    if len(typed) == len(known):
        diffs = [i for i, (a, b) in enumerate(zip(typed, known)) if a != b]
        swapped = len(diffs) == 2 and diffs[1] == diffs[0] + 1 and typed[diffs[0]] == known[diffs[1]] \
            and typed[diffs[1]] == known[diffs[0]]
        return swapped or (len(diffs) == 1 and len(typed) >= 5)
    if len(typed) < 5 or abs(len(typed) - len(known)) != 1:
        return False
    short, long_ = sorted((typed, known), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
