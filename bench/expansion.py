"""Query expansion: a key word the corpus lacks also searches BM25 for the corpus word closest
in meaning ("workouts" -> "exercise", "advil" -> "ibuprofen", "everyday" -> "daily"), when it is
closer than made-up words come by chance and one of the passages nearest the question holds it
(guidesearch/coverage.py, CoverageCheck.related_words).

Only questions of fewer than 25 words are expanded: expanding every message was measured too,
and lost on the tuning sets (mean nDCG@10 0.8918 at 0.6, against 0.8935, measured before BM25
had its floor), as a long message's story words bring their own neighbours ("found" -> "find").

The threshold (Settings.expansion_similarity) and how many nearest passages must hold the word
(retrieve.RELATED_DEPTH) are chosen on tuning sets only: the highest mean nDCG@10 over them, a
tie going to the higher threshold, then the fewer passages. The report sets are then measured
once, off against the choice. Last, what made-up words and brand names the corpus lacks would
bring, over MedQuAD's large vocabulary, where many words are spelt alike.

    python bench/expansion.py --out bench/results/expansion.md

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, choice_report, emit, evaluate_with, study_sets  # noqa: E402
from guidesearch import coverage, retrieve  # noqa: E402

THRESHOLDS = (1.0, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45)
DEPTHS = (3, 10, 30)
METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")
# Names the guides lack (brands, slang, made up), in short questions.
STRANGERS = ("wegovy side effects", "is ozempic safe", "can i take mounjaro with metformin",
             "zzzxq blorf", "my grandad has sugar diabetes", "lyrica for nerve pain", "is fosamax safe")


def figures(searcher, questions, threshold: float) -> dict:
    """Ranking figures of the searcher with this expansion threshold (1: off)."""
    return evaluate_with(searcher, questions, searcher.settings.with_(expansion_similarity=threshold)).metrics()


def strangers(*searchers_and_names) -> list[str]:
    """Lines: for each searcher, the share of 100 short questions about made-up words that bring
    any related word, and what each of STRANGERS brings."""
    lines = ["| corpus | questions | bring a related word | examples |", "|---|---|---|---|"]
    for searcher, name in zip(searchers_and_names[::2], searchers_and_names[1::2]):
        brought: list[tuple[str, ...]] = []
        check = searcher.coverage
        related = check.related_words
        check.related_words = lambda *args: brought.append(related(*args)) or brought[-1]
        try:
            made_up = [f"what is {word} treatment" for word in coverage._made_up_words(100, seed=1)]     # not those chance is measured on
            counted = []
            for question in made_up:
                brought.clear()
                searcher.search(question, top_k=10, evidence=False)
                counted.append(any(brought))
            examples = []
            for question in STRANGERS:
                brought.clear()
                searcher.search(question, top_k=10, evidence=False)
                examples.append(f"{question} -> {', '.join(w for found in brought for w in found) or '-'}")
        finally:
            del check.related_words
        lines.append(f"| {name} | 100 made-up words | {sum(counted)} | {'; '.join(examples)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    with study_sets() as (seed, medquad, tuning, report):
        lines = [f"Command: python bench/expansion.py {' '.join(sys.argv[1:])}  ({{seconds}} s)", "",
                 f"Made-up words come this close to some corpus word by chance (90th percentile of 100): seed "
                 f"{seed.coverage.chance_similarity:.3f}, MedQuAD {medquad.coverage.chance_similarity:.3f}.", "",
                 "## Tuning sets: nDCG@10 by threshold (1.0 = off) and nearest passages that must hold the word", "",
                 "| threshold | passages | " + " | ".join(tuning) + " | mean |", "|---|---|" + "---|" * (len(tuning) + 1)]
        means = {}
        for threshold in THRESHOLDS:
            for depth in DEPTHS[:1] if threshold == 1.0 else DEPTHS:
                retrieve.RELATED_DEPTH = depth
                row = [figures(searcher, questions, threshold)["nDCG@10"] for searcher, questions in tuning.values()]
                means[threshold, depth] = sum(row) / len(row)
                lines.append(f"| {threshold} | {depth} | " + " | ".join(f"{x:.3f}" for x in row)
                             + f" | {means[threshold, depth]:.4f} |")
        # Ties (to 4 places) go to the higher threshold, then the fewer passages: the order of means.
        chosen, depth = max(means, key=lambda key: round(means[key], 4))
        retrieve.RELATED_DEPTH = depth
        lines += ["", f"Chosen: threshold {chosen}, {depth} passages.", "", "## Report sets (never used for a choice)", "",
                  *choice_report(report, figures, (1.0, chosen), "threshold", METRICS)]
        lines += ["", "## What names the guides lack bring (chosen settings)", "",
                  *strangers(seed, "seed", medquad, "MedQuAD")]
    lines += ["", CREDIT]
    lines[0] = lines[0].replace("{seconds}", f"{time.time() - started:.0f}")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
