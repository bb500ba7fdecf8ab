"""Long consumer messages: searching the whole message against searching its focus (subject
line and question sentences, each question of a several-question message also on its own;
guidesearch/focus.py), for several word-count thresholds (Settings.focus_words).

Tuning: bench/data/consumer_dev.jsonl. Report, never used for the choice: the consumer questions
(bench/data/consumer_questions.jsonl, disjoint guides), the seed questions in new wordings
(tests/data/seed_reworded.jsonl, long ones included), and 1,000 held-apart MedQuAD dev questions
(short and templated: the focus must leave them alone). Full hybrid search, as shipped.

    python bench/focus.py --out bench/results/focus.md    (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, answerable, emit, medquad_searcher, medquad_split, metrics_table, ranking_figures, seed_searcher  # noqa: E402
from guidesearch.config import Settings  # noqa: E402

THRESHOLDS = (0, 15, 25, 40)
METRICS = ("nDCG@10", "Hit@1", "Hit@3", "Hit@10", "MRR@10")


def figures(searcher, questions, focus_words: int) -> dict:
    tuned = dataclasses.replace(searcher, settings=dataclasses.replace(searcher.settings, focus_words=focus_words))
    return ranking_figures(tuned, questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    held = random.Random(2).sample(medquad_split()[1], 1000)
    searcher = medquad_searcher()
    sets = {"consumer dev 36 (tuning)": (searcher, answerable(ROOT / "bench" / "data" / "consumer_dev.jsonl")),
            "consumer 54 (report)": (searcher, answerable(ROOT / "bench" / "data" / "consumer_questions.jsonl")),
            "MedQuAD dev 1,000 held apart (report)": (searcher, held)}
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        sets["seed reworded (report)"] = (seed, answerable(ROOT / "tests" / "data" / "seed_reworded.jsonl"))
        rows = {(name, words): figures(s, questions, words) for name, (s, questions) in sets.items()
                for words in THRESHOLDS}
    lines = [f"Command: python bench/focus.py {' '.join(sys.argv[1:])}  ({time.time() - started:.0f} s)", "",
             "focus_words 0 = the whole message is searched (before). Shipped: "
             f"{Settings().focus_words}.", "", *metrics_table(rows, "focus_words", METRICS), "", CREDIT]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
