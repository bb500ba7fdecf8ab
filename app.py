"""Guide Search page: streamlit run app.py. Widgets and display only; the work is in guidesearch/."""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import sys
from urllib.parse import urlencode

import streamlit as st

from guidesearch.build import build_index
from guidesearch.config import BUILD_COMMAND, MODES, Settings
from guidesearch.embed import TextEncoder, passage_encoder
from guidesearch.errors import GuideSearchError, IndexCorruptError, QuestionError
from guidesearch.highlight import escape_html, escape_markdown, render_passage
from guidesearch.records import SHOWN_SEPARATOR, SearchResult, display_name
from guidesearch.retrieve import Searcher, question_encoders
from guidesearch.service import Section, sections_by_source
from guidesearch.freshness import check_freshness, with_recorded_corpus
from guidesearch.store import current_build, read_manifest

log = logging.getLogger("guidesearch.page")
DEBUG = "--debug" in sys.argv[1:] or os.environ.get("GUIDESEARCH_DEBUG") == "1"
EXAMPLE = "why do my calves cramp at night?"
QUESTION_KEY = "question"       # the question box's state
TOP_K_KEY, MODE_KEY = "top_k", "mode"     # the ranking controls' state
MAX_RESULTS = 10
SHOWN_CHARS = 120               # of text from the address shown back on the page
UNAVAILABLE = "Search is not available right now: the search index cannot be read. Please try again later."
REBUILT_KEY = "rebuilt"         # what a rebuild changed, shown once after the page starts again
QUESTION_WORDS = ("what", "why", "how", "when", "where", "who", "which", "can", "could", "does", "do",
                  "is", "are", "should")
DISCLAIMER = ("These guides are general information, not medical advice. "
              "Talk to a healthcare professional about your own symptoms.")
MATCH_LABELS = {"strong": "Strong match", "partial": "Partial match", "weak": "Weak match"}
MATCH_MEANING = {   # measured by bench/labels.py on development questions (bench/results/labels.md)
    "strong": "the best passage for a question the guides cover",
    "partial": "close to the best passage; sometimes answers too",
    "weak": "further from the question; rarely the answer"}
# Label and highlight colours keep a contrast of at least 4.5:1 with their text (WCAG AA).
PASSAGE_CSS = """<style>
.passage mark { background: #fff3b0; padding: 0 .1em; }
.passage table { border-collapse: collapse; margin: .5em 0; }
.passage th, .passage td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; }
.passage table.evidence { outline: 3px solid #fff3b0; }
.hit-title { font-weight: 600; }
.match { font-size: .8em; padding: .05em .5em; border-radius: .8em; white-space: nowrap; }
.match.strong { background: #dff3e4; color: #14532d; }
.match.partial { background: #e8eefc; color: #1e3a8a; }
.match.weak { background: #f1f1f1; color: #3f3f3f; }
</style>"""


# Caches are bounded: a long-running page keeps the newest index and encoders, not all of them.
@st.cache_resource(show_spinner="Loading the embedding model…", max_entries=2)
def load_question_encoders(settings: Settings, passage_precision: str):
    """The question encoders (and fast form) for an index of these passages; a rebuild of the
    same precision keeps them."""
    return question_encoders(settings)


@st.cache_resource(show_spinner="Loading the embedding model for the build…", max_entries=1)
def load_passage_encoder(settings: Settings) -> TextEncoder:
    return passage_encoder(settings)


@st.cache_resource(show_spinner="Loading the index…", max_entries=2)
def load_searcher(settings: Settings, build_name: str) -> Searcher:
    """One Searcher per build: a finished rebuild changes build_name, so the next question
    loads the new index while earlier ones were answered from the old one."""
    manifest = read_manifest(settings.index_dir)
    precision = manifest.shape.precision if manifest else "fp32"
    return Searcher.open(settings, *load_question_encoders(settings, precision))


