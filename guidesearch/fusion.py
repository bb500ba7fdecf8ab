"""How hybrid ranking combines the dense and the lexical score: one pure function.

The benchmark that chose the formula (bench/fusion.py) calls these same functions.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def fuse(cosines: np.ndarray, lexical: np.ndarray, dense_weight: float,
         lexical_scale: float | None = None) -> np.ndarray:
    """Convex combination of the dense cosine and the scaled BM25 score.

    Args:
        cosines: dense cosine of each candidate, in [-1, 1].
        lexical: BM25 score of the same candidates (0 when no question term occurs).
        dense_weight: weight of the cosine, from 0 (BM25 only) to 1 (dense only).
        lexical_scale: what BM25 scores are divided by (default: the best over the candidates);
            Searcher passes the best over the whole index, or more (Settings.lexical_floor).
            Scaling keeps scores comparable between questions.

    Returns:
        One fused score per candidate. With no positive BM25 score, the lexical part is 0.
    """
    cosines = np.asarray(cosines, dtype=np.float32)
    lexical = np.asarray(lexical, dtype=np.float32)
    if cosines.shape != lexical.shape:
        raise ValueError(f"{cosines.shape[0]} cosines but {lexical.shape[0]} lexical scores")
    best = float(lexical.max()) if lexical_scale is None and lexical.size else float(lexical_scale or 0.0)
    scaled = lexical / best if best > 0 else np.zeros_like(lexical)
    return dense_weight * cosines + (1.0 - dense_weight) * scaled


def order(scores: np.ndarray) -> np.ndarray:
    """Positions by score, best first; equal scores keep their input order."""
    return np.argsort(-np.asarray(scores), kind="stable")


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = 60) -> list[int]:
    """Rows ranked by the sum of 1 / (k + rank) over the rankings they appear in (RRF).

    Measured against `fuse` in bench/fusion.py; ties keep the order of first appearance.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, 1):
            scores[int(row)] = scores.get(int(row), 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda row: -scores[row])
