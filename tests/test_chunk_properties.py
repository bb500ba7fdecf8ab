"""Properties of chunking on generated sections, with the real tokenizer.

Every character of a section lands in exactly one of its chunks, in order; every chunk fits the token
limit with its heading path; heading paths are never empty; nothing but the package's own errors
is raised.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guidesearch.chunk import chunk_sections
from guidesearch.errors import ChunkError, GuideSearchError
from guidesearch.records import Section

WORDS = st.one_of(
    st.sampled_from("leg cramps neuropathy St. Dr. e.g. Mr. vitamin B12 the of night-time 10 mg. "
                    "(see below) ... ? ! “quoted” | - * 1. •".split()),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Zl", "Zp", "Cc")), min_size=1,
            max_size=12).filter(lambda w: w.strip() == w and " " not in w),
    st.text("abcdefghij", min_size=30, max_size=400),          # one word longer than a chunk
    st.text("神经病变会导致腿抽筋。", min_size=50, max_size=600),     # text without spaces
)
SENTENCE = st.lists(WORDS, min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ".")
LINE = st.one_of(
    st.lists(SENTENCE, min_size=1, max_size=8).map(" ".join),
    SENTENCE.map(lambda s: f"- {s}"),
    st.lists(WORDS, min_size=2, max_size=4).map(lambda ws: " | ".join(ws) + " |"),
    st.just(""),
)
HEADING = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)


@st.composite
def sections(draw) -> Section:
    headings = tuple(draw(st.lists(HEADING, min_size=1, max_size=3)))
    text = "\n".join(draw(st.lists(LINE, min_size=1, max_size=25))).strip("\n")
    if not text.strip():
        text = "Some text."
    return Section("guide.md", headings[0], headings, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=sections(), max_tokens=st.integers(min_value=48, max_value=256))
def test_every_character_lands_in_exactly_one_chunk_and_every_chunk_fits(encoder, section, max_tokens):
    try:
        chunks = chunk_sections([section], encoder, max_tokens)
    except GuideSearchError:
        return          # the package's own error: the build skips this guide with its message
    assert chunks
    # Every character lands in exactly one chunk, in order (white space aside: a chunk boundary
    # takes the place of the space it is cut at).
    assert "".join("".join(chunk.text.split()) for chunk in chunks) == "".join(section.text.split())
    sizes = encoder.count_tokens([chunk.embed_text for chunk in chunks])
    assert max(sizes) <= max_tokens
    for chunk in chunks:
        assert chunk.headings == section.headings and chunk.headings and all(h for h in chunk.headings)
        assert chunk.text.strip()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=sections())
def test_a_heading_path_too_long_for_the_limit_is_the_packages_error(encoder, section):
    long_heading = Section(section.source, section.title, (*section.headings, "word " * 80), section.text)
    with pytest.raises(ChunkError) as caught:
        chunk_sections([long_heading], encoder, 64)
    assert "\n" not in str(caught.value) and "max_tokens" in str(caught.value)
