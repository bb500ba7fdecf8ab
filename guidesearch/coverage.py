"""Does the corpus answer the question? ("The guides don't cover this.")

Two signals that mean something on their own, calibrated on the development question sets
(bench/results/coverage.md):
- the dense cosine of the best passage: unrelated questions (cooking, taxes) score far below
  any answerable one;
- a key term the corpus never mentions: near misses ("Is pickle juice good for leg cramps?")
  share most words with the guides, but "pickle juice" appears nowhere. A question word counts
  as mentioned when its stem is a corpus term, or when its embedding is close to that of some
  corpus word, so lay words for covered things ("shins", "tingly", "spasms") do not trip it.
"""

from __future__ import annotations

from dataclasses import dataclass

from guidesearch.config import Settings
from guidesearch.embed import TextEncoder
from guidesearch.lexical import Vocabulary, stem, words

# Words of the question itself, not of its topic: they say nothing about coverage.
QUESTION_WORDS = frozenset("""
    about actually always anything anyone any bad best better bother bothering can common could
    cure day days does done else ever everything experience experiencing feel feeling feels fine
    get getting give go going good got happen happens happening hard having help helps helpful
    helping keep kind know like likely long lot lots make makes many matter mean means might
    much need needs normal often ok okay people person possible problem problems really reason
    right say seem seems should sign signs someone something start started still stop sure take
    taking tell thing things think time times trouble true try trying type typical usually want
    way ways well whether work works worry worse wrong year years
""".split())


@dataclass(frozen=True)
class Verdict:
    covered: bool
    missing_terms: tuple[str, ...] = ()


class CoverageCheck:
    """Judges whether the corpus answers a question."""

    def __init__(self, vocabulary: Vocabulary, corpus_terms: frozenset[str],
                 encoder: TextEncoder, settings: Settings) -> None:
        self.vocabulary = vocabulary
        self.corpus_terms = corpus_terms
        self.encoder = encoder
        self.min_cosine = settings.min_cosine
        self.term_similarity = settings.term_similarity

    @classmethod
    def from_index(cls, index, encoder: TextEncoder, settings: Settings) -> "CoverageCheck":
        return cls(index.vocabulary, index.lexical.terms, encoder, settings)

    def judge(self, question: str, best_cosine: float) -> Verdict:
        """Covered when the best passage is close enough and no key term is missing."""
        missing = self.missing_terms(question)
        return Verdict(best_cosine >= self.min_cosine and not missing, missing)

    def missing_terms(self, question: str) -> tuple[str, ...]:
        """Key terms of the question that the corpus never mentions, as phrases in order."""
        question_words = words(question)
        candidates = [word for word, term in zip(question_words, stem(question_words))
                      if term not in self.corpus_terms and word not in QUESTION_WORDS
                      and not word.isdigit()]
        if not candidates or len(self.vocabulary.words) == 0:
            return ()
        similarity = self.encoder.encode(candidates) @ self.vocabulary.vectors.T
        unknown = {word for word, best in zip(candidates, similarity.max(axis=1))
                   if best < self.term_similarity}
        return _phrases(question_words, unknown)


def _phrases(question_words: list[str], unknown: set[str]) -> tuple[str, ...]:
    """Adjacent unknown words joined: ["pickle", "juice"] -> ("pickle juice",)."""
    phrases: list[str] = []
    current: list[str] = []
    for word in question_words + [""]:
        if word in unknown:
            current.append(word)
        elif current:
            phrase = " ".join(current)
            if phrase not in phrases:
                phrases.append(phrase)
            current = []
    return tuple(phrases)
