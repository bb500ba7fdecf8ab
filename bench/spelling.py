"""Spelling repair: what repairing typing slips before the model reads the question earns, and
what the two-slip repair of long words adds (guidesearch/lexical.py SpellingIndex).

Variants, each the full hybrid search as shipped otherwise:
- "BM25 only, one slip" (before): the model reads the question as typed; BM25 reads it with
  one-slip repairs.
- "model and BM25, one slip": both read the repaired question.
- "model and BM25, two slips for long words": both read the repaired question, words the
  model reads whole repaired too (shipped until a later session of 2026-11-27).
- "... words read whole kept" (shipped): a word the model reads as one piece is not repaired.

Then every repair the two-slip variant makes over all question files (tests/data, bench/data),
split by whether the model reads the typed word whole (one word piece) or in pieces: what the
last variant keeps as typed. Last, the compounds typed joined that the shipped search splits
as the corpus writes them ("checkups" -> "check-ups"): of the variants above only the last
(shipped) splits them. Last, the repairs that change when, of corpus words as near, the
commonest wins (shipped) rather than the closest in length ("strok": stroke, not stork).

Tuning: none (the choice was made on consumer_dev and the seed questions' tuning half, below).
Report: the seed questions in new wordings (odd lines, never tuned on), the consumer messages
and 1,000 held-apart MedQuAD dev questions.

    python bench/spelling.py --out bench/results/spelling.md    (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, MEDQUAD, answerable, emit, medquad_split, metrics_table, ranking_figures, seed_searcher  # noqa: E402
from guidesearch import lexical  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.embed import content_tokens  # noqa: E402
from guidesearch.evaluate import read_questions  # noqa: E402
from guidesearch.retrieve import open_searcher  # noqa: E402
from guidesearch.text import FUNCTION_WORDS, WORD  # noqa: E402

METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")
VARIANTS = ("BM25 only, one slip (before)", "model and BM25, one slip", "model and BM25, two slips for long words",
            "model and BM25, two slips for long words, words read whole kept (shipped)")


class _RepairingLexical:
    """The index's BM25, repairing the question itself: the searcher no longer does it first."""

    def __init__(self, lexical_index, repair) -> None:
        self._lexical, self._repair = lexical_index, repair

    def __getattr__(self, name):
        return getattr(self._lexical, name)

    def scores(self, text):
        return self._lexical.scores(self._repair(text))


@contextmanager
def variant(searcher, name: str):
    """The searcher as it searches in one variant."""
    check = searcher.coverage
    one_slip = dataclasses.replace(searcher)
    long_word = lexical.LONG_WORD
    if name in VARIANTS[:2]:
        lexical.LONG_WORD = 10 ** 6          # the two-slip fallback never applies
    if name != VARIANTS[3]:                 # words the model reads whole are repaired too
        check._correction = lambda word, compound=True: None if lexical.stem([word])[0] in check.corpus_terms \
            else check.spelling.correct(word)
    try:
        if name == VARIANTS[0]:
            repair = check.repair_spelling
            check.repair_spelling = lambda text: text        # on this instance only
            one_slip.index = dataclasses.replace(searcher.index, lexical=_RepairingLexical(searcher.index.lexical, repair))
            try:
                yield one_slip
            finally:
                del check.repair_spelling
        else:
            yield searcher
    finally:
        lexical.LONG_WORD = long_word
        check.__dict__.pop("_correction", None)


def figures(searcher, questions, name: str) -> dict:
    with variant(searcher, name) as searching:
        return ranking_figures(searching, questions)


def repairs(searcher, questions) -> dict[bool, set[tuple[str, str]]]:
    """The repairs the two-slip variant makes, (typed, searched) in lower case, by whether the
    model reads the typed word whole."""
    found: dict[bool, set[tuple[str, str]]] = {True: set(), False: set()}
    with variant(searcher, VARIANTS[2]) as searching:
        for question in questions:
            for typed, searched in searching.coverage.spelling_repairs(question.question):
                whole = content_tokens(searcher.encoder, [typed.lower()])[0] == 1
                found[whole].add((typed.lower(), searched))
    return found


