"""Clean what a person typed into a question the model and BM25 can read."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from guidesearch.errors import QuestionError
from guidesearch.text import WORD

_SPACES = re.compile(r"\s+")
# A terminal escape sequence pasted with the text ("\x1b[2J" clears a screen): all of it goes,
# not only its escape character, or "[2J" is searched as the word "2j".
# An operating-system command ("\x1b]0;title\x07") goes only with its terminator, on one line and
# short: unterminated, only its escape goes, or the rest of the question would go with it.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]{0,256}(?:\x07|\x1b\\)|[ -/]+[0-~]|[@-Z\\-_])")
# Control and format characters, line and paragraph separators, lone surrogates.
_NOT_TEXT = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))


@dataclass(frozen=True)
class CleanQuestion:
    text: str
    truncated: bool


def clean_question(raw: object, max_chars: int) -> CleanQuestion:
    """Drop control characters and lone surrogates, fold white space, cut to max_chars.

    Raises:
        QuestionError: nothing searchable is left (empty, blank, or punctuation only).
    """
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise QuestionError(f"A question must be text, not {type(raw).__name__}.")
    # A lone surrogate (a broken byte in a terminal argument, "\\ud800" in JSON) is no
    # character at all: the tokenizer refuses the whole text, and it cannot be written as UTF-8.
    # An invisible format character (a soft hyphen, a zero-width space pasted inside a word) is
    # dropped, not made a space: "gaba\\u00adpentin" is gabapentin. NFKC then gives one form to
    # what looks the same (a decomposed accent, full-width letters), as the guides' words have.
    text = "".join(_kept(char) for char in _ESCAPE_SEQUENCE.sub(" ", raw[: max_chars * 4]))
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise QuestionError("The question is empty. Type a question, for example: "
                            "why do my calves cramp at night?")
    if not WORD.search(text) and not _has_symbol_words(text):
        raise QuestionError("The question has no words in it, only punctuation. Type a question "
                            "in words, for example: what helps leg cramps?")
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars].rsplit(" ", 1)[0] or text[:max_chars]
    return CleanQuestion(text, truncated)


def _kept(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    return " " if category in _NOT_TEXT else char


def _has_symbol_words(text: str) -> bool:
    """Emoji and other symbols carry meaning the model can read; punctuation alone does not."""
    return any(unicodedata.category(char) == "So" for char in text)
