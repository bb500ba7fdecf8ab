"""Retrieval quality on the seed guide with the real model: the product's main promise."""

from __future__ import annotations

import pytest

from guidesearch.evaluate import evaluate, read_questions

from conftest import DATA

SEED_QUESTIONS = DATA / "seed_questions.jsonl"
OUT_OF_SCOPE = DATA / "seed_out_of_scope.jsonl"


@pytest.fixture(scope="module")
def seed_report(seed_searcher):
    questions = read_questions(SEED_QUESTIONS)
    return evaluate(questions, lambda q: seed_searcher.search(q, top_k=10), seed_searcher.index.chunks)


def test_seed_question_file_is_big_and_varied_enough():
    questions = read_questions(SEED_QUESTIONS)
    assert len(questions) >= 60
    styles = {q.group for q in questions}
    assert {"wording", "paraphrase", "lay", "typo", "keyword"} <= styles
    assert all(q.evidence for q in questions)


def test_seed_retrieval_meets_the_targets(seed_report):
    print("\n" + seed_report.format())
    figures = seed_report.metrics()
    assert figures["Hit@1"] >= 0.8
    assert figures["Hit@3"] >= 0.95


def test_every_style_is_served(seed_report):
    for style, outcomes in seed_report.by_group(seed_report.answerable).items():
        assert seed_report.metrics(outcomes)["Hit@5"] >= 0.85, style


def test_hybrid_is_at_least_as_good_as_either_pure_mode(seed_searcher):
    questions = read_questions(SEED_QUESTIONS)
    chunks = seed_searcher.index.chunks
    ndcg = {mode: evaluate(questions, lambda q: seed_searcher.search(q, top_k=10, mode=mode), chunks)
            .metrics()["nDCG@10"] for mode in ("dense", "lexical", "hybrid")}
    print(ndcg)
    assert ndcg["hybrid"] >= max(ndcg["dense"], ndcg["lexical"])


def test_out_of_scope_questions_are_flagged_and_answerable_ones_are_not(seed_searcher, seed_report):
    questions = read_questions(OUT_OF_SCOPE)
    assert len(questions) >= 40
    report = evaluate(questions, lambda q: seed_searcher.search(q, top_k=10), seed_searcher.index.chunks)
    kinds = report.by_group(report.unanswerable)
    assert set(kinds) == {"unrelated", "near-miss"} and min(len(v) for v in kinds.values()) >= 20
    unrelated = report.flagged_share(kinds["unrelated"])
    near_miss = report.flagged_share(kinds["near-miss"])
    wrongly = seed_report.flagged_share(seed_report.answerable)
    print(f"\nflagged not covered: unrelated {unrelated:.3f}, near-miss {near_miss:.3f}; "
          f"answerable wrongly flagged {wrongly:.3f}")
    assert unrelated >= 0.95
    assert near_miss >= 0.60
    assert wrongly <= 0.03


def test_near_miss_names_what_the_guides_do_not_mention(seed_searcher):
    result = seed_searcher.search("Is pickle juice good for leg cramps?")
    assert not result.covered
    assert result.missing_terms == ("pickle juice",)
    assert result.message == 'The guides don\'t mention "pickle juice"; the closest passages are below.'
    assert result.hits, "the closest passages are still shown"
    surgery = seed_searcher.search("Can surgery cure neuropathy?")
    assert surgery.missing_terms == ("surgery",)


@pytest.mark.parametrize("question", ["why do my shins cramp at night?", "tingly toes and leg cramps",
                                      "nerve zaps in my legs", "muscle spasms in my calves"])
def test_lay_words_for_covered_things_do_not_trip_the_check(seed_searcher, question):
    result = seed_searcher.search(question)
    assert result.covered, result.missing_terms


def test_unrelated_question_is_not_covered(seed_searcher):
    result = seed_searcher.search("How long should I boil an egg?")
    assert not result.covered
    assert "don't" in result.message


def test_exact_names_are_found_first(seed_searcher):
    for name, heading in [("TENS", "Alternative Therapies"), ("pregabalin", "Medications"),
                          ("nerve conduction studies", "Diagnosing Neuropathy-Induced Leg Cramps")]:
        result = seed_searcher.search(name)
        assert result.covered and result.hits[0].heading == heading, name


REWORDED = DATA / "seed_reworded.jsonl"
NEAR_MISSES_REWORDED = DATA / "seed_near_misses_reworded.jsonl"


def test_new_wordings_never_tuned_on_hold_up(seed_searcher):
    """The seed questions and near misses in new wordings (written after the ranking and the
    check were tuned, never tuned on). Their odd lines are the held-out half: any later tuning
    may use the even lines only. Floors sit just under today's figures (Hit@1 0.889, Hit@3 0.933
    on the held-out half; near misses 0.509 flagged there): issue 12's targets (Hit@1 0.90, Hit@3 0.99,
    80% of near misses at <= 3% wrongly flagged) are not reached yet."""
    held_out = read_questions(REWORDED)[1::2]
    assert len(held_out) >= 40 and len({q.group for q in held_out}) >= 6
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(held_out, ask, seed_searcher.index.chunks)
    figures = report.metrics()
    near = evaluate(read_questions(NEAR_MISSES_REWORDED)[1::2], ask, seed_searcher.index.chunks)
    flagged = near.flagged_share(near.unanswerable)
    print(f"\nreworded, held-out half: Hit@1 {figures['Hit@1']:.3f}, Hit@3 {figures['Hit@3']:.3f}; "
          f"near misses reworded flagged {flagged:.3f}")
    assert figures["Hit@1"] >= 0.85
    assert figures["Hit@3"] >= 0.90
    assert flagged >= 0.40