@st.cache_data(show_spinner=False, max_entries=256)
def answer(settings: Settings, build_name: str, question: str, top_k: int, mode: str) -> SearchResult:
    """A rerun that does not change the question (a click elsewhere, a resize) shows the same
    result without searching again; a new build is a new key."""
    return load_searcher(settings, build_name).search(question, top_k=top_k, mode=mode)


def rebuild(settings: Settings) -> None:
    """Build, then start the page again from a clean state that says what changed, in words."""
    with st.spinner("Building the index from the guides… (only text not embedded before takes time)"):
        report = build_index(settings, load_passage_encoder(settings), wait_seconds=600)
    st.session_state[REBUILT_KEY] = (
        f"The index is ready: {report.guides} guide(s), {report.chunks} passage(s). Since the last build: "
        f"{len(report.added)} guide file(s) added, {len(report.changed)} changed, {len(report.removed)} removed"
        + (f"; {len(report.skipped)} file(s) not indexed ({settings.build_command} --check says why)."
           if report.skipped else "."))
    st.rerun()


def rebuild_or_say_why(settings: Settings) -> bool:
    """rebuild(), or False after saying why it failed: a page whose previous build still answers
    goes on with it (found by adversarial testing: a read-only index folder hid the question box
    under a message saying the previous index still answers)."""
    try:
        rebuild(settings)
    except GuideSearchError as exc:
        st.error(escape_markdown(settings.with_build_command(str(exc))))
        return False
    return True


def ensure_index(settings: Settings) -> str:
    """Build when there is none; say when it is out of date or damaged, with a button that rebuilds.

    Settings that differ from the index's are not rebuilt on their own: a maintainer may have
    built with flags the page does not know, so the page asks first. With page_rebuild off, the
    page is a reader's only (reader_index).
    """
    if not settings.page_rebuild:
        return reader_index(settings)
    diff = check_freshness(settings)
    if diff.missing:
        rebuild(settings)
    elif diff.corpus_missing:
        st.error(escape_markdown(settings.with_build_command(diff.problem)))   # the index still answers
    elif diff.problem:
        st.error(escape_markdown(settings.with_build_command(diff.problem)))
        # A damaged build answers nothing: when the rebuild fails too, the page ends with why (review).
        if not st.button("Rebuild the index now") or not rebuild_or_say_why(settings):
            st.stop()
    elif not diff.fresh:
        st.warning(escape_markdown("The guides or settings have changed since the index was built:\n"
                                   + diff.describe()))
        # With no guide left a rebuild can only fail: the warning says to add guides first.
        if not diff.no_guides_left and st.button("Rebuild the index"):
            rebuild_or_say_why(settings)
    if current_build(settings.index_dir) is None:      # no index, and the corpus cannot be read to build one
        st.stop()
    try:
        build_name = current_build(settings.index_dir).name
        load_searcher(settings, build_name)
    except IndexCorruptError as exc:
        st.error(escape_markdown(settings.with_build_command(str(exc))))
        if not st.button("Rebuild the index now"):
            st.stop()
        rebuild(settings)
        build_name = current_build(settings.index_dir).name
        load_searcher(settings, build_name)
    return build_name


def public_page() -> bool:
    """Whether the page is open to the public (GUIDESEARCH_PAGE_REBUILD=0), read from the
    variable itself: also when another setting is wrong and Settings cannot be made."""
    try:
        return not Settings.from_env().page_rebuild
    except GuideSearchError:
        return os.environ.get("GUIDESEARCH_PAGE_REBUILD", "").strip().lower() in ("0", "off", "no", "false")


