"""Evidence for display: the sentence or list item that best answers the question, marked, with
the question's terms emphasised, rendered as safe HTML.

Every piece of corpus and question text goes through escape_html (or escape_markdown); the only tags in the output
are the ones written here, so neither a guide nor a question can inject markup or script.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from guidesearch.chunk import is_lead_in
from guidesearch.embed import TextEncoder
from guidesearch.lexical import stem, words
from guidesearch.records import Evidence
from guidesearch.text import GRAMMAR_WORDS, WORD, bidi_visible, is_bullet, is_table_line, split_sentences, strip_bullet


@dataclass(frozen=True)
class Block:
    """A paragraph, list item or table of a passage; units are what can be marked as evidence."""

    kind: str                       # "para", "item" or "table"
    units: tuple[str, ...]          # sentences of a paragraph; the item or table whole


# Evidence candidates per passage: the units sharing most words with the question (then the
# first ones), each read up to EVIDENCE_CHARS. MedQuAD passages hold up to ~40 units; embedding
# them all cost ~300 ms a search (bench/results/speed.md).
MAX_CANDIDATES = 3
EVIDENCE_CHARS = 200
# Candidates are embedded in batches this small: sorted by length, a batch then pads little. In
# one batch, every candidate of a MedQuAD search is padded to the longest: search() with evidence
# took p50 72.7 ms against 50.2 ms in batches of 4 (58.0 in batches of 1; 115 questions,
# alternating, one onnx-int8 thread, 2026-11-27).
UNIT_BATCH = 4


@lru_cache(maxsize=4096)
def blocks_of(text: str) -> tuple[Block, ...]:
    """The passage's blocks, paragraphs split into sentences (cached: the same passages come
    back for many questions)."""
    return tuple(Block(kind, sentences_of(body) if kind == "para" else (body,))
                 for kind, body in raw_blocks(text))


@lru_cache(maxsize=4096)
def raw_blocks(text: str) -> tuple[tuple[str, str], ...]:
    """(kind, text) of each paragraph, list item or table, without splitting sentences: the
    cheap part of blocks_of, in the same order."""
    blocks: list[tuple[str, str]] = []
    table: list[str] = []
    for line in text.split("\n"):
        if is_table_line(line):
            table.append(line.strip())
            continue
        if table:
            blocks.append(("table", "\n".join(table)))
            table = []
        if not line.strip():
            continue
        blocks.append(("item", strip_bullet(line)) if is_bullet(line) else ("para", line.strip()))
    if table:
        blocks.append(("table", "\n".join(table)))
    return tuple(blocks)


@lru_cache(maxsize=16384)
def sentences_of(paragraph: str) -> tuple[str, ...]:
    # pysbd is the slow step of evidence (about 5 ms a MedQuAD passage): split what is needed, once.
    return tuple(split_sentences(paragraph))


class UnitVectors:
    """Vectors of sentences and items, kept for the next searches (the same passages come back
    often), at most `limit` of them, the least recently used dropped first."""

    def __init__(self, encoder: TextEncoder, limit: int = 20_000) -> None:
        self.encoder = encoder
        self.limit = limit
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, texts: list[str]) -> np.ndarray:
        """One row per text; those not seen before are embedded together, in batches of UNIT_BATCH."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = self.encoder.encode(missing, batch_size=UNIT_BATCH) if missing else None
        with self._lock:
            for text, vector in zip(missing, fresh if fresh is not None else ()):
                self._vectors[text] = vector
            rows = [self._vectors.get(t) for t in texts]
            for text in texts:
                if text in self._vectors:
                    self._vectors.move_to_end(text)
            while len(self._vectors) > self.limit:
                self._vectors.popitem(last=False)
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.encoder.dimension)


def find_evidence(question: str, query: np.ndarray, texts: list[str],
                  vectors: UnitVectors) -> list[Evidence | None]:
    """For each passage, the sentence or item closest in meaning to the question (query is the
    question's vector, as the search embedded it). The candidates of all passages are embedded
    together (UnitVectors); a passage of one unit needs none."""
    terms = set(stem(words(question)))
    candidates = [_candidates(text, terms) for text in texts]
    to_embed = [unit[:EVIDENCE_CHARS] for units in candidates if len(units) > 1 for _, _, unit in units]
    unit_vectors = iter(vectors.of(to_embed))
    found: list[Evidence | None] = []
    for units in candidates:
        if len(units) <= 1:
            found.append(Evidence(*units[0]) if units else None)
            continue
        scores = [float(next(unit_vectors) @ query) for _ in units]
        found.append(Evidence(*units[int(np.argmax(scores))]))
    return found