def compounds(searcher, questions) -> set[tuple[str, str]]:
    """The compounds typed joined that the shipped search splits as the corpus writes them
    ("checkups" -> "check-ups"), (typed, searched) in lower case."""
    return {(typed.lower(), searched) for question in questions
            for typed, searched in searcher.coverage.spelling_repairs(question.question)
            if "-" in searched and "-" not in typed}


def repairs_lines(found: dict[bool, set[tuple[str, str]]]) -> list[str]:
    lines = []
    for whole, title in ((True, "read whole (kept as typed now)"), (False, "read in pieces (repaired)")):
        pairs = sorted(found[whole])
        lines += [f"Words the model {title}: {len(pairs)} different repairs.", "",
                  ", ".join(f"{typed} -> {searched}" for typed, searched in pairs), ""]
    return lines


def commonness_changes(searchers, questions) -> list[str]:
    """Each repair of a word the model reads in pieces that differs when the closest length
    decides among words as near rather than the commonest (as shipped): every word of every
    question given, against each index: "index: typed: by length -> shipped"."""
    words = sorted({match.group(0).lower() for q in questions for match in WORD.finditer(q.question)})
    changed = []
    for name, searcher in searchers.items():
        by_length = lexical.SpellingIndex(w for w in searcher.index.vocabulary.words if w not in FUNCTION_WORDS)
        for word in words:
            if lexical.stem([word])[0] in searcher.coverage.corpus_terms or content_tokens(searcher.encoder, [word])[0] == 1:
                continue
            before, after = by_length.correct(word), searcher.coverage.spelling.correct(word)
            if before != after:
                changed.append(f"{name}: {word}: {before} -> {after}")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    medquad = open_searcher(settings=Settings.from_env(index_dir=ROOT / "bench" / "work" / "medquad-index"))
    reworded = answerable(ROOT / "tests" / "data" / "seed_reworded.jsonl")
    typos = [q for q in reworded[1::2] if q.group == "typo"]
    sets = {"consumer dev 36 (tuning)": (medquad, answerable(ROOT / "bench" / "data" / "consumer_dev.jsonl")),
            "consumer 54 (report)": (medquad, answerable(ROOT / "bench" / "data" / "consumer_questions.jsonl")),
            "MedQuAD dev 1,000 held apart (report)": (medquad, random.Random(2).sample(medquad_split()[1], 1000))}
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        sets["seed reworded, even lines 46 (tuning)"] = (seed, reworded[0::2])
        sets["seed reworded, odd lines 45 (report)"] = (seed, reworded[1::2])
        sets["seed reworded, odd lines, typo style 6 (report)"] = (seed, typos)
        rows = {(name, v): figures(s, questions, v) for name, (s, questions) in sets.items() for v in VARIANTS}
        seed_questions = [q for path in sorted((ROOT / "tests" / "data").glob("seed_*.jsonl")) for q in read_questions(path)]
        found = repairs(seed, seed_questions)
        joined = compounds(seed, seed_questions)
        every = seed_questions + [q for path in sorted((ROOT / "bench" / "data").glob("*.jsonl"))
                                  for q in read_questions(path)] + read_questions(MEDQUAD)
        commonest = commonness_changes({"seed": seed, "MedQuAD": medquad}, every)
    medquad_questions = [q for path in sorted((ROOT / "bench" / "data").glob("*.jsonl")) for q in read_questions(path)]
    for whole, pairs in repairs(medquad, medquad_questions).items():
        found[whole] |= pairs
    joined |= compounds(medquad, medquad_questions + medquad_split()[0] + medquad_split()[1])
    lines = [f"Command: python bench/spelling.py {' '.join(sys.argv[1:])}  ({time.time() - started:.0f} s)", "",
             *metrics_table(rows, "repair", METRICS), "",
             "Repairs over every question file (the seed guide's questions over it, bench/data's over MedQuAD):", "",
             *repairs_lines(found),
             f"Compounds typed joined, searched as the corpus writes them (shipped; MedQuAD's {len(medquad_questions)} "
             f"bench/data questions and 7,202 dev questions included): {len(joined)} different.", "",
             ", ".join(f"{typed} -> {searched}" for typed, searched in sorted(joined)), "",
             "Of corpus words as near, the commonest wins (shipped) rather than the closest in length: the "
             f"repairs that differ, every word of every question file against each index ({len(commonest)}; "
             "index: typed: by length -> shipped):", "", *(f"- {line}" for line in commonest), "", CREDIT]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
