"""Retrieval quality on the seed guide with the real model: the product's main promise."""

from __future__ import annotations

import dataclasses

import pytest

from guidesearch.build import build_index
from guidesearch.config import DEFAULT_MODEL, Settings
from guidesearch.coverage import MAX_UNKNOWN_WORDS
from guidesearch.evaluate import evaluate, read_questions
from guidesearch.retrieve import Searcher

from conftest import DATA, make_corpus
from question_sets import KNOWN_SHARED, same_wording, seed_report_files, seed_report_questions, seed_tuning_questions

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


def test_long_sections_are_cut_to_what_the_model_was_trained_on(seed_searcher, encoder):
    """all-MiniLM-L6-v2 was trained on 128 tokens: cut to that, a list item of a long section
    is no longer averaged with all the others. Both sections that suggest meditation come first;
    at 256 tokens, Alternative Therapies, which does not, came first (bench/results/chunk_size.md)."""
    chunks = seed_searcher.index.chunks
    assert seed_searcher.settings.max_tokens == 128
    assert max(encoder.count_tokens([chunk.embed_text for chunk in chunks])) <= 128
    assert len({chunk.headings for chunk in chunks}) < len(chunks)     # some sections are cut
    hits = seed_searcher.search("can meditation help my nerve pain", top_k=3).hits
    assert all("meditation" in hit.text.lower() for hit in hits[:2]), [hit.chunk.headings for hit in hits]


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
    quinine = seed_searcher.search("Does quinine help with neuropathy leg cramps?")
    assert quinine.missing_terms == ("quinine",)


def test_a_topic_of_several_words_is_named_whole(seed_searcher):
    """Each word of "apple cider vinegar" moves the question little; the three together carry
    it (tests/data/seed_phrases_dev.jsonl, a tuning set)."""
    result = seed_searcher.search("is apple cider vinegar good for neuropathy?")
    assert not result.covered and result.missing_terms == ("apple cider vinegar",)
    assert seed_searcher.search("can a sports massage help cramps from nerve damage").covered


def test_the_check_counts_the_pieces_the_model_reads_a_word_as(seed_searcher):
    """With the real tokenizer: a word it knows is one piece, a long rare name several, and the
    evidence carries the vocabulary's chance closeness for decide() to compare with."""
    check = seed_searcher.coverage
    question = "is myocerebrohepatopathy or a nephew linked to leg cramps?"
    vectors = seed_searcher.encoder.encode([question, *check.probes(question)])
    measured = check.evidence(question, vectors[0], 0.5, seed_searcher.index.vectors[:3], vectors[1:])
    pieces = {term.word: term.pieces for term in measured.unknown}
    assert pieces["nephew"] == 1 and pieces["myocerebrohepatopathy"] > 3
    assert measured.chance_similarity == check.chance_similarity


def test_a_covered_question_names_the_words_the_guides_never_use(seed_searcher):
    """Near misses the check leaves covered (the topic weighs too little to flag them) showed
    their best passage as a strong match with nothing to say that no passage names the topic
    ("compression socks", found in tests/data/seed_blind_dev.jsonl). The reader is now told,
    when the word weighs min_note_weight; "compression socks" weighs less."""
    stenosis = seed_searcher.search("Can spinal stenosis cause leg cramps?", top_k=3, evidence=False)
    assert stenosis.covered and stenosis.unmatched_terms == ("stenosis",)
    plain = seed_searcher.search("What causes neuropathy-induced leg cramps?", top_k=3, evidence=False)
    assert plain.covered and plain.unmatched_terms == ()
    socks = "do compression socks help with cramps in the calves"
    assert seed_searcher.search(socks, top_k=3, evidence=False).unmatched_terms == ()
    check = seed_searcher.coverage
    kept, check.settings = check.settings, check.settings.with_(min_note_weight=0.25)
    try:
        assert seed_searcher.search(socks, top_k=3, evidence=False).unmatched_terms == ("compression socks",)
        seize = seed_searcher.search("why do my calves seize up at night?", top_k=3, evidence=False)
        assert seize.unmatched_terms == ("seize",)      # not "calves seize": "calves" is close to "legs"
    finally:
        check.settings = kept


