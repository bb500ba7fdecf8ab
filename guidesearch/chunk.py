"""Sections to model-sized chunks (Sections in, Chunks out).

A section that fits the chunk size (Settings.max_tokens), heading prefix included, is one chunk.
A longer one is split between its lines (list items, paragraphs) into chunks that each fit, all
with the section's heading path, and a line only between its sentences when it alone is too
long; a pipe table is kept whole where it fits. Nothing is left for the model to truncate.

A lead-in ("Here are some key strategies:") never stands alone: a section that is nothing but a
lead-in to its subsections opens its first subsection's chunk, and a split never ends a chunk
on a line that introduces what follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from guidesearch.embed import TextEncoder, content_tokens
from guidesearch.errors import ChunkError
from guidesearch.records import Chunk, Section
from guidesearch.text import cut, is_table_line, sentence_pieces

# Characters of a heading an error message names.
HEADING_CHARS = 60


@dataclass(frozen=True)
class _Unit:
    """A piece of section text that is never split further unless it alone is too long."""

    text: str
    joiner: str          # what stood between it and the previous unit: "\n", or the white space
                         # between two sentences of a line, as written


def chunk_sections(sections: Iterable[Section], encoder: TextEncoder, max_tokens: int) -> list[Chunk]:
    """Chunks for all sections, in order; each chunk's embed_text fits max_tokens tokens.

    Raises:
        ChunkError: a section cannot be cut to fit (its heading path alone is too long).
    """
    sections = attach_lead_ins(sections)
    if not sections:    # a tokenizer called with no text at all fails
        return []
    whole = [Chunk("", s.source, s.title, s.headings, s.text) for s in sections]
    counts = encoder.count_tokens([chunk.embed_text for chunk in whole])
    chunks: list[Chunk] = []
    for section, count in zip(sections, counts):
        if count <= max_tokens:
            chunks.append(_make_chunk(section, section.text))
        else:
            chunks.extend(_make_chunk(section, text) for text in split_section(section, encoder, max_tokens))
    return chunks


def attach_lead_ins(sections: Iterable[Section]) -> list[Section]:
    """Sections with each lone lead-in moved to the start of the subsection it introduces.

    A reader (and the model) gets nothing from "... Here are some key strategies:" alone; with
    the first strategy after it, it is a passage. The subsection keeps its heading path, which
    names the lead-in's section too, so the text stays traceable; the index (and what it serves
    of a guide) then holds no section of the lead-in's own.
    """
    merged: list[Section] = []
    pending: Section | None = None
    for section in sections:
        if pending is not None:
            if _is_below(section, pending):
                section = Section(section.source, section.title, section.headings,
                                  f"{pending.text}\n\n{section.text}" if section.text.strip() else pending.text)
            else:
                merged.append(pending)
            pending = None
        if is_lead_in(section.text):
            pending = section
        else:
            merged.append(section)
    if pending is not None:
        merged.append(pending)
    return merged


def is_lead_in(text: str) -> bool:
    """Text that only introduces what follows: one paragraph, no list or table, ending in ":"."""
    lines = [line for line in text.strip().split("\n") if line.strip()]
    return len(lines) == 1 and lines[0].rstrip().endswith(":") and not is_table_line(lines[0]) \
        and not lines[0].lstrip().startswith(("-", "*", "+"))


def _is_below(section: Section, parent: Section) -> bool:
    return section.source == parent.source and len(section.headings) > len(parent.headings) \
        and section.headings[:len(parent.headings)] == parent.headings


def _make_chunk(section: Section, text: str) -> Chunk:
    chunk_id = Chunk.make_id(section.source, section.headings, text)
    return Chunk(chunk_id, section.source, section.title, section.headings, text)


def split_section(section: Section, encoder: TextEncoder, max_tokens: int) -> list[str]:
    """Texts of the chunks a too-long section is split into."""
    prefix = Chunk("", section.source, section.title, section.headings, "").embed_text
    overhead = encoder.count_tokens([prefix])[0]
    budget = max_tokens - overhead
    if budget < 8:
        raise ChunkError(f"the heading path of the section \"{cut(section.heading, HEADING_CHARS)}\" leaves no room "
                         f"for text in {max_tokens}-token chunks (shorten the heading or raise max_tokens)")
    lines = list(_lines(section.text))
    line_sizes = content_tokens(encoder, [line.text for line in lines])       # counted once, whatever the budget
    # Sub-word counts add up across whitespace for most tokenizers; the check below catches
    # the rest by packing again with a smaller budget.
    for _ in range(8):
        texts = _pack(*_units(lines, line_sizes, encoder, budget), encoder, budget)
        sizes = encoder.count_tokens([prefix + text for text in texts])
        overflow = max(sizes) - max_tokens
        if overflow <= 0:
            return texts
        budget -= max(overflow, 1)
    raise ChunkError(f"the section \"{cut(section.heading, HEADING_CHARS)}\" cannot be cut into {max_tokens}-token "
                     "chunks (break its longest line into sentences or raise max_tokens)")




def _units(lines: Sequence[_Unit], sizes: Sequence[int], encoder: TextEncoder,
           budget: int) -> tuple[list[_Unit], list[int]]:
    """Lines (a list item, a paragraph) and table blocks kept together; a line longer than the
    budget in its sentences; with their sizes. A chunk then starts at the start of an item where
    it can: a chunk that opens halfway through one ("It can lead to ...") has lost what it is about."""
    units: list[_Unit] = []
    unit_sizes: list[int] = []
    for line, size in zip(lines, sizes):
        if size <= budget or "\n" in line.text:       # a table block is cut by _pack, not here
            units.append(line)
            unit_sizes.append(size)
            continue
        pieces = sentence_pieces(line.text)
        sentences = [_Unit(pieces[0][0] + pieces[0][1], "\n"), *(_Unit(s, space) for space, s in pieces[1:])]
        units.extend(sentences)
        unit_sizes.extend(content_tokens(encoder, [sentence.text for sentence in sentences]))
    return units, unit_sizes


def _lines(text: str) -> Iterable[_Unit]:
    """The lines of a section's text, with each run of table lines as one."""
    table: list[str] = []
    for line in text.split("\n"):
        if is_table_line(line):
            table.append(line)
            continue
        if table:
            yield _Unit("\n".join(table), "\n")
            table = []
        yield _Unit(line, "\n")
    if table:
        yield _Unit("\n".join(table), "\n")


