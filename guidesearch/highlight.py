"""Evidence for display: the sentence or list item that best answers the question, marked, with
the question's terms emphasised, rendered as safe HTML.

Every piece of corpus and question text goes through escape_html (or escape_markdown); the only tags in the output
are the ones written here, so neither a guide nor a question can inject markup or script.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from guidesearch.embed import TextEncoder
from guidesearch.lexical import stem, words
from guidesearch.text import WORD, is_bullet, is_table_line, split_sentences, strip_bullet


@dataclass(frozen=True)
class Block:
    """A paragraph, list item or table of a passage; units are what can be marked as evidence."""

    kind: str                       # "para", "item" or "table"
    units: tuple[str, ...]          # sentences of a paragraph; the item or table whole


def blocks_of(text: str) -> list[Block]:
    blocks: list[Block] = []
    table: list[str] = []
    for line in text.split("\n"):
        if is_table_line(line):
            table.append(line.strip())
            continue
        if table:
            blocks.append(Block("table", ("\n".join(table),)))
            table = []
        if not line.strip():
            continue
        if is_bullet(line):
            blocks.append(Block("item", (strip_bullet(line),)))
        else:
            blocks.append(Block("para", tuple(split_sentences(line.strip()))))
    if table:
        blocks.append(Block("table", ("\n".join(table),)))
    return blocks


def best_unit(question: str, blocks: list[Block], encoder: TextEncoder) -> tuple[int, int] | None:
    """(block, unit) of the sentence or item closest in meaning to the question."""
    places = [(b, u) for b, block in enumerate(blocks) for u in range(len(block.units))]
    if not places:
        return None
    texts = [blocks[b].units[u] for b, u in places]
    vectors = encoder.encode([question, *texts])
    scores = vectors[1:] @ vectors[0]
    return places[int(np.argmax(scores))]


def render_passage(text: str, question: str, evidence: tuple[int, int] | None,
                   blocks: list[Block] | None = None) -> str:
    """The passage as HTML: paragraphs, lists and tables, evidence in <mark>, terms in <strong>."""
    blocks = blocks if blocks is not None else blocks_of(text)
    terms = set(stem(words(question)))
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
    """Text for an HTML block of the page: tags escaped, and "$" as an entity so that no math
    renderer reads a formula in it. The one way corpus text reaches raw HTML on the page."""
    return html.escape(text).replace("$", "&#36;")


_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")      # every ASCII punctuation character


def escape_markdown(text: str) -> str:
    """Text that a Markdown renderer shows as written: no link, image, emphasis, math or HTML.

    Every ASCII punctuation character is backslash-escaped (CommonMark allows it for all of
    them), so "![x](https://host/x.png)" stays text and "$...$" is no formula; line breaks stay
    line breaks. The one way corpus text and messages reach a Markdown element of the page.
    """
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return "  \n".join(escaped.split("\n"))
