"""Retrieval metrics over question files.

One JSONL format, three kinds of line:
    {"id", "question", "evidence": ["exact phrase", ...]}       relevant: a section with a chunk holding a phrase
    {"id", "question", "relevant": [{"file", "heading", "grade"}]}  relevant: those sections
    {"id", "question", "expect": "none"}                         the corpus does not answer it
"file" is relative to the corpus folder, with "/" separators. "heading" is a heading or a heading
path "A > B"; it names every section of the file whose heading path (title first) ends with it.
Extra fields group the figures: "style", or "kind" on a line without one.

Relevance is per section, (source, heading path), for every kind of line: two chunks of one
relevant section are one relevant item, found at the rank of the first. The figures, under the
names sentence-transformers' InformationRetrievalEvaluator uses for the same things:
    Hit@k      any relevant section in the top k (its accuracy@k)
    Recall@k   relevant sections in the top k, over the question's relevant sections
    MRR@10     1 / rank of the first relevant section in the top 10
    nDCG@10    graded, each relevant section counted once, at its first rank
"""

from __future__ import annotations

import atexit
import errno
import json
import math
import os
import re
import stat
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Sequence

from guidesearch.errors import OutputFileError, QuestionError, QuestionFileError
from guidesearch.question import clean_question
from guidesearch.records import Chunk, Hit, SearchResult, ends_with_heading, opens_under_heading

CUTOFFS = (1, 3, 5, 10)
DEPTH = 10                  # the cutoff of MRR and nDCG
METRIC_NAMES = (*(f"Hit@{k}" for k in CUTOFFS), *(f"Recall@{k}" for k in CUTOFFS),
                f"MRR@{DEPTH}", f"nDCG@{DEPTH}")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})

SectionKey = tuple[str, tuple[str, ...]]     # (source, heading path): what counts once


def section_key(chunk: Chunk) -> SectionKey:
    """The section a chunk belongs to."""
    return (chunk.source, chunk.headings)


@dataclass(frozen=True)
class RelevantSection:
    """A section named by a "relevant" line: a file, a heading or heading path, a grade."""

    file: str
    heading: str
    grade: int = 1

    @property
    def path(self) -> tuple[str, ...]:
        """The heading's parts: "Diabetic > Treatment" -> ("Diabetic", "Treatment")."""
        return tuple(part.strip() for part in self.heading.split(">"))

    def matches(self, key: SectionKey) -> bool:
        """Same file, and the section's heading path ends with this heading (path)."""
        source, headings = key
        return source == self.file and ends_with_heading(headings, self.heading)


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    evidence: tuple[str, ...] = ()
    relevant: tuple[RelevantSection, ...] = ()
    expect_none: bool = False
    group: str = ""             # the line's "style" or "kind", for breakdowns


def fold(text: str) -> str:
    """Case, white space and curly quotes folded, for evidence matching."""
    return _SPACES.sub(" ", text.translate(_QUOTES).lower()).strip()


def corpus_path(file: str) -> str:
    """A file name as chunks carry it: relative to the corpus folder, "/" separators."""
    return PurePosixPath(file.strip().replace("\\", "/")).as_posix()


def read_questions(path: Path) -> list[Question]:
    """Parse a question file; a bad line raises an error naming the file, line and fix.

    Args:
        path: a JSONL question file (see the module docstring).

    Returns:
        The questions, in file order.
    """
    questions = []
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()     # a byte-order mark (Notepad) is fine
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"Cannot read the question file {path} ({exc}).") from exc
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if line.strip():
            question = _parse_line(line, f"{path}:{number}")
            if question.qid in first_line:      # --out and the breakdowns name questions by id
                raise QuestionFileError(f"{path}:{number}: the id {json.dumps(question.qid)} is also the id of line "
                                        f"{first_line[question.qid]}. Give each question its own id.")
            first_line[question.qid] = number
            questions.append(question)
    if not questions:
        raise QuestionFileError(f"The question file {path} holds no questions.")
    return questions