def reader_index(settings: Settings) -> str:
    """The build that answers, on a page open to the public: it never builds, and tells a reader
    what they need to know in plain words, never paths or settings (those go to the log)."""
    try:
        diff = check_freshness(settings)
        folder = current_build(settings.index_dir)
        if diff.problem:
            log.warning("The index or the corpus has a problem: %s", diff.problem)
        elif not diff.fresh and folder is not None:
            st.caption("The guides were updated after the search index was built: answers may not include the "
                       "latest changes yet.")
        if folder is None:
            # Never paths on a public page: the site's runner finds them in the log.
            log.warning("No index in %s. Build it with: %s", settings.index_dir, settings.build_command)
            st.error(f"Search is not available yet: the guides have not been indexed. (If you run this site: "
                     f"{BUILD_COMMAND})")
            st.stop()
        load_searcher(settings, folder.name)
    except GuideSearchError as exc:
        log.error("The index cannot answer: %s", exc)
        st.error(UNAVAILABLE)
        st.stop()
    return folder.name


@st.cache_data(show_spinner=False, max_entries=4)
def guide_titles(settings: Settings, build_name: str) -> tuple[str, ...]:
    """The titles of the indexed guides, in corpus order."""
    return tuple(dict.fromkeys(chunk.title for chunk in load_searcher(settings, build_name).index.chunks))


def example_questions(titles: tuple[str, ...]) -> list[str]:
    """Questions a reader can click: the guides' own titles when they are questions, else
    "What is <title>?", after the general example."""
    examples = [EXAMPLE]
    for title in titles[:2]:
        asks = title.split(" ", 1)[0].lower() in QUESTION_WORDS
        examples.append(title.rstrip("?") + "?" if asks else f"What is {title}?")
    return list(dict.fromkeys(examples))


def ask(question: str) -> None:
    st.session_state[QUESTION_KEY] = question


def show_header(titles: tuple[str, ...]) -> None:
    shown = ", ".join(titles[:5]) + (f" and {len(titles) - 5} more" if len(titles) > 5 else "")
    st.markdown(escape_markdown(f"Searches {len(titles)} health guide{'' if len(titles) == 1 else 's'}: {shown}."))
    examples = example_questions(titles)
    for column, (number, example) in zip(st.columns(len(examples)), enumerate(examples)):
        # A button's label is Markdown: the title in it is corpus text.
        column.button(escape_markdown(example), key=f"example-{number}", on_click=ask, args=(example,))


def question_box() -> str:
    """The question box; ?q=... in the address fills it, and the address always holds the
    question asked, so a copied link shows what the reader sees."""
    if QUESTION_KEY not in st.session_state:
        st.session_state[QUESTION_KEY] = st.query_params.get("q", "")
    question = st.text_input("Ask the guides a question", key=QUESTION_KEY, placeholder=EXAMPLE)
    if question.strip():
        st.query_params["q"] = question
    elif "q" in st.query_params:
        del st.query_params["q"]
    return question


def ranking_controls(settings: Settings) -> tuple[int, str]:
    """The sidebar's number of results and ranking. ?k= and ?mode= in the address set them, and
    the address holds those that differ from the defaults, as it holds the question: a copied
    link shows what the reader sees."""
    if TOP_K_KEY not in st.session_state:
        asked_k = st.query_params.get("k", "")
        # fullmatch of ASCII digits: str.isdigit takes "²", which int() refuses (found by review)
        st.session_state[TOP_K_KEY] = int(asked_k) if re.fullmatch(r"[0-9]{1,2}", asked_k) and \
            1 <= int(asked_k) <= MAX_RESULTS else min(settings.top_k, MAX_RESULTS)
        asked_mode = st.query_params.get("mode", "")
        st.session_state[MODE_KEY] = asked_mode if asked_mode in MODES else settings.mode
    with st.sidebar:
        top_k = st.slider("Number of results", 1, MAX_RESULTS, key=TOP_K_KEY)
        mode = st.selectbox("Ranking", MODES, key=MODE_KEY,
                            help="hybrid: meaning and exact words; dense: meaning only; lexical: words only")
    defaults = {"k": str(min(settings.top_k, MAX_RESULTS)), "mode": settings.mode}
    for name, value in (("k", str(top_k)), ("mode", mode)):
        if value != defaults[name]:
            st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]
    return top_k, mode


