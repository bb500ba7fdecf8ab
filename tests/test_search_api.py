"""The Python API and the page-facing behaviour on awkward questions, with the real model."""

from __future__ import annotations

import pytest

from guidesearch.errors import QuestionError


def test_search_returns_traceable_hits(seed_searcher):
    result = seed_searcher.search("why do my calves cramp at night?", top_k=3)
    assert [hit.rank for hit in result.hits] == [1, 2, 3]
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    for hit in result.hits:
        assert hit.source == "does-neuropathy-cause-leg-cramps.txt"
        assert hit.title == "Does Neuropathy Cause Leg Cramps" and hit.headings[0] == hit.title
        assert hit.text in (seed_searcher.settings.corpus_dir / hit.source).read_text(encoding="utf-8")


@pytest.mark.parametrize("question", ["", "   ", "?!?"])
def test_empty_or_punctuation_questions_raise_a_clear_error(seed_searcher, question):
    with pytest.raises(QuestionError):
        seed_searcher.search(question)


@pytest.mark.parametrize("question", ["🦵💥😖", "ночные судороги ног", "足がつる", "<script>alert(1)</script>",
                                      "leg\x00cramps\x07", "'; DROP TABLE guides; --",
                                      "cramps \ud800 at night", "cramps \udcff at night"])    # lone surrogates: JSON, a raw byte in argv
def test_odd_questions_get_a_normal_answer(seed_searcher, question):
    result = seed_searcher.search(question)
    assert len(result.hits) == seed_searcher.settings.top_k
    assert isinstance(result.covered, bool)


def test_very_long_question_is_cut_to_what_the_model_reads(seed_searcher, encoder):
    result = seed_searcher.search("why do my legs cramp at night " * 20_000)
    assert result.truncated
    assert encoder.count_tokens([result.question])[0] <= encoder.max_tokens
    assert result.hits


def test_modes_are_selectable(seed_searcher):
    for mode in ("dense", "lexical", "hybrid"):
        assert seed_searcher.search("gabapentin", mode=mode).hits[0].heading == "Medications"


def test_a_question_one_token_over_the_limit_is_cut_counting_special_tokens(seed_searcher, encoder):
    question = "痛" * (encoder.max_tokens - 1)          # one token per character, plus [CLS] and [SEP]
    assert encoder.count_tokens([question])[0] > encoder.max_tokens
    result = seed_searcher.search(question)
    assert result.truncated
    assert encoder.count_tokens([result.question])[0] <= encoder.max_tokens


@pytest.mark.parametrize("question", ["Is pickle juice good for leg cramps?", "What is gabapentin used for?",
                                      "how do I bake sourdough bread", "tonic water for night cramps?",
                                      "vitamin B12 deficiency", "crmaps in my calfs"])
def test_not_covered_is_the_same_in_every_ranking_mode(seed_searcher, question):
    verdicts = {mode: seed_searcher.search(question, mode=mode) for mode in ("dense", "lexical", "hybrid")}
    assert len({(r.covered, r.missing_terms) for r in verdicts.values()}) == 1, verdicts
    if question.startswith("Is pickle"):
        assert not verdicts["lexical"].covered


def test_every_hit_names_its_evidence_word_for_word(seed_searcher):
    result = seed_searcher.search("does drinking alcohol damage nerves", top_k=5)
    folded = lambda text: " ".join(text.split())    # noqa: E731 -- a table's lines are re-joined
    assert all(hit.evidence and folded(hit.evidence.text) in folded(hit.text) for hit in result.hits)
    assert any(hit.evidence.text.startswith("Alcohol Abuse") for hit in result.hits)
    assert result.to_dict()["hits"][0]["evidence"]["text"] == result.hits[0].evidence.text
    bare = seed_searcher.search("does drinking alcohol damage nerves", top_k=5, evidence=False)
    assert all(hit.evidence is None for hit in bare.hits)
    assert [hit.chunk for hit in bare.hits] == [hit.chunk for hit in result.hits]


def test_match_labels_follow_rank_gap_and_coverage():
    from guidesearch.records import PARTIAL_GAP, Chunk, Hit, SearchResult
    chunk = Chunk("id", "a.md", "A", ("A",), "Text.")
    hits = (Hit(1, 0.9, 0.70, chunk), Hit(2, 0.8, 0.70 - PARTIAL_GAP + 0.001, chunk), Hit(3, 0.7, 0.60, chunk))
    covered = SearchResult("q", hits, covered=True)
    assert [covered.match_of(hit) for hit in hits] == ["strong", "partial", "weak"]
    assert [hit["match"] for hit in covered.to_dict()["hits"]] == ["strong", "partial", "weak"]
    uncovered = SearchResult("q", hits, covered=False)
    assert {uncovered.match_of(hit) for hit in hits} == {"weak"}


def test_lexical_ranking_with_no_word_of_the_question_says_there_is_nothing_to_show(seed_searcher):
    result = seed_searcher.search("qwxyz blorf", mode="lexical")
    assert result.hits == () and not result.covered
    assert result.message == 'The guides don\'t mention "qwxyz blorf"; no passage holds its words.'