def _parse_line(line: str, where: str) -> Question:
    try:
        data = json.loads(line)
        qid, question = str(data["id"]), data["question"]
        if not isinstance(question, str) or not question.strip():
            raise ValueError("the question is empty")
        _searchable(question)
        if any(not isinstance(data.get(tag, ""), str) for tag in ("style", "kind")):
            raise ValueError('"style" and "kind" must be text, e.g. "lay"')
        group = data.get("style") or data.get("kind") or ""
        # One way of judging a line: with two, one would be dropped without a word (adversarial testing).
        labels = [label for label in ("evidence", "relevant", "expect") if label in data]
        if len(labels) > 1:
            raise ValueError(f'it has both "{labels[0]}" and "{labels[1]}": keep the one that judges it')
        if data.get("expect") == "none":
            return Question(qid, question, expect_none=True, group=group)
        if data.get("evidence"):
            return Question(qid, question, evidence=_phrases(data["evidence"]), group=group)
        if data.get("relevant"):
            relevant = tuple(_relevant_entry(entry) for entry in data["relevant"])
            if not any(item.grade > 0 for item in relevant):
                # Every metric would count it a miss, with nothing to say why (adversarial testing).
                raise ValueError('no "relevant" section has a grade above 0, so no answer could count; give the '
                                 'sections that answer grade 1 or 2, or mark the line "expect": "none"')
            return Question(qid, question, relevant=relevant, group=group)
        raise ValueError('no "evidence", "relevant" or "expect": "none"')
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
        raise QuestionFileError(
            f"{where}: not a question line ({exc}). Each line needs \"id\", \"question\" and one of "
            "\"evidence\": [phrases], \"relevant\": [{\"file\", \"heading\"}] or \"expect\": \"none\".") from exc


def _searchable(question: str) -> None:
    """Raise ValueError for a question search() refuses ("???"): found now, with its line,
    rather than after the model has loaded and the lines before it were searched."""
    try:
        clean_question(question, len(question))
    except QuestionError as exc:
        raise ValueError(str(exc)) from exc


def _relevant_entry(entry: dict) -> RelevantSection:
    file, heading = corpus_path(str(entry["file"])), str(entry["heading"]).strip()
    if file == "." or not heading:
        raise ValueError('a "relevant" entry has an empty "file" or "heading"')
    grade = entry.get("grade", 1)
    if type(grade) is not int or grade < 0:     # not true (1), 2.7 (2) or -1
        raise ValueError(f'a "grade" must be a whole number 0 or more (0: judged not relevant), not {json.dumps(grade)}')
    return RelevantSection(file, heading, grade)


def _phrases(evidence: list) -> tuple[str, ...]:
    if not isinstance(evidence, list) or not all(isinstance(phrase, str) for phrase in evidence):
        # a bare string would be read letter by letter, each letter matching nearly everything
        raise ValueError('"evidence" must be a list of phrases, e.g. ["calf cramps at night"]')
    phrases = tuple(evidence)
    if not all(fold(phrase) for phrase in phrases):
        raise ValueError("an evidence phrase is empty")     # it would match every section
    return phrases


