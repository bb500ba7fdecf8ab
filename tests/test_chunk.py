"""Chunks fit the model, keep their heading path, and lose or repeat no sentence."""

from __future__ import annotations

import re

from guidesearch.chunk import chunk_sections
from guidesearch.ingest import parse_guide
from guidesearch.records import Section

from conftest import SEED

SENTENCE = re.compile(r"[^.!?:\n]+[.!?:]?")


def seed_chunks(encoder):
    sections = list(parse_guide(SEED.read_text(encoding="utf-8"), SEED.name))
    return sections, chunk_sections(sections, encoder, encoder.max_tokens)


def test_every_seed_chunk_fits_the_tokenizer_limit(encoder):
    _, chunks = seed_chunks(encoder)
    counts = encoder.count_tokens([chunk.embed_text for chunk in chunks])
    assert max(counts) <= encoder.max_tokens == 256


def test_every_sentence_of_the_seed_guide_is_in_exactly_one_chunk(encoder):
    sections, chunks = seed_chunks(encoder)
    sentences = [s.strip() for section in sections for s in SENTENCE.findall(section.text) if len(s.strip()) > 3]
    assert len(sentences) >= 100
    for sentence in sentences:
        holders = [chunk for chunk in chunks if sentence in chunk.text]
        assert len(holders) == 1, f"{sentence!r} is in {len(holders)} chunks"


def test_embedded_text_carries_the_heading_path(encoder):
    _, chunks = seed_chunks(encoder)
    medications = next(chunk for chunk in chunks if chunk.heading == "Medications")
    assert medications.embed_text.startswith(
        "Does Neuropathy Cause Leg Cramps > Management and Treatment Strategies > Medications: Managing")


def test_a_lone_lead_in_opens_the_subsection_it_introduces(encoder):
    _, chunks = seed_chunks(encoder)
    assert not any(chunk.text.strip().endswith(":") for chunk in chunks)       # nothing ends on "...:"
    medications = next(chunk for chunk in chunks if chunk.heading == "Medications")
    lead_in, rest = medications.text.split("\n\n", 1)
    assert lead_in.endswith("Here are some key strategies:")
    assert rest.startswith("Various medications can help manage neuropathy-related leg cramps:\n- Pain Relievers")
    assert not any(chunk.heading == "Management and Treatment Strategies" for chunk in chunks)


def test_a_lead_in_followed_by_no_subsection_stays_a_chunk_of_its_own(encoder):
    sections = [Section("a.md", "A", ("A", "Causes"), "Several things cause cramps:"),
                Section("a.md", "A", ("A", "Treatment"), "Stretch the calf."),
                Section("a.md", "A", ("A", "Outlook"), "It depends on:"),
                Section("b.md", "B", ("B", "Outlook", "Long term"), "Other guide.")]
    chunks = chunk_sections(sections, encoder, encoder.max_tokens)
    assert [(c.source, c.headings, c.text) for c in chunks] == [(s.source, s.headings, s.text) for s in sections]


def test_a_split_never_ends_a_chunk_on_the_line_introducing_a_list(encoder):
    prose = " ".join(f"Sentence {i} says one more thing about cramps in the calf at night." for i in range(6))
    items = [f"- Item {i}: stretch the calf muscle gently before bed." for i in range(8)]
    section = Section("lead.md", "T", ("T",), "\n".join([prose, "These include:", *items]))
    for budget in range(60, 140, 7):
        chunks = chunk_sections([section], encoder, budget)
        assert len(chunks) > 1
        assert not any(chunk.text.rstrip().endswith("These include:") for chunk in chunks), budget
        assert "\n".join(chunk.text for chunk in chunks).split("\n")[-8:] == items


