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
      so lay words for covered things ("booze", "tingly", "pills") pass; for a word the model
      reads in pieces, "low" includes anything no closer than made-up words come by chance
      (Evidence.chance_similarity: over MedQuAD "ventolin" is 0.65 close to "caveolin"); and
    * the word weighs in the question: its shift (how far dropping it moves the question's
      own vector), weighted (term_shift_weight), plus its gain (how much closer the best
      passages come without it). The topic of a short question carries it ("quinine" in
      "quinine for leg cramps"), and a topic the passages never touch was pulling the question
      away from them; a word of the story or a filler does neither ("my neighbour swears
      by ..."), and a lay word the passages do address ("zaps", "seizing") brings them no
      closer when dropped.
  The gain alone was the rule before issue 12; the weighted sum flags more near misses in new
  wordings at fewer false flags (bench/results/coverage_general.md). A topic of several words
  splits its weight between them ("epsom salts", "alpha lipoic acid"): unknown words side by
  side are also measured as one term, by the same rule with their own thresholds. In a long
  message one word moves the whole little, so the message's first questions are also judged
  alone ("Could the low potassium be causing the cramps?" after a story).
- A rare corpus word the closest passages lack. In a large corpus the topic asked about is
  often named somewhere (a syndrome in another syndrome's guide) without a guide about it: a
  word that few passages hold, that none of the closest passages holds, and that carries much
  of the question, is the topic the guides miss ("Wildervanck" in "What are the symptoms of
  Wildervanck syndrome?" when no guide is about it).
Thresholds are calibrated in bench/coverage_general.py on development halves only
(bench/results/coverage_general.md); lay words for covered things that carry the question
("why do my calves cramp at night?") are what the remaining false flags are made of.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Sequence

import numpy as np

from guidesearch.config import Settings
from guidesearch.embed import TextEncoder, content_tokens
from guidesearch.lexical import (MAX_WORD_CHARS, LexicalIndex, SpellingIndex, Vocabulary, analyse, split_compound,
                                 stem, words)
from guidesearch.text import FUNCTION_WORDS, WORD



@dataclass(frozen=True)
class Verdict:
    covered: bool
    missing_terms: tuple[str, ...] = ()     # key terms the guides never mention
    passing_terms: tuple[str, ...] = ()     # key terms they name only in passing, far from the question
    # A covered question's words the guides never use, weighing too little to flag it (_unmatched).
    unmatched_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnknownTerm:
    """A key word of the question that the corpus does not hold."""

    word: str
    similarity: float       # to the closest corpus word
    gain: float             # cosine to the best passages without the word, minus with it
    shift: float = 0.0      # 1 - cosine of the question with and without the word
    closest: str = ""       # that corpus word
    pieces: int = 1         # word pieces the model reads it as (1 a word, "myocerebrohepatopathy" 8)

    @property
    def read_in_pieces(self) -> bool:
        """Whether the model splits the term into more pieces than it has words: then its
        closest corpus word is likely one spelt alike, not one of the same meaning."""
        return _read_in_pieces(self.word, self.pieces)


@dataclass(frozen=True)
class AbsentTerm:
    """A key word the corpus holds, but none of the passages closest to the question."""

    word: str
    share: float            # of all passages, those that hold it
    shift: float            # 1 - cosine of the question with and without the word
    pieces: int = 1         # word pieces the model reads it as

    @property
    def read_in_pieces(self) -> bool:
        """A name the model reads in pieces ("wildervanck") is a topic; a word it reads whole is
        everyday English, rare in guides only because they do not talk so ("dad", "toddler")."""
        return _read_in_pieces(self.word, self.pieces)


@dataclass(frozen=True)
class Evidence:
    """What the coverage decision is made from (kept apart so it can be calibrated)."""

    # The question's words in order, with "" where a stopword or a mark stood: a phrase named
    # in the verdict never spans one ("statins for my cholesterol" names "statins" alone).
    question_words: tuple[str, ...]
    key_words: tuple[str, ...]
    best_cosine: float
    unknown: tuple[UnknownTerm, ...]
    absent: tuple[AbsentTerm, ...] = ()
    # Runs of unknown words side by side ("epsom salts", "alpha lipoic acid"), each measured as
    # one term: a topic of several words splits its weight between them.
    phrases: tuple[UnknownTerm, ...] = ()
    # A long message's questions, each judged alone for unknown words (see Searcher.search).
    asked: tuple["Evidence", ...] = ()
    # How close a made-up word comes to some corpus word by chance (CoverageCheck.chance_similarity).
    # An unknown word the model reads in pieces, no closer than that to its closest corpus word,
    # has no near synonym there, whatever settings.term_similarity says: in a large vocabulary
    # (0.77 over MedQuAD, 0.41 over the seed guide) "myocerebrohepatopathy" comes 0.65 close to
    # "neurohepatopathy" by shared pieces, not meaning. A word the model knows whole keeps the
    # plain threshold: "nephew" is 0.75 close to "uncle" by meaning.
    chance_similarity: float = 0.0
    # The unknown words without a near synonym (under the settings the evidence was measured
    # with), when two or more, dropped together and measured as one term: "coffee" and
    # "caffeine" each carry little of "does coffee n caffeine make neuropathy cramps worse",
    # since dropping one leaves the other, but together they carry the question.
    together: UnknownTerm | None = None


# At most this many unknown words are measured, in the order they come (a long message's focus
# puts its subject and questions first): each costs the model two texts, one as long as the
# question. 2,000 characters of made-up words took 3.3 s to judge without a cap, 1.7 s with it;
# no figure of bench/results/coverage_general.md changes.
MAX_UNKNOWN_WORDS = 8
# At most this many runs of unknown words are measured as phrases (two texts each): 2,000
# characters of made-up three-word runs take 2.1 s to judge with them (a plain question 11 ms).
MAX_PHRASES = 3
# How close a word the corpus lacks comes to some corpus word by chance is measured on this many
# made-up words (CoverageCheck.chance_similarity), and read at this percentile.
CHANCE_WORDS = 100
CHANCE_PERCENTILE = 90
# At most this many rare absent words are measured (each costs a text for the model).
MAX_ABSENT_PROBES = 4
# Nor in questions of more key words: in a long message one word carries little of it, and in
# the tuning sets no absent word of a question with 10 or more key words came near the shift
# threshold (0.103 at most against 0.15), while each probe costs the model a long text.
MAX_ABSENT_KEY_WORDS = 15


class CoverageCheck:
    """Judges whether the corpus answers a question."""

    def __init__(self, vocabulary: Vocabulary, lexical: LexicalIndex,
                 encoder: TextEncoder, settings: Settings) -> None:
        self.vocabulary = vocabulary
        self.lexical = lexical
        self.corpus_terms = lexical.terms
        self.encoder = encoder
        self.settings = settings
        self.spelling = SpellingIndex((w for w in vocabulary.words if w not in FUNCTION_WORDS),
                                      commonness=lambda word: lexical.share(stem([word])[0]))
        self._corpus_words = frozenset(vocabulary.words)

    @classmethod
    def from_index(cls, index, encoder: TextEncoder, settings: Settings) -> "CoverageCheck":
        return cls(index.vocabulary, index.lexical, encoder, settings)

    def repair_spelling(self, question: str) -> str:
        """The question with words the corpus lacks replaced by the corpus word a slip or two
        away ("prevnt" -> "prevent"): BM25 cannot match a misspelt word at all, and the model
        reads it as pieces that no longer mean the word. Searcher.search repairs once, first.

        A word the model reads whole is a word, not a slip: of the 26 different repairs such
        words got over our question files, none was the word meant ("thing" -> "thin",
        "connected" -> "conducted", "wedding" -> "wedging"), against most of the 103 of words
        read in pieces ("diabetis" -> "diabetes"); no ranking figure moves
        (bench/results/spelling.md)."""
        return WORD.sub(self._repaired, question)

    def spelling_repairs(self, question: str) -> tuple[tuple[str, str], ...]:
        """The words repair_spelling changes, each once whatever its case: (as first typed, as searched)."""
        repairs: dict[str, tuple[str, str]] = {}
        for match in WORD.finditer(question):
            word, repaired = match.group(0), self._repaired(match)
            if repaired != word:
                repairs.setdefault(word.lower(), (word, repaired))
        return tuple(repairs.values())

    def _repaired(self, match: re.Match) -> str:
        word = match.group(0)
        return self._correction(word.lower(), compound=not _is_name(match)) or word

    def _correction(self, word: str, compound: bool = True) -> str | None:
        """The corpus word a slip or two away from a word the corpus lacks (lower case), else
        (when compound) the corpus compound it joins ("checkups" -> "check-ups": the guides'
        "check-ups" are the words "check" and "ups", and the check said they never mention
        "checkups"), or None: also None for a word the model reads whole (see repair_spelling),
        or with a digit."""
        if stem([word])[0] in self.corpus_terms:
            return None
        found = self.spelling.correct(word) or (split_compound(word, self._is_whole_corpus_word) if compound else None)
        if found is None or found == word:
            return found
        return found if content_tokens(self.encoder, [word])[0] > 1 else None

    def _is_whole_corpus_word(self, word: str) -> bool:
        """A corpus word the model reads whole: a compound's part. Over MedQuAD, "hemroids" split
        into "hem" and "roids", pieces of words rather than words."""
        return (word in self._corpus_words or stem([word])[0] in self.corpus_terms) \
            and content_tokens(self.encoder, [word])[0] == 1

    def probes(self, question: str) -> tuple[str, ...]:
        """Texts the check needs embedded besides the question: each unknown key word, then the
        question without it; each run of them (unknown_phrases), then the question without it.
        The search embeds them with the question, in one model call."""
        unknown = self.unknown_words(question)
        phrases = self.unknown_phrases(question, unknown)
        return (*unknown, *(_drop_word(question, word) for word in unknown),
                *(" ".join(run) for run in phrases), *(_drop_words(question, run) for run in phrases))

    def reads_vectors(self, question: str, probes: tuple[str, ...]) -> bool:
        """Whether the verdict depends on the question's vectors: only with unknown key words
        (probes) or no key word at all (see decide). Rare words absent from the closest
        passages are measured apart (_absent)."""
        return bool(probes) or not _key_words(phrase_words(question))

    def unknown_words(self, question: str) -> list[str]:
        """The key words the corpus lacks, the first MAX_UNKNOWN_WORDS of them."""
        key_words = _key_words(phrase_words(question))
        return list(dict.fromkeys(w for w in key_words if not self._is_known(w)))[:MAX_UNKNOWN_WORDS]

    def unknown_phrases(self, question: str, unknown: Sequence[str]) -> list[tuple[str, ...]]:
        """The runs of two or more of the unknown words side by side in the question (no
        stopword or mark between), the first MAX_PHRASES of them."""
        return [run for run in _runs(phrase_words(question), set(unknown)) if len(run) >= 2][:MAX_PHRASES]

    def related_words(self, question: str, evidence: Evidence, passage_texts: Sequence[str]) -> tuple[str, ...]:
        """The corpus words closest in meaning to the question's unknown key words, for the
        search to look for as well ("workouts" -> "exercise"): those at least
        settings.expansion_similarity close, and closer than a made-up word comes by chance
        (chance_similarity), that one of the passages nearest the question holds
        (passage_texts) and that the question does not hold already.

        In a large vocabulary the closest word to a brand or a made-up name is often one spelt
        alike ("ozempic" -> "ozena" 0.69, "mounjaro" -> "moyamoya" 0.66 over MedQuAD): chance
        is that close there, and such a word is seldom in the passages the question is near.
        """
        least = self.settings.expansion_similarity
        if least >= 1.0 or not any(term.similarity >= least for term in evidence.unknown):
            return ()
        least = max(least, self.chance_similarity)
        searched = set(analyse(question))       # BM25 terms, each counted once
        present = frozenset().union(*map(_terms, passage_texts))
        related: list[str] = []
        for term in evidence.unknown:
            found = analyse(term.closest)       # no term for a stopword
            if (term.similarity >= least and len(found) == 1
                    and term.closest not in FUNCTION_WORDS     # "several": BM25 would read "sever(e)"
                    and found[0] in present and found[0] not in searched):
                related.append(term.closest)
                searched.add(found[0])
        return tuple(related)

    @cached_property
    def chance_similarity(self) -> float:
        """How close a made-up word the corpus lacks comes to some corpus word (the
        CHANCE_PERCENTILE of CHANCE_WORDS of them): a word's closest corpus word means something
        only above it. It grows with the vocabulary, as more words are spelt alike: 0.41 over the
        seed guide's 381 words, 0.77 over MedQuAD's 28,606 ("ozempic" -> "ozena" 0.69)."""
        made_up = [word for word in _made_up_words(CHANCE_WORDS) if not self._is_known(word)]
        if not made_up or len(self.vocabulary.words) == 0:
            return 1.0
        _, similarities = self.vocabulary.closest(self.encoder.encode(made_up))
        return float(np.percentile(similarities, CHANCE_PERCENTILE))

    def judge(self, evidence: Evidence, asked: Sequence[Evidence] = ()) -> Verdict:
        """Covered unless a key term is missing, or the best passage is far off and the
        question's own words are not all in the corpus. asked: the evidence of a long message's
        questions, each alone (Searcher.search)."""
        return decide(replace(evidence, asked=tuple(asked)), self.settings)

    def evidence(self, question: str, query: np.ndarray, best_cosine: float, passages: np.ndarray,
                 probe_vectors: np.ndarray | None = None, passage_texts: Sequence[str] = (),
                 together: bool = True) -> Evidence:
        """What the verdict on a question is made from.

        Args:
            question: the cleaned question.
            query: its unit vector, as the search embedded it.
            best_cosine: dense cosine of the closest passage in the whole index.
            passages: unit vectors of the closest passages (rows), to test dropping each term.
            probe_vectors: the vectors of probes(question), when already embedded.
            passage_texts: what those passages say (text, title and headings), to find the
                question's rare words that none of them holds.
            together: whether to measure the unknown words together (Evidence.together), which
                costs a model call. A long message's questions alone go without: no figure of
                bench/results/coverage_general.md moves, and each would cost a call.
        """
        question_words = phrase_words(question)
        unknown = self.unknown_words(question)
        phrases = [" ".join(run) for run in self.unknown_phrases(question, unknown)]
        if probe_vectors is None and unknown:
            probe_vectors = self.encoder.encode(list(self.probes(question)))
        words_part = probe_vectors[:2 * len(unknown)] if unknown else None
        phrases_part = probe_vectors[2 * len(unknown):] if phrases else None
        measured = Evidence(tuple(question_words), tuple(_key_words(question_words)), best_cosine,
                            self._measure(query, unknown, passages, words_part),
                            self._absent(question, passage_texts),
                            self._measure(query, phrases, passages, phrases_part),
                            chance_similarity=self.chance_similarity if unknown else 0.0)
        return replace(measured, together=self._together(question, query, passages, measured)) if together else measured

    def _together(self, question: str, query: np.ndarray, passages: np.ndarray,
                  evidence: Evidence) -> UnknownTerm | None:
        """The unknown words without a near synonym, if two or more, measured as one term
        (Evidence.together): a model call of its own, which few questions pay."""
        far = [term.word for term in _far(evidence, self.settings)]
        if len(far) < 2 or len(passages) == 0:
            return None
        without = self.encoder.encode([_drop_words(question, far)])[0]
        gain = float((passages @ without).max() - (passages @ query).max())
        return UnknownTerm(" ".join(far), 0.0, gain, float(1.0 - without @ query))

    def _absent(self, question: str, passage_texts: Sequence[str]) -> tuple[AbsentTerm, ...]:
        """The rarest corpus words of the question (held by at most max_absent_share of the
        passages) that none of the closest passages holds, with their shift.

        Only these few questions pay for a second model call, which embeds the question again
        with the probes, by the encoder the thresholds were calibrated with: the search may
        have used a faster one for its own vector. (Embedding the probes of every rare word with
        the question, in the search's one call, was slower: most rare words are present.)
        """
        key_words = list(dict.fromkeys(_key_words(phrase_words(question))))
        if not passage_texts or len(key_words) > MAX_ABSENT_KEY_WORDS:
            return ()
        present = frozenset().union(*map(_terms, passage_texts))
        terms = dict(zip(key_words, stem(key_words)))
        shares = {word: self.lexical.share(term) for word, term in terms.items()}
        absent = [word for word, term in terms.items()
                  if 0 < shares[word] <= self.settings.max_absent_share and term not in present]
        rarest = sorted(absent, key=shares.__getitem__)[:MAX_ABSENT_PROBES]
        if not rarest:
            return ()
        vectors = self.encoder.encode([question, *(_drop_word(question, word) for word in rarest)])
        shifts = 1.0 - vectors[1:] @ vectors[0]
        pieces = content_tokens(self.encoder, rarest)
        return tuple(AbsentTerm(word, shares[word], float(shift), count)
                     for word, shift, count in zip(rarest, shifts, pieces))

    def _is_known(self, word: str) -> bool:
        # A word the spelling index finds a corpus word for is not named missing even when the
        # model reads it whole and it is searched as typed ("connection", two slips from
        # "conduction"): the thresholds were calibrated so, and over the seed guide's 381 words
        # such a word is more often a plain word the guide happens to lack than the topic asked
        # about. A word with a digit gets no such pass ("type3" is unknown unless the corpus has it).
        return stem([word])[0] in self.corpus_terms or self.spelling.correct(word) is not None

    def _measure(self, query: np.ndarray, unknown: Sequence[str], passages: np.ndarray,
                 probe_vectors: np.ndarray | None) -> tuple[UnknownTerm, ...]:
        if not unknown or len(self.vocabulary.words) == 0 or len(passages) == 0:
            return tuple(UnknownTerm(word, 0.0, 0.0) for word in unknown)
        rows, similar = self.vocabulary.closest(probe_vectors[:len(unknown)])
        without = probe_vectors[len(unknown):]
        base = float((passages @ query).max())
        gain = (passages @ without.T).max(axis=0) - base
        shift = 1.0 - without @ query
        pieces = content_tokens(self.encoder, unknown)
        return tuple(UnknownTerm(w, float(s), float(g), float(h), self.vocabulary.words[r], p)
                     for w, r, s, g, h, p in zip(unknown, rows, similar, gain, shift, pieces))


def _is_name(match: re.Match) -> bool:
    """Whether a word is capitalised inside a sentence, as a name is: "Silverman" in "Dyssegmental
    dysplasia Silverman-Handmaker type" is no compound of "silver" and "man". A question typed in
    title case or capitals ("How Often Should I Get Checkups") reads as names too, and its
    compounds are searched as typed: the cost of not splitting names."""
    if not match.group(0)[:1].isupper():
        return False        # most words: no need to read what comes before
    before = match.string[:match.start()]
    opening = before.rstrip()
    return not (not opening or opening[-1] in ".?!:;\"'“‘(" or "\n" in before[len(opening):])


def _made_up_words(count: int, seed: int = 0) -> list[str]:
    """Pronounceable words of two to four syllables, the same for the same seed ("bizoka")."""
    rng = random.Random(seed)
    return ["".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
            for _ in range(count)]


@lru_cache(maxsize=4096)
def _terms(passage_text: str) -> frozenset[str]:
    """A passage's terms (kept: the same passages come back for many questions)."""
    return frozenset(analyse(passage_text))


def key_words(text: str) -> list[str]:
    """The words of a text that can name what it asks about (no function words or numbers)."""
    return _key_words(phrase_words(text))


# Words that say when, not what: "at night", "every morning", "for three weeks" never name the
# topic a guide lacks, though they weigh in a short question ("calf cramps at night" is what a
# guide on cramps "during periods of rest or sleep" answers).
WHEN_WORDS = frozenset(
    "night nights nighttime nightly overnight tonight evening evenings morning mornings day days daytime "
    "week weeks weekend weekends month months year years today yesterday tomorrow lately recently "
    "bedtime hour hours minute minutes".split())


# Words that say who, after "my", "our", "his", "her", "their" or "your": the people of a reader's
# story ("my wife gets leg cramps at night", "my aunt swears by stretching") are not what the
# question asks about, though they weigh in a short one. Without a possessive they may be. Words
# of an age ("my baby", "my toddler", "my kids") are not among them: a child's cramps are another
# question than an adult's (found by review). Found by adversarial testing: "wife",
# "husband", "son", "dad" and others were named as what the guides don't mention.
WHO_WORDS = frozenset("""
    mother mom mum mommy mummy mama father dad daddy papa parent parents stepmother stepfather
    wife husband spouse partner boyfriend girlfriend fiance fiancee son sons daughter daughters
    brother brothers sister sisters sibling siblings twin aunt aunts auntie uncle uncles niece nephew cousin cousins grandmother grandma
    granny gran nan nana grandfather grandpa grandad granddad grandparent grandparents grandson
    granddaughter grandchild grandchildren family friend friends neighbour neighbor neighbours
    neighbors colleague colleagues coworker coworkers boss client clients patient patients
    roommate flatmate
""".split())
POSSESSIVES = frozenset("my our his her their your".split())
# At most this many words between the possessive and the person ("my 16 year old son").
WHO_GAP = 3


def _key_words(question_words: Sequence[str]) -> list[str]:
    return [w for w in question_words
            if w and w not in FUNCTION_WORDS and w not in WHEN_WORDS and not w.isdigit()]


# A word (with what follows an apostrophe), or marks: a hyphen or apostrophe inside a word is
# neither ("anti-seizure drugs" is one phrase).
_APOSTROPHES = "'’‘"
_TOKEN = re.compile(rf"\w+(?:[{_APOSTROPHES}]\w+)*"            # a word, with any parts after apostrophes
                    rf"|[^\w\s{_APOSTROPHES}-]+"                # marks
                    rf"|(?<!\w)[{_APOSTROPHES}-]|[{_APOSTROPHES}-](?!\w)")   # a loose apostrophe or hyphen
# What follows the apostrophe of a contraction: "don't", "I've", "we're", "she'll", "I'd", "I'm".
_CONTRACTIONS = frozenset("t ve re ll d m".split())


@lru_cache(maxsize=4096)
def phrase_words(text: str) -> tuple[str, ...]:
    """The words of a text as words() has them, in order, with "" for each stopword, one-letter
    word or mark between them. A possessive joins ("Parkinson's disease"); a contraction is
    no word and breaks ("don't", "I've": not "don" and "ve"); a name keeps its parts
    ("O'Brien"). A person of the reader's story is no word ("my wife": WHO_WORDS)."""
    kept = set(words(text))
    sequence: list[str] = []
    after_possessive = WHO_GAP + 1          # words since "my", "our"...: a person there is no topic
    for token in _TOKEN.findall(text.lower()):
        head, *tails = re.split(f"[{_APOSTROPHES}]", token)
        if any(tail in _CONTRACTIONS for tail in tails):
            sequence += ["" if "t" in tails or head not in kept else head, ""]
        else:
            someone = head in WHO_WORDS and after_possessive <= WHO_GAP
            sequence.append(head if head in kept and not someone else "")
            sequence += [tail if tail in kept else "" for tail in tails if tail != "s"]
        after_possessive = 0 if head in POSSESSIVES else after_possessive + 1 if head[:1].isalnum() else WHO_GAP + 1
    return tuple(sequence)


def decide(evidence: Evidence, settings: Settings) -> Verdict:
    """The coverage decision from measured evidence and the thresholds in settings."""
    question_words = list(evidence.question_words)
    absent = {term.word for term in evidence.absent if term.read_in_pieces
              and term.share <= settings.max_absent_share and term.shift >= settings.min_absent_shift}
    missing = _missing(evidence, settings)
    # In a long message one word moves the whole message little, but carries its question
    # ("Could the low potassium be causing the cramps?" after a story): the same rule, on each
    # question alone. Only for unknown words: in a large corpus a question alone finds other
    # closest passages than the message, and its rare words are absent from them by chance.
    for question in evidence.asked:     # each term once: "statins" in one question, "statin" in the next
        named = {_stems(phrase) for phrase in missing}
        missing += tuple(phrase for phrase in _missing(question, settings) if _stems(phrase) not in named)
    # Last, the unknown words together: they name what nothing above could ("coffee n caffeine"),
    # but weigh a story's words too ("safe" beside "statins"), so a term found alone comes first.
    missing = missing or _outermost(_together(evidence, settings))
    passing = _phrases(question_words, absent, {term.word for term in evidence.absent})
    far = evidence.best_cosine < settings.min_cosine and (evidence.unknown or not evidence.key_words)
    covered = not missing and not passing and not far
    return Verdict(covered, missing, passing, _unmatched(evidence, settings) if covered else ())


def _unmatched(evidence: Evidence, settings: Settings) -> tuple[str, ...]:
    """The key words the guides never use, with no near synonym there, that weigh at least
    settings.min_note_weight, as phrases, in the question and in each of a long message's
    questions: too little to judge it not covered, enough that the reader should know ("Can
    spinal stenosis cause leg cramps?" is covered, its passages about neuropathy, and no passage
    names stenosis). A phrase joins only words without a near synonym: "seize", not "calves
    seize", since "calves" is close to the guides' "legs"."""
    named: dict[tuple[str, ...], str] = {}
    for measured in (evidence, *evidence.asked):
        far = _far(measured, settings)
        heavy = {term.word for term in far if _weight(term, settings) >= settings.min_note_weight}
        for phrase in _phrases(measured.question_words, heavy, {term.word for term in far}):
            named.setdefault(_stems(phrase), phrase)
    return _outermost(tuple(named.values()))


def _missing(evidence: Evidence, settings: Settings) -> tuple[str, ...]:
    """The unknown words that weigh in the question, as phrases, and the runs of them that weigh
    as one; a name inside another named ("epsom" after "epsom salts") is left out."""
    unknown = {term.word for term in _far(evidence, settings) if _weight(term, settings) >= settings.min_term_weight}
    named = list(_phrases(evidence.question_words, unknown, {term.word for term in evidence.unknown}))
    named += [phrase.word for phrase in evidence.phrases
              if phrase.similarity < _least_similarity(phrase, settings.phrase_similarity, evidence)
              and _weight(phrase, settings) >= settings.min_phrase_weight]
    return _outermost(tuple(dict.fromkeys(named)))


def _outermost(named: tuple[str, ...]) -> tuple[str, ...]:
    """The names, less any inside another ("epsom" beside "epsom salts")."""
    inside = lambda name, other: f" {name} " in f" {other} " and name != other     # noqa: E731
    return tuple(name for name in named if not any(inside(name, other) for other in named))


# Of the unknown words that carry a question together, those named to the reader: at most this
# many, each weighing alone at least HEAVIEST_SHARE of the heaviest ("coffee", "caffeine"; not
# "grandad" and "glass" of the story around "quinine or tonic water").
MAX_NAMED_TOGETHER = 3
HEAVIEST_SHARE = 0.5


def _together(evidence: Evidence, settings: Settings) -> tuple[str, ...]:
    """The unknown words that carry the question together (Evidence.together), as phrases, the
    heaviest of them, each term once ("statins" and "statin" are one)."""
    together = evidence.together
    if together is None or _weight(together, settings) < settings.min_together_weight:
        return ()
    heaviest = _heaviest(evidence, together.word.split(), settings)
    first: dict[tuple[str, ...], str] = {}
    for phrase in _phrases(evidence.question_words, heaviest, {term.word for term in evidence.unknown}):
        first.setdefault(_stems(phrase), phrase)
    return tuple(first.values())


def _heaviest(evidence: Evidence, words_: Sequence[str], settings: Settings) -> set[str]:
    weights = {term.word: _weight(term, settings) for term in evidence.unknown if term.word in words_}
    top = max(weights.values(), default=0.0)
    ranked = sorted(weights, key=weights.__getitem__, reverse=True)[:MAX_NAMED_TOGETHER]
    return {word for word in ranked if weights[word] >= HEAVIEST_SHARE * top} or set(ranked[:1])


def _weight(term: UnknownTerm, settings: Settings) -> float:
    """How much a term carries the question: its gain plus its shift, weighted."""
    return term.gain + settings.term_shift_weight * term.shift


def _read_in_pieces(term: str, pieces: int) -> bool:
    """Whether the model reads a term (of one word or several) in more pieces than words. A word
    longer than any corpus word counts too: past 100 characters the tokenizer reads it as one
    unknown-word token, which is not a word it knows."""
    words_ = term.split()
    return pieces > len(words_) or any(len(word) > MAX_WORD_CHARS for word in words_)


def _far(evidence: Evidence, settings: Settings) -> list[UnknownTerm]:
    """The unknown words without a near synonym in the corpus, in order."""
    return [term for term in evidence.unknown
            if term.similarity < _least_similarity(term, settings.term_similarity, evidence)]


def _least_similarity(term: UnknownTerm, threshold: float, evidence: Evidence) -> float:
    """How close an unknown term must come to some corpus word to count as a word for a covered thing."""
    return max(threshold, evidence.chance_similarity) if term.read_in_pieces else threshold


def _stems(phrase: str) -> tuple[str, ...]:
    return tuple(stem(phrase.split()))


def _drop_word(question: str, word: str) -> str:
    return re.sub(rf"\b{re.escape(word)}\b", " ", question, flags=re.IGNORECASE)


def _drop_words(question: str, words_: Sequence[str]) -> str:
    for word in words_:
        question = _drop_word(question, word)
    return question


def _phrases(question_words: Sequence[str], flagged: set[str], unknown: set[str]) -> tuple[str, ...]:
    """Each flagged word with the unknown words next to it: "pickle" -> "pickle juice"."""
    return tuple(" ".join(run) for run in _runs(question_words, unknown) if flagged & set(run))


def _runs(question_words: Sequence[str], unknown: set[str]) -> list[tuple[str, ...]]:
    """The runs of unknown words side by side, each once, in order."""
    runs: list[tuple[str, ...]] = []
    run: list[str] = []
    for word in [*question_words, ""]:
        if word in unknown:
            run.append(word)
            continue
        if run and tuple(run) not in runs:
            runs.append(tuple(run))
        run = []
    return runs