class SectionIndex:
    """The index's sections, to find the ones relevant to a question."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        self._chunks = list(chunks)
        self._order: dict[str, dict[tuple[str, ...], None]] = defaultdict(dict)    # reading order
        for chunk in self._chunks:
            self._order[chunk.source][chunk.headings] = None

    @cached_property
    def _folded(self) -> list[tuple[SectionKey, str]]:
        return [(section_key(chunk), fold(chunk.text)) for chunk in self._chunks]

    def with_evidence(self, phrases: Iterable[str]) -> list[SectionKey]:
        """Sections with a chunk whose text holds one of the phrases (folded), in index order."""
        folded = [fold(phrase) for phrase in phrases]
        keys = (key for key, text in self._folded if any(phrase in text for phrase in folded))
        return list(dict.fromkeys(keys))

    def holds(self, source: str) -> bool:
        return source in self._order

    def named(self, item: RelevantSection) -> list[SectionKey]:
        """Sections of the index that a "relevant" entry names; for a heading whose text the
        chunker moved into its first subsection (a lone lead-in), that subsection."""
        keys = [(item.file, headings) for headings in self._order.get(item.file, ())]
        return [key for key in keys if item.matches(key)] or \
            [key for key in keys if opens_under_heading(key[1], item.heading)][:1]


def label_problems(questions: Sequence[Question], chunks: Iterable[Chunk]) -> list[str]:
    """What in the questions' labels matches nothing in the index, one line each: a misspelt
    heading or phrase would otherwise read as a retrieval failure (a question whose labels name
    nothing scores 0 whatever the ranking)."""
    sections = SectionIndex(chunks)
    problems = []
    for question in questions:
        dead = [phrase for phrase in question.evidence if not sections.with_evidence([phrase])]
        if dead and len(dead) == len(question.evidence):
            problems.append(f"{question.qid}: no passage holds any of its evidence phrases; it counts as not found")
        else:   # another phrase matches: this one is ignored
            problems += [f'{question.qid}: no passage holds the evidence phrase "{phrase}"; it is ignored'
                         for phrase in dead]
        for item in (item for item in question.relevant if item.grade > 0):     # grade 0 never counts
            if not sections.holds(item.file):
                problems.append(f"{question.qid}: the index holds no guide {item.file}; it counts as not found")
            elif not sections.named(item):
                problems.append(f'{question.qid}: {item.file} has no section "{item.heading}"; it counts as not found')
    return problems


def relevant_sections(question: Question, sections: SectionIndex) -> dict[SectionKey, int]:
    """The question's relevant sections and their grades.

    Args:
        question: an evidence or relevant question (expect-none questions have none).
        sections: the index's sections.

    Returns:
        Section -> grade (> 0). A listed section the index lacks still counts, under its listed
        path, so it lowers recall instead of vanishing from it.
    """
    if question.evidence:
        return {key: 1 for key in sections.with_evidence(question.evidence)}
    relevant: dict[SectionKey, int] = {}
    for item in question.relevant:
        for key in sections.named(item) or [(item.file, item.path)]:
            relevant[key] = max(relevant.get(key, 0), item.grade)
    return {key: grade for key, grade in relevant.items() if grade > 0}


def dcg(gains: Sequence[int]) -> float:
    """Discounted cumulative gain of grades in rank order."""
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))


@dataclass
class Outcome:
    """One question's result, scored per section."""

    question: Question
    result: SearchResult
    relevant: dict[SectionKey, int]     # relevant section -> grade
    ranked: list[SectionKey]            # the section of each scored hit, in rank order

    def grade_of(self, chunk: Chunk) -> int:
        """The grade of the chunk's section (0: not relevant), for every chunk of the section."""
        return self.relevant.get(section_key(chunk), 0)

    @property
    def gains(self) -> list[int]:
        """Grades in rank order, each relevant section counted at its first rank only."""
        seen: set[SectionKey] = set()
        gains = []
        for key in self.ranked:
            gains.append(0 if key in seen else self.relevant.get(key, 0))
            seen.add(key)
        return gains

    def found(self, k: int) -> set[SectionKey]:
        """Relevant sections in the top k."""
        return {key for key in self.ranked[:k] if key in self.relevant}

    def hit_at(self, k: int) -> float:
        return 1.0 if self.found(k) else 0.0

    def recall_at(self, k: int) -> float:
        return len(self.found(k)) / len(self.relevant) if self.relevant else 0.0

    def reciprocal_rank(self, k: int = DEPTH) -> float:
        return next((1.0 / rank for rank, gain in enumerate(self.gains[:k], 1) if gain), 0.0)

    def ndcg(self, k: int = DEPTH) -> float:
        ideal = dcg(sorted(self.relevant.values(), reverse=True)[:k])
        return dcg(self.gains[:k]) / ideal if ideal else 0.0

    def figures(self) -> dict[str, float]:
        """This question's figures, under METRIC_NAMES."""
        values = [*(self.hit_at(k) for k in CUTOFFS), *(self.recall_at(k) for k in CUTOFFS),
                  self.reciprocal_rank(), self.ndcg()]
        return dict(zip(METRIC_NAMES, values))


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
        """Mean Hit@k, Recall@k (k = 1, 3, 5, 10), MRR@10 and nDCG@10.

        Args:
            outcomes: answerable outcomes to average (default: all the answerable ones).

        Returns:
            Name -> mean, in METRIC_NAMES order; {} when there are no outcomes.
        """
        outcomes = self.answerable if outcomes is None else outcomes
        if not outcomes:
            return {}
        rows = [outcome.figures() for outcome in outcomes]
        return {name: sum(row[name] for row in rows) / len(rows) for name in METRIC_NAMES}

    def by_group(self, outcomes: Iterable[Outcome]) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in outcomes:
            if outcome.question.group:
                groups[outcome.question.group].append(outcome)
        return dict(sorted(groups.items()))

    def flagged_share(self, outcomes: Sequence[Outcome]) -> float:
        """Share of these questions answered "not covered"."""
        return sum(not o.result.covered for o in outcomes) / len(outcomes) if outcomes else 0.0

    def summary(self) -> dict[str, object]:
        """The figures as one JSON-ready object (evaluate --json).

        Returns:
            "questions" (answerable), "hit@k", "recall@k", "mrr@10", "ndcg@10" (None without
            answerable questions), "not_covered_rate" (share of the expect-none questions flagged
            not covered; None without any), "wrongly_not_covered_rate" (share of the answerable
            ones flagged), "unanswerable" (their count), and "by_style": the same per group.
        """
        summary = self._summary_of(self.outcomes)
        summary["by_style"] = {group: self._summary_of(outcomes)
                               for group, outcomes in self.by_group(self.outcomes).items()}
        return summary

    def _summary_of(self, outcomes: Sequence[Outcome]) -> dict[str, object]:
        answerable = [o for o in outcomes if not o.question.expect_none]
        unanswerable = [o for o in outcomes if o.question.expect_none]
        figures = self.metrics(answerable)
        summary: dict[str, object] = {"questions": len(answerable)}
        summary.update({name.lower(): figures.get(name) for name in METRIC_NAMES})
        summary["not_covered_rate"] = self.flagged_share(unanswerable) if unanswerable else None
        summary["wrongly_not_covered_rate"] = self.flagged_share(answerable) if answerable else None
        summary["unanswerable"] = len(unanswerable)
        return summary

    def format(self) -> str:
        """The figures as text: all answerable questions, then each group; then the flags."""
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
    """Ask every question and score the hits per section.

    Args:
        questions: from read_questions.
        ask: question text -> SearchResult, with at least max(top_k, 10) hits where it can.
        chunks: every chunk of the index (relevant sections are looked up in them).
        top_k: hits scored per question; at least 10 are, so every cutoff is defined.

    Returns:
        The report: one Outcome per question.
    """
    sections = SectionIndex(chunks)
    report = Report()
    for question in questions:
        result = ask(question.question)
        ranked = [section_key(hit.chunk) for hit in result.hits[:max(top_k, DEPTH)]]
        report.outcomes.append(Outcome(question, result, relevant_sections(question, sections), ranked))
    return report