def test_a_lay_word_also_searches_the_corpus_word_closest_in_meaning(seed_searcher):
    """The guide says "exercise", the reader "workouts": BM25 looks for both. (tests/data/
    seed_reworded.jsonl rw-035, a tuning line: the exercise advice in Lifestyle Modifications
    ranked 5th without it.)"""
    check = seed_searcher.coverage
    question = "what kind of workouts are ok if my legs cramp from nerve damage?"
    vectors = seed_searcher.encoder.encode([question, *check.probes(question)])
    measured = check.evidence(question, vectors[0], 0.5, seed_searcher.index.vectors[:3], vectors[1:])
    assert [(term.word, term.closest) for term in measured.unknown] == [("workouts", "exercise")]
    assert check.chance_similarity < 0.5        # 0.41: over the guide's 381 words made-up words come no closer
    result = seed_searcher.search(question, top_k=3, evidence=False)
    assert result.hits[0].chunk.headings[-1] == "Lifestyle Modifications"
    assert result.related_terms == ("exercise",) and result.to_dict()["related_terms"] == ["exercise"]
    assert result.related_note == 'Also searched for the guides\' word "exercise".'
    assert seed_searcher.search(question, top_k=3, mode="dense").related_terms == ()     # BM25 is not asked
    advil = seed_searcher.search("does advil help with cramps from nerve damage", top_k=1)
    assert advil.related_terms == ("ibuprofen",)
    assert "ibuprofen" in advil.hits[0].evidence.text      # the best answer is the one naming it
    off = seed_searcher.settings.with_(expansion_similarity=1.0)
    kept, check.settings = check.settings, off
    try:
        plain = dataclasses.replace(seed_searcher, settings=off).search(question, top_k=3, evidence=False)
        assert plain.hits[0].chunk.headings[-1] != "Lifestyle Modifications"
    finally:
        check.settings = kept


def test_a_match_on_weak_words_alone_is_not_a_full_lexical_match(seed_searcher):
    # Over the one guide "leg" and "cramps" are in every passage and weigh nothing in BM25, so its
    # best match for this question is the FAQ heading that starts "How long": scaled by the best
    # score alone that took the full lexical weight and came first (bench/results/lexical_scale.md).
    question = "how do I stop getting leg cramps"
    lexical = seed_searcher.index.lexical
    query = seed_searcher.encoder.encode([question])[0]
    dense_rows = seed_searcher.index.dense.top_k(query, 10)[0]
    ceiling = lexical.ceiling(question)
    assert lexical.scores(question).max() < 0.5 * ceiling
    candidates = seed_searcher.hybrid_candidates(query, dense_rows, lexical.scores(question), question)
    assert candidates.lexical_scale == pytest.approx(seed_searcher.settings.lexical_floor * ceiling)
    faq = "How long does it typically take"
    assert seed_searcher.search(question, top_k=3).hits[0].chunk.headings[-1].startswith("Preventing")
    off = dataclasses.replace(seed_searcher, settings=seed_searcher.settings.with_(lexical_floor=0.0))
    assert off.hybrid_candidates(query, dense_rows, lexical.scores(question), question).lexical_scale \
        == pytest.approx(lexical.scores(question).max())
    assert off.search(question, top_k=3).hits[0].chunk.headings[-1].startswith(faq)
    # A passage holding each of the question's words once scores 0.4 of the ceiling at average
    # length in bm25s's scoring (tf / (tf + k1), k1 1.5), so 0.8 of the lexical weight; this
    # short one more.
    named = "Transcutaneous Electrical Nerve Stimulation"
    best = lexical.scores(named).max()
    assert best / seed_searcher.hybrid_candidates(query, dense_rows, lexical.scores(named), named).lexical_scale > 0.8


def test_the_words_searched_for_a_lay_word_count_in_the_bm25_ceiling(seed_searcher, monkeypatch):
    searched = []
    candidates = seed_searcher.hybrid_candidates
    monkeypatch.setattr(seed_searcher, "hybrid_candidates",
                        lambda *args: searched.append(args[3]) or candidates(*args))
    result = seed_searcher.search("does advil help with cramps from nerve damage", top_k=3, evidence=False)
    assert result.related_terms == ("ibuprofen",)
    assert searched == ["does advil help with cramps from nerve damage ibuprofen"]


# Since issue 12 a lay word that carries a short question is flagged when no corpus word is
# close to it: "why do my shins cramp at night?" (shins), "is there a machine that zaps the
# nerves" (machine zaps), "can heavy boozing cause leg cramps" and "jelly legs" were answered
# before and are not now. That is the price of the near misses in new wordings flagged (0.526
# -> 0.860 on the held-out half, bench/results/coverage_general.md).
@pytest.mark.parametrize("question", ["tingly toes and leg cramps", "muscle spasms in my calves",
                                      "can too much booze mess up the nerves in your legs?",
                                      "why do my calves seize up at night?", "calf cramps at night",
                                      # The people of a story (found by adversarial testing):
                                      "my wife gets leg cramps at night, what helps?",
                                      "my aunt swears by stretching for leg cramps",
                                      "my 16 year old son gets leg cramps, is it neuropathy?"])