def _pack(units: Sequence[_Unit], sizes: Sequence[int], encoder: TextEncoder, budget: int) -> list[str]:
    """Greedy packing of units (of these sizes, embed.content_tokens) into texts of at most `budget` tokens."""
    texts: list[str] = []
    current: list[tuple[_Unit, int]] = []
    used = 0
    for unit, size in zip(units, sizes):
        if size > budget:
            if current:
                texts.append(_joined(current))
            texts.extend(_split_words(unit.text, encoder, budget))
            current, used = [], 0
        elif used + size > budget and current:
            # A line that introduces what follows goes with it when there is room.
            carry = current[-1:] if len(current) > 1 and _introduces(current[-1][0]) \
                and current[-1][1] + size <= budget else []
            texts.append(_joined(current[:len(current) - len(carry)]))
            current = [*carry, (unit, size)]
            used = sum(n for _, n in current)
        else:
            current.append((unit, size))
            used += size
    if current:
        texts.append(_joined(current))
    return [text.strip("\n") for text in texts if text.strip()]


def _joined(units: Sequence[tuple[_Unit, int]]) -> str:
    return "".join((unit.joiner if position else "") + unit.text for position, (unit, _) in enumerate(units))


def _introduces(unit: _Unit) -> bool:
    """A line of its own ending in ":" ("These include:")."""
    return unit.joiner == "\n" and unit.text.rstrip().endswith(":")


def _split_words(text: str, encoder: TextEncoder, budget: int) -> list[str]:
    """Last resort for one sentence longer than a chunk: cut between words, and within a word
    longer than a chunk (text without spaces: Chinese, a URL) between characters."""
    special = encoder.count_tokens([""])[0]     # counted once for _split_characters' many calls
    words = [piece for word in text.split(" ")
             for piece in _split_characters(word, encoder, budget, special)]
    sizes = content_tokens(encoder, words)
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for word, size in zip(words, sizes):
        if current and used + size > budget:
            pieces.append(" ".join(current))
            current, used = [], 0
        current.append(word)
        used += size
    if current:
        pieces.append(" ".join(current))
    return pieces


def _split_characters(word: str, encoder: TextEncoder, budget: int, special: int) -> list[str]:
    """A word cut into pieces of at most `budget` tokens (the word itself when it fits)."""
    if encoder.count_tokens([word])[0] - special <= budget:
        return [word]
    pieces = []
    while word:
        # A token covers at least one character, except rare expansions: look 32 per token far.
        window = word[:budget * 32]
        low, high = 1, len(window)
        while low < high:
            middle = (low + high + 1) // 2
            if encoder.count_tokens([window[:middle]])[0] - special <= budget:
                low = middle
            else:
                high = middle - 1
        pieces.append(word[:low])
        word = word[low:]
    return pieces
