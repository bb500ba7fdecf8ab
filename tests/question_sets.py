"""Which seed question files (tests/data) were tuned on and which are kept for reporting: the
one list the tests and the benchmarks (bench/common.py puts this folder on their path) read."""

from __future__ import annotations

from pathlib import Path

from guidesearch.evaluate import Question, read_questions
from guidesearch.text import WORD

SEED_DATA = Path(__file__).resolve().parent / "data"
# The files of new wordings are split: even lines tune, odd lines report. (seed_reworded_judged
# holds seed_reworded's questions judged again: not a set of its own.)
SEED_TUNING = ("seed_questions", "seed_out_of_scope", "seed_lay_dev", "seed_phrases_dev",
               "seed_long_formal_dev", "seed_near_misses_typo_dev", "seed_blind_dev")
SEED_SPLIT = ("seed_reworded", "seed_near_misses_reworded")
SEED_REPORT = ("seed_long_messages", "seed_fresh_report", "seed_kinds_report", "seed_styles_report",
               "seed_blind_report", "seed_blind_report_2", "seed_blind_report_3")
# Report questions worded as a tuning question, left in their files because figures were
# reported on them before review found them (2026-11-27); seed_report_questions leaves them out.
KNOWN_SHARED = frozenset({"does neuropathy cause leg cramps", "what do nerve conduction studies measure",
                          "nerve conduction study severity"})


def seed_tuning_questions(data: Path = SEED_DATA) -> list[Question]:
    """Every seed question tuned on: SEED_TUNING, and the even lines of SEED_SPLIT."""
    return [q for name in SEED_TUNING for q in read_questions(data / f"{name}.jsonl")] + \
        [q for name in SEED_SPLIT for q in read_questions(data / f"{name}.jsonl")[0::2]]


def seed_report_files(data: Path = SEED_DATA) -> dict[str, list[Question]]:
    """Each report set as written: SEED_REPORT, and the odd lines of SEED_SPLIT."""
    return {**{f"{name}, odd lines": read_questions(data / f"{name}.jsonl")[1::2] for name in SEED_SPLIT},
            **{name: read_questions(data / f"{name}.jsonl") for name in SEED_REPORT}}


def seed_report_questions(data: Path = SEED_DATA) -> list[Question]:
    """Every seed question kept for reporting, each wording once, less those also asked in a
    tuning set: sets written apart by different sessions meet on the plainest wordings."""
    return without_tuning_wordings([q for questions in seed_report_files(data).values() for q in questions], data)


def without_tuning_wordings(questions: list[Question], data: Path = SEED_DATA) -> list[Question]:
    """The questions, each wording once, less those worded as a tuning question."""
    seen = {same_wording(q.question) for q in seed_tuning_questions(data)}
    kept = []
    for question in questions:
        if same_wording(question.question) not in seen:
            seen.add(same_wording(question.question))
            kept.append(question)
    return kept


def same_wording(question: str) -> str:
    """A question's words, with case, marks and spacing folded: what two sets may share."""
    return " ".join(WORD.findall(question.lower()))