def outcome_line(outcome: Outcome) -> dict:
    """One line of evaluate --out: every hit with the grade of its section and "relevant"."""
    result = outcome.result
    return {"id": outcome.question.qid, "question": outcome.question.question,
            "covered": result.covered, "missing_terms": list(result.missing_terms),
            "passing_terms": list(result.passing_terms), "unmatched_terms": list(result.unmatched_terms),
            "hits": [_hit_line(hit, outcome.grade_of(hit.chunk)) for hit in result.hits]}


def _hit_line(hit: Hit, grade: int) -> dict:
    return {**hit.to_dict(), "relevant": bool(grade), "grade": grade}


class ResultsFile:
    """Where evaluate --out writes its lines: opened before the run, so that a path that cannot
    be written fails at once, and written whole at the end.

    A regular file is written through a temporary file beside it, given the file's mode (or the
    one a new file gets), then moved over it: a full disk, an error or Ctrl-C leaves what the
    path held. A link (/dev/stdout is one), a device or a pipe is opened only at the end and
    written directly, as is a file whose folder cannot be written: an interrupted run leaves
    them as they were too. The question file itself is refused: the results would replace the
    questions (found by adversarial testing; links and modes by review).
    """

    def __init__(self, path: Path, questions: Path) -> None:
        self.path = path
        if path.resolve() == questions.resolve() or (path.exists() and os.path.samefile(path, questions)):
            raise OutputFileError(f"--out {path} is the question file itself: the results would replace the "
                                  "questions. Give --out another file.")
        try:
            # A read-only file is not replaced; a dangling link, written directly, needs its folder
            # writable (a new file's folder is tried by _beside).
            writable = os.access(path, os.W_OK) if path.exists() else \
                self._replaceable(path) or os.access(path.parent, os.W_OK)
            if not writable:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            self._temporary = self._beside(path) if self._replaceable(path) else None
        except OSError as exc:
            raise self._error(exc) from exc
        if self._temporary is not None:
            atexit.register(self._discard)

    @staticmethod
    def _replaceable(path: Path) -> bool:
        """Whether path is (or will be) a regular file of its own, not a link, device or pipe."""
        try:
            return stat.S_ISREG(path.lstat().st_mode)
        except FileNotFoundError:
            return True

    @staticmethod
    def _beside(path: Path):
        """A temporary file in path's folder with the mode path has (or a new file would get);
        None when the folder cannot be written but path can."""
        try:
            temporary = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                                    suffix=".tmp", delete=False)
        except PermissionError:
            if path.exists() and os.access(path, os.W_OK):
                return None
            raise
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(temporary.name, mode)
        return temporary

    def write(self, lines: Iterable[str]) -> None:
        """Write the lines, and put them in place.

        Raises:
            OutputFileError: they cannot be written (a full disk: what the path held stays).
        """
        try:
            with self._temporary or open(self.path, "w", encoding="utf-8") as file:
                file.writelines(lines)
            if self._temporary is not None:
                os.replace(self._temporary.name, self.path)
        except OSError as exc:
            raise self._error(exc) from exc
        finally:
            self._discard()

    def _discard(self) -> None:
        if self._temporary is not None:
            self._temporary.close()
            Path(self._temporary.name).unlink(missing_ok=True)

    def _error(self, exc: OSError) -> OutputFileError:
        return OutputFileError(f"Cannot write {self.path} ({exc.strerror or exc}). Give --out a file in a "
                               "folder that exists, that you can write and that has room.")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

