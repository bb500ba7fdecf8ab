"""Calibrate the "not covered" thresholds on development question sets.

    python bench/coverage.py --index DIR ANSWERABLE.jsonl [OUT_OF_SCOPE.jsonl] [--sample N]

Measures each question's coverage evidence once (best cosine; each unknown key word's similarity
to the corpus vocabulary, and its gain and shift when dropped), then prints, for a grid of thresholds,
the share of answerable questions wrongly flagged and the share of each kind of out-of-scope
question flagged.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guidesearch.config import Settings  # noqa: E402
from guidesearch.coverage import Verdict, decide  # noqa: E402
from guidesearch.evaluate import read_questions  # noqa: E402
from guidesearch.retrieve import Searcher, open_searcher  # noqa: E402

GRID = {"min_cosine": (0.2, 0.25, 0.3, 0.35), "term_similarity": (0.55, 0.6, 0.65, 0.7),
        "min_term_weight": (0.2, 0.25, 0.3, 0.35, 0.4)}


def collect(searcher: Searcher, questions) -> list:
    """(question, evidence) for every question, measured on the real search path."""
    captured = []
    check = searcher.coverage

    def capture(evidence, asked=()):
        captured.append(dataclasses.replace(evidence, asked=tuple(asked)))
        return Verdict(True)

    check.judge = capture          # on this instance only, for the length of the loop
    try:
        for question in questions:
            searcher.search(question.question, evidence=False)
    finally:
        del check.judge
    return list(zip(questions, captured))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=0, help="sample this many answerable questions per file")
    args = parser.parse_args()
    base = Settings.from_env(index_dir=args.index)
    searcher = open_searcher(settings=base)
    groups: dict[str, list] = {}
    for path in args.files:
        questions = read_questions(path)
        if args.sample and len(questions) > args.sample:
            questions = random.Random(0).sample(questions, args.sample)
        for question, evidence in collect(searcher, questions):
            label = question.group if question.expect_none else f"answerable ({path.name})"
            groups.setdefault(label, []).append(evidence)
    names = sorted(groups)
    print(f"index {args.index}; " + ", ".join(f"{name}: {len(groups[name])}" for name in names))
    print("| min_cosine | term_similarity | min_term_weight | " + " | ".join(f"flagged: {n}" for n in names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for values in itertools.product(*GRID.values()):
        settings = base.with_(**dict(zip(GRID, values)))
        shares = [sum(not decide(e, settings).covered for e in groups[n]) / len(groups[n]) for n in names]
        marker = " (default)" if values == (base.min_cosine, base.term_similarity, base.min_term_weight) else ""
        print(f"| {values[0]} | {values[1]} | {values[2]}{marker} | " + " | ".join(f"{s:.3f}" for s in shares) + " |")


if __name__ == "__main__":
    main()
