"""The records that flow between stages. Stages pass these, never loose dicts or tuples."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable, Sequence

from guidesearch.text import cut


@dataclass(frozen=True)
class Section:
    """One section of a guide, as the ingest finds it."""

    source: str                 # path relative to the corpus folder, with "/" separators
    title: str                  # the guide's title
    headings: tuple[str, ...]   # heading path, title first: ("Title", "H2", "H3")
    text: str                   # the section's body, as written in the guide

    @property
    def heading(self) -> str:
        """The section's own heading (the title for the introduction)."""
        return self.headings[-1]


UNREADABLE = "unreadable"       # the hash of a file that could not be read: tried again each time
NOT_READ = ""                   # the hash of a file skipped before reading (too large, a link
                                # outside the corpus, not a regular file)


def display_name(source: str) -> str:
    """A file name safe for one line of output: no line breaks or control characters, and bytes
    that are not UTF-8 shown as escapes."""
    try:
        text = os.fsencode(source).decode("utf-8", "backslashreplace")
    except UnicodeError:
        text = source.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def display_names(sources: Sequence[str], shown: int = 5) -> str:
    """The first few file names (display_name) in one line, and how many more there are."""
    return first_few(sources, shown, display_name)


def first_few(items: Sequence, shown: int, written: Callable[[object], str], separator: str = ", ",
              joined_by: str = "and") -> str:
    """The first `shown` items, each as written, in one line, and how many more there are:
    'a.md, b.md and 3 more'; messages repeat what a user or a guide gave, which may be many."""
    more = f" {joined_by} {len(items) - shown} more" if len(items) > shown else ""
    return separator.join(map(written, items[:shown])) + more


@dataclass(frozen=True)
class FileStamp:
    """What was seen of one corpus file: size and time to notice a change cheaply, the hash of
    the very bytes that were read (or "" when they were not read) to be sure."""

    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Guide:
    """A guide file read from the corpus."""

    source: str
    title: str
    sections: tuple[Section, ...]
    stamp: FileStamp            # of the bytes the sections come from

    @property
    def sha256(self) -> str:
        return self.stamp.sha256


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file that was not indexed, with the reason in one line."""

    source: str
    reason: str
    stamp: FileStamp | None = None     # None when the file could not even be looked at


@dataclass(frozen=True)
class Chunk:
    """A piece of a section that fits the model, with the heading context it is embedded with."""

    chunk_id: str               # stable: derived from source, heading path and text
    source: str
    title: str
    headings: tuple[str, ...]
    text: str

    @property
    def heading(self) -> str:
        return self.headings[-1]

    @property
    def embed_text(self) -> str:
        """What the model reads: heading context first, so a section named "Medications"
        is still found by questions about the guide's topic."""
        return f"{' > '.join(self.headings)}: {self.text}"

    @staticmethod
    def make_id(source: str, headings: tuple[str, ...], text: str) -> str:
        digest = hashlib.sha256("\x1f".join((source, *headings, text)).encode("utf-8"))
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Evidence:
    """The sentence, list item or table of a hit that best answers the question."""

    block: int                  # which block of highlight.blocks_of(hit text)
    unit: int                   # which sentence of that block (0 for an item or a table)
    text: str                   # the sentence itself, word for word from the passage

    def to_dict(self) -> dict:
        return {"text": self.text, "block": self.block, "unit": self.unit}