def answers_address() -> dict[str, str]:
    """What in the address says which answers are shown: the question, and the ranking controls."""
    return {name: st.query_params[name] for name in ("q", "k", "mode") if name in st.query_params}


def guide_link(hit, question: str) -> str:
    """The address of the guide view, at the hit's section, keeping the answers to go back to."""
    query = urlencode({"guide": hit.source, "section": section_path(hit.headings), **answers_address(), "q": question})
    return html.escape(f"?{query}#{section_anchor(hit.headings)}", quote=True)


def section_path(headings: tuple[str, ...]) -> str:
    """A section's place in the address: its heading path "A > B", a " > " inside one heading
    written " \\> " (and a backslash "\\\\"), so that a heading "Sleep > Naps" and a heading "Naps"
    under "Sleep" are two places (review, adversarial testing)."""
    return " > ".join(heading.replace("\\", "\\\\").replace(" > ", " \\> ") for heading in headings)


def section_anchor(headings: tuple[str, ...]) -> str:
    """A stable id for a section's heading on the guide view (the browser scrolls to it): of the
    headings apart, since a heading "A > B" and a heading B under A are two sections."""
    return "section-" + hashlib.sha1("\x1f".join(headings).encode("utf-8")).hexdigest()[:12]


@st.cache_data(show_spinner=False, max_entries=4)
def guide_sections(settings: Settings, build_name: str) -> dict[str, list[Section]]:
    return sections_by_source(load_searcher(settings, build_name).index.chunks)


def show_guide(settings: Settings, build_name: str, source: str, section: str) -> None:
    """One guide, whole, from the index (never read from the corpus folder), with the section
    a result came from marked."""
    sections = guide_sections(settings, build_name).get(source)
    back = urlencode(answers_address())
    st.markdown(f'<a href="?{html.escape(back, quote=True)}" target="_self">← Back to the answers</a>',
                unsafe_allow_html=True)
    if sections is None:
        st.warning(escape_markdown(f"The guides hold no guide named {display_name(source[:SHOWN_CHARS])}. "
                                   "Go back to the answers and follow a result's link."))
        return
    st.header(escape_markdown(sections[0].headings[0]), anchor=False)
    if section and not any(section_path(part.headings) == section for part in sections):
        st.caption(escape_markdown(f"This guide has no section {display_name(section[:SHOWN_CHARS])} now; here is "
                                   "the whole guide."))
    for part in sections:
        path = f" {SHOWN_SEPARATOR} ".join(part.headings[1:])
        marked = section_path(part.headings) == section
        box = st.container(border=True) if marked else st.container()
        with box:
            if marked:
                st.caption("The section your result came from")
            if path:
                st.subheader(escape_markdown(path), anchor=section_anchor(part.headings))
            st.markdown(f'<div class="passage">{render_passage(part.text, "", None)}</div>',
                        unsafe_allow_html=True)


def show_result(result: SearchResult, details: bool = True) -> None:
    """The answer; details: each passage's file and scores, for maintainers (not on a public page)."""
    if result.truncated:
        st.info("Your question was long, so only its beginning was searched.")
    if result.spelling_note:        # a wrong repair ("message" -> "massage") can be seen
        st.caption(escape_markdown(result.spelling_note))
    if not result.hits:         # lexical ranking, and no passage holds a word of the question
        st.info(escape_markdown(result.message))
        return
    if result.covered:
        if result.related_note:        # the guides' words: corpus text, shown as text
            st.caption(escape_markdown(result.related_note))
        if result.unmatched_note:       # the reader's words, which may name what the guides lack
            st.info(escape_markdown(result.unmatched_note))
        show_hits(result, highlight=True, details=details)
        return
    st.warning(escape_markdown(result.message))     # the notice first, the weak passages folded
    if result.partly_covered:       # ... unless they may answer the message's other questions: shown, still weak
        show_hits(result, highlight=False, details=details)
        return
    with st.expander("The closest passages (they may not answer your question)"):
        show_hits(result, highlight=False, details=details)


