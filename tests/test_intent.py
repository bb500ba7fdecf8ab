"""What a question asks for, which headings answer it, and the ranking bonus they give."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from guidesearch.config import Settings
from guidesearch.errors import SettingsError
from guidesearch.intent import ChunkContext, build_intents, heading_intents, intent_matches, question_intents, title_overlap
from guidesearch.lexical import analyse
from guidesearch.records import Chunk


@pytest.mark.parametrize("question, asked", [
    ("why do my legs cramp at night", {"causes"}),
    ("What are the treatments for Babesiosis ?", {"treatment"}),      # not also "what is"
    ("how do doctors test for neuropathy?", {"diagnosis"}),
    ("Is Aarskog-Scott syndrome inherited ?", {"inheritance"}),
    ("What are the genetic changes related to Alport syndrome ?", {"genetic changes"}),
    ("What is (are) Keratitis ?", {"information"}),
    ("what helps leg cramps", {"treatment"}),
    ("how do I stop getting leg cramps", {"prevention"}),   # stopping them coming, not one under way
    ("how to stop the cramps", {"treatment"}),
    ("how do I stop having a cramp right now", set()),      # "stop having" is as often treatment
    ("can I stop having dialysis", set()),
    ("how can I reduce the chances of cramps", {"prevention"}),
    ("b12 cramps", set()),
    # Lay cues (LAY_CUES), as readers ask:
    ("How do I stop these cramps from happening in the first place?", {"prevention"}),
    ("what kind of doctor check up finds neuropathy", {"diagnosis"}),
    ("will my cramps ever get better", {"outlook"}),
    ("will my kids get it too", {"inheritance"}),
    ("what sets off the cramping", {"causes"}),
    ("how do I get rid of these cramps", {"treatment"}),            # not a cause: found by review
    ("What is the physiology of leg cramps?", {"information"}),
    ("I got a text from my mom about my cramps", set()),
    ("did I get it from my dad", {"inheritance"}),
    ("I'm making progress with stretching", set()),
    ("I had a flu shot last week and now my legs cramp, why do they cramp?", {"causes"}),
    ("My MRI was clear and the scan showed nothing. Any advice?", set()),    # a story, not a question of diagnosis
    ("how come my calves cramp every night", {"causes"}),
    ("I'm diabetic and my legs cramp all the time, why?", {"causes"}),
    ("why not just stretch before bed", set()),            # "why not" suggests, it does not ask a cause
])
def test_questions_name_what_they_ask_for(question, asked):
    assert question_intents(question) == asked


@pytest.mark.parametrize("path, answers", [
    (("T", "Causes of Neuropathy-Induced Leg Cramps"), {"causes"}),
    (("T", "Management and Treatment Strategies", "Medications"), {"treatment"}),
    (("T", "Symptoms and Diagnosis of Neuropathy-Related Leg Cramps"), {"symptoms", "diagnosis"}),
    (("T", "Treatment (2)"), {"treatment"}),
    (("T", "Who is at risk?"), {"risk"}),
    # The lead section, before the first heading, answers what its guide's title asks:
    (("Does Neuropathy Cause Leg Cramps",), {"causes"}),
    (("Diabetic Neuropathy",), set()),                       # a title that names a condition asks nothing
])
def test_headings_name_what_they_answer(path, answers):
    assert heading_intents(path) == answers


def test_a_message_asking_two_things_shares_the_bonus():
    paths = [("T", "Treatment"), ("T", "Outlook"), ("T", "Causes")]
    assert intent_matches("how is it treated and will it go away?", paths) == [0.5, 0.5, 0.0]
    assert intent_matches("treatment options", paths) == [1.0, 0.0, 0.0]
    assert intent_matches("leg cramps", paths) == [0.0, 0.0, 0.0]


def test_title_overlap_is_the_share_of_the_title_the_question_names():
    terms = frozenset(analyse("is diabetic neuropathy inherited"))
    assert title_overlap(terms, "Diabetic Neuropathy") == 1.0
    assert title_overlap(terms, "Diabetes Insipidus") == 0.5          # "diabet" stems alike
    assert title_overlap(terms, "Asthma") == 0.0


def test_weights_outside_0_to_1_are_refused_in_one_line():
    with pytest.raises(SettingsError, match="intent_weight=1.5"):
        Settings(intent_weight=1.5)


CHUNKS = [Chunk(str(n), f"{title}.md", title, (title, *path), "text")
          for n, (title, path) in enumerate([
              ("Diabetic Neuropathy", ("Treatment",)), ("Diabetic Neuropathy", ("Causes",)),
              ("Asthma", ("What is it?",)), ("Asthma", ("Treatment", "Inhalers")), ("Asthma", ()),
              ("Diabetes Insipidus", ("Inheritance",)), ("Leg Cramps", ("Preventing Leg Cramps",))])]
QUESTIONS = ["how is it treated and will it go away?", "is diabetic neuropathy inherited",
             "what causes asthma", "leg cramps", "how do I prevent cramps", "What is asthma?"]


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.sampled_from(QUESTIONS), st.lists(st.integers(0, len(CHUNKS) - 1), max_size=12))
def test_the_index_wide_context_gives_what_the_functions_give(question, rows):
    """ChunkContext (what the ranking reads) agrees with intent_matches and title_overlap for
    any candidates, repeats and empty included."""
    context, rows = ChunkContext(CHUNKS), np.array(rows, dtype=np.int64)
    chunks = [CHUNKS[row] for row in rows]
    assert context.intent_matches(question, rows).tolist() == pytest.approx(
        intent_matches(question, [chunk.headings for chunk in chunks]))
    terms = frozenset(analyse(question))
    assert context.title_overlap(terms, rows).tolist() == pytest.approx(
        [title_overlap(terms, chunk.title) for chunk in chunks])


def test_without_lay_cues_only_the_stems_ask():
    """bench/intent_cues.py measures the ranking without them; the stems still ask."""
    plain = {intent.name: intent for intent in build_intents(lay_cues=False)}
    assert not plain["prevention"].asks.search("stop the cramps from happening in the first place")
    assert plain["prevention"].asks.search("how do I prevent cramps")
    assert {intent.name for intent in build_intents()} == set(plain)
