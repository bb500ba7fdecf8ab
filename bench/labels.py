"""How often a hit with each of the page's match labels ("strong", "partial", "weak": see
SearchResult.match_of) answers the question, on development questions.

The labels were chosen on the tuning questions: the first half of the seed questions
(tests/data/seed_questions.jsonl, by line) and the MedQuAD dev sample bench/fusion.py tuned on
(random.Random(0), 2,000 questions); the candidate partial-match gaps are shown for them. The
report questions, never used for the choice: the other half of the seed questions and 1,000
other MedQuAD dev questions.

    python bench/labels.py --out bench/results/labels.md   (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import answerable, emit, medquad_split, seed_searcher  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.evaluate import evaluate  # noqa: E402
from guidesearch.records import PARTIAL_GAP, STRONG  # noqa: E402
from guidesearch.retrieve import open_searcher  # noqa: E402

LABELS = ("strong", "partial", "weak")
GAPS = (0.02, 0.05, 0.1, 0.2)


def labelled(report) -> list[tuple[str, float, float]]:
    """(label, gap to the best hit's cosine, relevant 0/1) for every scored hit."""
    return [(outcome.result.match_of(hit), outcome.result.hits[0].cosine - hit.cosine,
             1.0 if outcome.grade_of(hit.chunk) else 0.0)
            for outcome in report.answerable for hit in outcome.result.hits]


def share(rows) -> str:
    return f"{sum(r[2] for r in rows) / len(rows):.3f} ({len(rows)})" if rows else "– (0)"


def label_row(name: str, rows) -> str:
    return f"| {name} | " + " | ".join(share([r for r in rows if r[0] == label]) for label in LABELS) + " |"


def gap_row(name: str, rows) -> str:
    later = [r for r in rows if r[0] != STRONG]
    return f"| {name} | " + " | ".join(share([r for r in later if r[1] <= gap]) for gap in GAPS) + " |"


def run(searcher, questions):
    return labelled(evaluate(questions, lambda t: searcher.search(t, top_k=10, evidence=False),
                             searcher.index.chunks, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    seed = answerable(ROOT / "tests" / "data" / "seed_questions.jsonl")
    seed_tune, seed_report = seed[: len(seed) // 2], seed[len(seed) // 2:]
    medquad_tune, medquad_held = medquad_split()
    medquad_report = random.Random(1).sample(medquad_held, 1000)
    with tempfile.TemporaryDirectory() as base:
        searcher = seed_searcher(Path(base))
        seed_rows = run(searcher, seed_tune), run(searcher, seed_report)
    searcher = open_searcher(settings=Settings.from_env(index_dir=ROOT / "bench" / "work" / "medquad-index"))
    medquad_rows = run(searcher, medquad_tune), run(searcher, medquad_report)
    lines = [f"Command: python bench/labels.py {' '.join(sys.argv[1:])}", "",
             "Share of hits with each label that are relevant (hits), top 10 of each answerable question, "
             f"hybrid mode, partial gap {PARTIAL_GAP}:", "",
             "| questions | strong | partial | weak |", "|---|---|---|---|",
             label_row("seed, tuning half", seed_rows[0]), label_row("seed, report half", seed_rows[1]),
             label_row("MedQuAD dev, tuning 2,000", medquad_rows[0]),
             label_row("MedQuAD dev, report 1,000", medquad_rows[1]), "",
             "Choosing the partial gap (tuning questions): relevant share of the hits below the best within each gap:",
             "", "| questions | " + " | ".join(f"≤ {gap}" for gap in GAPS) + " |", "|---|" + "---|" * len(GAPS),
             gap_row("seed, tuning half", seed_rows[0]), gap_row("MedQuAD dev, tuning 2,000", medquad_rows[0]),
             "", "MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0. Its questions name "
             "one relevant section each, so other sections that also answer count as not relevant there."]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
