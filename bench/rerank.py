"""Sentence-level reranking (issue 12), tried and not shipped: the best RERANK_DEPTH passages of
the hybrid ranking, reordered by `weight` times how much closer to the question their best
sentence (or list item) is than the whole passage, with the current model. No cross-encoder
ships inside a pip package with its weights, so this is the stronger scorer in reach. It lives
here, not in guidesearch/: on the report sets it gained nothing (bench/results/rerank.md), and
embedding the sentences of five passages costs more than the whole search's latency budget.

Tuning: the seed questions (original) and the even lines of the new wordings, consumer_dev, and
300 of the MedQuAD tuning split. Report: the odd lines of the new wordings, the consumer report
set, and 1,000 held-apart MedQuAD dev questions.

    python bench/rerank.py --out bench/results/rerank.md     (needs bench/work/medquad-index)

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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, answerable, emit, medquad_split, metrics_table, ranking_figures, seed_searcher  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.highlight import EVIDENCE_CHARS, blocks_of  # noqa: E402
from guidesearch.retrieve import open_searcher  # noqa: E402

RERANK_DEPTH = 5

WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")


def sentence_match(searcher, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each passage, the cosine of its sentence or list item closest to the question (the
    searcher's sentence vectors, which the evidence step shares)."""
    units = [[unit[:EVIDENCE_CHARS] for block in blocks_of(searcher.index.chunks[row].text) for unit in block.units]
             or [searcher.index.chunks[row].text[:EVIDENCE_CHARS]] for row in rows]
    cosines = searcher.unit_vectors.of([unit for passage in units for unit in passage]) @ query
    ends = np.cumsum([len(passage) for passage in units])
    return np.array([cosines[end - len(passage):end].max() for passage, end in zip(units, ends)])


def reranking(searcher, weight: float):
    """A copy of the searcher whose hybrid ranking is reranked."""
    copy = dataclasses.replace(searcher)
    if not weight:
        return copy
    rank = copy._rank

    def reranked(text, query, dense, mode, top_k, related=()):
        rows, scores = rank(text, query, dense, mode, top_k, related)
        head = min(RERANK_DEPTH, len(rows))
        scores = scores.copy()
        cosines = searcher.index.vectors[rows[:head]] @ query
        scores[:head] += weight * (sentence_match(searcher, rows[:head], query) - cosines)
        new = np.argsort(-scores, kind="stable")
        return rows[new], scores[new]

    copy._rank = reranked           # on this copy only
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    medquad = open_searcher(settings=Settings.from_env(index_dir=ROOT / "bench" / "work" / "medquad-index"))
    tuning, held = medquad_split()
    data = ROOT / "tests" / "data"
    reworded = answerable(data / "seed_reworded.jsonl")
    sets = {"consumer dev 36 (tuning)": (medquad, answerable(ROOT / "bench" / "data" / "consumer_dev.jsonl")),
            "MedQuAD tuning split, 300 (tuning)": (medquad, random.Random(7).sample(tuning, 300)),
            "consumer 54 (report)": (medquad, answerable(ROOT / "bench" / "data" / "consumer_questions.jsonl")),
            "MedQuAD held apart, 1,000 (report)": (medquad, random.Random(2).sample(held, 1000))}
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        sets["seed original 72 (tuning)"] = (seed, answerable(data / "seed_questions.jsonl"))
        sets["seed new wordings, even lines 46 (tuning)"] = (seed, reworded[0::2])
        sets["seed new wordings, odd lines 45 (report)"] = (seed, reworded[1::2])
        rows = {(name, w): ranking_figures(reranking(s, w), questions)
                for name, (s, questions) in sets.items() for w in WEIGHTS}
    lines = [f"Command: python bench/rerank.py {' '.join(sys.argv[1:])}  ({time.time() - started:.0f} s)", "",
             "weight 0 = no reranking (what ships).", "", *metrics_table(rows, "weight", METRICS), "", CREDIT]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