def test_lay_words_for_covered_things_do_not_trip_the_check(seed_searcher, question):
    result = seed_searcher.search(question)
    assert result.covered, result.missing_terms


def test_unknown_words_that_carry_a_question_together_are_named(seed_searcher):
    """Dropping "coffee" leaves "caffeine" to carry the question, and the other way round: each
    weighs little alone, the two together much (Evidence.together)."""
    result = seed_searcher.search("does coffee n caffeine make neuropathy leg cramps worse")
    assert not result.covered and result.missing_terms == ("coffee", "caffeine")
    apart = dataclasses.replace(seed_searcher, settings=seed_searcher.settings.with_(min_together_weight=10.0))
    seed_searcher.coverage.settings, kept = apart.settings, seed_searcher.coverage.settings
    try:
        assert apart.search("does coffee n caffeine make neuropathy leg cramps worse").covered
    finally:
        seed_searcher.coverage.settings = kept


def test_a_compound_typed_joined_is_found_as_the_guide_writes_it(seed_searcher):
    """The guide says "regular check-ups" and "well-being": typed joined, they were named missing."""
    result = seed_searcher.search("how often should I get checkups for my neuropathy")
    assert result.covered and result.spelling == (("checkups", "check-ups"),)
    assert "check-ups" in result.hits[0].text
    assert seed_searcher.search("does neuropathy affect your wellbeing").covered


def test_every_spelling_repair_is_reported_once_with_the_word_as_typed(seed_searcher):
    assert seed_searcher.search("can neuropaty cause leg crmaps, Neuropaty?").spelling == (
        ("neuropaty", "neuropathy"), ("crmaps", "cramps"))
    assert seed_searcher.search("why do my calves cramp at night?").spelling == ()


@pytest.mark.parametrize("question", ["can a text message cause cramps", "is that a thing with nerve damage?",
                                      "are my leg cramps connected to neuropathy?",
                                      "what are the symptoms of Peters plus syndrome?"])
def test_a_word_the_model_reads_whole_is_not_repaired_into_another(seed_searcher, question):
    """Each was one slip from a guide word ("massage", "thin", "conducted", "peers") and searched
    as it (bench/results/spelling.md)."""
    result = seed_searcher.search(question)
    assert result.spelling == () and result.question == question


def test_misspelt_medical_words_in_a_long_message_are_repaired(seed_searcher):
    message = ("Hello, my mom has diabetic neuropaty and her doctor put her on gabapentine, but the cramps "
               "in her legs at night are still bad and keep her awake. What other medicatons could help "
               "her? Thanks so much")
    assert seed_searcher.coverage.repair_spelling(message).count("neuropathy") == 1
    assert "medications could help" in seed_searcher.coverage.repair_spelling(message)
    result = seed_searcher.search(message)
    assert result.covered and result.hits[0].heading == "Medications"
    assert result.focus.startswith("What other medicatons could help her?")     # what was searched, as typed


def test_a_question_of_made_up_words_is_judged_on_a_bounded_number_of_them(seed_searcher):
    made_up = " ".join(f"zyx{a}{b}qv" for a in "bdfhjlnprt" for b in "aeiou")     # 50 words
    assert len(seed_searcher.coverage.unknown_words(made_up)) == MAX_UNKNOWN_WORDS
    assert len(seed_searcher.coverage.probes(made_up)) == 2 * MAX_UNKNOWN_WORDS + 2       # and their run as a phrase
    assert not seed_searcher.search(made_up).covered


def test_a_long_messages_questions_are_judged_on_a_bounded_number_of_words(seed_searcher):
    made_up = [" ".join(f"zyx{a}{b}qv" for b in "aeiou") for a in "bdfhjl"]
    message = "My legs cramp at night and my feet are numb. " * 3 + " ".join(f"Does {w} help?" for w in made_up)
    judged = seed_searcher._questions_evidence(message)
    assert 1 <= len(judged) <= 3 and sum(len(evidence.unknown) for evidence in judged) <= MAX_UNKNOWN_WORDS


def test_unrelated_question_is_not_covered(seed_searcher):
    result = seed_searcher.search("How long should I boil an egg?")
    assert not result.covered
    assert "don't" in result.message


def test_exact_names_are_found_first(seed_searcher):
    for name, heading in [("TENS", "Alternative Therapies"), ("pregabalin", "Medications"),
                          ("nerve conduction studies", "Diagnosing Neuropathy-Induced Leg Cramps")]:
        result = seed_searcher.search(name)
        assert result.covered and result.hits[0].heading == heading, name


