"""Finding sections in plain-text and Markdown guides, and reading awkward files."""

from __future__ import annotations

import codecs
import os
import tracemalloc
from pathlib import Path

import pytest

from guidesearch.errors import CorpusError
from guidesearch.ingest import _markdown_headings, decode_guide, parse_guide, read_corpus, read_guide
from guidesearch.records import SkippedFile

from conftest import SEED, SHARED_SEED, make_corpus

TITLE = "Does Neuropathy Cause Leg Cramps"
MANAGEMENT = "Management and Treatment Strategies"
EXPECTED_HEADINGS = [
    (TITLE,),
    (TITLE, "Understanding Neuropathy and Its Impact on Leg Muscles"),
    (TITLE, "Causes of Neuropathy-Induced Leg Cramps"),
    (TITLE, "Symptoms and Diagnosis of Neuropathy-Related Leg Cramps"),
    (TITLE, "Diagnosing Neuropathy-Induced Leg Cramps"),
    (TITLE, MANAGEMENT),
    (TITLE, MANAGEMENT, "Medications"),
    (TITLE, MANAGEMENT, "Lifestyle Modifications"),
    (TITLE, MANAGEMENT, "Alternative Therapies"),
    (TITLE, "Preventing Neuropathy-Induced Leg Cramps"),
    (TITLE, "Conclusion"),
    (TITLE, "Can neuropathy-related leg cramps be a sign of a more serious condition?"),
    (TITLE, "Are there any natural remedies for managing neuropathy-induced leg cramps?"),
    (TITLE, "How long does it typically take to see improvements in neuropathy-related leg cramps with treatment?"),
]


def seed_sections():
    return list(parse_guide(SEED.read_text(encoding="utf-8"), SEED.name))


def test_corpus_seed_is_the_published_guide_byte_for_byte():
    if not SHARED_SEED.exists():
        pytest.skip("../shared is not beside the repository")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_seed_guide_has_exactly_the_published_sections_in_order():
    sections = seed_sections()
    assert [s.headings for s in sections] == EXPECTED_HEADINGS
    assert {s.title for s in sections} == {TITLE}
    assert {s.source for s in sections} == {SEED.name}


def test_seed_bullets_stay_with_the_line_that_introduces_them():
    medications = next(s for s in seed_sections() if s.heading == "Medications")
    lines = medications.text.split("\n")
    assert lines[0] == "Various medications can help manage neuropathy-related leg cramps:"
    assert [line.split(":")[0] for line in lines[1:]] == ["- Pain Relievers", "- Anticonvulsants", "- Muscle Relaxants"]


def test_seed_table_stays_whole_in_the_causes_section():
    causes = next(s for s in seed_sections() if s.heading.startswith("Causes"))
    table = [line for line in causes.text.split("\n") if "|" in line]
    assert table == ["Neuropathy Type | Causes |", "---|---|",
                     "Diabetic Neuropathy | High blood sugar levels over time |",
                     "Alcoholic Neuropathy | Chronic alcohol abuse |",
                     "Vitamin Deficiency-Related Neuropathy | Insufficient intake or absorption of vitamins B12 and D |"]


def test_seed_faq_markers_are_not_text_and_every_body_line_is_kept_once():
    sections = seed_sections()
    body = [line for s in sections for line in s.text.split("\n") if line.strip()]
    headings = {h for s in sections for h in s.headings}
    source_lines = [line for line in SEED.read_text(encoding="utf-8").split("\n")
                    if line.strip() and line.strip() != "+" and line.strip() not in headings]
    assert sorted(body) == sorted(source_lines)
    assert "+" not in [line.strip() for line in body]


def test_markdown_heading_paths_fences_and_text_before_first_heading():
    text = ("Intro text before any heading.\n\n# Knee Pain\n\nUnder the title.\n\n## Causes\n\nWear.\n\n"
            "### In runners\n\nOveruse.\n\n```\n# not a heading\n```\n\n## Treatment ##\n\nRest.\n")
    sections = list(parse_guide(text, "joints/knee.md"))
    assert [s.headings for s in sections] == [
        ("Knee Pain",), ("Knee Pain",), ("Knee Pain", "Causes"), ("Knee Pain", "Causes", "In runners"),
        ("Knee Pain", "Treatment")]
    assert "# not a heading" in sections[3].text
    assert sections[0].text.strip() == "Intro text before any heading."


def test_markdown_without_title_takes_it_from_the_file_name_and_drops_source_line():
    sections = list(parse_guide("Source: https://example.org/x\n\n## What is it?\n\nA thing.\n", "GHR/foot-drop.md"))
    assert [s.headings for s in sections] == [("Foot drop", "What is it?")]


