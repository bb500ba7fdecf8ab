"""How hybrid ranking scales BM25: by the best score over the index alone, or by at least a share
of the most any passage could score for the question's terms (Settings.lexical_floor).

Scaled by the best score alone, whatever passage BM25 likes most gets the full lexical weight,
even when all it shares with the question is a weak word: over the one seed guide, where "leg"
and "cramps" are in every passage and weigh nothing, "how do I keep leg cramps from coming back"
gave (over 256-token chunks) the full lexical weight to the FAQ whose heading starts "How long", and most of it to a
section for its "from". With a floor, a match on a few weak words counts as the partial match
it is.

The ceiling (LexicalIndex.ceiling) is the sum of the searched terms' IDF (related words
included), which a term's score approaches as a passage repeats it; a passage holding each term
once scores 0.4 of it at average length (tf / (tf + k1), k1 = 1.5), so 0.8 of a floor of 0.5.
So the floor binds unless the best passage repeats the question's rarer terms or is short: for
most short lay questions and long messages, seldom for MedQuAD's own wordings (the last table).
It cannot help when the one weak word is all the question holds that is rare. Over the seed
guide's 128-token chunks, "how do I stop getting leg cramps" (EXAMPLE) ranks the FAQ that starts
"How long" first without the floor, Preventing first with it.

The share is chosen on tuning sets only (the highest mean nDCG@10 over them; a tie goes to the
smaller share, the smaller change). The report sets are then measured once, off against the
choice.

    python bench/lexical_scale.py --out bench/results/lexical_scale.md

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, choice_report, emit, evaluate_with, study_sets  # noqa: E402
from guidesearch.focus import find_focus  # noqa: E402

SHARES = (0.0, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0)
METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")
EXAMPLE = "how do I stop getting leg cramps"


def figures(searcher, questions, share: float) -> dict:
    """Ranking figures of the searcher with this floor (0: off)."""
    return evaluate_with(searcher, questions, searcher.settings.with_(lexical_floor=share)).metrics()


def example(searcher, share: float) -> str:
    """The seed guide's top 3 sections for EXAMPLE with this floor."""
    copy = searcher.settings.with_(lexical_floor=share)
    hits = type(searcher)(copy, searcher.encoder, searcher.index, searcher.coverage,
                          searcher.fast_encoder).search(EXAMPLE, top_k=3, evidence=False).hits
    return "; ".join(f"{hit.rank}. {hit.chunk.headings[-1]}" for hit in hits)


def binding(searcher, questions, share: float, name: str) -> str:
    """A table line: the share of the questions with a BM25 match whose best score is below the
    floor, and the median of best / ceiling (for what search() searches: a long message's focus,
    repaired)."""
    ratios = []
    for question in questions:
        text = searcher.coverage.repair_spelling(find_focus(question.question, searcher.settings.focus_words))
        best = float(searcher.index.lexical.scores(text).max())
        if best > 0:
            ratios.append(best / searcher.index.lexical.ceiling(text))
    ratios = np.array(ratios)
    return f"| {name} | {(ratios < share).mean():.2f} | {np.median(ratios):.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    with study_sets() as (seed, medquad, tuning, report):
        lines = [f"Command: python bench/lexical_scale.py {' '.join(sys.argv[1:])}  ({{seconds}} s)", "",
                 "## Tuning sets: nDCG@10 by floor (share of the question's BM25 ceiling; 0 = off)", "",
                 "| floor | " + " | ".join(tuning) + " | mean |", "|---|" + "---|" * (len(tuning) + 1)]
        means = {}
        for share in SHARES:
            row = [figures(searcher, questions, share)["nDCG@10"] for searcher, questions in tuning.values()]
            means[share] = sum(row) / len(row)
            lines.append(f"| {share} | " + " | ".join(f"{x:.3f}" for x in row) + f" | {means[share]:.4f} |")
        chosen = max(means, key=lambda share: round(means[share], 4))    # ties: the first, the smaller share
        lines += ["", f"Chosen: {chosen}.", "", "## Report sets (never used for a choice)", "",
                  *choice_report(report, figures, (0.0, chosen), "floor", METRICS)]
        lines += ["", f"## How often the floor of {chosen} binds (tuning sets)", "",
                  "| questions | floor binds | median best / ceiling |", "|---|---|---|",
                  *(binding(searcher, questions, chosen, name) for name, (searcher, questions) in tuning.items())]
        lines += ["", f"## \"{EXAMPLE}\" over the seed guide: top 3", "",
                  f"- floor 0: {example(seed, 0.0)}", f"- floor {chosen}: {example(seed, chosen)}"]
    lines += ["", CREDIT]
    lines[0] = lines[0].replace("{seconds}", f"{time.time() - started:.0f}")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