def test_the_guides_own_question_is_answered_by_its_opening_first(seed_searcher):
    """The seed guide's title asks "does neuropathy cause leg cramps", and its lead section
    answers that; the section on the causes answers "why" (intent.heading_intents)."""
    assert seed_searcher.search("does neuropathey cause leg crmaps").hits[0].chunk.headings == (
        "Does Neuropathy Cause Leg Cramps",)
    assert seed_searcher.search("how come my legs cramp at night, why?").hits[0].heading == \
        "Causes of Neuropathy-Induced Leg Cramps"


def test_a_phrasal_verbs_particle_does_not_pick_the_section(seed_searcher):
    """The project's own example: "up" of "seize up" was its one rare BM25 term, held only by
    "check-ups", and put "Preventing ..." first (bench/results/particles.md)."""
    hits = seed_searcher.search("why do my calves seize up at night?").hits
    assert hits[0].heading != "Preventing Neuropathy-Induced Leg Cramps"
    assert "Causes of Neuropathy-Induced Leg Cramps" in [hit.heading for hit in hits[:3]]


REWORDED = DATA / "seed_reworded.jsonl"
NEAR_MISSES_REWORDED = DATA / "seed_near_misses_reworded.jsonl"


def test_new_wordings_never_tuned_on_hold_up(seed_searcher):
    """The seed questions and near misses in new wordings (written after the ranking and the
    check were tuned). Their odd lines are the held-out half: any tuning since uses the even
    lines only. Floors sit just under today's figures on the held-out half (Hit@1 0.867, Hit@3
    0.956; near misses 0.860 flagged with 0.022 of answerable questions wrongly flagged). Of
    issue 12's targets here, 80% of near misses is reached; Hit@1 0.90 and Hit@3 0.99 are not.
    128-token chunks, chosen on the tuning sets, moved Hit@3 up from 0.933 and Hit@1 down from
    0.911 (bench/results/chunk_size.md)."""
    held_out = read_questions(REWORDED)[1::2]
    assert len(held_out) >= 40 and len({q.group for q in held_out}) >= 6
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(held_out, ask, seed_searcher.index.chunks)
    figures = report.metrics()
    wrongly = report.flagged_share(report.answerable)
    near = evaluate(read_questions(NEAR_MISSES_REWORDED)[1::2], ask, seed_searcher.index.chunks)
    flagged = near.flagged_share(near.unanswerable)
    print(f"\nreworded, held-out half: Hit@1 {figures['Hit@1']:.3f}, Hit@3 {figures['Hit@3']:.3f}, "
          f"wrongly flagged {wrongly:.3f}; near misses reworded flagged {flagged:.3f}")
    assert figures["Hit@1"] >= 0.85
    assert figures["Hit@3"] >= 0.95
    assert flagged >= 0.80
    assert wrongly <= 0.03


def test_the_issues_targets_over_every_seed_report_set_pooled(seed_searcher):
    """Every seed question kept for reporting, once, less those worded as in a tuning set
    (tests/question_sets.py seed_report_questions): issue 12 asks 80% of near misses flagged at most 3%
    of answerable questions wrongly flagged, and Hit@1 0.90, Hit@3 0.99. 2026-11-27, floors just
    under: 134 of 165 near misses flagged (0.812), 4 of 281 answerable questions wrongly flagged
    (0.014), Hit@1 0.897, Hit@3 0.954: the coverage target is reached, the ranking ones are not.
    2026-11-28, with seed_blind_report_3 (same ranking): 156 of 193 flagged (0.808), 7 of 340
    wrongly (0.021), Hit@1 0.897, Hit@3 0.956."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(seed_report_questions(DATA), ask, seed_searcher.index.chunks)
    figures = report.metrics()
    flagged, wrongly = report.flagged_share(report.unanswerable), report.flagged_share(report.answerable)
    print(f"\nseed report sets pooled: Hit@1 {figures['Hit@1']:.3f}, Hit@3 {figures['Hit@3']:.3f} of "
          f"{len(report.answerable)}; near misses flagged {flagged:.3f} of {len(report.unanswerable)}, "
          f"answerable wrongly flagged {wrongly:.3f}")
    assert flagged >= 0.80 and wrongly <= 0.03
    assert figures["Hit@1"] >= 0.88 and figures["Hit@3"] >= 0.94


def test_no_seed_report_question_is_worded_as_a_tuning_one():
    """Sets written apart meet on the plainest wordings ("Does neuropathy cause leg cramps?"):
    found by review in the two blind sets, which were then cut to share none (the report set
    lost 12 questions, the dev set 4). Three older ones are known (KNOWN_SHARED) and left out
    of the pooled report figures; any new one fails here."""
    tuned = {same_wording(q.question) for q in seed_tuning_questions()}
    for name, questions in seed_report_files().items():
        shared = {same_wording(q.question) for q in questions} & tuned
        assert shared <= KNOWN_SHARED, f"{name} shares wordings with a tuning set: {sorted(shared - KNOWN_SHARED)}"
    assert KNOWN_SHARED <= tuned


def test_long_messages_never_tuned_on_hold_up(seed_searcher):
    """Long messages (a story, then the question), written after the check was designed and
    never tuned on: 15 of 20 near misses flagged (0.750; 0.350 before their questions were
    judged alone), none of the 10 answerable ones, and those ranked as well as short ones."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(read_questions(DATA / "seed_long_messages.jsonl"), ask, seed_searcher.index.chunks)
    figures = report.metrics()
    flagged = report.flagged_share(report.unanswerable)
    print(f"\nlong messages: near misses flagged {flagged:.3f}, answerable wrongly flagged "
          f"{report.flagged_share(report.answerable):.3f}, Hit@3 {figures['Hit@3']:.3f}")
    assert len(report.unanswerable) == 20 and len(report.answerable) == 10
    assert flagged >= 0.70
    assert report.flagged_share(report.answerable) == 0.0
    assert figures["Hit@3"] >= 0.90


