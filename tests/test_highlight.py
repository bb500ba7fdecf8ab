"""Evidence highlighting renders lists and tables and never lets text become markup."""

from __future__ import annotations

import pytest

from guidesearch.highlight import UnitVectors, blocks_of, escape_html, escape_markdown, find_evidence, render_passage

from conftest import SEED


def causes_text() -> str:
    lines = SEED.read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[7:18])


def test_blocks_keep_lists_and_the_table():
    kinds = [block.kind for block in blocks_of(causes_text())]
    assert kinds == ["para", "item", "item", "item", "item", "table"]


def test_evidence_is_the_answering_item(questions_encoder):
    blocks = blocks_of(causes_text())
    query = questions_encoder.encode(["does drinking alcohol damage nerves"])[0]
    (found,) = find_evidence("does drinking alcohol damage nerves", query, [causes_text()],
                             UnitVectors(questions_encoder))
    assert found.text.startswith("Alcohol Abuse") and blocks[found.block].units[found.unit] == found.text


def test_a_line_that_introduces_a_list_is_never_the_evidence_when_the_list_is_there(fake_encoder):
    # The lead-in holds the question's words word for word, the item only some: a reader still
    # wants the item, which answers. With nothing else in the passage, the lead-in is all there is.
    lead_in = "Various medications can help with nerve cramps:"
    passage = f"{lead_in}\n- Pain relievers like ibuprofen can ease cramps."
    question = "which medications help with nerve cramps"
    query = fake_encoder.encode([question])[0]
    vectors = UnitVectors(fake_encoder)
    assert float(fake_encoder.encode([lead_in])[0] @ query) > float(fake_encoder.encode([passage.split("- ")[1]])[0] @ query)
    found, alone = find_evidence(question, query, [passage, lead_in], vectors)
    assert found.text == "Pain relievers like ibuprofen can ease cramps." and (found.block, found.unit) == (1, 0)
    assert alone.text == lead_in


def test_evidence_of_every_hit_comes_from_one_model_call(fake_encoder):
    passages = [causes_text(), "One sentence only.", "", "First point. Second point about nerves."]
    vectors = UnitVectors(fake_encoder)
    query = fake_encoder.encode(["nerves"])[0]
    calls_before = fake_encoder.encoded
    found = find_evidence("nerves", query, passages, vectors)
    assert found[1].text == "One sentence only." and found[2] is None
    assert found[3].text == "Second point about nerves."
    embedded = fake_encoder.encoded - calls_before
    assert embedded == min(3, sum(len(b.units) for b in blocks_of(passages[0]))) + 2
    find_evidence("nerves", query, passages, vectors)                 # the same passages again: nothing new
    assert fake_encoder.encoded - calls_before == embedded


def test_unit_vectors_keep_at_most_their_limit(fake_encoder):
    vectors = UnitVectors(fake_encoder, limit=3)
    rows = vectors.of(["a b", "c d", "e f", "g h", "a b"])
    assert rows.shape == (5, fake_encoder.dimension) and len(vectors._vectors) == 3
    assert (rows[0] == rows[4]).all()


def test_render_marks_evidence_and_emphasises_terms():
    blocks = blocks_of(causes_text())
    html = render_passage(causes_text(), "alcohol nerves", (4, 0), blocks)
    assert "<mark><strong>Alcohol</strong> Abuse" in html
    assert "<ul><li>" in html and "<table" in html and "<th>Neuropathy Type</th>" in html


def test_function_words_are_not_emphasised_and_words_of_the_answer_are():
    html = render_passage("Leg cramps can arise from several factors.", "Can spinal stenosis cause leg cramps?", None)
    assert "<strong>cramps</strong>" in html and "<strong>can</strong>" not in html
    doctor = render_passage("See a doctor if cramps get worse.", "when should I see a doctor?", None)
    assert "<strong>doctor</strong>" in doctor and "<strong>See</strong>" in doctor     # found by review


def test_corpus_and_question_text_cannot_inject_markup():
    text = 'Intro <script>alert("x")</script> & more.\n- <img src=x onerror=alert(1)>\nA | <b>B</b> |\n---|---|'
    html = render_passage(text, "more cramps", (0, 0))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;B&lt;/b&gt;" in html
    question_html = render_passage("script tag here", '<script>alert(1)</script>', (0, 0))
    assert "<script" not in question_html


@pytest.mark.parametrize("address", ["www.example.org", "WWW.example.org", "http://example.org/x",
                                     "https://example.org", "someone@example.org", "mailto:someone@example.org"])
def test_bare_addresses_are_broken_where_gfm_would_link_them(address):
    """The page's Markdown (GFM) links bare addresses in plain text after escapes are undone;
    a word joiner (invisible) after "www", ":" or "@" leaves nothing it recognises. The real page:
    test_browser.py::test_titles_and_headings_never_render_as_links_images_or_formulas."""
    escaped = escape_markdown(f"See {address} now")
    plain = escaped.replace("\\", "")
    assert "\u2060" in plain
    assert not any(start in plain.lower() for start in ("www.", "://", "@e"))
    assert plain.replace("\u2060", "") == f"See {address} now"


@pytest.mark.parametrize("hostile", ["![x](https://host.example/x.png)", "\\[click](http://host.example)",
                                     "$\\href{http://host.example}{y}$", "<img src=x onerror=alert(1)>",
                                     "[a]: http://host.example", "<http://host.example>"])
def test_corpus_text_never_becomes_a_link_image_formula_or_tag(hostile):
    from markdown_it import MarkdownIt
    rendered = MarkdownIt("commonmark").render(escape_markdown(f"Heading {hostile} end"))
    assert "<a " not in rendered and "<img" not in rendered
    shown = rendered.replace("&quot;", '"').replace("\u2060", "")     # the word joiners are invisible
    assert hostile.replace("<", "&lt;").replace(">", "&gt;") in shown
    html_form = render_passage(f"Text {hostile} here.", "question", None)
    assert "<img" not in html_form and "<a " not in html_form and "$" not in html_form


@pytest.mark.parametrize("directive", [":material/home:", ":red[warning]", ":smile:", ":rainbow-background[x]"])
def test_no_streamlit_directive_survives_into_raw_html(directive):
    """Found by adversarial testing: a title ending in ":material/home:" showed as
    ":material_home:" in every result header, which goes to the page as raw HTML."""
    import html
    escaped = escape_html(f"Sleep guide {directive} end")
    assert ":" not in escaped and html.unescape(escaped) == f"Sleep guide {directive} end"
    assert ":" not in render_passage(f"Sleep {directive} well.", "sleep", None).replace("&#58;", "")


def test_bidirectional_controls_show_as_escapes_on_the_page():
    """Found by adversarial testing: live on the page, "\u202e05\u202c mg" read "50 mg", and a
    title's unclosed override reversed every title after it. Shown as escapes, as in the CLI."""
    dose = "At most \u202e05\u202c mg a day \u2067often\u2069 \u200f."
    for shown in (escape_html(dose), escape_markdown(dose).replace("\\", ""), render_passage(dose, "dose a day", None)):
        assert not any(char in shown for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
    assert "At most \\u202e05\\u202c mg" in escape_html(dose)
    assert "u202e05" in escape_markdown(dose) and "u2067often" in escape_markdown(dose)
