"""The fusion formula on its own: ties, empty and constant input (bm25s tests tie order exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from guidesearch.fusion import fuse, order, reciprocal_rank_fusion


def test_convex_combination_of_cosine_and_scaled_bm25():
    fused = fuse(np.array([0.5, 0.2]), np.array([2.0, 4.0]), dense_weight=0.8)
    np.testing.assert_allclose(fused, [0.8 * 0.5 + 0.2 * 0.5, 0.8 * 0.2 + 0.2 * 1.0], rtol=1e-6)


def test_scaling_uses_the_best_bm25_of_the_whole_index_when_given():
    fused = fuse(np.array([0.0]), np.array([2.0]), dense_weight=0.5, lexical_best=8.0)
    np.testing.assert_allclose(fused, [0.5 * 0.25], rtol=1e-6)


def test_empty_input_gives_an_empty_result():
    assert fuse(np.array([]), np.array([]), 0.8).shape == (0,)
    assert order(np.array([])).shape == (0,)
    assert reciprocal_rank_fusion([]) == [] and reciprocal_rank_fusion([[], []]) == []


def test_no_lexical_match_leaves_the_dense_order():
    cosines = np.array([0.1, 0.7, 0.4])
    fused = fuse(cosines, np.zeros(3), dense_weight=0.8)
    np.testing.assert_allclose(fused, 0.8 * cosines, rtol=1e-6)
    assert list(order(fused)) == [1, 2, 0]


def test_constant_lexical_scores_add_the_same_to_every_candidate():
    fused = fuse(np.array([0.3, 0.6]), np.array([5.0, 5.0]), dense_weight=0.8)
    np.testing.assert_allclose(fused, [0.8 * 0.3 + 0.2, 0.8 * 0.6 + 0.2], rtol=1e-6)


def test_ties_keep_the_input_order():
    fused = fuse(np.array([0.5, 0.5, 0.5, 0.9]), np.array([1.0, 1.0, 1.0, 1.0]), dense_weight=0.5)
    assert list(order(fused)) == [3, 0, 1, 2]
    assert reciprocal_rank_fusion([[4, 7], [7, 4]]) == [4, 7]


def test_weights_at_the_ends_are_one_side_only():
    cosines, lexical = np.array([0.9, 0.1]), np.array([1.0, 3.0])
    assert list(order(fuse(cosines, lexical, 1.0))) == [0, 1]
    assert list(order(fuse(cosines, lexical, 0.0))) == [1, 0]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="2 cosines but 1 lexical"):
        fuse(np.array([0.1, 0.2]), np.array([1.0]), 0.5)


def test_reciprocal_rank_fusion_sums_over_rankings():
    assert reciprocal_rank_fusion([[1, 2, 3], [2, 3]], k=60) == [2, 3, 1]