def test_fresh_questions_written_after_every_choice_hold_up(seed_searcher):
    """tests/data/seed_fresh_report.jsonl: written after the last threshold was chosen and
    committed before it was first measured. Then: 25 of 30 near misses flagged (0.833; 0.533
    with the rule before issue 12), none of 25 answerable ones; Hit@3 0.920 (0.960 with
    128-token chunks)."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(read_questions(DATA / "seed_fresh_report.jsonl"), ask, seed_searcher.index.chunks)
    flagged = report.flagged_share(report.unanswerable)
    print(f"\nfresh questions: near misses flagged {flagged:.3f}, answerable wrongly flagged "
          f"{report.flagged_share(report.answerable):.3f}, Hit@3 {report.metrics()['Hit@3']:.3f}")
    assert len(report.unanswerable) == 30 and len(report.answerable) == 25
    assert flagged >= 0.80
    assert report.flagged_share(report.answerable) <= 0.04
    assert report.metrics()["Hit@3"] >= 0.88


def test_stories_and_formal_questions_tuned_on_hold_up(seed_searcher):
    """tests/data/seed_long_formal_dev.jsonl: written by a session that saw only the guide, then
    tuned on (bench/coverage_general.py): a floor under today's figures, not evidence. Then:
    Hit@1 0.950, Hit@3 0.975, 29 of 40 near misses flagged, none of 40 answerable."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(read_questions(DATA / "seed_long_formal_dev.jsonl"), ask, seed_searcher.index.chunks)
    assert report.metrics()["Hit@1"] >= 0.92 and report.metrics()["Hit@3"] >= 0.95
    assert report.flagged_share(report.unanswerable) >= 0.70
    assert report.flagged_share(report.answerable) <= 0.03


