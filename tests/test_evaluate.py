"""Metrics and question files, on hand-made rankings where the right figures are known."""

from __future__ import annotations

import json
import math

import pytest

from guidesearch.errors import QuestionFileError
from guidesearch.evaluate import evaluate, fold, read_questions
from guidesearch.records import Chunk, Hit, SearchResult


def chunk(source: str, heading: str, text: str) -> Chunk:
    return Chunk(Chunk.make_id(source, ("T", heading), text), source, "T", ("T", heading), text)


CHUNKS = [chunk("a.md", "Causes", "Nerve damage causes cramps."),
          chunk("a.md", "Treatment", "Stretch the calf. It’s simple."),
          chunk("b.md", "Causes", "Low magnesium."),
          chunk("b.md", "Causes", "More on magnesium and cramps.")]


def ask_with(order: list[int], covered: bool = True):
    return lambda text: SearchResult(text, tuple(Hit(r, 1.0 / r, 0.5, CHUNKS[i]) for r, i in enumerate(order, 1)), covered)


def write(tmp_path, lines):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_evidence_match_folds_case_space_and_curly_quotes():
    assert fold("It’s   SIMPLE") == "it's simple"


def test_metrics_for_a_known_ranking(tmp_path):
    questions = read_questions(write(tmp_path, [
        {"id": "1", "question": "stretch?", "evidence": ["it's  simple"], "style": "lay"},
        {"id": "2", "question": "magnesium?", "relevant": [{"file": "b.md", "heading": "Causes", "grade": 2}]}]))
    report = evaluate(questions, ask_with([0, 1, 2, 3]), CHUNKS)
    figures = report.metrics()
    # q1: relevant at rank 2. q2: section b.md/Causes first at rank 3, its second chunk not counted again.
    assert figures["Recall@1"] == 0.0 and figures["Recall@3"] == 1.0
    assert figures["MRR@10"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert figures["nDCG@10"] == pytest.approx((1 / math.log2(3) + (2 / math.log2(4)) / 2) / 2)
    assert list(report.by_group(report.answerable)) == ["lay"]


def test_expect_none_questions_count_flags_not_metrics(tmp_path):
    questions = read_questions(write(tmp_path, [
        {"id": "n1", "question": "bread?", "expect": "none", "kind": "unrelated"},
        {"id": "n2", "question": "pickles?", "expect": "none", "kind": "near-miss"}]))
    report = evaluate(questions, ask_with([0], covered=False), CHUNKS)
    assert report.metrics() == {} and report.flagged_share(report.unanswerable) == 1.0
    assert "flagged not covered: 1.000" in report.format()


@pytest.mark.parametrize("line", ['{"id": "1", "question": "q"}', "not json", '{"id": "1", "question": "", "evidence": ["x"]}',
                                  '{"question": "q", "evidence": ["x"]}'])
def test_bad_lines_name_the_file_and_line(tmp_path, line):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r"bad.jsonl:1: not a question line"):
        read_questions(path)


def test_medquad_question_lines_are_read():
    from conftest import ROOT
    path = ROOT.parent / "shared" / "medquad" / "dev_questions.jsonl"
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    questions = read_questions(path)
    assert len(questions) == 7202 and all(q.relevant for q in questions)