@dataclass(frozen=True)
class Hit:
    """One passage returned for a question."""

    rank: int                   # 1-based
    score: float                # the score the ranking used (depends on the mode)
    cosine: float               # dense cosine between question and passage, in [-1, 1]
    chunk: Chunk
    also_in: tuple[str, ...] = ()   # other "source > section" holding the same text word for word
    evidence: Evidence | None = None    # None when the search was asked not to find it

    @property
    def source(self) -> str:
        return self.chunk.source

    @property
    def other_places(self) -> str:
        """also_in for one line of output: "b.md > Causes; c.md > Causes" ("" when none)."""
        return "; ".join(display_name(place) for place in self.also_in)

    @property
    def title(self) -> str:
        return self.chunk.title

    @property
    def headings(self) -> tuple[str, ...]:
        return self.chunk.headings

    @property
    def heading(self) -> str:
        return self.chunk.heading

    @property
    def text(self) -> str:
        return self.chunk.text

    def to_dict(self) -> dict:
        """The hit as JSON-ready data: the one conversion the CLI, evaluate and servers share."""
        return {"rank": self.rank, "score": round(self.score, 6), "cosine": round(self.cosine, 6),
                "source": self.source, "title": self.title, "heading": self.heading,
                "headings": list(self.headings), "text": self.text, "chunk_id": self.chunk.chunk_id,
                "also_in": list(self.also_in),
                "evidence": self.evidence.to_dict() if self.evidence else None}


STRONG, PARTIAL, WEAK = "strong", "partial", "weak"
PARTIAL_GAP = 0.05      # cosine below the best hit still called a partial match (bench/labels.py)


@dataclass(frozen=True)
class SearchResult:
    """The answer to one question: the hits, and whether the guides cover the question."""

    question: str               # the question as searched (cleaned, possibly cut)
    hits: tuple[Hit, ...]
    covered: bool
    missing_terms: tuple[str, ...] = ()   # key terms of the question the guides never mention
    truncated: bool = False     # the question was longer than what is read, and was cut
    focus: str = ""             # a long message as searched (guidesearch/focus.py); "": the question as is
    passing_terms: tuple[str, ...] = ()   # key terms the guides name only in passing, in no close passage
    # The guides' words also searched for words of the question they lack ("advil" -> "ibuprofen").
    related_terms: tuple[str, ...] = ()
    # Not covered as a whole, but the message without the terms the guides lack is: these of its
    # questions, which hold none of those terms, the passages may answer (Searcher._answered).
    answered: tuple[str, ...] = ()
    # Typing slips repaired before searching, (as typed, as searched): shown, so a wrong repair
    # ("text message" -> "text massage") can be seen.
    spelling: tuple[tuple[str, str], ...] = ()
    # Covered, but these words of the question the guides never use (coverage._unmatched): the
    # reader is told (unmatched_note).
    unmatched_terms: tuple[str, ...] = ()

    @property
    def partly_covered(self) -> bool:
        return not self.covered and bool(self.answered)

    def to_dict(self) -> dict:
        """The result as JSON-ready data."""
        return {"question": self.question, "covered": self.covered, "message": self.message,
                "missing_terms": list(self.missing_terms), "passing_terms": list(self.passing_terms),
                "truncated": self.truncated, "focus": self.focus, "related_terms": list(self.related_terms),
                "answered": list(self.answered), "unmatched_terms": list(self.unmatched_terms),
                "spelling": [{"typed": typed, "searched": searched} for typed, searched in self.spelling],
                "hits": [{**hit.to_dict(), "match": self.match_of(hit)} for hit in self.hits]}

    def match_of(self, hit: Hit) -> str:
        """How well a hit matches, in words a reader can use: "strong", "partial" or "weak".

        Raw scores mean little to a reader (and differ between ranking modes), and the cosine
        alone hardly tells a relevant passage from a close neighbour; the rank and the gap to
        the best hit do (bench/labels.py, on development questions): the best hit of a covered
        result answers the question most of the time, hits within PARTIAL_GAP of its cosine
        some of the time, the rest rarely. Every hit of an uncovered result is weak, of a partly
        covered one too: its passages are ranked for the whole message, the missing terms included,
        and a question that seems to ask something else may still be about them ("What are the
        side effects?" after "Is turmeric good for neuropathy?").
        """
        if not self.covered or not self.hits:
            return WEAK
        if hit.rank == 1:
            return STRONG
        return PARTIAL if self.hits[0].cosine - hit.cosine <= PARTIAL_GAP else WEAK

    @property
    def spelling_note(self) -> str:
        """Says which words were searched as which corpus words, or ""."""
        if not self.spelling:
            return ""
        pair = lambda repair: f'"{cut(repair[0], TERM_CHARS)}" as "{cut(repair[1], TERM_CHARS)}"'  # noqa: E731
        return f"Searched {first_few(self.spelling, SHOWN_TERMS, pair)}."

    @property
    def unmatched_note(self) -> str:
        """Says which words of a covered question the guides never use, or "" (a question not
        covered says what the guides lack in its message instead)."""
        if not self.covered or not self.unmatched_terms:
            return ""
        several = names_several(self.unmatched_terms)
        return f"The guides don't use the word{'s' if several else ''} {_quoted(self.unmatched_terms, 'or')}: " \
               f"check whether the passages below speak of {'them' if several else 'it'}."

    @property
    def related_note(self) -> str:
        """Says which of the guides' words were searched too, or ""."""
        if not self.related_terms:
            return ""
        return f"Also searched for the guides' word{'s' if len(self.related_terms) > 1 else ''} " \
               f"{_quoted(self.related_terms, 'and')}."

    @property
    def message(self) -> str:
        """What to tell the reader when the guides don't answer the question, or when the
        ranking found nothing to show (lexical ranking: no passage holds a word of it)."""
        if self.covered:
            return "" if self.hits else NO_PASSAGE
        said = []
        if self.missing_terms:
            said.append(f"don't mention {_quoted(self.missing_terms)}")
        if self.passing_terms:
            said.append(f"mention {_quoted(self.passing_terms)} only in passing, in none of the passages "
                        "closest to your question")
        # Lexical ranking shows nothing when no passage holds a word of the question.
        below = "the closest passages are below" if self.hits else "no passage holds its words"
        if self.partly_covered and self.hits:
            below = f"the closest passages below may answer the rest of your message: " \
                    f"{_quoted(self.answered, 'and', QUESTION_CHARS)}"
        if said:
            return f"The guides {', and '.join(said)}; {below}."
        return f"The guides don't cover this; {below}."