def show_hits(result: SearchResult, highlight: bool, details: bool = True) -> None:
    for hit in result.hits:
        section = f" {SHOWN_SEPARATOR} ".join(hit.headings[1:]) or hit.headings[0]     # the title is shown below it
        match = result.match_of(hit)
        # Raw HTML with every corpus string escaped: no Markdown is interpreted in it.
        # Each result is a heading (screen readers list them), its link named after its section.
        st.markdown(f'<div class="hit-head"><div class="hit-title" role="heading" aria-level="2">{hit.rank}. '
                    f'{escape_html(section)} <span class="match {match}">{MATCH_LABELS[match]}</span></div>'
                    f'<small>{escape_html(hit.title)} · <a href="{guide_link(hit, result.question)}" '
                    # The name starts with the words shown, for speech input (WCAG 2.5.3, label in name).
                    f'target="_self" aria-label="read this section in the whole guide: result {hit.rank}, '
                    f'{escape_html(section)}">read this section in the whole guide</a></small></div>',
                    unsafe_allow_html=True)
        evidence = (hit.evidence.block, hit.evidence.unit) if hit.evidence and highlight else None
        marked = " ".join((result.question, *result.related_terms))     # the words searched are marked
        st.markdown(f'<div class="passage">{render_passage(hit.text, marked, evidence)}</div>',
                    unsafe_allow_html=True)
        if hit.also_in and details:     # the same words elsewhere (file names: for maintainers)
            st.caption(escape_markdown(f"Also in: {hit.other_places}"))
        if details:
            with st.expander("Details"):        # for maintainers: where it comes from, and its scores
                st.caption(escape_markdown(f"File {display_name(hit.source)} · ranking score {hit.score:.3f} · "
                                           f"cosine {hit.cosine:.3f} · {match} match: {MATCH_MEANING[match]}"))
        st.divider()


def page_settings() -> Settings:
    """The environment's settings; with no GUIDESEARCH_CORPUS, the corpus the index was built from
    (freshness.with_recorded_corpus): the banner compares, and a rebuild reads, the guides it
    holds, not the default folder's."""
    return with_recorded_corpus(Settings.from_env())


def main() -> None:
    st.set_page_config(page_title="Guide Search", page_icon="🔎")
    st.title("Guide Search", anchor=False)
    st.markdown(PASSAGE_CSS, unsafe_allow_html=True)
    try:
        settings = page_settings()
        if REBUILT_KEY in st.session_state:
            st.success(escape_markdown(st.session_state.pop(REBUILT_KEY)))
        build_name = ensure_index(settings)
        if "guide" in st.query_params:
            show_guide(settings, build_name, st.query_params["guide"], st.query_params.get("section", ""))
            st.caption(DISCLAIMER)
            return
        top_k, mode = ranking_controls(settings)       # not on the guide view, where they do nothing
        show_header(guide_titles(settings, build_name))
        question = question_box()
        if not question.strip():
            st.info(f"Type a question in your own words and press Enter, for example: *{EXAMPLE}* "
                    "The passages of the guides that answer it are shown best first, with the "
                    "section they come from; the sentence that best answers it is highlighted.")
        else:
            show_result(answer(settings, build_name, question, top_k, mode), details=settings.page_rebuild)
    except QuestionError as exc:
        st.warning(escape_markdown(str(exc)))
    except GuideSearchError as exc:
        if public_page():       # a setting's name or a path is for the log, not for readers
            log.error("%s", exc)
            st.error(UNAVAILABLE)
        else:
            st.error(escape_markdown(str(exc)))
    except Exception as exc:  # a bug: one line for the reader, the traceback only in debug mode
        st.error(f"Something went wrong: {type(exc).__name__}. This is a bug in Guide Search; "
                 "start the page with `streamlit run app.py -- --debug` to see the details.")
        if DEBUG:
            st.exception(exc)
    st.caption(DISCLAIMER)


main()
