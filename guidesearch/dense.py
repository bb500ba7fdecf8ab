"""Exact nearest passages by inner product, at half the memory traffic of a flat scan.

A question's FAISS search over MedQuAD's 28,441 passages is bound by reading their vectors (44 MB
in fp32, 2.0 ms per question). The vectors are scanned in fp16 instead (22 MB, 0.7 ms), and the
best of that scan are scored again exactly in fp32. The result is the flat scan's, provably: an
fp16 copy of a unit vector moves its inner product with a unit question by at most FP16_ERROR, so
once the k-th exact score beats the last scanned candidate's fp16 score by twice that, no passage
outside the candidates can enter the top k; otherwise the scan goes deeper. (bench/dense.py)
"""

from __future__ import annotations

import numpy as np

from guidesearch.backends import QUESTION_THREADS

# fp16 keeps 11 significant bits: each component of a unit vector moves by at most 2**-11 of
# itself, so an inner product with a unit question by at most 2**-11 (Cauchy-Schwarz); doubled
# for the fp32 sums' own rounding, and for questions a little off unit length.
FP16_ERROR = 2.0 ** -10
# Candidates scanned beyond the k asked for, to be scored exactly: with 50, every one of 300
# MedQuAD questions had its top 100 settled in the first scan.
MARGIN = 50


class DenseIndex:
    """The passage vectors (row i is chunk i), searched by exact inner product, best first."""

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ntotal, self.d = self.vectors.shape
        # The bound below is for unit vectors; rows a little longer (float rounding, or a
        # corpus embedded without normalising) widen it in proportion.
        self._longest = max(1.0, float(np.linalg.norm(self.vectors, axis=1).max())) if self.ntotal else 1.0
        self._scan = faiss.IndexScalarQuantizer(self.d, faiss.ScalarQuantizer.QT_fp16,
                                                faiss.METRIC_INNER_PRODUCT)
        if self.ntotal:
            self._scan.add(self.vectors)

    def top_k(self, query: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """The top_k rows by inner product with query, and their fp32 scores: best first,
        equal scores in row order."""
        import faiss
        top_k = min(top_k, self.ntotal)
        if top_k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        # One question: a second OpenMP thread doubles FAISS's time. Set on every call: a build
        # in the same process may have changed it.
        faiss.omp_set_num_threads(QUESTION_THREADS)
        length = float(np.linalg.norm(query))
        bound = 2 * FP16_ERROR * max(1.0, length) * self._longest
        depth = top_k + MARGIN if np.isfinite(length) and length > 0 else self.ntotal   # else: exact
        while depth < self.ntotal:
            approximate, rows = self._scan.search(query[None, :], depth)
            if (rows[0] < 0).any():     # FAISS could not rank every candidate (a row not finite)
                break
            rows, approximate = rows[0], approximate[0]
            exact = self.vectors[rows] @ query
            order = np.lexsort((rows, -exact))[:top_k]
            if exact[order[-1]] >= approximate[-1] + bound:
                return rows[order].astype(np.int64), exact[order].astype(np.float32)
            depth *= 4
        # Every passage is a candidate: score them all exactly.
        exact = self.vectors @ query
        order = np.lexsort((np.arange(self.ntotal), -exact))[:top_k]
        return order.astype(np.int64), exact[order].astype(np.float32)
