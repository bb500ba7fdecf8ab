"""The dense search of a question: a flat fp32 FAISS scan (what the index stores, and what the
search used before) against guidesearch.dense.DenseIndex (an fp16 scan, rescored exactly), on
the MedQuAD index with real development questions, one question at a time, interleaved.

    python bench/dense.py --out bench/results/dense.md     (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, emit, medquad_searcher, medquad_split  # noqa: E402
from guidesearch.backends import QUESTION_THREADS  # noqa: E402
from guidesearch.dense import DenseIndex  # noqa: E402
from guidesearch.retrieve import CANDIDATES  # noqa: E402

QUESTIONS = 300
WARM_UP = 20


def flat_top_k(flat, query: np.ndarray, top_k: int):
    faiss.omp_set_num_threads(QUESTION_THREADS)
    scores, rows = flat.search(query[None, :], top_k)
    return rows[0], scores[0]


def percentile(times: list[float], share: float) -> float:
    return 1000 * sorted(times)[int(share * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    searcher = medquad_searcher()
    vectors = searcher.index.vectors
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    started = time.perf_counter()
    dense = DenseIndex(vectors)
    load_ms = 1000 * (time.perf_counter() - started)
    tuning, held = medquad_split()
    questions = [q.question for q in random.Random(5).sample(tuning + held, QUESTIONS)]
    queries = searcher.encoder.encode(questions)
    times = {"flat fp32 (before)": [], "DenseIndex fp16 + exact rescoring": []}
    same_rows = same_order = 0
    worst = 0.0
    for number, query in enumerate(queries):
        timed = {}
        for name, search in zip(times, (lambda q: flat_top_k(flat, q, CANDIDATES),
                                        lambda q: dense.top_k(q, CANDIDATES))):
            begun = time.perf_counter()
            timed[name] = search(query)
            if number >= WARM_UP or len(queries) <= WARM_UP:
                times[name].append(time.perf_counter() - begun)
        (rows_a, scores_a), (rows_b, scores_b) = timed.values()
        same_rows += set(rows_a.tolist()) == set(rows_b.tolist())
        same_order += rows_a.tolist() == rows_b.tolist()
        worst = max(worst, float(np.abs(scores_a - scores_b).max()))
    baseline = percentile(times["flat fp32 (before)"], 0.5)
    lines = [f"Command: python bench/dense.py {' '.join(sys.argv[1:])}", "",
             f"Load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}. "
             f"{len(vectors):,} MedQuAD passages, {len(queries)} development questions "
             f"(first {WARM_UP} not timed), top {CANDIDATES}, {QUESTION_THREADS} thread.", "",
             "| search | p50 ms | p95 ms | p50 ratio to flat |", "|---|---|---|---|"]
    for name, measured in times.items():
        lines.append(f"| {name} | {percentile(measured, 0.5):.2f} | {percentile(measured, 0.95):.2f} "
                     f"| {percentile(measured, 0.5) / baseline:.2f} |")
    lines += ["", f"- Same top {CANDIDATES} rows as the flat scan: {same_rows} of {len(queries)} questions; "
                  f"in the same order: {same_order}; largest score difference {worst:.1e}.",
              f"- Building the fp16 copy when the index is opened: {load_ms:.0f} ms.", "", CREDIT]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