def test_blind_questions_in_six_styles_hold_up(seed_searcher):
    """tests/data/seed_blind_report.jsonl: written by a session that saw only the guide,
    committed before first measured, never tuned on. Then: Hit@1 0.950, Hit@3 0.975 of 40
    answerable (1 wrongly flagged), 21 of 30 near misses flagged; 25 of 30 since unknown words
    are also weighed together (Evidence.together), the issue's 80% at most 3% wrongly flagged."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(read_questions(DATA / "seed_blind_report.jsonl"), ask, seed_searcher.index.chunks)
    figures = report.metrics()
    print(f"\nblind questions: Hit@1 {figures['Hit@1']:.3f}, Hit@3 {figures['Hit@3']:.3f}, near misses flagged "
          f"{report.flagged_share(report.unanswerable):.3f}, answerable {report.flagged_share(report.answerable):.3f}")
    assert len(report.answerable) == 40 and len(report.unanswerable) == 30
    assert figures["Hit@1"] >= 0.92 and figures["Hit@3"] >= 0.95
    assert report.flagged_share(report.unanswerable) >= 0.80
    assert report.flagged_share(report.answerable) <= 0.03


def test_a_second_pair_of_blind_sets_in_the_issues_seven_styles_holds_up(seed_searcher):
    """tests/data/seed_blind_dev.jsonl and seed_blind_report_2.jsonl: written 2026-11-27 by two
    sessions that saw only the guide (the issue's seven styles, evidence from every section
    that answers), measured once before anything was changed, then committed. First measured:
    dev (84 answerable, 24 near misses) Hit@1 0.964, Hit@3 0.988, 19 of 24 near misses flagged,
    none wrongly; report (70, 30) Hit@1 0.943, Hit@3 0.986, 21 of 30 flagged, 1 of 70 wrongly.
    Then cut to share no wording with a set of the other use (the test above): dev (80, 24)
    Hit@1 0.963, Hit@3 0.988, 19 of 24 flagged, none wrongly; report (60, 28) Hit@1 0.933, Hit@3
    0.983, 20 of 28 flagged, 1 of 60 wrongly.
    The dev set may be tuned on; the report set never is."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    dev = evaluate(read_questions(DATA / "seed_blind_dev.jsonl"), ask, seed_searcher.index.chunks)
    report = evaluate(read_questions(DATA / "seed_blind_report_2.jsonl"), ask, seed_searcher.index.chunks)
    for name, got, size in (("dev", dev, (80, 24)), ("report", report, (60, 28))):
        figures = got.metrics()
        print(f"\nblind {name}: Hit@1 {figures['Hit@1']:.3f}, Hit@3 {figures['Hit@3']:.3f}, near misses flagged "
              f"{got.flagged_share(got.unanswerable):.3f}, answerable {got.flagged_share(got.answerable):.3f}")
        assert (len(got.answerable), len(got.unanswerable)) == size
        assert len({o.question.group for o in got.answerable}) == 7
        assert figures["Hit@1"] >= 0.92 and figures["Hit@3"] >= 0.97
        assert got.flagged_share(got.answerable) <= 0.03
    assert dev.flagged_share(dev.unanswerable) >= 0.75
    assert report.flagged_share(report.unanswerable) >= 0.65


def test_a_third_blind_report_set_holds_up(seed_searcher):
    """tests/data/seed_blind_report_3.jsonl: written 2026-11-28 by a session that saw only the
    guide (the issue's seven styles, evidence from every section that answers); the 13 of its
    100 questions worded as a question of another set were cut, then it was measured once, at
    74efcda's ranking, before anything was changed: 59 answerable, Hit@1 0.898, Hit@3 0.966,
    3 wrongly flagged (0.051); 22 of 28 near misses flagged (0.786). Never tuned on. Issue 12
    asks Hit@1 0.90 and Hit@3 0.99, 80% flagged at most 3% wrongly: none is reached here (short by
    1, 2, 1 and 2 questions)."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    report = evaluate(read_questions(DATA / "seed_blind_report_3.jsonl"), ask, seed_searcher.index.chunks)
    figures = report.metrics()
    print(f"\nblind report 3: Hit@1 {figures['Hit@1']:.3f}, Hit@3 {figures['Hit@3']:.3f}, near misses flagged "
          f"{report.flagged_share(report.unanswerable):.3f}, answerable {report.flagged_share(report.answerable):.3f}")
    assert (len(report.answerable), len(report.unanswerable)) == (59, 28)
    assert len({o.question.group for o in report.answerable}) == 7
    assert figures["Hit@1"] >= 0.88 and figures["Hit@3"] >= 0.95
    assert report.flagged_share(report.unanswerable) >= 0.75
    assert report.flagged_share(report.answerable) <= 0.06


def test_questions_in_the_issues_seven_styles_written_without_the_code_hold_up(seed_searcher):
    """tests/data/seed_styles_report.jsonl and seed_kinds_report.jsonl: written by sessions that
    saw only the guide, committed before first measured, never tuned on. Floors just under the
    figures then: styles (70) Hit@1 0.871, Hit@3 0.943, 2 of 70 wrongly flagged; kinds (36) Hit@1
    0.778, Hit@3 0.861. Issue 12 asks 0.90 and 0.99 of unseen seed questions: not reached."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    styles = evaluate(read_questions(DATA / "seed_styles_report.jsonl"), ask, seed_searcher.index.chunks)
    kinds = evaluate(read_questions(DATA / "seed_kinds_report.jsonl"), ask, seed_searcher.index.chunks)
    figures, kind_figures = styles.metrics(), kinds.metrics()
    print(f"\nseven styles: Hit@1 {figures['Hit@1']:.3f}, Hit@3 {figures['Hit@3']:.3f}, wrongly flagged "
          f"{styles.flagged_share(styles.answerable):.3f}; kinds: Hit@1 {kind_figures['Hit@1']:.3f}, "
          f"Hit@3 {kind_figures['Hit@3']:.3f}")
    assert len(styles.answerable) == 70 and len({o.question.group for o in styles.answerable}) == 7
    assert figures["Hit@1"] >= 0.85 and figures["Hit@3"] >= 0.92
    assert styles.flagged_share(styles.answerable) <= 0.03
    assert kind_figures["Hit@1"] >= 0.75 and kind_figures["Hit@3"] >= 0.83


