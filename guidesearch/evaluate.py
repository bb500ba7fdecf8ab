"""Retrieval metrics over question files.

One JSONL format, three kinds of line:
    {"id", "question", "evidence": ["exact phrase", ...]}       relevant: the hit's text holds a phrase
    {"id", "question", "relevant": [{"file", "heading", "grade"}]}  relevant: that file and section
    {"id", "question", "expect": "none"}                         the corpus does not answer it
Extra fields ("style", "kind") group the figures.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from guidesearch.errors import QuestionFileError
from guidesearch.records import Chunk, SearchResult

CUTOFFS = (1, 3, 5, 10)
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})


@dataclass(frozen=True)
class RelevantSection:
    file: str
    heading: str
    grade: int = 1


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    evidence: tuple[str, ...] = ()
    relevant: tuple[RelevantSection, ...] = ()
    expect_none: bool = False
    group: str = ""             # the line's "style" or "kind", for breakdowns

    def grade(self, chunk: Chunk) -> int:
        """How relevant a chunk is to this question (0: not at all)."""
        if self.evidence:
            text = fold(chunk.text)
            return 1 if any(fold(phrase) in text for phrase in self.evidence) else 0
        for item in self.relevant:
            if item.file == chunk.source and item.heading == chunk.heading:
                return item.grade
        return 0

    def relevant_key(self, chunk: Chunk) -> tuple[str, ...]:
        """What counts once in nDCG: a section for "relevant" lines, a chunk for "evidence"."""
        return (chunk.source, chunk.heading) if self.relevant else (chunk.chunk_id,)


def fold(text: str) -> str:
    """Case, white space and curly quotes folded, for evidence matching."""
    return _SPACES.sub(" ", text.translate(_QUOTES).lower()).strip()


def read_questions(path: Path) -> list[Question]:
    """Parse a question file; a bad line raises an error naming the file, line and fix."""
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"Cannot read the question file {path} ({exc}).") from exc
    for number, line in enumerate(lines, 1):
        if line.strip():
            questions.append(_parse_line(line, f"{path}:{number}"))
    if not questions:
        raise QuestionFileError(f"The question file {path} holds no questions.")
    return questions


def _parse_line(line: str, where: str) -> Question:
    try:
        data = json.loads(line)
        qid, question = str(data["id"]), data["question"]
        if not isinstance(question, str) or not question.strip():
            raise ValueError("the question is empty")
        group = str(data.get("style") or data.get("kind") or "")
        if data.get("expect") == "none":
            return Question(qid, question, expect_none=True, group=group)
        if data.get("evidence"):
            return Question(qid, question, evidence=tuple(map(str, data["evidence"])), group=group)
        if data.get("relevant"):
            relevant = tuple(RelevantSection(str(r["file"]), str(r["heading"]), int(r.get("grade", 1)))
                             for r in data["relevant"])
            return Question(qid, question, relevant=relevant, group=group)
        raise ValueError('no "evidence", "relevant" or "expect": "none"')
    except (ValueError, KeyError, TypeError) as exc:
        raise QuestionFileError(
            f"{where}: not a question line ({exc}). Each line needs \"id\", \"question\" and one of "
            "\"evidence\": [phrases], \"relevant\": [{\"file\", \"heading\"}] or \"expect\": \"none\".") from exc


@dataclass
class Outcome:
    """One question's result, scored."""

    question: Question
    result: SearchResult
    grades: list[int]
    ideal: list[int]

    def hit_at(self, k: int) -> float:
        return 1.0 if any(self.grades[:k]) else 0.0

    def reciprocal_rank(self, k: int = 10) -> float:
        return next((1.0 / rank for rank, grade in enumerate(self.grades[:k], 1) if grade), 0.0)

    def ndcg(self, k: int = 10) -> float:
        dcg = sum(grade / math.log2(rank + 1) for rank, grade in enumerate(self.grades[:k], 1))
        ideal = sum(grade / math.log2(rank + 1) for rank, grade in enumerate(self.ideal[:k], 1))
        return dcg / ideal if ideal else 0.0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.question.expect_none]

    @property
    def unanswerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.expect_none]

    def metrics(self, outcomes: Sequence[Outcome] | None = None) -> dict[str, float]:
        """Recall@1/3/5/10, MRR@10, nDCG@10 over answerable questions (mean)."""
        outcomes = self.answerable if outcomes is None else outcomes
        if not outcomes:
            return {}
        n = len(outcomes)
        figures = {f"Recall@{k}": sum(o.hit_at(k) for o in outcomes) / n for k in CUTOFFS}
        figures["MRR@10"] = sum(o.reciprocal_rank() for o in outcomes) / n
        figures["nDCG@10"] = sum(o.ndcg() for o in outcomes) / n
        return figures

    def by_group(self, outcomes: Iterable[Outcome]) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in outcomes:
            if outcome.question.group:
                groups[outcome.question.group].append(outcome)
        return dict(sorted(groups.items()))

    def flagged_share(self, outcomes: Sequence[Outcome]) -> float:
        """Share of these questions answered "not covered"."""
        return sum(not o.result.covered for o in outcomes) / len(outcomes) if outcomes else 0.0

    def format(self) -> str:
        lines = []
        if self.answerable:
            lines.append(f"{len(self.answerable)} answerable question(s)")
            lines.append(_format_row("all", self.metrics()))
            for group, outcomes in self.by_group(self.answerable).items():
                lines.append(_format_row(f"{group} ({len(outcomes)})", self.metrics(outcomes)))
            lines.append(f"wrongly flagged not covered: {self.flagged_share(self.answerable):.3f}")
        if self.unanswerable:
            lines.append(f"{len(self.unanswerable)} question(s) the corpus does not answer; "
                         f"flagged not covered: {self.flagged_share(self.unanswerable):.3f}")
            for group, outcomes in self.by_group(self.unanswerable).items():
                lines.append(f"  {group} ({len(outcomes)}): flagged {self.flagged_share(outcomes):.3f}")
        return "\n".join(lines)


