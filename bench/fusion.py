"""Choose the hybrid fusion by measurement: sweep the convex weight and compare with reciprocal
rank fusion, on development question sets only.

    python bench/fusion.py --index DIR QUESTIONS.jsonl [--sample N]

Every question is embedded once; each fusion is then ranked from the same dense and BM25 scores.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guidesearch.config import Settings  # noqa: E402
from guidesearch.evaluate import evaluate, read_questions  # noqa: E402
from guidesearch.fusion import fuse, order, reciprocal_rank_fusion  # noqa: E402
from guidesearch.records import Hit, SearchResult  # noqa: E402
from guidesearch.retrieve import CANDIDATES, Searcher, open_searcher  # noqa: E402

WEIGHTS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def rank_all(searcher: Searcher, text: str) -> dict[str, np.ndarray]:
    """Rankings (rows, best first) of every fusion for one question, from the candidates and
    scores the product's hybrid ranking uses (spelling repair included)."""
    query = searcher.encoder.encode([text])[0]
    depth = min(CANDIDATES, searcher.index.dense.ntotal)
    dense_rows, _ = searcher.index.dense.top_k(query, depth)
    found = searcher.hybrid_candidates(query, dense_rows, searcher.lexical_scores(text), searcher.coverage.repair_spelling(text))
    rankings = {f"convex w={w}": found.rows[order(fuse(found.cosines, found.lexical, w, found.lexical_scale))]
                for w in WEIGHTS}
    for k in (10, 60):
        rankings[f"RRF k={k}"] = np.array(reciprocal_rank_fusion([dense_rows, found.lexical_rows], k=k))
    return rankings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=0)
    args = parser.parse_args()
    settings = Settings.from_env(index_dir=args.index)
    searcher = open_searcher(settings=settings)
    questions = read_questions(args.questions)
    questions = [q for q in questions if not q.expect_none]
    if args.sample and args.sample < len(questions):
        questions = random.Random(0).sample(questions, args.sample)
    rankings = {q.question: rank_all(searcher, q.question) for q in questions}
    chunks = searcher.index.chunks
    print(f"{args.questions} ({len(questions)} questions), index {args.index}")
    print("| fusion | Hit@1 | Hit@5 | Hit@10 | Recall@10 | MRR@10 | nDCG@10 |\n|---|---|---|---|---|---|---|")
    for name in next(iter(rankings.values())):
        def ask(text: str, name: str = name) -> SearchResult:
            hits = tuple(Hit(i, 0.0, 0.0, chunks[row]) for i, row in enumerate(rankings[text][name][:10], 1))
            return SearchResult(text, hits, True)
        m = evaluate(questions, ask, chunks).metrics()
        print(f"| {name} | {m['Hit@1']:.3f} | {m['Hit@5']:.3f} | {m['Hit@10']:.3f} | {m['Recall@10']:.3f} | "
              f"{m['MRR@10']:.3f} | {m['nDCG@10']:.3f} |")


if __name__ == "__main__":
    main()