def test_the_held_out_rewordings_judged_blind_into_graded_sections_hold_up(seed_searcher):
    """tests/data/seed_reworded_judged.jsonl: the 91 rewordings judged by a session that saw only
    the guide and the questions, every section that answers (2) or partly answers (1). Odd half
    (never tuned on) when committed: Hit@1 0.911 counting either grade, 0.844 grade 2 only, Hit@3
    0.956 either way (bench/results/issue12.md). Issue 12 asks 0.90 and 0.99: Hit@3 not reached."""
    ask = lambda q: seed_searcher.search(q, top_k=10, evidence=False)     # noqa: E731
    judged = read_questions(DATA / "seed_reworded_judged.jsonl")[1::2]
    strict = [dataclasses.replace(q, relevant=tuple(r for r in q.relevant if r.grade == 2)) for q in judged]
    either = evaluate(judged, ask, seed_searcher.index.chunks).metrics()
    direct = evaluate(strict, ask, seed_searcher.index.chunks).metrics()
    print(f"\njudged blind, odd half: Hit@1 {either['Hit@1']:.3f} (grade 2 only {direct['Hit@1']:.3f}), "
          f"Hit@3 {either['Hit@3']:.3f}")
    assert len(judged) == 45
    assert either["Hit@1"] >= 0.88 and direct["Hit@1"] >= 0.82 and either["Hit@3"] >= 0.93


STATINS = ("Why do my legs cramp so badly at night when I lie down after a long day on my feet, and is it "
           "the diabetic neuropathy my doctor diagnosed? Can statins cause neuropathy or leg cramps?")


POTASSIUM = ("Hi, I'm 58 and I've had type 2 diabetes for about ten years. Lately my feet tingle and at night my "
             "calves knot up so hard I have to get out of bed and walk around. My doctor did a blood test last "
             "month and said my potassium was a bit low. Could the low potassium be causing the cramps? And is "
             "there anything I can do before bed to stop them? Thanks so much for any help.")


@pytest.mark.parametrize("message, answered", [
    # Found by a usability pass: "potassium" folded every passage, though the second question is answered.
    (POTASSIUM, ("And is there anything I can do before bed to stop them?",)),
    ("Could the low potassium be causing the cramps? And is there anything I can do before bed to stop them?",
     ("And is there anything I can do before bed to stop them?",)),
    ("Could tonic water stop my night cramps? What about leg cramps in general?",
     ("What about leg cramps in general?",)),
    (STATINS, ("Why do my legs cramp so badly at night when I lie down after a long day on my feet, and is it the "
               "diabetic neuropathy my doctor diagnosed?",)),
    ("Can pickle juice help? Does it work?", ()),                   # a follow-up on the missing topic
    ("Does pickle juice help cramps? Does it help?", ()),
    ("is magnesium good? how much magnesium should I take at bedtime?", ()),    # both about it
    ("does pickle juice work for cramps? what about mustard?", ()),
    ("Can pickle juice stop leg cramps?", ()),                       # one question
    # Found by adversarial testing: a question about a missing topic of its own is not named.
    ("Is pickle juice good for cramps? Could the low potassium be causing the cramps? What about vitamin B12?",
     ("What about vitamin B12?",))])
def test_a_message_is_partly_covered_when_another_of_its_questions_may_be_answered(seed_searcher, message, answered):
    result = seed_searcher.search(message)
    assert not result.covered and result.answered == answered
    assert result.match_of(result.hits[0]) == "weak"       # a hedge, never a strong answer (found by review:
    # "What are the side effects?" after "Is turmeric good for neuropathy?" is still about turmeric)


@pytest.mark.parametrize("message, missing", [
    ("Could the low potassium be causing the cramps? And is magnesium good to take before bed?",
     ("potassium", "magnesium")),
    ("Could the low potassium be causing the cramps? Can I take ibuprofen with warfarin?", ("potassium", "warfarin")),
    ("Could statins cause my leg cramps? Is it safe to keep taking a statin every night?", ("statins",))])
def test_two_short_questions_are_each_judged_alone(seed_searcher, message, missing):
    """Found by adversarial testing: under the long-message length, two questions about two
    missing topics moved the pair too little, and the result was covered, Strong match first."""
    result = seed_searcher.search(message)
    assert not result.covered and result.missing_terms == missing      # each term once, whatever its form


