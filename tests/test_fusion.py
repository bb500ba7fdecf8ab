"""The fusion formula on its own: ties, empty and constant input (bm25s tests tie order exactly);
the BM25 ceiling the hybrid scale reads."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from guidesearch.config import Settings
from guidesearch.errors import SettingsError
from guidesearch.fusion import fuse, order, reciprocal_rank_fusion
from guidesearch.lexical import LexicalIndex


def test_convex_combination_of_cosine_and_scaled_bm25():
    fused = fuse(np.array([0.5, 0.2]), np.array([2.0, 4.0]), dense_weight=0.8)
    np.testing.assert_allclose(fused, [0.8 * 0.5 + 0.2 * 0.5, 0.8 * 0.2 + 0.2 * 1.0], rtol=1e-6)


def test_scaling_uses_the_scale_when_given():
    fused = fuse(np.array([0.0]), np.array([2.0]), dense_weight=0.5, lexical_scale=8.0)
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


def test_the_bm25_ceiling_is_the_sum_of_the_question_terms_idf():
    index = LexicalIndex.build(["cramps at night " + "magnesium " * 200, "night sweats", "leg cramps", "how from"])
    idf = lambda holding: math.log(1 + (4 - holding + 0.5) / (holding + 0.5))     # bm25s's Lucene IDF
    assert index.ceiling("magnesium") == pytest.approx(idf(1))
    # A term as often as the question holds it (BM25 scores it so); words the index lacks add nothing.
    assert index.ceiling("Magnesium, magnesium at night? zzz") == pytest.approx(2 * idf(1) + idf(2))
    # A text that repeats a term comes close to it.
    assert index.scores("magnesium")[0] == pytest.approx(idf(1), rel=0.05)
    assert index.ceiling("zzz") == index.ceiling("") == 0.0


WORDS = st.sampled_from("leg legs cramp cramps night magnesium how from the nerve nerves pain".split())


@hypothesis_settings(max_examples=200, deadline=None)
@given(texts=st.lists(st.lists(WORDS, max_size=30).map(" ".join), min_size=1, max_size=8),
       question=st.lists(WORDS, max_size=12).map(" ".join))
def test_no_text_scores_above_the_ceiling(texts, question):
    index = LexicalIndex.build(texts)
    assert (index.scores(question) <= index.ceiling(question) + 1e-5).all()


@pytest.mark.parametrize("floor", [-0.1, 1.5])
def test_a_floor_outside_0_to_1_is_refused_in_one_line(floor):
    with pytest.raises(SettingsError, match=f"lexical_floor={floor}: use a number from 0 to 1"):
        Settings(lexical_floor=floor)


def test_up_is_left_out_of_what_a_question_asks_bm25_and_other_particles_are_not():
    """"seize up" matched "check-ups" (bench/results/particles.md); "Down syndrome" needs its "down"."""
    lexical = LexicalIndex.build(["Regular medical check-ups help.", "Down syndrome is a condition."])
    assert not lexical.scores("seize up").any() and lexical.ceiling("seize up") == 0.0
    scores = lexical.scores("check up")
    assert scores[0] > 0 and scores[1] == 0          # "check" still counts
    scores = lexical.scores("down")
    assert scores[1] > 0 and scores[0] == 0
    assert lexical.scores("regular check-ups").argmax() == 0 and lexical.ceiling("check-ups") > lexical.ceiling("check")


@pytest.mark.parametrize("question, kept", [("seize up", "seize  "), ("Up all night", "  all night"),
                                            ("a check-up", "a check-up"), ("up-to-date", "up-to-date"),
                                            ("setup", "setup"), ("cramps? up", "cramps?  ")])
def test_only_a_particle_standing_alone_is_left_out(question, kept):
    from guidesearch.lexical import without_lone_particles
    assert without_lone_particles(question) == kept
