"""Text shapes every stage agrees on: words, stopwords, sentences, list items, table lines, and
how guide text shows its bidirectional controls (escaped, in the terminal and on the page).

One home for each, so that the chunker, BM25, the coverage check and the highlighter can never
disagree about what a word, a sentence or a bullet is.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A word: a run of letters, digits or underscores, in any script.
WORD = re.compile(r"\w+", re.UNICODE)


# Characters that reorder the text around them: the bidirectional embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069), and the marks (U+200E, U+200F, U+061C), which can turn
# a line's direction. A heading holding U+202E could show the source and score after it reversed
# in a terminal, and on the page a dose of "05 mg" read "50 mg", or one guide's title reversed the
# titles after it (both found by adversarial testing).
_BIDI_CONTROLS = {code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                                         0x200E, 0x200F, 0x061C)}


def bidi_visible(text: str) -> str:
    """Guide text (a title, a heading, a passage) for a terminal or the page: bidirectional
    controls shown as escapes ("\\u202e"), everything else as written."""
    return text.translate(_BIDI_CONTROLS)


def plain_digits(text: str) -> bool:
    """Whether a number sent as text is written in ASCII digits alone: what the API and MCP read
    as a count, where Python's int() would also read "1_0" as 10 and " 3" as 3."""
    return text.isascii() and text.isdigit()


def cut(text: str, limit: int) -> str:
    """Text of at most limit characters, an ellipsis marking a cut: for messages that repeat
    something a user or a guide gave, which may be huge."""
    return text if len(text) <= limit else text[:limit - 1] + "…"

# A list item: "-", "*", "•", "+" or "1." / "1)" then white space.
BULLET = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+")

# Between sentences, when pysbd is not installed: white space after ".", "!" or "?" (and a
# closing quote or bracket), before a capital or digit.
_SENTENCE_BOUNDARY = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’)]))\s+(?=[\"“(]?[A-Z0-9])")

# English function words ("can", "does", "which"): they name nothing.
GRAMMAR_WORDS = frozenset("""
    a about above across after afterwards again against all almost alone along already also
    although always am among an and another any anybody anyhow anyone anything anyway anywhere
    are around as ask asked asking at away back be became because become becomes been before
    behind being below beside besides between beyond both but by can cannot could did do does
    doing done down during each either else elsewhere enough etc even ever every everyone
    everything everywhere except few for from further had has have having he her here hers
    herself him himself his how however i if im in instead into is it its itself just least
    less let lot lots many may me meanwhile might mine more moreover most mostly much must my
    myself neither never nevertheless next no nobody none nor not nothing now nowhere of off
    often on once one only onto or other others otherwise our ours ourselves out over own per
    perhaps please quite rather really same several she should since so some somebody somehow
    someone something sometime sometimes somewhere still such than that the their theirs them
    themselves then there therefore these they thing things this those though through
    throughout thus to together too toward towards under until up upon us very via was we well
    were what whatever when whenever where whereas wherever whether which while who whoever
    whole whom whose why will with within without would yet you your yours yourself
    yourselves
""".split())

# The function words, and the words of asking itself: neither says what a question is about
# (though "doctor" or "cure" may be words of the guide's answer).
FUNCTION_WORDS = GRAMMAR_WORDS | frozenset("""
    anymore bad best better bother bothering common cure day days doctor experience experiencing
    feel feeling feels fine get gets getting give go goes going good got happen happens
    happening hard help helps helpful helping keep keeps kind know like likely long make makes
    matter mean means need needs normal ok okay people person possible problem problems reason
    right say seem seems sign signs start started stop sure take takes taking tell time times
    trouble true try trying type typical usually want way ways work works worry worse wrong
    year years
""".split())

# Words that say nothing about a guide's topic, for comparing headings with a title.
TITLE_STOPWORDS = frozenset("a an and are can do does for how in is of on or the to what when why with".split())


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """BM25's English stopwords (bm25s's list)."""
    from bm25s.stopwords import STOPWORDS_EN
    return frozenset(STOPWORDS_EN)


def words(text: str) -> list[str]:
    """Lower-cased words, in order."""
    return WORD.findall(text.lower())


def is_bullet(line: str) -> bool:
    return BULLET.match(line) is not None


def strip_bullet(line: str) -> str:
    return BULLET.sub("", line, count=1).strip()


def is_table_line(line: str) -> bool:
    """A line of a pipe table ("a | b |"): kept whole with its neighbours."""
    return "|" in line and bool(line.strip())


@lru_cache(maxsize=1)
def _segmenter():
    try:
        import pysbd
    except ImportError:
        return None
    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(line: str) -> list[str]:
    """Sentences of one line of prose, in order, without the white space between them."""
    return [sentence for _, sentence in sentence_pieces(line)]


def sentence_pieces(line: str) -> list[tuple[str, str]]:
    """(white space before, sentence) for each sentence of a line: joined back, they give the
    line exactly, so a chunk cut between sentences keeps the text as written.

    pysbd knows abbreviations ("St. John's wort", "Dr. Smith", "e.g."). A line is only ever cut
    at white space; when pysbd fails or cannot give the line back, the plain pattern is used.
    """
    if not line.strip():
        return [("", line)]
    cuts = _pysbd_cuts(line)
    if cuts is None:
        cuts = [match.span() for match in _SENTENCE_BOUNDARY.finditer(line)]
    pieces: list[tuple[str, str]] = []
    start, before = 0, ""
    for gap_start, gap_end in cuts:
        if gap_start > start:
            pieces.append((before, line[start:gap_start]))
            start, before = gap_end, line[gap_start:gap_end]
    pieces.append((before, line[start:]))
    return pieces


# pysbd's time grows with the square of a line's length: longer lines use the plain pattern.
PYSBD_MAX_CHARS = 5000


def _pysbd_cuts(line: str) -> list[tuple[int, int]] | None:
    """Spans of the white space between pysbd's sentences, or None when pysbd is not usable."""
    segmenter = _segmenter()
    if segmenter is None or len(line) > PYSBD_MAX_CHARS:
        return None
    try:
        segments = segmenter.segment(line)
    except Exception:  # pysbd's regexes fail on rare inputs; the plain pattern always works
        return None
    if "".join(segments) != line:
        return None
    cuts, position = [], 0
    for segment in segments[:-1]:
        position += len(segment)
        gap_start = len(line[:position].rstrip())
        gap_end = len(line) - len(line[position:].lstrip())
        if gap_start < gap_end:      # a cut only where white space separates the sentences
            cuts.append((gap_start, gap_end))
    return cuts
