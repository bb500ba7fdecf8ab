"""Metrics and question files, on hand-made rankings where the right figures are known."""

from __future__ import annotations

import json
import math

import pytest

from guidesearch import cli
from guidesearch.build import build_index
from guidesearch.errors import QuestionFileError
from guidesearch.evaluate import (METRIC_NAMES, RelevantSection, evaluate, fold, label_problems,
                                  outcome_line, read_questions)
from guidesearch.records import Chunk, Hit, SearchResult
from guidesearch.retrieve import Searcher


def chunk(source: str, heading: str, text: str, title: str = "T") -> Chunk:
    headings = (title, *heading.split(" > "))
    return Chunk(Chunk.make_id(source, headings, text), source, title, headings, text)


CHUNKS = [chunk("a.md", "Causes", "Nerve damage causes cramps."),
          chunk("a.md", "Treatment", "Stretch the calf. It’s simple."),
          chunk("b.md", "Causes", "Low magnesium."),
          chunk("b.md", "Causes", "More on magnesium and cramps.")]


def ask_with(order: list[int], covered: bool = True, chunks: list[Chunk] = CHUNKS):
    return lambda text: SearchResult(text, tuple(Hit(r, 1.0 / r, 0.5, chunks[i]) for r, i in enumerate(order, 1)), covered)


