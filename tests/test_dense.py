"""The fp16 scan with exact rescoring returns what an exact fp32 scan does (dense.py)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from guidesearch import dense
from guidesearch.dense import DenseIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def assert_exact_top_k(vectors: np.ndarray, query: np.ndarray, top_k: int) -> None:
    rows, scores = DenseIndex(vectors).top_k(query, top_k)
    brute = vectors.astype(np.float64) @ query.astype(np.float64)
    expected = np.sort(brute)[::-1][:min(top_k, len(vectors))]
    assert len(rows) == len(expected) == len(set(rows.tolist()))
    # Same scores as the exact scan; rows may differ only among scores equal to fp32 precision.
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    np.testing.assert_allclose(brute[rows], expected, atol=1e-5)
    assert np.all(np.diff(scores) <= 0)


@st.composite
def crowded_vectors(draw):
    """Unit vectors, many of them nearly the same (fp16 cannot tell them apart), some repeated."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    count = draw(st.integers(1, 400))
    dimension = draw(st.sampled_from([4, 16, 384]))
    base = rng.standard_normal(dimension)
    spread = draw(st.sampled_from([1e-5, 1e-3, 1.0]))
    rows = base + spread * rng.standard_normal((count, dimension))
    repeats = rng.integers(0, count, size=count // 4)
    rows[repeats] = rows[0]
    query = base + draw(st.sampled_from([0.0, 1e-4, 0.5])) * rng.standard_normal(dimension)
    return unit(rows), unit(query), draw(st.integers(1, count + 5))


@pytest.mark.parametrize("margin", [0, dense.MARGIN])
@settings(max_examples=60, deadline=None)
@given(case=crowded_vectors())
def test_top_k_is_the_exact_scan(margin, case):
    vectors, query, top_k = case
    saved, dense.MARGIN = dense.MARGIN, margin      # with no margin, near ties force deeper scans
    try:
        assert_exact_top_k(vectors, query, top_k)
    finally:
        dense.MARGIN = saved


def test_equal_scores_come_in_row_order():
    vectors = unit(np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]]))
    rows, scores = DenseIndex(vectors).top_k(np.array([1.0, 0.0], np.float32), 5)
    assert rows.tolist() == [1, 3, 4, 0, 2]
    np.testing.assert_allclose(scores, [1.0, 1.0, 0.6, 0.0, 0.0], atol=1e-6)


def test_empty_index_and_zero_k_return_nothing():
    empty = DenseIndex(np.zeros((0, 8), np.float32))
    assert empty.ntotal == 0 and empty.top_k(unit(np.ones(8)), 5)[0].size == 0
    assert DenseIndex(unit(np.ones((3, 8)))).top_k(unit(np.ones(8)), 0)[0].size == 0


def test_seed_index_top_k_equals_brute_force(seed_searcher, encoder):
    vectors = seed_searcher.index.vectors
    for question in ["why do my calves cramp at night", "vitamin B12", "TENS machine", "alcohol"]:
        query = encoder.encode([question])[0]
        rows, scores = seed_searcher.index.dense.top_k(query, 10)
        brute = vectors @ query
        expected = np.argsort(-brute, kind="stable")[:10]
        assert list(rows) == list(expected)
        np.testing.assert_allclose(scores, brute[expected], rtol=1e-5, atol=1e-6)


def test_a_question_faiss_cannot_rank_is_scored_exactly():
    vectors = unit(np.random.default_rng(0).standard_normal((500, 16)))
    for query in (np.zeros(16, np.float32), np.full(16, np.nan, np.float32)):
        rows, scores = DenseIndex(vectors).top_k(query, 10)
        assert len(rows) == 10 and len(set(rows.tolist())) == 10


def test_rows_longer_than_one_still_give_the_exact_top_k():
    """A corpus embedded without normalising: fp16 cannot tell 50.005 from 50.012, and the
    bound widens with the longest row so that the exact rescoring settles it."""
    base = unit(np.ones(16))
    vectors = np.repeat(base[None, :], 52, axis=0) * 50.005
    vectors[51] = base * 50.012
    saved, dense.MARGIN = dense.MARGIN, 0
    try:
        rows, _ = DenseIndex(vectors.astype(np.float32)).top_k(base, 1)
    finally:
        dense.MARGIN = saved
    assert rows[0] == 51