def _format_row(label: str, figures: dict[str, float]) -> str:
    return f"  {label:<22} " + "  ".join(f"{name} {value:.3f}" for name, value in figures.items())


def evaluate(questions: Sequence[Question], ask: Callable[[str], SearchResult],
             chunks: Sequence[Chunk], top_k: int = 10) -> Report:
    """Ask every question and score the hits (at least 10, so every cutoff is defined)."""
    report = Report()
    for question in questions:
        result = ask(question.question)
        grades = _graded(question, [hit.chunk for hit in result.hits[:max(top_k, 10)]])
        report.outcomes.append(Outcome(question, result, grades, _ideal(question, chunks)))
    return report


def _graded(question: Question, ranked: Sequence[Chunk]) -> list[int]:
    """Grades of the ranked chunks, each relevant item counted at its first rank only."""
    seen: set[tuple[str, ...]] = set()
    grades = []
    for chunk in ranked:
        grade = question.grade(chunk)
        key = question.relevant_key(chunk)
        grades.append(grade if grade and key not in seen else 0)
        if grade:
            seen.add(key)
    return grades


def _ideal(question: Question, chunks: Sequence[Chunk]) -> list[int]:
    if question.expect_none:
        return []
    if question.relevant:
        return sorted((item.grade for item in question.relevant), reverse=True)
    return [1] * sum(1 for chunk in chunks if question.grade(chunk))


def outcome_line(outcome: Outcome) -> dict:
    """One line of evaluate --out."""
    result = outcome.result
    return {"id": outcome.question.qid, "question": outcome.question.question,
            "covered": result.covered, "missing_terms": list(result.missing_terms),
            "hits": [{"rank": hit.rank, "score": round(hit.score, 6), "cosine": round(hit.cosine, 6),
                      "source": hit.source, "heading": hit.heading, "headings": list(hit.headings),
                      "text": hit.text, "relevant": bool(grade)}
                     for hit, grade in zip(result.hits, outcome.grades + [0] * len(result.hits))]}
