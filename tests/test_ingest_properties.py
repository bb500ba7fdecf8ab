"""Properties of reading guides, on generated Markdown and plain-text guides and arbitrary bytes.

Which lines of a generated Markdown guide are headings is asked of markdown-it-py's full,
unwindowed parse: CommonMark decides, and the ingest must cut its sections at exactly those lines.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from guidesearch.errors import GuideSearchError
from guidesearch.ingest import _without_front_matter, _markdown_headings, decode_guide, parse_guide, read_guide
from guidesearch.records import Guide, Section, SkippedFile

FAST = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SOURCE_LINE = re.compile(r"^Source:\s+https?://\S+$")
COMMONMARK = MarkdownIt("commonmark").enable("table")

# --- Generated guides -------------------------------------------------------------------------

words = st.sampled_from("cramps leg night Stretch magnesium Café naïve 足 Судороги water".split()
                        + "- * # | ` ~ > = : ? + 1. [x]: <b> \\".split())
odd_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n\r"), max_size=30)
phrase = st.lists(words, min_size=1, max_size=6).map(" ".join)
sentence = st.one_of(phrase.map(lambda p: p[:1].upper() + p[1:] + "."), phrase.map(lambda p: p + "?"), odd_text)
paragraph = st.lists(sentence, min_size=1, max_size=4).map(" ".join)
indent = st.sampled_from(["", " ", "   ", "    ", "\t"])


@st.composite
def atx_heading(draw) -> list[str]:
    hashes = "#" * draw(st.integers(1, 7))
    closing = draw(st.sampled_from(["", " #", " ###", " # "]))
    return [draw(st.sampled_from(["", " ", "   "])) + hashes + draw(st.sampled_from([" ", "\t", ""]))
            + draw(st.one_of(phrase, odd_text, st.just(""))) + closing]


@st.composite
def setext_heading(draw) -> list[str]:
    return [draw(phrase), draw(st.sampled_from(["=", "-"])) * draw(st.integers(1, 6))]


@st.composite
def bullet_list(draw) -> list[str]:
    marks = st.sampled_from(["- ", "* ", "+ ", "1. ", "2) ", "  - ", "    - ", "- # "])
    return [draw(marks) + draw(sentence) for _ in range(draw(st.integers(1, 4)))]


@st.composite
def pipe_table(draw) -> list[str]:
    columns = draw(st.integers(1, 3))
    row = st.lists(phrase, min_size=columns, max_size=columns).map(lambda cells: "| " + " | ".join(cells) + " |")
    return [draw(row), "|" + "---|" * columns, *draw(st.lists(row, max_size=3))]


@st.composite
def fence(draw) -> list[str]:
    mark = draw(st.sampled_from(["`", "~"])) * draw(st.integers(3, 5))
    body = draw(st.lists(st.one_of(sentence, atx_heading().map(lambda lines: lines[0])), max_size=4))
    closer = draw(st.sampled_from([mark, mark + mark[0], mark[:-1], ""]))
    return [draw(st.sampled_from(["", "  "])) + mark, *body, closer]


def prefixed(prefix: str):
    return st.one_of(atx_heading(), st.lists(sentence, min_size=1, max_size=2)).map(
        lambda lines: [prefix + line for line in lines])


markdown_block = st.one_of(
    atx_heading(), setext_heading(), bullet_list(), pipe_table(), fence(),
    st.lists(sentence, min_size=1, max_size=3), indent.flatmap(lambda i: paragraph.map(lambda p: [i + p])),
    prefixed("> "), st.just([""]), st.just(["#"]), st.just(["Source: https://example.org/guide"]),
    st.just(["---"]), st.just(["<!--", "# in a comment", "-->"]),
)
plain_block = st.one_of(
    phrase.map(lambda p: [p[:1].upper() + p[1:]]), st.lists(sentence, min_size=1, max_size=3),
    phrase.map(lambda p: [p[:1].upper() + p[1:] + "?", "+", "An answer."]), bullet_list(), pipe_table(),
    st.just([""]), odd_text.map(lambda t: [t]),
)


@st.composite
def guide_text(draw, blocks) -> str:
    lines = [line for block in draw(st.lists(blocks, max_size=14)) for line in block]
    ending = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    return ending.join(lines) + draw(st.sampled_from(["", ending]))


markdown_guides = guide_text(markdown_block)
plain_guides = guide_text(plain_block)


# --- Helpers ----------------------------------------------------------------------------------

def sections_or_error(text: str, source: str) -> list[Section]:
    """The sections, or [] when the package raises its own error; anything else propagates."""
    try:
        return list(parse_guide(text, source))
    except GuideSearchError:
        return []


def heading_lines(lines: list[str]) -> set[int]:
    """Numbers of the lines a section's text never holds, by markdown-it-py's parse of the whole
    guide: top-level headings, and what a reader never sees (an HTML comment block, the lines no
    block holds: link reference definitions), after YAML front matter is blanked (its own
    unit tests are in test_ingest.py)."""
    numbers: set[int] = set()
    held: set[int] = set()
    for token in COMMONMARK.parse("\n".join(_without_front_matter(lines)[0])):
        if token.level != 0 or token.map is None:
            continue
        held.update(range(*token.map))
        comment = token.type == "html_block" and token.content.strip().startswith("<!--") \
            and token.content.strip().endswith("-->")
        if token.type == "heading_open" or comment:
            numbers.update(range(*token.map))
    return numbers | (set(range(len(lines))) - held)


def body_lines(lines: list[str]) -> Counter[str]:
    """The non-blank lines that are text, not a Source line."""
    return Counter(line for line in lines if line.strip() and not SOURCE_LINE.match(line.strip()))


def normalise(text: str) -> str:
    """A guide's text as read: every line break str.splitlines knows (and the unit separator) as "\n", other control
    characters but tab dropped."""
    text = "\n".join(text.replace("\r\n", "\n").replace("\x1f", "\n").splitlines()) + ("\n" if text[-1:] in "\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029" and text else "")
    return "".join(char for char in text if char in "\t\n" or not (ord(char) < 32 or 0x7f <= ord(char) <= 0x9f))


# --- Properties -------------------------------------------------------------------------------

@FAST
@given(text=st.one_of(markdown_guides, plain_guides, odd_text),
       suffix=st.sampled_from([".md", ".txt", ".markdown"]))
def test_heading_paths_start_with_the_title_and_hold_no_empty_heading(text, suffix):
    for section in sections_or_error(text, "folder/a-guide" + suffix):
        assert section.headings and section.headings[0] == section.title
        assert all(heading.strip() for heading in section.headings), section.headings
        assert section.text.strip()


@FAST
@given(text=markdown_guides)
def test_every_markdown_body_line_is_in_exactly_one_section(text):
    lines = normalise(text).split("\n")
    headings = heading_lines(lines)
    expected = body_lines([line for number, line in enumerate(lines) if number not in headings])
    sections = sections_or_error(text, "guide.md")
    found = body_lines([line for section in sections for line in section.text.split("\n")])
    assert found == expected


@FAST
@given(text=markdown_guides, window_lines=st.integers(1, 6))
def test_markdown_read_in_small_windows_finds_the_same_headings(text, window_lines):
    lines = normalise(text).split("\n")
    assert list(_markdown_headings(lines, window_lines)) == list(_markdown_headings(lines, len(lines) + 1))


@FAST
@given(text=plain_guides)
def test_plain_text_sections_hold_only_lines_of_the_guide_each_at_most_once(text):
    sections = sections_or_error(text, "guide.txt")
    kept = Counter(line for section in sections for line in section.text.split("\n") if line.strip())
    assert kept <= Counter(line for line in normalise(text).split("\n") if line.strip())


def encoded_guides():
    text = st.one_of(markdown_guides, plain_guides)
    return st.one_of(
        st.binary(max_size=1500),
        st.tuples(text, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1252", "latin-1"])).map(
            lambda pair: pair[0].encode(pair[1], errors="replace")),
        st.tuples(text, st.binary(max_size=8)).map(lambda pair: pair[0].encode("utf-8") + pair[1]),
    )


@settings(FAST, max_examples=200)
@given(data=encoded_guides(), suffix=st.sampled_from([".md", ".txt"]))
def test_read_guide_on_any_bytes_returns_a_guide_or_a_reason(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("guide" + suffix)
        path.write_bytes(data)
        outcome = read_guide(path, path.name, 10**6)
    assert isinstance(outcome, (Guide, SkippedFile))
    if isinstance(outcome, Guide):
        assert outcome.sections and outcome.title == outcome.sections[0].title
        assert outcome.stamp.size == len(data)
    else:
        assert outcome.reason


@FAST
@given(text=st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=200),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_unicode_text_decodes_back_to_itself(text, encoding):
    assert decode_guide(text.encode(encoding)) == text