def _candidates(text: str, terms: set[str], lead_ins: bool = False) -> list[tuple[int, int, str]]:
    """(block, unit, text) of the MAX_CANDIDATES units sharing most question terms (then the
    first ones), in passage order. Blocks are taken best first and only those paragraphs are
    split into sentences that may still hold a better unit than those found.

    A line that introduces what follows ("Various medications can help manage ... cramps:") is
    no answer in itself, though it often sits closest to the question: it is a candidate only
    when the passage holds nothing else (lead_ins)."""
    blocks = raw_blocks(text)
    block_shared = [_shared(terms, body) for _, body in blocks]
    found: list[tuple[int, int, int, str]] = []          # (-shared, block, unit, text)
    for b in sorted(range(len(blocks)), key=lambda i: (-block_shared[i], i)):
        if len(found) >= MAX_CANDIDATES and -found[MAX_CANDIDATES - 1][0] >= block_shared[b]:
            break                                       # no unit of this block can do better
        kind, body = blocks[b]
        units = sentences_of(body) if kind == "para" else (body,)
        found.extend((-_shared(terms, unit) if len(units) > 1 else -block_shared[b], b, u, unit)
                     for u, unit in enumerate(units) if lead_ins or not is_lead_in(unit))
        found.sort()
    if not found and not lead_ins:
        return _candidates(text, terms, lead_ins=True)
    return sorted((b, u, unit) for _, b, u, unit in found[:MAX_CANDIDATES])


def _shared(terms: set[str], text: str) -> int:
    return len(terms & set(stem(words(text))))


def render_passage(text: str, question: str, evidence: tuple[int, int] | None,
                   blocks: tuple[Block, ...] | None = None) -> str:
    """The passage as HTML: paragraphs, lists and tables, evidence in <mark>, terms in <strong>."""
    blocks = blocks if blocks is not None else blocks_of(text)
    # Function words ("can", "should": BM25's stopword list keeps them) would be bold all over a
    # passage; seen on the page, found in a screenshot. The words of asking stay ("doctor", "cure").
    terms = set(stem([word for word in words(question) if word not in GRAMMAR_WORDS]))
    parts: list[str] = []
    items: list[str] = []
    for b, block in enumerate(blocks):
        rendered = [_mark(_emphasise(unit, terms), evidence == (b, u)) for u, unit in enumerate(block.units)]
        if block.kind == "item":
            items.append(f"<li>{rendered[0]}</li>")
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if block.kind == "table":
            parts.append(_table(block.units[0], terms, evidence == (b, 0)))
        else:
            parts.append("<p>" + " ".join(rendered) + "</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(parts)


def _mark(fragment: str, is_evidence: bool) -> str:
    return f"<mark>{fragment}</mark>" if is_evidence else fragment


def _emphasise(text: str, terms: set[str]) -> str:
    """Escaped text with words whose stem is a question term in <strong>."""
    out: list[str] = []
    last = 0
    for match in WORD.finditer(text):
        word = match.group(0)
        if word.lower() in words(word) and stem([word.lower()])[0] in terms:
            out.append(escape_html(text[last:match.start()]))
            out.append(f"<strong>{escape_html(word)}</strong>")
            last = match.end()
    out.append(escape_html(text[last:]))
    return "".join(out)


def _table(text: str, terms: set[str], is_evidence: bool) -> str:
    """A pipe table as an HTML table; the "---|---" row separates the header."""
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.split("\n")]
    header, body = (rows[0], rows[2:]) if len(rows) > 1 and set("".join(rows[1])) <= set("-: ") else ([], rows)
    head = "".join(f"<th>{_emphasise(cell, terms)}</th>" for cell in header)
    cells = "".join("<tr>" + "".join(f"<td>{_emphasise(cell, terms)}</td>" for cell in row) + "</tr>"
                    for row in body)
    style = ' class="evidence"' if is_evidence else ""
    return f"<table{style}>" + (f"<thead><tr>{head}</tr></thead>" if head else "") + f"<tbody>{cells}</tbody></table>"


def escape_html(text: str) -> str:
    """Text for an HTML block of the page: tags escaped, "$" as an entity so that no math
    renderer reads a formula in it, and ":" so that Streamlit reads no directive (":red[…]",
    ":material/home:", which it rewrote as ":material_home:": found by adversarial testing), and
    bidirectional controls shown as escapes, as in the terminal (text.bidi_visible).
    The one way corpus text reaches raw HTML on the page."""
    return html.escape(bidi_visible(text)).replace("$", "&#36;").replace(":", "&#58;")


_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")      # every ASCII punctuation character
# Where GitHub-flavoured Markdown (the page's renderer) finds a link in plain text, backslashes
# or not: "www.", "://" and an e-mail's "@". An invisible word joiner breaks each.
_AUTOLINK_START = re.compile(r"(www(?=\.)|:(?=//)|@)", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def escape_markdown(text: str) -> str:
    """Text that a Markdown renderer shows as written: no link, image, emphasis, math or HTML.

    Every ASCII punctuation character is backslash-escaped (CommonMark allows it for all of
    them), so "![x](https://host/x.png)" stays text and "$...$" is no formula; line breaks stay
    line breaks. GFM's links found in plain text ("www.example.com", "http://...", an e-mail
    address) are read after escapes are undone, so a word joiner (invisible) breaks them.
    Bidirectional controls are shown as escapes (text.bidi_visible).
    The one way corpus text and messages reach a Markdown element of the page.
    """
    unlinked = _AUTOLINK_START.sub(lambda found: found.group(0) + _WORD_JOINER, bidi_visible(text))
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", unlinked)
    return "  \n".join(escaped.split("\n"))
