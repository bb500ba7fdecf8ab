"""Evidence highlighting renders lists and tables and never lets text become markup."""

from __future__ import annotations

import pytest

from guidesearch.highlight import best_unit, blocks_of, escape_markdown, render_passage

from conftest import SEED


def causes_text() -> str:
    lines = SEED.read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[7:18])


def test_blocks_keep_lists_and_the_table():
    kinds = [block.kind for block in blocks_of(causes_text())]
    assert kinds == ["para", "item", "item", "item", "item", "table"]


def test_best_unit_is_the_answering_item(encoder):
    blocks = blocks_of(causes_text())
    b, u = best_unit("does drinking alcohol damage nerves", blocks, encoder)
    assert blocks[b].units[u].startswith("Alcohol Abuse")


def test_render_marks_evidence_and_emphasises_terms():
    blocks = blocks_of(causes_text())
    html = render_passage(causes_text(), "alcohol nerves", (4, 0), blocks)
    assert "<mark><strong>Alcohol</strong> Abuse" in html
    assert "<ul><li>" in html and "<table" in html and "<th>Neuropathy Type</th>" in html


def test_corpus_and_question_text_cannot_inject_markup():
    text = 'Intro <script>alert("x")</script> & more.\n- <img src=x onerror=alert(1)>\nA | <b>B</b> |\n---|---|'
    html = render_passage(text, "more cramps", (0, 0))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;B&lt;/b&gt;" in html
    question_html = render_passage("script tag here", '<script>alert(1)</script>', (0, 0))
    assert "<script" not in question_html


@pytest.mark.parametrize("hostile", ["![x](https://host.example/x.png)", "\\[click](http://host.example)",
                                     "$\\href{http://host.example}{y}$", "<img src=x onerror=alert(1)>",
                                     "[a]: http://host.example", "<http://host.example>"])
def test_corpus_text_never_becomes_a_link_image_formula_or_tag(hostile):
    from markdown_it import MarkdownIt
    rendered = MarkdownIt("commonmark").render(escape_markdown(f"Heading {hostile} end"))
    assert "<a " not in rendered and "<img" not in rendered
    assert hostile.replace("<", "&lt;").replace(">", "&gt;") in rendered.replace("&quot;", '"')
    html_form = render_passage(f"Text {hostile} here.", "question", None)
    assert "<img" not in html_form and "<a " not in html_form and "$" not in html_form