def write(tmp_path, lines, name: str = "q.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def one(tmp_path, line: dict, order: list[int], chunks: list[Chunk] = CHUNKS):
    """The outcome of one question line against a fixed ranking."""
    questions = read_questions(write(tmp_path, [{"id": "1", "question": "q?", **line}]))
    return evaluate(questions, ask_with(order, chunks=chunks), chunks).outcomes[0]


def test_evidence_match_folds_case_space_and_curly_quotes():
    assert fold("It’s   SIMPLE") == "it's simple"


def test_metrics_for_a_known_ranking(tmp_path):
    questions = read_questions(write(tmp_path, [
        {"id": "1", "question": "stretch?", "evidence": ["it's  simple"], "style": "lay"},
        {"id": "2", "question": "magnesium?", "relevant": [{"file": "b.md", "heading": "Causes", "grade": 2}]}]))
    report = evaluate(questions, ask_with([0, 1, 2, 3]), CHUNKS)
    figures = report.metrics()
    # q1: relevant at rank 2. q2: section b.md/Causes first at rank 3, its second chunk not counted again.
    assert list(figures) == list(METRIC_NAMES)
    assert figures["Hit@1"] == 0.0 and figures["Hit@3"] == 1.0
    assert figures["Recall@1"] == 0.0 and figures["Recall@3"] == 1.0 and figures["Recall@10"] == 1.0
    assert figures["MRR@10"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert figures["nDCG@10"] == pytest.approx((1 / math.log2(3) + (2 / math.log2(4)) / 2) / 2)
    assert list(report.by_group(report.answerable)) == ["lay"]


def test_two_relevant_sections_one_found_recall_half_hit_one(tmp_path):
    # As sentence-transformers' InformationRetrievalEvaluator test: recall@k is found over relevant,
    # accuracy@k (Hit@k) is "any found".
    outcome = one(tmp_path, {"relevant": [{"file": "a.md", "heading": "Causes"},
                                          {"file": "b.md", "heading": "Causes"}]}, [0, 1])
    figures = outcome.figures()
    assert figures["Hit@1"] == 1.0 and figures["Recall@1"] == 0.5 and figures["Recall@10"] == 0.5
    assert figures["MRR@10"] == 1.0
    assert figures["nDCG@10"] == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_evidence_relevance_is_per_section_too(tmp_path):
    # "cramps" is in a.md/Causes and in the second chunk of b.md/Causes: two relevant sections.
    outcome = one(tmp_path, {"evidence": ["CRAMPS"]}, [3, 1, 2])
    assert set(outcome.relevant) == {("a.md", ("T", "Causes")), ("b.md", ("T", "Causes"))}
    assert outcome.hit_at(1) == 1.0 and outcome.recall_at(1) == 0.5 and outcome.recall_at(3) == 0.5


@pytest.mark.parametrize("line", [{"relevant": [{"file": "b.md", "heading": "Causes"}]},
                                  {"evidence": ["magnesium"]}])
def test_two_chunks_of_one_section_count_once(tmp_path, line):
    outcome = one(tmp_path, line, [2, 3, 0, 1])
    assert outcome.gains == [1, 0, 0, 0]
    assert outcome.recall_at(1) == 1.0 and outcome.recall_at(3) == 1.0
    assert outcome.ndcg() == pytest.approx(1.0) and outcome.reciprocal_rank() == 1.0
    lone = one(tmp_path, line, [0, 3, 2, 1])        # the same section at ranks 2 and 3
    assert lone.ndcg() == pytest.approx(1 / math.log2(3)) and lone.reciprocal_rank() == 0.5


def test_mrr_and_graded_ndcg_by_hand(tmp_path):
    line = {"relevant": [{"file": "a.md", "heading": "Causes", "grade": 1},
                         {"file": "b.md", "heading": "Causes", "grade": 3}]}
    outcome = one(tmp_path, line, [1, 0, 2, 3])     # irrelevant, grade 1, grade 3, grade 3 again
    assert outcome.gains == [0, 1, 3, 0]
    assert outcome.reciprocal_rank() == 0.5
    dcg = 1 / math.log2(3) + 3 / math.log2(4)       # 0.6309 + 1.5
    ideal = 3 / math.log2(2) + 1 / math.log2(3)     # 3 + 0.6309
    assert outcome.ndcg() == pytest.approx(dcg / ideal) == pytest.approx(0.58688, abs=1e-5)
    assert outcome.ndcg(k=2) == pytest.approx((1 / math.log2(3)) / ideal)
    missed = one(tmp_path, line, [1])
    assert (missed.hit_at(10), missed.recall_at(10), missed.reciprocal_rank(), missed.ndcg()) == (0, 0, 0, 0)


def test_a_listed_section_missing_from_the_index_still_counts(tmp_path):
    outcome = one(tmp_path, {"relevant": [{"file": "a.md", "heading": "Causes"},
                                          {"file": "gone.md", "heading": "Causes"}]}, [0, 1, 2, 3])
    assert outcome.hit_at(1) == 1.0 and outcome.recall_at(10) == 0.5


def test_labels_that_match_nothing_in_the_index_are_named(tmp_path):
    questions = read_questions(write(tmp_path, [
        {"id": "typo", "question": "q?", "relevant": [{"file": "a.md", "heading": "Treatments"}]},
        {"id": "gone", "question": "q?", "relevant": [{"file": "gone.md", "heading": "Causes"}]},
        {"id": "phrase", "question": "q?", "evidence": ["stretch the calf", "strech the calf"]},
        {"id": "phrases", "question": "q?", "evidence": ["strech the calf", "magnesum"]},
        {"id": "fine", "question": "q?", "relevant": [{"file": "b.md", "heading": "T > Causes"},
                                                      {"file": "b.md", "heading": "Typo", "grade": 0}]},
        {"id": "none", "question": "q?", "expect": "none"}]))
    assert label_problems(questions, CHUNKS) == [
        'typo: a.md has no section "Treatments"; it counts as not found',
        "gone: the index holds no guide gone.md; it counts as not found",
        'phrase: no passage holds the evidence phrase "strech the calf"; it is ignored',
        "phrases: no passage holds any of its evidence phrases; it counts as not found"]


NESTED = [chunk("g/liver.md", "Diabetic > Treatment", "Insulin.", title="Liver"),
          chunk("g/liver.md", "Alcoholic > Treatment", "Stop drinking.", title="Liver"),
          chunk("g/liver.md", "Alcoholic", "Caused by alcohol.", title="Liver")]


@pytest.mark.parametrize("heading, matched", [
    ("Diabetic > Treatment", [0]), ("Treatment", [0, 1]), ("Liver > Diabetic > Treatment", [0]),
    ("Alcoholic", [2]), (" Alcoholic  >  Treatment ", [1]), ("Liver > Treatment", []), ("Liver", [])])
def test_a_heading_path_matches_the_end_of_the_chunks_heading_path(heading, matched):
    item = RelevantSection("g/liver.md", heading.strip())
    assert [i for i, c in enumerate(NESTED) if item.matches((c.source, c.headings))] == matched


def test_a_heading_alone_names_every_section_that_ends_with_it(tmp_path):
    outcome = one(tmp_path, {"relevant": [{"file": "g/liver.md", "heading": "Treatment"}]}, [0, 2, 1], NESTED)
    assert outcome.recall_at(1) == 0.5 and outcome.recall_at(3) == 1.0
    path = one(tmp_path, {"relevant": [{"file": "g/liver.md", "heading": "Diabetic > Treatment"}]}, [1, 0], NESTED)
    assert path.hit_at(1) == 0.0 and path.reciprocal_rank() == 0.5 and path.recall_at(3) == 1.0


@pytest.mark.parametrize("file", ["g/liver.md", "./g/liver.md", "g\\liver.md"])
def test_file_is_relative_to_the_corpus_with_slashes(tmp_path, file):
    outcome = one(tmp_path, {"relevant": [{"file": file, "heading": "Alcoholic"}]}, [2], NESTED)
    assert outcome.hit_at(1) == 1.0


def test_out_lines_label_every_chunk_of_a_relevant_section(tmp_path):
    outcome = one(tmp_path, {"relevant": [{"file": "b.md", "heading": "Causes", "grade": 2}]}, [2, 0, 3])
    line = outcome_line(outcome)
    assert [(h["relevant"], h["grade"]) for h in line["hits"]] == [(True, 2), (False, 0), (True, 2)]
    assert {"covered", "missing_terms", "passing_terms", "unmatched_terms"} <= set(line)


def test_summary_has_the_standard_keys_overall_and_by_style(tmp_path):
    questions = read_questions(write(tmp_path, [
        {"id": "1", "question": "stretch?", "evidence": ["it's simple"], "style": "lay"},
        {"id": "2", "question": "why?", "relevant": [{"file": "a.md", "heading": "Causes"},
                                                     {"file": "b.md", "heading": "Causes"}], "style": "typo"},
        {"id": "n", "question": "bread?", "expect": "none", "kind": "unrelated"}]))
    summary = json.loads(json.dumps(evaluate(questions, ask_with([0, 1, 2]), CHUNKS).summary()))
    keys = ["questions", *(f"hit@{k}" for k in (1, 3, 5, 10)), *(f"recall@{k}" for k in (1, 3, 5, 10)),
            "mrr@10", "ndcg@10", "not_covered_rate", "wrongly_not_covered_rate", "unanswerable"]
    assert list(summary) == [*keys, "by_style"]
    assert (summary["questions"], summary["unanswerable"]) == (2, 1)
    assert summary["hit@1"] == 0.5 and summary["recall@1"] == 0.25 and summary["recall@3"] == 1.0
    assert summary["not_covered_rate"] == 0.0 and summary["wrongly_not_covered_rate"] == 0.0
    assert list(summary["by_style"]) == ["lay", "typo", "unrelated"]
    assert all(list(group) == keys for group in summary["by_style"].values())
    typo = summary["by_style"]["typo"]
    assert (typo["hit@1"], typo["recall@1"], typo["not_covered_rate"]) == (1.0, 0.5, None)
    unrelated = summary["by_style"]["unrelated"]
    assert (unrelated["questions"], unrelated["hit@1"], unrelated["wrongly_not_covered_rate"]) == (0, None, None)


def test_text_report_names_hit_recall_mrr_ndcg(tmp_path):
    questions = read_questions(write(tmp_path, [
        {"id": "2", "question": "why?", "relevant": [{"file": "a.md", "heading": "Causes"},
                                                     {"file": "b.md", "heading": "Causes"}], "style": "typo"}]))
    text = evaluate(questions, ask_with([0, 1]), CHUNKS).format()
    assert "Hit@1 1.000  Hit@3 1.000" in text and "Recall@1 0.500" in text
    assert "MRR@10 1.000  nDCG@10" in text and "typo (1)" in text


def test_expect_none_questions_count_flags_not_metrics(tmp_path):
    questions = read_questions(write(tmp_path, [
        {"id": "n1", "question": "bread?", "expect": "none", "kind": "unrelated"},
        {"id": "n2", "question": "pickles?", "expect": "none", "kind": "near-miss"}]))
    report = evaluate(questions, ask_with([0], covered=False), CHUNKS)
    assert report.metrics() == {} and report.flagged_share(report.unanswerable) == 1.0
    assert "flagged not covered: 1.000" in report.format()
    summary = report.summary()
    assert (summary["questions"], summary["hit@1"], summary["not_covered_rate"]) == (0, None, 1.0)


@pytest.mark.parametrize("line", ['{"id": "1", "question": "q"}', "not json", '{"id": "1", "question": "", "evidence": ["x"]}',
                                  '{"question": "q", "evidence": ["x"]}', '{"id": "1", "question": "q", "evidence": [" "]}',
                                  '{"id": "1", "question": "q", "relevant": [{"file": "a.md", "heading": ""}]}',
                                  # found by adversarial testing: a run's end, or a "bug", not the line
                                  '{"id": "1", "question": "???", "expect": "none"}',
                                  '{"id": "1", "question": "q", "relevant": [{"file": "a.md", "heading": "h", "grade": 1e400}]}',
                                  "[" * 100_000 + "]" * 100_000,
                                  # a grade read leniently (true as 1, 2.7 as 2), or no section that could count
                                  '{"id": "1", "question": "q", "relevant": [{"file": "a.md", "heading": "h", "grade": true}]}',
                                  '{"id": "1", "question": "q", "relevant": [{"file": "a.md", "heading": "h", "grade": 2.7}]}',
                                  '{"id": "1", "question": "q", "relevant": [{"file": "a.md", "heading": "h", "grade": -5}]}',
                                  '{"id": "1", "question": "q", "relevant": [{"file": "a.md", "heading": "h", "grade": 0}]}',
                                  # two ways of judging one line (one was dropped), a group that is no text
                                  '{"id": "1", "question": "q", "relevant": [{"file": "a.md", "heading": "h"}], "evidence": ["x"]}',
                                  '{"id": "1", "question": "q", "evidence": ["x"], "expect": "none"}',
                                  '{"id": "1", "question": "q", "evidence": ["x"], "style": ["lay"]}',
                                  '{"id": "1", "question": "q", "expect": "none", "kind": 3}'])
def test_bad_lines_name_the_file_and_line(tmp_path, line):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r"bad.jsonl:1: not a question line"):
        read_questions(path)


def test_two_questions_with_one_id_are_refused_naming_both_lines(tmp_path):
    """Found by adversarial testing: --out held two lines with id "a", and nothing said so."""
    path = tmp_path / "twice.jsonl"
    path.write_text('{"id": "a", "question": "q", "expect": "none"}\n\n{"id": "a", "question": "r", "expect": "none"}\n',
                    encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r'twice.jsonl:3: the id "a" is also the id of line 1\. Give each'):
        read_questions(path)


def test_a_byte_order_mark_before_the_first_line_is_read(tmp_path):
    path = tmp_path / "notepad.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "1", "question": "q", "expect": "none"}\n')
    assert [question.qid for question in read_questions(path)] == ["1"]


def test_evaluate_json_prints_one_object_and_nothing_else(tmp_path, small_settings, fake_encoder, monkeypatch, capsys):
    build_index(small_settings, fake_encoder)
    monkeypatch.setattr(cli, "open_searcher", lambda settings: Searcher.open(small_settings, fake_encoder))
    questions = write(tmp_path, [
        {"id": "1", "question": "stretch the calf", "relevant": [{"file": "cramps.md", "heading": "Treatment"}], "style": "lay"},
        {"id": "n", "question": "bread?", "expect": "none", "kind": "unrelated"}])
    out = tmp_path / "out.jsonl"
    assert cli.main(["evaluate", str(questions), "--json", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out)
    assert summary["questions"] == 1 and summary["unanswerable"] == 1
    assert set(summary["by_style"]) == {"lay", "unrelated"} and "Wrote 2 line(s)" in printed.err
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_medquad_question_lines_are_read():
    from conftest import ROOT
    path = ROOT.parent / "shared" / "medquad" / "dev_questions.jsonl"
    if not path.exists():
        pytest.skip("../shared is not beside the repository")
    questions = read_questions(path)
    assert len(questions) == 7202 and all(q.relevant for q in questions)


@pytest.mark.parametrize("evidence", ['"cramps"', '[""]', '[3]', '["  "]'])
def test_evidence_that_would_match_everything_is_refused_with_the_line(tmp_path, evidence):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "1", "question": "q", "evidence": ' + evidence + '}\n', encoding="utf-8")
    with pytest.raises(QuestionFileError, match=r"q.jsonl:1: not a question line"):
        read_questions(path)


def test_a_heading_without_text_of_its_own_is_found_in_its_first_subsection():
    from guidesearch.evaluate import RelevantSection, SectionIndex
    from guidesearch.records import Chunk
    chunks = [Chunk("1", "g.md", "G", ("G", "Care", "Drugs"), "Care takes three forms:\n\nDrugs help."),
              Chunk("2", "g.md", "G", ("G", "Care", "Rest"), "Rest helps."),
              Chunk("3", "g.md", "G", ("G", "Outlook"), "Good.")]
    index = SectionIndex(chunks)
    assert index.named(RelevantSection("g.md", "Care")) == [("g.md", ("G", "Care", "Drugs"))]
    assert index.named(RelevantSection("g.md", "care > rest")) == []             # case is not folded here
    assert index.named(RelevantSection("g.md", "Care > Rest")) == [("g.md", ("G", "Care", "Rest"))]
    assert index.named(RelevantSection("g.md", "Outlook")) == [("g.md", ("G", "Outlook"))]


def test_results_file_leaves_a_link_target_as_it_was_until_the_results_are_written(tmp_path):
    """Found by adversarial testing: a link given as --out was opened (emptied) when the run
    started, so an interrupted run left its target empty."""
    from guidesearch.evaluate import ResultsFile
    (tmp_path / "questions.jsonl").write_text('{"id": "1", "question": "q", "expect": "none"}\n')
    (tmp_path / "target.jsonl").write_text("keep\n")
    (tmp_path / "link.jsonl").symlink_to("target.jsonl")
    out = ResultsFile(tmp_path / "link.jsonl", tmp_path / "questions.jsonl")
    assert (tmp_path / "target.jsonl").read_text() == "keep\n"
    out.write(["new\n"])
    assert (tmp_path / "target.jsonl").read_text() == "new\n" and (tmp_path / "link.jsonl").is_symlink()
    with pytest.raises(Exception, match="Cannot write"):
        ResultsFile(tmp_path / "missing" / "out.jsonl", tmp_path / "questions.jsonl")