def test_file_without_headings_is_one_section_under_its_title(tmp_path):
    corpus = make_corpus(tmp_path, {"plain.txt": "Night Cramps\nThey happen. Stretch first.\nDrink water.\n"})
    scan = read_corpus(corpus, 10**6)
    assert [(s.headings, s.text) for s in scan.sections] == [
        (("Night Cramps",), "They happen. Stretch first.\nDrink water.")]


def test_encodings_are_read_not_skipped():
    text = "Crampes\nLe café du matin. Über naïve façade.\n"
    assert decode_guide(text.encode("latin-1")) == text
    assert decode_guide(text.encode("utf-16")) == text          # with a byte-order mark
    assert decode_guide(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode_guide(text.replace("\n", "\r\n").encode("utf-8")) == text


def test_bad_files_beside_good_ones_are_skipped_with_a_reason(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    corpus = make_corpus(tmp_path / "corpus", {
        "good.md": "# Good\n\n## Part\n\nText here.\n", "empty.md": "", "image.md": png,
        "copy.md": "# Good\n\n## Part\n\nText here.\n", ".hidden.md": "# H\n\nx\n",
        "notes.md~": "# N\n\nx\n", ".good.md.swp": b"b0VIM", "latin.txt": "Caf\xe9\nCaf\xe9 au lait.\n".encode("latin-1"),
        "~$good.md": b"\x05owner\x00\x00",      # an office suite's lock file while the guide is open
    })
    os.symlink("loop-b.md", corpus / "loop-a.md")
    os.symlink("loop-a.md", corpus / "loop-b.md")
    scan = read_corpus(corpus, 10**6)
    assert [g.source for g in scan.guides] == ["copy.md", "latin.txt"]  # good.md is copy.md's twin
    reasons = {s.source: s.reason for s in scan.skipped}
    assert reasons["empty.md"] == "empty file"
    assert reasons["image.md"] == "not text (binary content)"
    assert reasons["good.md"] == "same content as copy.md"
    assert "cannot be read" in reasons["loop-a.md"] and "cannot be read" in reasons["loop-b.md"]
    assert not any(name.startswith((".", "~$")) or name.endswith("~") for name in reasons)


def test_of_a_guide_and_a_link_to_it_the_guide_itself_is_indexed(tmp_path):
    """Found by adversarial testing: the link's name came first, so results cited the link."""
    corpus = make_corpus(tmp_path / "corpus", {"sleep.md": "# Sleep\n\n## Naps\n\nShort naps help.\n"})
    os.symlink("sleep.md", corpus / "alias.md")
    scan = read_corpus(corpus, 10**6)
    assert [g.source for g in scan.guides] == ["sleep.md"]
    assert [(s.source, s.reason) for s in scan.skipped] == [("alias.md", "same content as sleep.md")]


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    corpus = make_corpus(tmp_path, {"locked.md": "# L\n\ntext\n"})
    os.chmod(corpus / "locked.md", 0)
    if os.geteuid() == 0:   # root reads anything: make the read fail as it would for a user
        real = Path.open
        monkeypatch.setattr(Path, "open", lambda self, *a, **k: (_ for _ in ()).throw(
            PermissionError(13, "Permission denied")) if self.name == "locked.md" else real(self, *a, **k))
    outcome = read_guide(corpus / "locked.md", "locked.md", 10**6)
    assert (outcome.source, outcome.reason) == ("locked.md", "cannot be read: Permission denied")
    assert isinstance(outcome, SkippedFile) and outcome.stamp.sha256 == "unreadable"


def big_guide(path: Path, sections: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("# Huge\n\n")
        for i in range(sections):
            out.write(f"## Section {i}\n\nA tiny section, number {i}, with a few words.\n\n")


def test_file_above_size_limit_is_skipped_and_read_in_bounded_memory_when_raised(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    big_guide(corpus / "huge.md", 80_000)       # markdown-it-py is pure Python: 5 MB is enough
    size = (corpus / "huge.md").stat().st_size  # to show memory growing with the text's square
    assert size > 5_000_000
    scan = read_corpus(corpus, 1_000_000)
    assert not scan.guides and "above the size limit" in scan.skipped[0].reason
    tracemalloc.start()
    scan = read_corpus(corpus, 50_000_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(scan.sections) == 80_000
    # Sections are small records; memory grows with the text, not with its square.
    print(f"peak {peak:,} bytes for a {size:,}-byte file")
    assert peak < 15 * size, f"peak {peak:,} bytes for a {size:,}-byte file"


def test_missing_or_empty_corpus_stops_with_a_clear_message(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus(tmp_path / "nope", 10**6)
    with pytest.raises(CorpusError, match="holds no guides"):
        read_corpus(tmp_path, 10**6)


def test_bare_hash_line_is_not_a_heading():
    text = "# \n\nSource: https://example.org/v\n\n## Prevention\n\nVaccines prevent disease.\n"
    sections = list(parse_guide(text, "CDC/0000199.md"))
    assert [s.headings for s in sections] == [("0000199", "Prevention")]


# --- Markdown by CommonMark -------------------------------------------------------------------

def md_sections(text: str, name: str = "guide.md") -> list[tuple[tuple[str, ...], str]]:
    return [(s.headings, s.text) for s in parse_guide(text, name)]


def test_markdown_atx_closing_hashes_are_not_part_of_the_heading():
    text = "# Cramps #\n\n## Causes ##\n\nLow magnesium.\n\n### At night ###   \n\nCold feet.\n"
    assert md_sections(text) == [(("Cramps", "Causes"), "Low magnesium."),
                                 (("Cramps", "Causes", "At night"), "Cold feet.")]


def test_markdown_setext_headings_give_title_and_subsections():
    text = ("Knee Pain\n=========\n\nUnder the title.\n\nCauses\n------\n\nWear.\n\n"
            "Two line\nheading\n------\n\nBody.\n")
    assert md_sections(text) == [(("Knee Pain",), "Under the title."), (("Knee Pain", "Causes"), "Wear."),
                                 (("Knee Pain", "Two line heading"), "Body.")]


def test_markdown_dashes_under_a_paragraph_make_it_a_heading_as_commonmark_says():
    text = "# Cramps\n\nStretching\n---\n\nReach for your toes.\n\nA paragraph.\n\n---\n\nAfter a rule.\n"
    assert md_sections(text) == [(("Cramps", "Stretching"), "Reach for your toes.\n\nA paragraph.\n\n---\n\nAfter a rule.")]


def test_markdown_fences_of_any_length_keep_hash_lines_as_text():
    fenced = ("````\n```\n# not a heading\n```\n````\n\n"
              "~~~~\n## not a heading either\n~~~\n~~~~~~")
    text = f"# Cramps\n\n{fenced}\n\n## After\n\nText.\n"
    assert md_sections(text) == [(("Cramps",), fenced), (("Cramps", "After"), "Text.")]


def test_markdown_unclosed_fence_runs_to_the_end_of_the_guide():
    text = "# Cramps\n\n## Dose\n\n```\n# not a heading\n\n## nor this\n"
    assert md_sections(text) == [(("Cramps", "Dose"), "```\n# not a heading\n\n## nor this")]


def test_markdown_indented_code_and_hash_without_space_are_text():
    text = "# Cramps\n\n    # indented code\n\n#hashtag\n\n## Next\n\nx\n"
    assert md_sections(text) == [(("Cramps",), "    # indented code\n\n#hashtag"), (("Cramps", "Next"), "x")]


def test_markdown_headings_inside_quotes_and_lists_stay_text_of_their_section():
    # CommonMark makes them headings of the quote or the list item, not of the guide.
    body = "> ## Quoted heading\n> quoted text\n\n- # Heading in a list item\n- plain item"
    text = f"# Cramps\n\n## Advice\n\n{body}\n\n## Next\n\nx\n"
    assert md_sections(text) == [(("Cramps", "Advice"), body), (("Cramps", "Next"), "x")]


def test_markdown_table_stays_whole_with_its_section():
    table = "| Type | Cause |\n|---|---|\n| Diabetic | Sugar |\n| Alcoholic | Alcohol |"
    text = f"# Neuropathy\n\n## Causes\n{table}\n\n## Next\n\nx\n"
    assert md_sections(text) == [(("Neuropathy", "Causes"), table), (("Neuropathy", "Next"), "x")]


def test_markdown_empty_heading_marks_nothing_and_its_body_stays_above():
    text = "# Cramps\n\n## Causes\n\nOne.\n\n#\n\nTwo.\n\n###   \n\nThree.\n\n## Next\n\nx\n"
    assert md_sections(text) == [(("Cramps", "Causes"), "One.\n\n\nTwo.\n\n\nThree."), (("Cramps", "Next"), "x")]


def test_markdown_section_text_is_cut_from_the_guide_not_rendered():
    body = "**Bold** and _soft_ [a link](https://example.org)  \n<b>html</b> &amp; \\*escaped\\*\n\t tabbed"
    assert md_sections(f"# Cramps\n\n## Notes\n{body}\n") == [(("Cramps", "Notes"), body)]
    assert md_sections("# Leg *Cramps* `now`\n\nx\n") == [(("Leg *Cramps* `now`",), "x")]


def test_markdown_title_is_the_first_heading_only_when_it_is_level_one():
    # A later level-1 heading is a section under the file name's title, not the title.
    text = "## Intro\n\nx\n\n# Later\n\ny\n"
    assert md_sections(text, "GHR/foot-drop.md") == [(("Foot drop", "Intro"), "x"), (("Foot drop", "Later"), "y")]
    assert md_sections("#\n\n# Real Title\n\nx\n") == [(("Real Title",), "x")]


def test_markdown_source_line_under_the_title_is_dropped():
    text = "# Cramps\nSource: https://example.org/cramps\n\nStretch.\n\n## More\n\nSource: https://example.org/kept\n"
    assert md_sections(text) == [(("Cramps",), "Stretch."), (("Cramps", "More"), "Source: https://example.org/kept")]


def test_markdown_carriage_returns_end_lines():
    assert md_sections("# Cramps\r\n\r\n## A\rText.\r\nMore.\r") == [(("Cramps", "A"), "Text.\nMore.")]


def test_markdown_parsed_in_windows_finds_the_headings_of_the_whole_guide():
    text = ("# T\n\n```\n" + "# in fence\n" * 30 + "```\n\n" + "## H\npara\n> q\n> ## quoted\n\n" * 20
            + "S\n-\n<!--\n\n# comment\n-->\n[ref]: /url\n  'title'\n## Last\n")
    lines = text.split("\n")
    whole = list(_markdown_headings(lines, window_lines=len(lines)))
    for window_lines in (1, 2, 3, 7):
        assert list(_markdown_headings(lines, window_lines=window_lines)) == whole
    assert [h.text for h in whole if h.level] == ["T", *["H"] * 20, "S", "Last"]
    assert sum(h.hidden for h in whole) == 2           # the comment, and the reference definition


def test_markdown_what_a_reader_never_sees_is_no_passage():
    """Found by adversarial testing: an HTML comment ("do not publish"), a link reference
    definition and YAML front matter are invisible in a rendered guide, but were passages."""
    text = ("# Shin Splints\n\n<!-- INTERNAL NOTE: do not publish -->\n\n## Causes\n\nOveruse.\n\n"
            "[ref]: http://intranet.local/secret-doc\n  'A title'\n\n<!--\nmany\nlines\n-->\n")
    assert md_sections(text) == [(("Shin Splints", "Causes"), "Overuse.")]
    # In code, both are shown as written.
    code = "# T\n\n```\n<!-- shown -->\n[x]: y\n```\n"
    assert md_sections(code) == [(("T",), "```\n<!-- shown -->\n[x]: y\n```")]
    # Between two comments, text is shown (found by review).
    assert md_sections("# T\n\n<!-- a --> Shown <!-- b -->\n") == [(("T",), "<!-- a --> Shown <!-- b -->")]


def test_markdown_front_matter_is_skipped_and_gives_the_title():
    front = "---\ntitle: 'Knee Pain'\ntags:\n  - knees\n---\n\n## Causes\n\nMany things.\n"
    assert md_sections(front) == [(("Knee Pain", "Causes"), "Many things.")]
    assert md_sections("---\nauthor: x\n---\n# Hip\n\nText.\n") == [(("Hip",), "Text.")]
    # A block scalar or a blank title titles nothing; a comment is no part of it (found by review).
    assert md_sections("---\ntitle: >\n  Knee Pain\n---\n\nText.\n")[0][0] == ("Guide",)
    assert md_sections("---\ntitle: '  '\n---\n\nText.\n")[0][0] == ("Guide",)
    assert md_sections("---\ntitle: Knee # draft\n---\n\nText.\n")[0][0] == ("Knee",)
    # A rule above text is no front matter.
    assert md_sections("---\n\nJust text.\n\n---\n")[0][1] == "---\n\nJust text.\n\n---"


# --- Encodings --------------------------------------------------------------------------------

def test_short_latin1_markdown_reads_as_cafe(tmp_path):
    corpus = make_corpus(tmp_path, {"cafe.md": b"# Caf\xe9\n\n## Menu\n\nCaf\xe9 au lait.\n"})
    guide = read_guide(corpus / "cafe.md", "cafe.md", 10**6)
    assert [(s.headings, s.text) for s in guide.sections] == [(("Café", "Menu"), "Café au lait.")]


@pytest.mark.parametrize("text", [
    "Crampes\nLe café du matin. Über naïve façade.\n",
    "Muskelkrämpfe\n\nÜbungen gegen Wadenkrämpfe: dehnen, genügend trinken. Größe egal.\n",
    "caf\xe9", "Keep it below 25\xb0C.\n", "Dose:\xa010 mg\n",
], ids=["french", "german", "one-word", "degree", "no-break-space"])
def test_latin1_is_read_as_latin1(text):
    assert decode_guide(text.encode("latin-1")) == text


@pytest.mark.parametrize("text", [
    "# Leg Cramps\n\n\u201cStretch first,\u201d said the doctor. Caf\xe9 visits \u2013 fine.\n",
    "Rest\u2026 then walk \u2014 slowly. It costs \u20ac10.\n",
], ids=["quotes-and-e-acute", "ellipsis-dash-euro"])
def test_windows_1252_curly_quotes_and_dashes(text):
    assert decode_guide(text.encode("cp1252")) == text


@pytest.mark.parametrize("text, encoding", [
    ("Судороги ног\n\nСудороги в икрах часто возникают ночью. Растяжка помогает.\n", "cp1251"),
    ("התכווצויות ברגליים\n\nהתכווצויות בשוקיים מופיעות לעתים קרובות בלילה.\n", "cp1255"),
    ("足のけいれん\n\n夜にふくらはぎがつることがあります。寝る前にストレッチをしましょう。\n", "shift_jis"),
], ids=["cp1251", "cp1255", "shift_jis"])
def test_other_encodings_are_left_to_charset_normalizer(text, encoding):
    # Their Windows-1252 reading is gibberish, which charset-normalizer sees.
    assert decode_guide(text.encode(encoding)) == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8"])
def test_byte_order_mark_wins(encoding):
    text = "# Café\n\n“Quotes” and 足\n"
    bom = "\ufeff".encode(encoding)
    assert decode_guide(bom + text.encode(encoding)) == text
    assert decode_guide(bom + text.replace("\n", "\r\n").encode(encoding)) == text


def test_binary_content_is_not_text():
    assert decode_guide(b"# Title\n\x00\x01binary") is None                 # NUL without a BOM
    assert decode_guide(b"# Title\n" + b"\x01\x02\x03text" * 10) is None     # many control bytes
    assert decode_guide(codecs.BOM_UTF16_LE + b"\x00\xd8") is None           # BOM, then not UTF-16
    assert decode_guide(b"Tab\tand form feed\x0c are text.\n") == "Tab\tand form feed\n are text.\n"


def test_control_characters_that_break_lines_still_do():
    """Found by review: deleting them glued words ("line oneline two")."""
    filler = "A sentence about cramps. " * 10
    assert decode_guide(f"Cramps\n\nCauses\nline one\u0085line two\x1ethree\u2028four {filler}\n".encode()) == \
        f"Cramps\n\nCauses\nline one\nline two\nthree\nfour {filler}\n"


def test_terminal_escape_sequences_never_reach_titles_headings_or_passages():
    """Found by adversarial testing: a guide with a few escape sequences passes the binary check,
    and the CLI and MCP printed them raw (a cleared screen, a hidden link in a heading)."""
    data = (b"# Esc guide \x1b[31mRED\x1b[0m\n\n## Section \x1b]8;;http://evil.example/\x07click\x1b]8;;\x07\n\n"
            b"Vanadium \x1b[2J\x1b[H here.\x7f\n" + b"A sentence about vanadium. " * 40)
    sections = list(parse_guide(decode_guide(data), "esc.md"))
    assert sections[0].headings == ("Esc guide [31mRED[0m", "Section ]8;;http://evil.example/click]8;;")
    for section in sections:
        for text in (*section.headings, section.text):
            assert not any(ord(char) < 32 and char not in "\t\n" or 0x7f <= ord(char) <= 0x9f for char in text)


def test_a_plain_text_guide_of_one_paragraph_is_one_section_under_its_file_name():
    text = "Just one paragraph with no heading about numbness and tingling in feet.\n"
    sections = list(parse_guide(text, "numb-feet.txt"))
    assert [(s.headings, s.text) for s in sections] == [(("Numb feet",), text.strip())]


def test_a_markdown_guide_without_headings_is_one_section_under_its_file_name():
    sections = list(parse_guide("Only a paragraph about calf cramps.\n", "calf-cramps.md"))
    assert [(s.headings, s.text) for s in sections] == [(("Calf cramps",), "Only a paragraph about calf cramps.")]
