"""Sections to model-sized chunks (Sections in, Chunks out).

A section that fits the model, heading prefix included, is one chunk. A longer one is split at
list-item and sentence boundaries into chunks that each fit, all with the section's heading
path; a pipe table is kept whole where it fits. Nothing is left for the model to truncate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from guidesearch.embed import TextEncoder
from guidesearch.errors import ChunkError
from guidesearch.records import Chunk, Section
from guidesearch.text import is_table_line, sentence_pieces

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
    sections = list(sections)
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


def _make_chunk(section: Section, text: str) -> Chunk:
    chunk_id = Chunk.make_id(section.source, section.headings, text)
    return Chunk(chunk_id, section.source, section.title, section.headings, text)


def split_section(section: Section, encoder: TextEncoder, max_tokens: int) -> list[str]:
    """Texts of the chunks a too-long section is split into."""
    prefix = Chunk("", section.source, section.title, section.headings, "").embed_text
    overhead = encoder.count_tokens([prefix])[0]
    budget = max_tokens - overhead
    if budget < 8:
        raise ChunkError(f"the heading path of the section \"{_short(section.heading)}\" leaves no room "
                         f"for text in {max_tokens}-token chunks (shorten the heading or raise max_tokens)")
    units = list(_units(section.text))
    # Sub-word counts add up across whitespace for most tokenizers; the check below catches
    # the rest by packing again with a smaller budget.
    for _ in range(8):
        texts = _pack(units, encoder, budget)
        sizes = encoder.count_tokens([prefix + text for text in texts])
        overflow = max(sizes) - max_tokens
        if overflow <= 0:
            return texts
        budget -= max(overflow, 1)
    raise ChunkError(f"the section \"{_short(section.heading)}\" cannot be cut into {max_tokens}-token "
                     "chunks (break its longest line into sentences or raise max_tokens)")


def _short(heading: str, limit: int = 60) -> str:
    return heading if len(heading) <= limit else heading[:limit - 1] + "…"


def _units(text: str) -> Iterable[_Unit]:
    """Lines, table blocks kept together, and sentences within prose lines and list items."""
    table: list[str] = []
    for line in text.split("\n"):
        if is_table_line(line):
            table.append(line)
            continue
        if table:
            yield _Unit("\n".join(table), "\n")
            table = []
        pieces = sentence_pieces(line)
        yield _Unit(pieces[0][0] + pieces[0][1], "\n")
        yield from (_Unit(sentence, space) for space, sentence in pieces[1:])
    if table:
        yield _Unit("\n".join(table), "\n")


def _pack(units: Sequence[_Unit], encoder: TextEncoder, budget: int) -> list[str]:
    """Greedy packing of units into texts of at most `budget` tokens (without special tokens)."""
    special = encoder.count_tokens([""])[0]
    sizes = [n - special for n in encoder.count_tokens([unit.text for unit in units])]
    texts: list[str] = []
    current, used = "", 0
    for unit, size in zip(units, sizes):
        if size > budget:
            if current.strip():
                texts.append(current)
            texts.extend(_split_words(unit.text, encoder, budget))
            current, used = "", 0
        elif used + size > budget and current.strip():
            texts.append(current)
            current, used = unit.text, size
        else:
            current = f"{current}{unit.joiner}{unit.text}" if current else unit.text
            used += size
    if current.strip():
        texts.append(current)
    return [text.strip("\n") for text in texts]


def _split_words(text: str, encoder: TextEncoder, budget: int) -> list[str]:
    """Last resort for one sentence longer than a chunk: cut between words, and within a word
    longer than a chunk (text without spaces: Chinese, a URL) between characters."""
    special = encoder.count_tokens([""])[0]
    words = [piece for word in text.split(" ")
             for piece in _split_characters(word, encoder, budget, special)]
    sizes = [n - special for n in encoder.count_tokens(words)]
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