def names_several(terms: Sequence[str]) -> bool:
    """Whether terms are more than one word ("words", "them"), not one ("word", "it")."""
    return len(terms) > 1 or any(" " in term for term in terms)


NO_PASSAGE = ("No passage holds a word of your question. Ask in other words, or rank by meaning too "
              "(hybrid mode).")
# The message names at most this many terms, each cut to TERM_CHARS (missing_terms holds them
# all): a long message can bring a dozen, and a made-up "word" can be 2,000 letters long.
SHOWN_TERMS = 3
TERM_CHARS = 40
QUESTION_CHARS = 120        # a question the guides answer, named in the message of a partly covered one


def _quoted(terms: Sequence[str], joined_by: str = "or", chars: int = TERM_CHARS) -> str:
    return first_few(terms, SHOWN_TERMS, lambda term: f'"{cut(term, chars)}"', f" {joined_by} ", joined_by)


# Between the headings of a path as the page shows it ("Treatment › Medications"); text for
# programs (CLI, MCP, API, question files) uses ">".
SHOWN_SEPARATOR = "›"


def ends_with_heading(headings: Sequence[str], heading: str, fold: Callable[[str], str] = str.strip) -> bool:
    """Whether a section's heading path ends with `heading`: one heading, or a path "A > B"
    (a heading that itself holds ">" matches whole too). The one rule by which question files
    and tools name a section; fold says what differences to ignore (by default, outer spaces)."""
    if not headings:
        return False
    path = tuple(fold(part) for part in heading.split(">"))
    folded = tuple(fold(part) for part in headings)
    return folded[-len(path):] == path or folded[-1] == fold(heading)



def opens_under_heading(headings: Sequence[str], heading: str, fold: Callable[[str], str] = str.strip) -> bool:
    """Whether a section lies below the section `heading` names (ends_with_heading's rule for
    an ancestor). The chunker moves a section that only leads in to its subsections into the
    first of them, so a heading with no section of its own is found in its first subsection."""
    return any(ends_with_heading(headings[:depth], heading, fold) for depth in range(2, len(headings)))
