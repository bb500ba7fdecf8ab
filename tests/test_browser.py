"""The real page in a real browser: `streamlit run app.py` on a free port, driven in headless
Chromium (Debian's package) with pytest-playwright, as a reader uses it. Each test saves a
screenshot under tests/artifacts/. The fast checks of the same page are in test_app.py."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from conftest import DEFAULT_MODEL, SEED, make_corpus
from guidesearch.build import build_index
from guidesearch.config import Settings
from page_server import QUESTION_LABEL, ask, serve_page, wait_for_answer, wait_until_idle

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SECONDS = 1000      # Playwright counts milliseconds
CLOSEST = "The closest passages (they may not answer your question)"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def url(seed_settings):
    """The page over the seed index the other real-model tests use (built once per run)."""
    with serve_page(seed_settings.corpus_dir, seed_settings.index_dir) as address:
        yield address


@pytest.fixture
def reader(page, url):
    """A reader's tab with the page open and the question box ready (the first opening loads
    the model and the index)."""
    page.set_default_timeout(120 * SECONDS)
    page.goto(url)
    page.get_by_label(QUESTION_LABEL).wait_for()
    wait_until_idle(page)
    return page


def snapshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def question_in_address(page) -> str:
    return parse_qs(urlparse(page.url).query).get("q", [""])[0]


def test_enter_shows_the_section_that_answers_first(reader):
    seconds, first = ask(reader, "how do doctors test for neuropathy?")
    snapshot(reader, "answer")
    assert first.startswith("1. Diagnosing Neuropathy-Induced Leg Cramps")
    assert "Does Neuropathy Cause Leg Cramps" in first              # the guide's title, once
    reader.locator(".passage mark").first.wait_for()               # the answering sentence marked
    print(f"Enter -> answer on screen: {seconds:.2f} s")


def test_an_example_question_button_asks_it(reader):
    example = reader.get_by_role("button", name="why do my calves cramp at night?")
    example.click()
    first = wait_for_answer(reader, "")
    snapshot(reader, "example")
    expect(reader.get_by_label(QUESTION_LABEL)).to_have_value("why do my calves cramp at night?")
    assert first.startswith("1. ") and question_in_address(reader) == "why do my calves cramp at night?"


def test_a_result_link_opens_the_whole_guide_at_its_section_marked(reader):
    ask(reader, "how do doctors test for neuropathy?")
    reader.get_by_role("link", name="read this section in the whole guide: result 1, Diagnosing Neuropathy-Induced Leg Cramps").click()
    marked = reader.get_by_text("The section your result came from")
    marked.wait_for()
    wait_until_idle(reader)
    snapshot(reader, "guide-view")
    assert reader.get_by_role("heading", level=2, name="Does Neuropathy Cause Leg Cramps").is_visible()
    section = reader.get_by_role("heading", name="Diagnosing Neuropathy-Induced Leg Cramps")
    section.wait_for()
    assert section.is_visible() and marked.is_visible()
    reader.get_by_role("link", name="Back to the answers").click()
    wait_for_answer(reader, "")
    expect(reader.get_by_label(QUESTION_LABEL)).to_have_value("how do doctors test for neuropathy?")


def test_the_address_follows_the_question_asked(page, url):
    page.set_default_timeout(120 * SECONDS)
    page.goto(url + "/?q=vitamin+b12")
    first = wait_for_answer(page, "")
    expect(page.get_by_label(QUESTION_LABEL)).to_have_value("vitamin b12")
    ask(page, "what helps leg cramps at night", first)
    snapshot(page, "address")
    page.wait_for_function("() => location.search.includes('night')")
    assert question_in_address(page) == "what helps leg cramps at night"


def test_a_question_written_in_html_is_shown_as_text(reader):
    dialogs = []
    reader.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    question = '<img src=x onerror="alert(1)"><b id="injected">cramps</b> at night'
    box = reader.get_by_label(QUESTION_LABEL)
    box.fill(question)
    box.press("Enter")
    reader.locator(".hit-head").or_(reader.get_by_text(CLOSEST)).first.wait_for()
    wait_until_idle(reader)
    snapshot(reader, "html-question")
    assert reader.locator("#injected").count() == 0 and reader.locator("img[src=x]").count() == 0
    expect(reader.get_by_label(QUESTION_LABEL)).to_have_value(question)
    assert not dialogs


def test_a_question_the_guides_do_not_cover_says_so_first(reader):
    box = reader.get_by_label(QUESTION_LABEL)
    box.fill("Is pickle juice good for leg cramps?")
    box.press("Enter")
    folded = reader.get_by_text(CLOSEST)
    folded.wait_for()
    wait_until_idle(reader)
    snapshot(reader, "not-covered")
    notice = reader.get_by_text('The guides don\'t mention "pickle juice"')
    assert notice.is_visible()
    assert reader.locator(".passage mark").count() == 0            # no "best answer" on a weak match
    notice_box = notice.bounding_box()
    assert notice_box["y"] < folded.bounding_box()["y"]            # the notice comes first


def test_a_phone_sized_screen_needs_no_sideways_scrolling(page, url):
    page.set_default_timeout(120 * SECONDS)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + "/?q=which+medicines+help+neuropathy+leg+cramps")
    wait_for_answer(page, "")
    snapshot(page, "phone")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px screen"


CONTRAST = """els => els.map(el => {
    const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    const lum = c => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const style = getComputedStyle(el);
    const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05); })"""


def test_the_answer_page_is_accessible(reader):
    ask(reader, "how do doctors test for neuropathy?")
    expect(reader.locator(".hit-head")).to_have_count(5)           # the default number of results
    wait_until_idle(reader)
    levels = reader.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6,[role=heading]')]"
                             ".filter(h => h.offsetParent !== null)"
                             ".map(h => Number(h.getAttribute('aria-level') || h.tagName[1]))")
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels  # none skipped
    assert levels.count(2) >= 3                                    # each result is a heading
    assert reader.get_by_role("textbox", name=QUESTION_LABEL).is_visible()     # the box is labelled
    names = reader.evaluate("() => [...document.querySelectorAll('main a')].filter(a => a.offsetParent)"
                            ".map(a => a.getAttribute('aria-label') || a.innerText.trim())")
    assert names and all(len(name) > 12 and name.lower() not in ("here", "click here", "link") for name in names)
    assert len(set(names)) == len(names), names                    # each link says where it goes
    shown = reader.evaluate("() => [...document.querySelectorAll('main a[aria-label]')].filter(a => a.offsetParent)"
                            ".map(a => [a.innerText.trim(), a.getAttribute('aria-label')])")
    assert shown and all(name.startswith(text) for text, name in shown), shown    # label in name (WCAG 2.5.3)
    ratios = reader.locator(".passage mark, .match").evaluate_all(CONTRAST)
    assert ratios and min(ratios) >= 4.5, ratios                   # WCAG AA for text


HOSTILE_TITLE = ("**Bold** ![pixel](http://127.0.0.1:9/pixel.png) [a link](http://127.0.0.1:9/phish) "
                 "$x^2$ :red[red] :material/home: www.example.org mail@example.org \u202eevil")
HOSTILE_GUIDE = (f"# {HOSTILE_TITLE}\n\n## Visit www.example.org or https://example.org/offer now\n\n"
                 "Zinc lozenges may shorten a common cold. Take at most \u202e05\u202c mg of zinc a day.\n")
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory, encoder):
    """The page over the seed guide and a guide whose title and heading are written to
    render: an image, links, a formula, bold, bare web and e-mail addresses."""
    base = tmp_path_factory.mktemp("hostile")
    corpus = make_corpus(base / "corpus", {"0hostile.md": HOSTILE_GUIDE, SEED.name: SEED.read_text(encoding="utf-8")})
    settings = Settings.from_env(corpus_dir=corpus, index_dir=base / "index", model_name=DEFAULT_MODEL)
    build_index(settings, encoder)
    with serve_page(corpus, settings.index_dir) as address:
        yield address


def assert_nothing_rendered(page) -> None:
    for selector in ("img", "a[href*='example.org']", "a[href*='127.0.0.1:9']", "a[href^='mailto:']", ".katex",
                     "strong:has-text('Bold')"):
        assert page.locator(selector).count() == 0, selector
    # A bidirectional override shows as an escape, as in the terminal: live, "05 mg" read "50 mg"
    # and one title reversed the titles after it (adversarial testing).
    shown = page.locator("body").inner_text()
    assert not any(char in shown for char in BIDI_CONTROLS) and "\\u202eevil" in shown


def test_titles_and_headings_never_render_as_links_images_or_formulas(page, hostile_url):
    """The header naming the guides, the example buttons (Streamlit reads a button label as
    Markdown) and the guide view's headings: GFM links bare addresses after backslash escapes."""
    page.set_default_timeout(120 * SECONDS)
    page.goto(hostile_url)
    page.get_by_label(QUESTION_LABEL).wait_for()
    wait_until_idle(page)
    snapshot(page, "hostile-header")
    assert_nothing_rendered(page)
    assert page.get_by_role("button", name="What is **Bold**", exact=False).count() == 1
    page.goto(hostile_url + "/?q=zinc+lozenges")
    page.locator(".hit-head").first.wait_for()
    wait_until_idle(page)
    # The one link of a result is the page's own, to the guide view, the heading inside its query.
    for selector in ("img", "a[href^='http']", "a[href^='www']", "a[href^='mailto:']", ".katex", "strong:has-text('Bold')"):
        assert page.locator(selector).count() == 0, selector
    # The result header is raw HTML: Streamlit rewrote ":material/home:" there (adversarial testing).
    assert ":red[red] :material/home: www" in page.locator(".hit-head small").first.inner_text()
    assert "at most \\u202e05\\u202c mg" in page.locator(".passage").first.inner_text()
    assert not any(char in page.locator("body").inner_text() for char in BIDI_CONTROLS)
    page.goto(hostile_url + "/?guide=0hostile.md&q=zinc")
    page.get_by_text("Zinc lozenges").wait_for()
    wait_until_idle(page)
    snapshot(page, "hostile-guide")
    assert_nothing_rendered(page)
    assert page.get_by_role("heading", name="Visit www").count() == 1
