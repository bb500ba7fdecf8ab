"""Spelling repair and the coverage decision, on small real inputs."""

from __future__ import annotations

from guidesearch.config import Settings
from guidesearch.coverage import Evidence, UnknownTerm, decide
from guidesearch.lexical import SpellingIndex

SPELLING = SpellingIndex(["cramps", "prevent", "neuropathy", "symptoms", "pain", "does", "stretching",
                          "exercise", "gabapentin", "anticonvulsants", "hyperthyroidism"])


def test_one_slip_is_repaired():
    assert SPELLING.correct("crmaps") == "cramps"          # swapped neighbours
    assert SPELLING.correct("prevnt") == "prevent"         # a letter left out
    assert SPELLING.correct("neuropathey") == "neuropathy"  # a letter too many
    assert SPELLING.correct("simptoms") == "symptoms"      # a letter changed
    assert SPELLING.correct("streching") == "stretching"
    assert SPELLING.correct("pian") == "pain"              # four letters: a swap only


def test_long_words_are_repaired_across_two_slips():
    assert SPELLING.correct("exersize") == "exercise"          # two letters changed
    assert SPELLING.correct("nueropahty") == "neuropathy"      # two swaps
    assert SPELLING.correct("gabapentine") == "gabapentin"     # one slip, as before
    assert SPELLING.correct("anticonvulsnts") == "anticonvulsants"
    assert SPELLING.correct("hypothyroidism") == "hyperthyroidism"   # two slips: the limit
    assert SPELLING.correct("hypothyroidsm") is None           # three
    assert SPELLING.correct("exrcize") is None                 # under LONG_WORD letters: one slip only
    assert SPELLING.correct("exerrcize") == "exercise"         # long enough for two
    assert SPELLING.correct("pxercize") is None                # two slips keep the first letter


def test_short_or_distant_words_are_not_repaired():
    assert SPELLING.correct("toes") is None                # "does" is one change away, too risky
    assert SPELLING.correct("cbd") is None
    assert SPELLING.correct("quinine") is None


def evidence(best_cosine: float, key_words: tuple[str, ...], *unknown: UnknownTerm) -> Evidence:
    return Evidence(key_words, key_words, best_cosine, unknown)


def test_missing_term_needs_both_low_similarity_and_a_gain():
    settings = Settings()
    pickle = UnknownTerm("pickle", 0.36, 0.058)
    juice = UnknownTerm("juice", 0.56, -0.002)
    verdict = decide(Evidence(("pickle", "juice", "leg", "cramps"), ("pickle", "juice", "leg", "cramps"), 0.55,
                              (pickle, juice)), settings)
    assert not verdict.covered and verdict.missing_terms == ("pickle juice",)
    booze = UnknownTerm("booze", 0.70, 0.092)      # close to "alcohol": a lay word
    zaps = UnknownTerm("zaps", 0.40, -0.009)       # the passages answer better with it
    assert decide(evidence(0.5, ("booze", "nerves"), booze), settings).covered
    assert decide(evidence(0.5, ("zaps", "nerves"), zaps), settings).covered


def test_far_question_is_not_covered_unless_all_its_words_are_corpus_terms():
    settings = Settings()
    assert not decide(evidence(0.1, ("boil", "egg"), UnknownTerm("boil", 0.44, -0.02),
                               UnknownTerm("egg", 0.41, 0.02)), settings).covered
    assert decide(evidence(0.07, ("pregabalin",)), settings).covered     # a bare keyword of the guide