def test_long_markdown_section_splits_at_sentence_boundaries(encoder):
    sentences = [f"Sentence number {i} explains one more detail about calf cramps at night." for i in range(60)]
    section = Section("long.md", "Cramps", ("Cramps", "Details"), " ".join(sentences))
    chunks = chunk_sections([section], encoder, 64)
    assert len(chunks) > 5
    assert max(encoder.count_tokens([c.embed_text for c in chunks])) <= 64
    assert all(c.headings == ("Cramps", "Details") for c in chunks)
    assert " ".join(c.text for c in chunks) == section.text      # split only between sentences
    assert all(c.text.endswith("night.") for c in chunks)


def test_list_items_and_table_stay_whole_when_a_section_splits(encoder):
    items = [f"- Item {i}: a list entry about stretching the calf muscle gently." for i in range(20)]
    table = ["Type | Cause |", "---|---|", "Diabetic | Sugar |", "Alcoholic | Alcohol |"]
    section = Section("list.md", "T", ("T",), "\n".join(["Intro:", *items, *table]))
    chunks = chunk_sections([section], encoder, 80)
    lines = [line for chunk in chunks for line in chunk.text.split("\n")]
    assert lines == section.text.split("\n")
    assert sum("\n".join(table) in chunk.text for chunk in chunks) == 1


def test_a_list_item_of_several_sentences_is_not_cut_when_it_fits_a_chunk(encoder):
    # The seed guide's causes, in 128-token chunks: cut between sentences, a chunk opened with
    # "It can lead to a condition known as alcoholic neuropathy", its item's label left behind.
    sections, _ = seed_chunks(encoder)
    causes = next(section for section in sections if section.heading.startswith("Causes"))
    chunks = chunk_sections([causes], encoder, 128)
    assert len(chunks) > 1 and max(encoder.count_tokens([c.embed_text for c in chunks])) <= 128
    items = [line for line in causes.text.split("\n") if line.startswith("- ")]
    assert all(sum(item in chunk.text for chunk in chunks) == 1 for item in items)
    assert all(chunk.text.startswith("- ") for chunk in chunks[1:])


def test_one_overlong_sentence_is_cut_between_words(encoder):
    section = Section("run-on.md", "T", ("T",), " ".join(["cramp"] * 600))
    chunks = chunk_sections([section], encoder, 100)
    assert max(encoder.count_tokens([c.embed_text for c in chunks])) <= 100
    assert " ".join(c.text for c in chunks) == section.text


def test_chunk_ids_are_stable_and_distinct(encoder):
    _, first = seed_chunks(encoder)
    _, second = seed_chunks(encoder)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)


def test_split_keeps_closing_quotes_and_abbreviations(encoder):
    text = " ".join(['Doctors call it "nocturnal cramps." Stretch first, e.g. the calf.'] * 40)
    chunks = chunk_sections([Section("q.md", "T", ("T",), text)], encoder, 48)
    assert len(chunks) > 1
    assert " ".join(c.text for c in chunks) == text
    assert all(c.text.startswith("Doctors") for c in chunks)


def test_no_sections_means_no_chunks_with_the_real_tokenizer(encoder):
    assert chunk_sections([], encoder, 256) == []
    assert encoder.count_tokens([]) == []


def test_text_without_spaces_is_cut_between_characters_not_skipped(encoder):
    text = "神经病变会导致腿抽筋。" * 60
    section = Section("zh.md", "腿抽筋", ("腿抽筋", "原因"), text)
    chunks = chunk_sections([section], encoder, 256)
    assert len(chunks) > 1 and "".join(c.text for c in chunks) == text
    assert max(encoder.count_tokens([c.embed_text for c in chunks])) <= 256


def test_a_very_long_line_is_split_in_linear_time(encoder):
    import time
    line = "Cramps come at night. " * 20_000          # 440 KB in one line
    started = time.perf_counter()
    chunks = chunk_sections([Section("long.md", "T", ("T", "Part"), line.strip())], encoder, 256)
    assert len(chunks) > 100
    print(f"{len(line):,} characters chunked in {time.perf_counter() - started:.1f} s")