@pytest.mark.parametrize("message", [STATINS, STATINS + " Thanks.", "I am 64. " + STATINS, STATINS + " I am 64."])
def test_a_long_message_is_judged_by_its_questions_however_it_is_ordered(seed_searcher, message):
    """Whether the focus reorders the message or not (every sentence asks; thanks at the end;
    the story before or after), its questions are judged alone."""
    result = seed_searcher.search(message)
    assert not result.covered and result.missing_terms == ("statins",)


@pytest.mark.parametrize("message", [
    "SUBJECT: Question about my mum MESSAGE: My mum is 80 and has had neuropathy in both legs for years, "
    "and she gets awful leg cramps that wake her up. What can she do to ease the cramps?",
    "Was a keen golfer until his knee replacement surgery. My dad is 70 and has diabetic neuropathy with "
    "painful leg cramps in his calves most evenings. What treatments help with neuropathy leg cramps?",
    "Have a desk job as an accountant and sit all day. My dad is 70 and has diabetic neuropathy with "
    "painful leg cramps in his calves most evenings. What treatments help with neuropathy leg cramps?"])
def test_subject_lines_and_story_sentences_are_not_judged_as_questions(seed_searcher, message):
    result = seed_searcher.search(message)
    assert result.covered, result.missing_terms


def test_questions_that_cannot_name_a_missing_topic_do_not_use_up_the_judged_ones(seed_searcher):
    message = ("My legs cramp at night and my feet are numb from neuropathy, which my doctor confirmed last "
               "spring. What causes the cramps? Which medications help the nerve pain? Can exercise prevent "
               "them? Could low potassium be causing the cramps?")
    assert seed_searcher.search(message).missing_terms == ("potassium",)


def test_the_question_of_a_long_message_names_what_the_guides_lack(seed_searcher):
    message = ("I've been getting cramps in my calves at night for a few weeks now and they wake me up. "
               "My sister says it's because I don't eat enough bananas and should eat one every day. "
               "Does eating bananas actually prevent leg cramps?")
    result = seed_searcher.search(message)
    assert not result.covered and "bananas" in " ".join(result.missing_terms), result.missing_terms
    assert result.focus.startswith("Does eating bananas")


HEARING_GUIDES = {
    "pendred.md": "# Pendred syndrome\n\n## Symptoms\n\nPendred syndrome causes hearing loss from birth and an "
                  "enlarged thyroid gland (goiter) that appears in late childhood or adulthood.\n\n"
                  "## Inheritance\n\nPendred syndrome is inherited in an autosomal recessive pattern.\n",
    "usher.md": "# Usher syndrome\n\n## Symptoms\n\nUsher syndrome causes hearing loss and vision loss from "
                "retinitis pigmentosa, which narrows the field of view over the years.\n\n"
                "## Treatment\n\nHearing aids, cochlear implants and mobility training help.\n",
    "waardenburg.md": "# Waardenburg syndrome\n\n## Symptoms\n\nWaardenburg syndrome causes hearing loss and "
                      "changes in the colour of the hair, skin and eyes, such as a white forelock.\n",
    "stickler.md": "# Stickler syndrome\n\n## Symptoms\n\nStickler syndrome causes a flattened face, "
                   "nearsightedness, hearing loss and joint problems.\n",
    "hearing-loss.md": "# Hearing loss in children\n\n## Causes\n\nMost inherited hearing loss in children is "
                       "nonsyndromic. It can also be part of a syndrome, such as Pendred, Usher or "
                       "Wildervanck syndrome, or follow infections such as meningitis.\n\n"
                       "## Diagnosis\n\nNewborn screening tests hearing in the first weeks of life.\n",
}


def test_a_topic_named_only_in_passing_is_not_covered(tmp_path, encoder, questions_encoder):
    """The MedQuAD-style near miss: a syndrome one guide names in a list, no guide is about,
    and the closest passages (other syndromes' symptoms) do not name."""
    corpus = make_corpus(tmp_path / "corpus", HEARING_GUIDES)
    # Three guides make few passages, so the share of passages holding a rare word is large.
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model_name=DEFAULT_MODEL,
                        max_absent_share=0.5)
    build_index(settings, encoder)
    searcher = Searcher.open(settings, questions_encoder)
    missed = searcher.search("What are the symptoms of Wildervanck syndrome?")
    assert not missed.covered and missed.passing_terms == ("wildervanck",) and not missed.missing_terms
    assert missed.message == ('The guides mention "wildervanck" only in passing, in none of the passages '
                              'closest to your question; the closest passages are below.')
    for question in ("What are the symptoms of Pendred syndrome?", "Is Usher syndrome inherited?",
                     "how is hearing tested in newborns?"):
        assert searcher.search(question).covered, question
