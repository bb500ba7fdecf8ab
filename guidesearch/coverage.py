"""Does the corpus answer the question? ("The guides don't cover this.")

Signals that mean something on their own, calibrated on the development question sets
(bench/results/coverage.md):
- The dense cosine of the best passage: unrelated questions (cooking, taxes) score far below
  answerable ones. Short keyword questions score low too, so a question whose every key word
  is a corpus term is not judged on the cosine.
- A key term the corpus never mentions. Near misses ("Is pickle juice good for leg cramps?")
  share most words with the guides, but "pickle juice" appears nowhere. A question word the
  corpus lacks (after stemming, stopwords and typo repair) is a missing key term when both
    * no corpus word means nearly the same (embedding similarity to every corpus word is low),
      so lay words for covered things ("booze", "tingly", "pills") pass; and
    * the best passages answer the question better without it: dropping the word from the
      question raises its cosine to them. A lay word the passages do address ("calves",
      "zaps", "seizing") lowers or keeps that cosine when dropped; a topic the passages never
      touch ("quinine", "surgery") was pulling the question away from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from guidesearch.config import Settings
from guidesearch.embed import TextEncoder
from guidesearch.lexical import SpellingIndex, Vocabulary, stem, words
from guidesearch.text import FUNCTION_WORDS, WORD



@dataclass(frozen=True)
class Verdict:
    covered: bool
    missing_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnknownTerm:
    """A key word of the question that the corpus does not hold."""

    word: str
    similarity: float       # to the closest corpus word
    gain: float             # cosine to the best passages without the word, minus with it


@dataclass(frozen=True)
class Evidence:
    """What the coverage decision is made from (kept apart so it can be calibrated)."""

    question_words: tuple[str, ...]
    key_words: tuple[str, ...]
    best_cosine: float
    unknown: tuple[UnknownTerm, ...]


class CoverageCheck:
    """Judges whether the corpus answers a question."""

    def __init__(self, vocabulary: Vocabulary, corpus_terms: frozenset[str],
                 encoder: TextEncoder, settings: Settings) -> None:
        self.vocabulary = vocabulary
        self.corpus_terms = corpus_terms
        self.encoder = encoder
        self.settings = settings
        self.spelling = SpellingIndex(w for w in vocabulary.words if w not in FUNCTION_WORDS)

    @classmethod
    def from_index(cls, index, encoder: TextEncoder, settings: Settings) -> "CoverageCheck":
        return cls(index.vocabulary, index.lexical.terms, encoder, settings)

    def repair_spelling(self, question: str) -> str:
        """The question with words the corpus lacks replaced by the corpus word one slip away
        ("prevnt" -> "prevent"), for BM25, which cannot match a misspelt word at all."""
        def repair(match: re.Match) -> str:
            word = match.group(0)
            if stem([word.lower()])[0] in self.corpus_terms:
                return word
            return self.spelling.correct(word.lower()) or word
        return WORD.sub(repair, question)

    def probes(self, question: str) -> tuple[str, ...]:
        """Texts the check needs embedded besides the question: each unknown key word, then the
        question without it. The search embeds them with the question, in one model call."""
        unknown = self.unknown_words(question)
        return (*unknown, *(_drop_word(question, word) for word in unknown))

    def reads_vectors(self, question: str, probes: tuple[str, ...]) -> bool:
        """Whether the verdict depends on the question's vectors: only with unknown key words
        (probes) or no key word at all (see decide)."""
        return bool(probes) or not _key_words(words(question))

    def unknown_words(self, question: str) -> list[str]:
        key_words = _key_words(words(question))
        return list(dict.fromkeys(w for w in key_words if not self._is_known(w)))

    def judge(self, question: str, query: np.ndarray, best_cosine: float, passages: np.ndarray,
              probe_vectors: np.ndarray | None = None) -> Verdict:
        """Covered unless a key term is missing, or the best passage is far off and the
        question's own words are not all in the corpus.

        Args:
            question: the cleaned question.
            query: its unit vector, as the search embedded it.
            best_cosine: dense cosine of the closest passage in the whole index.
            passages: unit vectors of the top passages (rows), to test dropping each term.
            probe_vectors: the vectors of probes(question), when already embedded.
        """
        return decide(self.evidence(question, query, best_cosine, passages, probe_vectors), self.settings)

    def evidence(self, question: str, query: np.ndarray, best_cosine: float,
                 passages: np.ndarray, probe_vectors: np.ndarray | None = None) -> Evidence:
        question_words = words(question)
        unknown = self.unknown_words(question)
        if probe_vectors is None and unknown:
            probe_vectors = self.encoder.encode(list(self.probes(question)))
        return Evidence(tuple(question_words), tuple(_key_words(question_words)), best_cosine,
                        self._measure(query, unknown, passages, probe_vectors))

    def _is_known(self, word: str) -> bool:
        return stem([word])[0] in self.corpus_terms or self.spelling.correct(word) is not None

    def _measure(self, query: np.ndarray, unknown: Sequence[str], passages: np.ndarray,
                 probe_vectors: np.ndarray | None) -> tuple[UnknownTerm, ...]:
        if not unknown or len(self.vocabulary.words) == 0 or len(passages) == 0:
            return tuple(UnknownTerm(word, 0.0, 0.0) for word in unknown)
        similar = (probe_vectors[:len(unknown)] @ self.vocabulary.vectors.T).max(axis=1)
        base = float((passages @ query).max())
        gain = (passages @ probe_vectors[len(unknown):].T).max(axis=0) - base
        return tuple(UnknownTerm(w, float(s), float(g)) for w, s, g in zip(unknown, similar, gain))


def _key_words(question_words: Sequence[str]) -> list[str]:
    return [w for w in question_words if w not in FUNCTION_WORDS and not w.isdigit()]


def decide(evidence: Evidence, settings: Settings) -> Verdict:
    """The coverage decision from measured evidence and the thresholds in settings."""
    flagged = {term.word for term in evidence.unknown
               if term.similarity < settings.term_similarity and term.gain >= settings.min_term_gain}
    missing = _phrases(list(evidence.question_words), flagged, {term.word for term in evidence.unknown})
    far = evidence.best_cosine < settings.min_cosine and (evidence.unknown or not evidence.key_words)
    return Verdict(not missing and not far, missing)


def _drop_word(question: str, word: str) -> str:
    return re.sub(rf"\b{re.escape(word)}\b", " ", question, flags=re.IGNORECASE)


def _phrases(question_words: list[str], flagged: set[str], unknown: set[str]) -> tuple[str, ...]:
    """Each flagged word with the unknown words next to it: "pickle" -> "pickle juice"."""
    phrases: list[str] = []
    run: list[str] = []
    for word in question_words + [""]:
        if word in unknown:
            run.append(word)
            continue
        if run and flagged & set(run):
            phrase = " ".join(run)
            if phrase not in phrases:
                phrases.append(phrase)
        run = []
    return tuple(phrases)
