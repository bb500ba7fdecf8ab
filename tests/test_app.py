"""The page, driven with streamlit's AppTest."""

from __future__ import annotations

import re
import shutil
from urllib.parse import quote_plus

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from conftest import ROOT, SEED

APP = str(ROOT / "app.py")


def plain(value: str) -> str:
    """A message as the reader sees it: Markdown escapes and hard line breaks undone."""
    return re.sub(r"\\(.)", r"\1", value.replace("  \n", "\n"))


@pytest.fixture
def page_env(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus)
    monkeypatch.setenv("GUIDESEARCH_CORPUS", str(corpus))
    monkeypatch.setenv("GUIDESEARCH_INDEX", str(tmp_path / "index"))
    return tmp_path


def test_with_no_index_the_page_builds_one_then_answers(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert not page.exception
    assert any("The index is ready: 1 guide(s)" in plain(s.value) for s in page.success)
    assert any("Type a question" in plain(info.value) for info in page.info)     # empty question: how to use
    assert (page_env / "index" / "CURRENT").exists()
    page.text_input[0].input("why do my calves cramp at night?").run()
    assert not page.exception
    shown = "\n".join(m.value for m in page.markdown)
    assert "Symptoms and Diagnosis of Neuropathy-Related Leg Cramps" in shown
    assert "<mark>" in shown
    assert any("not medical advice" in plain(c.value) for c in page.caption)
    page.text_input[0].input("does advil help with cramps from nerve damage").run()
    assert any(plain(c.value) == 'Also searched for the guides\' word "ibuprofen".' for c in page.caption)
    assert "<strong>ibuprofen</strong>" in "\n".join(m.value for m in page.markdown)     # marked as a searched word


def test_results_count_is_adjustable_and_html_is_escaped(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.sidebar.slider[0].set_value(2).run()
    page.text_input[0].input("<script>alert(1)</script> leg cramps").run()
    assert not page.exception
    headers = [m.value for m in page.markdown if m.value.startswith('<div class="hit-head">')]
    assert len(headers) == 2
    assert all("<script>" not in m.value for m in page.markdown)


def test_changed_corpus_offers_a_rebuild(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    (page_env / "corpus" / "new.md").write_text("# Shin Splints\n\n## Causes\n\nRunning on hard ground.\n")
    page.run()
    assert any("changed since the index was built" in plain(w.value) for w in page.warning)
    page.button[0].click().run()
    assert any("The index is ready: 2 guide(s)" in plain(s.value) and "1 guide file(s) added" in plain(s.value) for s in page.success)
    page.text_input[0].input("shin splints from running on hard ground").run()
    assert "Shin Splints" in "\n".join(m.value for m in page.markdown)


def test_a_rebuild_that_fails_says_why_and_the_page_goes_on_answering(page_env, monkeypatch):
    """Found by adversarial testing: a build refused by a read-only index folder left only its
    message, which said the previous index still answers, and no question box."""
    import guidesearch.build
    from guidesearch.errors import IndexFolderError
    page = AppTest.from_file(APP, default_timeout=300).run()
    (page_env / "corpus" / "new.md").write_text("# Shin Splints\n\n## Causes\n\nRunning on hard ground.\n")

    def read_only(*args, **kwargs):
        raise IndexFolderError("Cannot write the index in it (Read-only file system); the previous index still answers.")
    monkeypatch.setattr(guidesearch.build, "build_index", read_only)
    page.run()
    page.button[0].click().run()
    assert not page.exception
    assert any("Read-only file system" in plain(e.value) for e in page.error)
    page.text_input[0].input("why do my calves cramp at night?").run()
    assert "Symptoms and Diagnosis of Neuropathy-Related Leg Cramps" in "\n".join(m.value for m in page.markdown)


def test_a_page_naming_no_corpus_compares_the_index_with_the_one_it_was_built_from(page_env, monkeypatch):
    """GUIDESEARCH_INDEX alone: the banner and the rebuild read the corpus the index records, not
    the default corpus/ folder (which would list every guide as added and removed)."""
    AppTest.from_file(APP, default_timeout=300).run()        # builds from page_env/corpus
    monkeypatch.delenv("GUIDESEARCH_CORPUS")
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert not page.warning and not page.error                # up to date with the guides it holds
    (page_env / "corpus" / "new.md").write_text("# Shin Splints\n\n## Causes\n\nRunning on hard ground.\n")
    page.run()
    banner = "\n".join(plain(w.value) for w in page.warning)
    assert "1 guide file(s) added since the build: new.md" in banner and "removed" not in banner
    page.button[0].click().run()
    assert any("The index is ready: 2 guide(s)" in plain(s.value) for s in page.success)


def test_bad_questions_get_messages_not_tracebacks(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("?!?!").run()
    assert not page.exception and any("no words" in plain(w.value) for w in page.warning)
    page.text_input[0].input("cramps " * 30_000).run()
    assert not page.exception and any("only its beginning was searched" in plain(i.value) for i in page.info)


def test_damaged_index_is_reported_with_a_rebuild_button(page_env):
    AppTest.from_file(APP, default_timeout=300).run()             # builds the index
    build = (page_env / "index" / (page_env / "index" / "CURRENT").read_text().strip())
    (build / "chunks.jsonl").write_text("{not json\n")
    st.cache_resource.clear()                                     # as after a restart of the page
    fresh = AppTest.from_file(APP, default_timeout=300).run()
    assert not fresh.exception
    assert any("python build_index.py" in plain(e.value) for e in fresh.error)
    fresh.button[0].click().run()
    assert any("The index is ready: 1 guide(s)" in plain(s.value) for s in fresh.success)
    fresh.text_input[0].input("what is TENS").run()
    assert "Alternative Therapies" in "\n".join(m.value for m in fresh.markdown)


@pytest.mark.parametrize("damage", ["chunks.jsonl", "manifest.json"])
def test_a_damaged_index_whose_rebuild_fails_says_both_and_stops(page_env, monkeypatch, damage):
    """Found by review: the failed rebuild went on to the damaged build, whose error drew a
    second "Rebuild the index now" button: a duplicate-element crash."""
    import guidesearch.build
    from guidesearch.errors import IndexFolderError
    AppTest.from_file(APP, default_timeout=300).run()             # builds the index
    build = (page_env / "index" / (page_env / "index" / "CURRENT").read_text().strip())
    (build / damage).write_text("{not json\n")
    st.cache_resource.clear()

    def read_only(*args, **kwargs):
        raise IndexFolderError("Cannot write the index in it (Read-only file system).")
    monkeypatch.setattr(guidesearch.build, "build_index", read_only)
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.button[0].click().run()
    assert not page.exception and not any("Something went wrong" in e.value for e in page.error)
    assert any("Read-only file system" in plain(e.value) for e in page.error)


def test_an_unexpected_error_is_one_line_on_the_page(page_env, monkeypatch):
    page = AppTest.from_file(APP, default_timeout=300).run()
    from guidesearch.retrieve import Searcher

    def broken(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(Searcher, "search", broken)
    page.text_input[0].input("leg cramps").run()
    assert not page.exception
    assert [plain(e.value) for e in page.error] == [
        "Something went wrong: RuntimeError. This is a bug in Guide Search; start the page with "
        "`streamlit run app.py -- --debug` to see the details."]


def test_rebuild_button_after_deleting_a_guide_works_with_the_real_model(page_env):
    (page_env / "corpus" / "extra.md").write_text("# Shin Splints\n\n## Causes\n\nRunning on hard ground.\n")
    page = AppTest.from_file(APP, default_timeout=300).run()
    (page_env / "corpus" / "extra.md").unlink()
    page.run()
    assert any("1 guide file(s) removed since the build: extra.md" in plain(w.value) for w in page.warning)
    page.button[0].click().run()
    assert not page.exception and not page.error
    page.text_input[0].input("shin splints from running on hard ground").run()
    assert "Shin Splints" not in "\n".join(m.value for m in page.markdown)


def test_with_every_guide_gone_the_page_answers_and_offers_no_rebuild_that_must_fail(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    (page_env / "corpus" / SEED.name).unlink()
    page.run()
    assert any("holds no guide now: put guides in it before rebuilding" in plain(w.value) for w in page.warning)
    assert not [b for b in page.button if b.label.startswith("Rebuild")]
    page.text_input[0].input("why do my calves cramp at night?").run()
    assert not page.exception and not page.error
    assert "Causes of Neuropathy-Induced Leg Cramps" in "\n".join(m.value for m in page.markdown)


def test_a_page_open_to_the_public_never_builds_and_never_shows_file_names(page_env, monkeypatch):
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", "0")
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert [plain(e.value) for e in page.error] == [
        "Search is not available yet: the guides have not been indexed. (If you run this site: python "
        "build_index.py)"]
    assert not (page_env / "index" / "CURRENT").exists() and not page.button
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", "1")
    AppTest.from_file(APP, default_timeout=300).run()      # the maintainer's page builds it
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", "off")
    (page_env / "corpus" / "secret-draft.md").write_text("# Draft\n\n## Part\n\nNot ready.\n")
    page = AppTest.from_file(APP, default_timeout=300).run()
    shown = " ".join(plain(e.value) for e in [*page.warning, *page.error, *page.caption, *page.markdown])
    assert "secret-draft" not in shown and not [b for b in page.button if "Rebuild" in b.label]
    assert any("updated after the search index was built" in plain(c.value) for c in page.caption)
    page.text_input[0].input("why do my calves cramp at night?").run()
    assert not page.exception and not page.error
    assert "Causes of Neuropathy-Induced Leg Cramps" in "\n".join(m.value for m in page.markdown)


@pytest.mark.parametrize("public", ["0", "1"])
def test_with_neither_corpus_nor_index_the_page_says_so_without_a_crash(page_env, monkeypatch, public):
    shutil.rmtree(page_env / "corpus")          # found by review: AttributeError on the page
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", public)
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert not page.exception and len(page.error) == 1
    assert ("corpus folder" in page.error[0].value) == (public == "1")     # the reader is not shown paths


def test_a_public_page_hides_what_is_for_maintainers_whatever_the_error(page_env, monkeypatch):
    AppTest.from_file(APP, default_timeout=300).run()
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", "0")
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("why do my calves cramp at night?").run()
    assert not [e for e in page.expander if e.label == "Details"]          # file names and scores
    monkeypatch.setenv("GUIDESEARCH_MODEL", str(page_env / "another-model"))    # an index of another model
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert [plain(e.value) for e in page.error] == [
        "Search is not available right now: the search index cannot be read. Please try again later."]
    assert str(page_env) not in " ".join(m.value for m in [*page.markdown, *page.caption, *page.error])
    monkeypatch.delenv("GUIDESEARCH_MODEL")
    monkeypatch.setenv("GUIDESEARCH_MAX_TOKENS", "12x")        # a setting's name is for the log (adversarial)
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert [plain(e.value) for e in page.error] == [
        "Search is not available right now: the search index cannot be read. Please try again later."]


def test_a_page_switch_that_is_neither_on_nor_off_is_one_line_with_the_fix(page_env, monkeypatch):
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", "maybe")
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert [plain(e.value) for e in page.error] == [
        "GUIDESEARCH_PAGE_REBUILD='maybe' is neither on nor off: set it to 1 or 0, or unset it."]
    assert not page.exception


def test_a_damaged_index_on_a_public_page_is_one_plain_sentence(page_env, monkeypatch):
    AppTest.from_file(APP, default_timeout=300).run()
    (page_env / "index" / "CURRENT").write_text("build-nothing\n", encoding="utf-8")
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", "0")
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert [plain(e.value) for e in page.error] == [
        "Search is not available right now: the search index cannot be read. Please try again later."]
    assert not page.button and not page.exception


def test_corpus_file_names_never_render_as_markdown_on_the_page(page_env):
    from markdown_it import MarkdownIt
    page = AppTest.from_file(APP, default_timeout=300).run()
    hostile = ["![x](x.png).md", "\\[click](javascript:alert(1)).md", "$\\href{x}{y}$.md"]
    for name in hostile:
        (page_env / "corpus" / name).write_text("# Tracker\n\n## Part\n\nSome text about cramps.\n")
    page.run()
    warning = next(w.value for w in page.warning if "changed since" in plain(w.value))
    rendered = MarkdownIt("commonmark").render(warning)
    assert "<img" not in rendered and "<a " not in rendered
    assert all(name in plain(warning) for name in hostile)


def test_a_hostile_heading_is_shown_as_text_in_the_results(page_env):
    (page_env / "corpus" / "tracker.md").write_text(
        "# Tracker\n\n## \\[click](http://host.example) $\\href{http://host.example}{x}$\n\n"
        "Shin splints come from running on hard ground.\n")
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("shin splints from running on hard ground").run()
    header = next(m.value for m in page.markdown if m.value.startswith('<div class="hit-head">'))
    assert "[click](http&#58;//host.example)" in header and "$" not in header      # ":" too, as an entity
    # The one link is the page's own, to the guide view; the heading's URL stays inside its query.
    assert header.count("<a ") == 1 and 'href="?guide=tracker.md&amp;section=' in header
    assert 'href="http' not in header


def test_a_rerun_with_the_same_question_does_not_search_again(page_env, monkeypatch):
    from guidesearch.retrieve import Searcher
    calls = []
    search = Searcher.search
    monkeypatch.setattr(Searcher, "search", lambda self, *a, **k: calls.append(a) or search(self, *a, **k))
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("does alcohol make cramps worse").run()
    assert len(calls) == 1
    page.run()                                                  # a rerun: a click, a resize
    page.sidebar.selectbox[0].set_value("hybrid").run()         # the same settings chosen again
    assert len(calls) == 1 and not page.exception
    assert any("Alcohol" in m.value for m in page.markdown)
    page.sidebar.slider[0].set_value(3).run()                   # a real change searches again
    assert len(calls) == 2


def test_the_header_names_the_guides_and_an_example_asks_itself(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    assert any("Searches 1 health guide: Does Neuropathy Cause Leg Cramps." in plain(m.value)
               for m in page.markdown)
    examples = [b for b in page.button if b.key and b.key.startswith("example-")]
    assert [plain(b.label) for b in examples] == ["why do my calves cramp at night?", "Does Neuropathy Cause Leg Cramps?"]
    examples[0].click().run()
    assert page.text_input[0].value == "why do my calves cramp at night?"
    assert page.query_params["q"] == ["why do my calves cramp at night?"] or \
        page.query_params["q"] == "why do my calves cramp at night?"
    heads = [m.value for m in page.markdown if m.value.startswith('<div class="hit-head">')]
    assert "Causes of Neuropathy-Induced Leg Cramps" in heads[0]
    assert heads[0].count("Does Neuropathy Cause Leg Cramps") == 1         # the title once, below the section
    assert "Strong match" in heads[0] and not any("Strong match" in head for head in heads[1:])
    assert "score" not in " ".join(heads)                                  # numbers only in the details


def test_the_address_always_holds_the_question_asked(page_env):
    page = AppTest.from_file(APP, default_timeout=300)
    page.query_params["q"] = "vitamin b12"
    page.run()
    assert page.text_input[0].value == "vitamin b12"
    page.text_input[0].input("what helps leg cramps at night").run()
    assert "what helps leg cramps at night" in str(page.query_params["q"])
    page.text_input[0].input("").run()
    assert "q" not in page.query_params


def test_the_address_holds_the_number_of_results_and_the_ranking_too(page_env):
    AppTest.from_file(APP, default_timeout=300).run()       # builds the index
    page = AppTest.from_file(APP, default_timeout=300)
    page.query_params.update({"q": "gabapentin", "k": "3", "mode": "dense"})
    page.run()
    assert not page.exception
    assert (page.sidebar.slider[0].value, page.sidebar.selectbox[0].value) == (3, "dense")
    assert len([m for m in page.markdown if m.value.startswith('<div class="hit-head">')]) == 3
    page.sidebar.slider[0].set_value(7).run()
    page.sidebar.selectbox[0].set_value("hybrid").run()
    assert (page.query_params.get("k"), page.query_params.get("mode")) == ("7", None)  # the default is left out
    links = "\n".join(m.value for m in page.markdown)
    assert "k=7" in links and "mode=" not in links      # a result's link keeps them to come back to
    for k in ("999", "²", "9" * 5000, "-3", " 7"):       # "²" passes str.isdigit and crashed int() (review)
        bad = AppTest.from_file(APP, default_timeout=300)
        bad.query_params.update({"q": "gabapentin", "k": k, "mode": "<b>"})
        bad.run()
        assert not bad.exception and not bad.error, k
        assert (bad.sidebar.slider[0].value, bad.sidebar.selectbox[0].value) == (5, "hybrid")


def test_not_covered_shows_the_notice_first_and_folds_the_passages_unmarked(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("Is pickle juice good for leg cramps?").run()
    assert any('don\'t mention "pickle juice"' in plain(w.value) for w in page.warning)
    folded = page.expander[0]
    assert "closest passages" in folded.label
    passages = [m.value for m in folded.markdown if m.value.startswith('<div class="passage">')]
    assert passages and all("<mark>" not in p for p in passages)
    heads = [m.value for m in folded.markdown if m.value.startswith('<div class="hit-head">')]
    assert heads and all("Weak match" in head for head in heads)


def test_a_partly_covered_message_shows_its_passages_unfolded_under_the_notice(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("Could tonic water stop my night cramps? What about leg cramps in general?").run()
    assert [plain(w.value) for w in page.warning] == [
        'The guides don\'t mention "tonic water"; the closest passages below may answer the rest of your message: '
        '"What about leg cramps in general?".']
    assert not [e for e in page.expander if "closest passages" in e.label]
    heads = [m.value for m in page.markdown if m.value.startswith('<div class="hit-head">')]
    assert heads and all("Weak match" in head for head in heads)
    passages = [m.value for m in page.markdown if m.value.startswith('<div class="passage">')]
    assert passages and all("<mark>" not in p for p in passages)


def test_a_repaired_word_is_shown_above_the_answers(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("can neuropaty cause leg crmaps").run()
    assert 'Searched "neuropaty" as "neuropathy", "crmaps" as "cramps".' in [plain(c.value) for c in page.caption]


def test_words_the_guides_never_use_are_said_above_the_answers(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("Can spinal stenosis cause leg cramps?").run()
    assert 'The guides don\'t use the word "stenosis": check whether the passages below speak of it.' \
        in [plain(i.value) for i in page.info]
    assert not page.warning         # covered: the passages are shown, not folded
    assert [m for m in page.markdown if m.value.startswith('<div class="hit-head">')]


def test_a_result_links_to_its_section_in_the_whole_guide(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("why do my calves cramp at night?").run()
    head = next(m.value for m in page.markdown if m.value.startswith('<div class="hit-head">'))
    link = re.search(r'href="\?([^"]+)"', head).group(1).replace("&amp;", "&")
    from urllib.parse import parse_qs
    wanted = {key: values[0] for key, values in parse_qs(link).items()}
    assert wanted["guide"] == "does-neuropathy-cause-leg-cramps.txt"
    assert wanted["section"].endswith("> Causes of Neuropathy-Induced Leg Cramps")
    view = AppTest.from_file(APP, default_timeout=300)
    for key, value in wanted.items():
        view.query_params[key] = value
    view.run()
    assert not view.exception
    assert [h.value for h in view.header] == ["Does Neuropathy Cause Leg Cramps"]
    assert len(view.subheader) == 12          # every section but the introduction and a lone lead-in
    assert any("The section your result came from" in c.value for c in view.caption)
    assert any("Back to the answers" in m.value and "q=why+do+my+calves" in m.value for m in view.markdown)
    assert not view.sidebar.slider and not view.sidebar.selectbox      # the ranking does nothing here
    gone = AppTest.from_file(APP, default_timeout=300)
    gone.query_params.update({**wanted, "section": "Does Neuropathy Cause Leg Cramps > Renamed Since"})
    gone.run()
    assert "This guide has no section Does Neuropathy Cause Leg Cramps > Renamed Since now; here is the whole " \
           "guide." in [plain(c.value) for c in gone.caption]


def test_a_heading_holding_a_path_separator_keeps_its_own_anchor(page_env):
    """Found by adversarial testing: a heading "Sleep > Naps" and a heading "Naps" under
    "Sleep" had one anchor, two elements with the same id on the guide view."""
    (page_env / "corpus" / "rest.md").write_text("# Rest\n\n## Sleep > Naps\n\nShort naps help.\n\n"
                                                 "## Sleep\n\n### Naps\n\nLong naps do not.\n")
    AppTest.from_file(APP, default_timeout=300).run()        # builds the index
    view = AppTest.from_file(APP, default_timeout=300)
    view.query_params["guide"] = "rest.md"
    view.run()
    assert not view.exception
    anchors = [h.proto.anchor for h in view.subheader]
    assert len(anchors) == 2 and len(set(anchors)) == 2 and all(a.startswith("section-") for a in anchors)
    # A result's link marks its own section only (review): the heading's " > " is written " \> ".
    for section, text in (("Rest > Sleep \\> Naps", "Short naps help."), ("Rest > Sleep > Naps", "Long naps do not.")):
        view = AppTest.from_file(APP, default_timeout=300)
        view.query_params.update({"guide": "rest.md", "section": section})
        view.run()
        assert [c.value for c in view.caption].count("The section your result came from") == 1
        page = AppTest.from_file(APP, default_timeout=300).run()
        page.text_input[0].input(text).run()
        head = next(m.value for m in page.markdown if m.value.startswith('<div class="hit-head">'))
        assert "section=" + quote_plus(section) in head.replace("&amp;", "&")


def test_the_guide_view_serves_only_indexed_guides(page_env):
    view = AppTest.from_file(APP, default_timeout=300)
    view.query_params["guide"] = "../../../etc/passwd"
    view.run()
    assert not view.exception and any("no guide named" in plain(w.value) for w in view.warning)
    assert "root:" not in "\n".join(m.value for m in view.markdown)


def test_lexical_ranking_with_nothing_to_show_says_so_and_folds_nothing(page_env):
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.sidebar.selectbox[0].set_value("lexical").run()
    page.text_input[0].input("qwxyz blorf").run()
    assert [plain(info.value) for info in page.info] == [
        'The guides don\'t mention "qwxyz blorf"; no passage holds its words.']
    assert not page.expander and not page.warning


def test_a_passage_two_guides_hold_word_for_word_is_shown_once_naming_the_other(page_env):
    """Found by adversarial testing: also_in was in the JSON and MCP only."""
    for name in ("one", "two"):
        (page_env / "corpus" / f"{name}.md").write_text(
            f"# Guide {name}\n\n## Notes {name}\n\nChromium picolinate is sold as a supplement for blood sugar "
            "control, but evidence is weak.\n", encoding="utf-8")
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("chromium picolinate for blood sugar").run()
    shown = "\n".join(m.value for m in page.markdown)
    assert shown.count("is sold as a supplement") == 1
    assert any(plain(c.value) in ("Also in: two.md > Notes two", "Also in: one.md > Notes one") for c in page.caption)


def test_a_public_page_names_no_other_file_a_passage_is_in(page_env, monkeypatch):
    """Found by adversarial testing: "Also in" named another guide's file to every reader."""
    for name in ("one", "two"):
        (page_env / "corpus" / f"{name}.md").write_text(
            f"# Guide {name}\n\n## Notes {name}\n\nChromium picolinate is sold as a supplement for blood sugar "
            "control, but evidence is weak.\n", encoding="utf-8")
    AppTest.from_file(APP, default_timeout=300).run()
    monkeypatch.setenv("GUIDESEARCH_PAGE_REBUILD", "0")
    page = AppTest.from_file(APP, default_timeout=300).run()
    page.text_input[0].input("chromium picolinate for blood sugar").run()
    assert not page.exception
    assert not [c for c in page.caption if ".md" in c.value]
