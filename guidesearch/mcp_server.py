"""The MCP server: `python -m guidesearch mcp` lets an LLM client ground its answers in the guides.

A Model Context Protocol server over stdio (the `mcp` package) with two tools: `search_guides`
(the passages that answer a question, and whether the guides cover it) and `read_guide_section`
(a whole section of a guide). Both answer in text the model can quote. The passages, verdicts and
sections come from the package (LiveSearcher, SearchResult); this module only words them.

stdout is the protocol channel: the model is loaded with file descriptor 1 pointing at stderr,
and while serving the transport keeps it there, so stray output of a library never reaches the
client. Logging goes to stderr.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import json
import logging
import os
import re
import sys
import threading
from typing import Annotated, Iterator

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BeforeValidator, Field, ValidationError

from guidesearch import __version__
from guidesearch.config import Settings
from guidesearch.errors import GuideSearchError
from guidesearch.records import (NO_PASSAGE, SHOWN_SEPARATOR, Hit, SearchResult, display_name, ends_with_heading,
                                 names_several, opens_under_heading)
from guidesearch.service import LiveSearcher, Section, log_to_stderr
from guidesearch.text import bidi_visible, cut, plain_digits

log = logging.getLogger(__name__)

TOP_K_DEFAULT = 5
TOP_K_MAX = 20
GUIDES_LISTED = 20          # guide names shown when a source is not found
SECTIONS_LISTED = 30        # section paths shown when a heading is not found
CLOSEST = 10                # of a longer list, the names most like the one asked, when any is
CLOSE_ENOUGH = 0.5          # like enough (difflib's ratio) to be offered as the closest

INSTRUCTIONS = (
    "Guide Search holds a collection of health guides (plain-language articles about health "
    "conditions, symptoms and treatments). Call search_guides before answering a health question, "
    "answer only from the passages it returns, quote them word for word and name the guide and "
    "section. When it says the guides don't cover the question, say so instead of guessing. The "
    "guides are general information, not medical advice.")

SEARCH_DESCRIPTION = """\
Search the health guides (plain-language articles about health conditions, symptoms and \
treatments) for the passages that answer a question.

Returns numbered passages, best first. Each names its guide, its section (heading path) and \
source file, gives the passage as written in the guide, and the sentence that best answers the \
question. The first line says whether the guides cover the question.

Answer only from these passages: quote them word for word and name the guide and section you \
quote. If the first line says "Not covered", tell the user the guides don't answer the question \
(it names the terms they never mention) instead of guessing or answering from the nearest \
passages. The guides are general information, not medical advice. To read a whole section, \
call read_guide_section with the source and heading path shown."""

READ_DESCRIPTION = """\
Read one whole section of a health guide, for the context of a passage found by search_guides.

Give the source file and the heading path as search_guides shows them in \
"Guide: <title> — <heading path> (source: <file>)". The last heading alone is enough when it is \
unique; case does not matter. Returns the section's full text as written in the guide: quote it, \
and do not add to it. When the heading is not found, the answer lists the guide's sections (of a \
long guide, the closest ones)."""


# --- search_guides ---------------------------------------------------------------------------

def search_text(live: LiveSearcher, question: str, top_k: int = TOP_K_DEFAULT) -> str:
    """Search the guides and word the result for a model.

    Raises:
        ToolError: top_k out of range, or the question or index fails (the message says what to do).
    """
    check_top_k(top_k)
    try:
        result = live.searcher().search(question, top_k=top_k)
    except GuideSearchError as exc:
        raise ToolError(str(exc)) from exc
    return format_result(result, live.stale_note())


def check_top_k(top_k: int) -> None:
    """Raises: ToolError when top_k is outside 1..TOP_K_MAX."""
    if not 1 <= top_k <= TOP_K_MAX:
        raise ToolError(f"top_k must be a whole number from 1 to {TOP_K_MAX}, not {top_k!r}. "
                        f"Call search_guides again with top_k between 1 and {TOP_K_MAX} "
                        f"(or leave it out for {TOP_K_DEFAULT}).")


def format_result(result: SearchResult, stale: str = "") -> str:
    """A search result as text a model can quote: the verdict first, then numbered passages
    (stale: freshness.stale_note, said after the verdict)."""
    if result.covered:
        lines = ["Covered: the guides cover this question; the passages below are best first. Answer "
                 "from them, quoting them and naming the guide and section."]
    elif result.partly_covered:
        lines = [f"Partly covered: {bidi_visible(result.message)} Tell the user the guides don't mention those terms, "
                 "instead of guessing. The passages below are the nearest text: answer the rest of the message "
                 "from them only where they do answer it (not about those terms), quoting them and naming the "
                 "guide and section."]
    else:
        lines = [f"Not covered: {bidi_visible(result.message)} Tell the user the guides don't answer this "
                 "question instead of guessing; the passages below are only the nearest text."]
    if stale:
        lines.append(f"(Note: {stale[0].upper()}{stale[1:]} Say so if the answer may depend on a recent change.)")
    if result.truncated:
        lines.append("(The question was long and was cut to what the model reads.)")
    lines += [f"({bidi_visible(note)})" for note in (result.spelling_note, result.related_note) if note]
    if result.unmatched_note:
        those = "those words" if names_several(result.unmatched_terms) else "that word"
        lines.append(f"(Note: {bidi_visible(result.unmatched_note)} If they do not, tell the user the guides don't "
                     f"mention {those}, instead of guessing.)")
    if not result.hits:         # GUIDESEARCH_MODE=lexical, and no passage holds a word of the question
        lines.append(f"No passages. {NO_PASSAGE}")
    lines.extend(format_hit(hit, result.covered, result.match_of(hit)) for hit in result.hits)
    return "\n\n".join(lines)


def format_hit(hit: Hit, covered: bool = True, match: str = "strong") -> str:
    """One numbered passage: where it is from, how well it matches, its text, its best-answer
    sentence."""
    lines = [f"[{hit.rank}] {guide_line(hit.title, hit.headings, hit.source)} [{match} match]", quoted(hit.text)]
    if hit.evidence and hit.evidence.text.strip() != hit.text.strip():
        # A weak match holds no answer: its best sentence is only the closest one.
        lines += ["Best answer:" if covered else "Closest sentence:", quoted(hit.evidence.text)]
    if hit.also_in:
        lines.append(f"Also in: {hit.other_places}")
    return "\n".join(lines)


def guide_line(title: str, headings: tuple[str, ...], source: str) -> str:
    """'Guide: <title> — <heading path> (source: <file>)'."""
    return f"Guide: {bidi_visible(title)} — {bidi_visible(heading_path(headings))} (source: {display_name(source)})"


def heading_path(headings: tuple[str, ...]) -> str:
    """The heading path below the title ("A > B"); the title itself for the introduction.
    Either form is what read_guide_section takes."""
    return " > ".join(headings[1:]) or (headings[0] if headings else "")


def quoted(text: str) -> str:
    """Guide text as a quote block: every line starts with "> ", so no line of a guide can pass
    for a passage header or for this server's own words. Bidirectional controls are shown as
    escapes (text.bidi_visible): clients show tool results in terminals too."""
    return "\n".join(f"> {line}".rstrip() for line in bidi_visible(text).strip().splitlines())


# --- read_guide_section ----------------------------------------------------------------------

# Characters of an argument an error message repeats: a model's 100,000-character heading must
# not come back whole into its context (found by adversarial testing; the API cuts at 120 too).
ECHO_CHARS = 120

def section_text(live: LiveSearcher, source: str, heading: str) -> str:
    """The whole text of the sections of a guide whose heading path ends with `heading`.

    Raises:
        ToolError: the guide is not in the index, or no section matches (the message lists what
            there is).
    """
    source = find_source(live, source)
    sections = live.sections(source) or []
    matches = find_sections(sections, heading)
    if not matches:
        problem = f'No section "{bidi_visible(cut(heading.strip(), ECHO_CHARS))}"' if heading.strip() else "No heading given"
        raise ToolError(f"{problem} in the guide {display_name(source)}. "
                        f"Call read_guide_section again with one of its sections:\n" + section_choices(sections, heading))
    return "\n\n".join(f"{guide_line(section.headings[0], section.headings, source)}\n{quoted(section.text)}"
                       for section in matches)


def section_choices(sections: list[Section], heading: str) -> str:
    """The sections to offer a caller whose heading matched none, one "- path" line each: all of
    a guide of up to SECTIONS_LISTED, else the closest to `heading` or the first ones, and how
    many more (a guide of 1,252 sections listed them all, 15 KB into the calling model's
    context: found by adversarial testing)."""
    paths = [bidi_visible(heading_path(section.headings)) for section in sections]
    listed = paths
    if len(paths) > SECTIONS_LISTED:
        last = [bidi_visible(section.headings[-1]) for section in sections]
        listed = closest(heading, paths, also=last) or paths[:SECTIONS_LISTED]
    more = len(paths) - len(listed)
    return "\n".join([f"- {path}" for path in listed]
                     + ([f"(and {more} more: search_guides finds the one that answers a question)"] if more else []))


def closest(wanted: str, names: list[str], also: list[str] | None = None) -> list[str]:
    """Up to CLOSEST of names most like `wanted`, best first, compared as _fold shows them; with
    `also`, a second name for each place (a section's last heading, which callers give alone)
    counts when it is the closer."""
    target = _fold(wanted[:ECHO_CHARS])
    like = lambda name: difflib.SequenceMatcher(None, target, _fold(name)).ratio()     # noqa: E731
    likeness = [max(like(name), like(other)) for name, other in zip(names, also or names)]
    ranked = sorted((i for i in range(len(names)) if likeness[i] >= CLOSE_ENOUGH), key=lambda i: -likeness[i])
    return [names[i] for i in ranked[:CLOSEST]]


def find_sections(sections: list[Section], heading: str) -> list[Section]:
    """The sections whose heading path ends with `heading` (a heading or "A > B"), ignoring case
    and spacing; a heading that itself holds ">" also matches whole. A heading with no text of
    its own (its lead-in opens its first subsection) gives the subsections below it."""
    if not _fold(heading):
        return []
    found = [section for section in sections if ends_with_heading(section.headings, heading, _fold)] or \
        [section for section in sections if opens_under_heading(section.headings, heading, _fold)]
    if not found and SHOWN_SEPARATOR in heading:     # the path as the page shows it, "A › B"
        return find_sections(sections, heading.replace(SHOWN_SEPARATOR, ">"))
    return found


def find_source(live: LiveSearcher, source: str) -> str:
    """The indexed source a caller means: as stored or as shown (display_name), any case.

    Raises:
        ToolError: no guide of that name, naming the closest ones.
    """
    if live.sections(source) is not None:
        return source
    guides = {}
    for chunk in live.searcher().index.chunks:
        guides.setdefault(chunk.source, display_name(chunk.source))
    wanted = _fold(source)
    for stored, shown in guides.items():
        if wanted in (_fold(stored), _fold(shown)):
            return stored
    shown = sorted(guides.values())
    close = closest(source.strip(), shown)
    listed = close or shown[:GUIDES_LISTED]
    more = "" if close or len(shown) <= GUIDES_LISTED else f" (and {len(shown) - GUIDES_LISTED} more)"
    label = "The closest guides" if close else f"The index holds {len(shown)} guide(s)"
    raise ToolError(f'No guide "{cut(display_name(source.strip()), ECHO_CHARS)}" in the index. Give the source file as '
                    f"search_guides shows it after \"source:\". {label}: {', '.join(listed)}{more}.")


def _fold(text: str) -> str:
    """Text compared as a caller may give it back: spacing, case, and bidirectional controls as
    guide_line shows them."""
    return " ".join(bidi_visible(text).split()).casefold()


# --- the server ------------------------------------------------------------------------------

# How to call each tool, for the one-line message that replaces pydantic's report of bad arguments.
USAGE = {
    "search_guides": f'search_guides with "question" (text) and optionally "top_k" (a whole number from 1 '
                     f'to {TOP_K_MAX})',
    "read_guide_section": 'read_guide_section with "source" and "heading" (text, as search_guides shows them)',
}




class GuideServer(MCPServer):
    """The MCP server, with arguments of the wrong type reported in one line that says what to do
    (the SDK sends pydantic's multi-line report, with a documentation address)."""

    # Each tool's arguments, from its signature (build_server): one not among them is refused (the
    # SDK ignores it, and a misspelt "topk" would silently answer with the default).
    parameters: dict[str, frozenset[str]] = {}

    async def call_tool(self, name, arguments, context=None):
        unknown = sorted(set(arguments or {}) - self.parameters.get(name, frozenset(arguments or {})))
        if unknown:
            raise ToolError(f"Error executing tool {name}: unknown argument {unknown[0]!r}"[:200] +
                            f". Call {USAGE[name]}.")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError) or name not in USAGE:
                raise
            raise ToolError(f"Error executing tool {name}: {bad_arguments(exc.__cause__)}. "
                            f"Call {USAGE[name]}.") from exc.__cause__


def bad_arguments(error: ValidationError) -> str:
    """Each wrong argument in a few words: 'top_k should be a whole number, not "abc"'."""
    said = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "the arguments"
        message = problem["msg"].removeprefix("Value error, ").replace("Input should be", "should be") \
            .replace("Field required", "is missing")
        given = "" if problem["type"] == "missing" else f", not {problem['input']!r}"[:80]
        said.append(f"{name} {message}{given}")
    return "; ".join(said)


def whole_number(value: object) -> int:
    """top_k as the API reads k: a whole number, or one written in ASCII digits (models send "3"
    often enough); not true (1), 2.0, "1_0" (10) or " 3", which pydantic's lax integers read."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str)
                                                                         and not plain_digits(value)):
        raise ValueError("Input should be a whole number")
    return int(value)


def build_server(live: LiveSearcher) -> MCPServer:
    """The MCP server with both tools, answering from `live`."""
    server = GuideServer("guide-search", instructions=INSTRUCTIONS, version=__version__)

    @server.tool(description=SEARCH_DESCRIPTION)
    def search_guides(
        question: Annotated[str, Field(description="The question in plain words, e.g. "
                                                   "\"why do my calves cramp at night?\"")],
        top_k: Annotated[int, BeforeValidator(whole_number),
                         Field(description=f"How many passages to return, 1 to {TOP_K_MAX}.",
                               json_schema_extra={"minimum": 1, "maximum": TOP_K_MAX})] = TOP_K_DEFAULT,
    ) -> str:
        # The range is checked by check_top_k, not by pydantic, for a message that says what to do.
        return search_text(live, question, top_k)

    @server.tool(description=READ_DESCRIPTION)
    def read_guide_section(
        source: Annotated[str, Field(description="The guide's source file, as shown after \"source:\".")],
        heading: Annotated[str, Field(description="The section's heading path \"A > B\" as shown, or "
                                                  "its last heading.")],
    ) -> str:
        return section_text(live, source, heading)

    server.parameters = {tool.__name__: frozenset(inspect.signature(tool).parameters)
                         for tool in (search_guides, read_guide_section)}
    return server


def serve_stdio(settings: Settings) -> None:
    """Load the model and index, then serve MCP over stdin/stdout until the client disconnects.

    Raises:
        IndexMissingError and the other errors of LiveSearcher: before anything is served.
    """
    log_to_stderr("%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _stdout_to_stderr():
        live = LiveSearcher(settings)
        live.searcher().search("leg cramps at night", top_k=1)    # warm up: the first call is fast
    status = live.status()
    log.info("Guide Search MCP server: index %s, build %s, %d chunks; serving on stdio",
             settings.index_dir, status.build, status.chunks)
    with _stdin_without_lone_surrogates():
        build_server(live).run("stdio")


# A lone surrogate written as a JSON escape ("\\ud800" with no low half after it, or a low half
# alone): valid JSON text, but the SDK's parser refuses the line, and it drops such a line without
# an answer, leaving the client waiting for ever (found by adversarial testing). Each becomes
# U+FFFD, the replacement character, before the SDK reads the line; the question is then cleaned
# like any other. Python's own parser reads such text, and joins the halves of a pair.
_MAY_HOLD_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(line: bytes) -> bytes:
    if not _MAY_HOLD_SURROGATE.search(line):
        return line
    try:
        message = json.loads(line)
    except ValueError:
        return line             # not JSON: the SDK answers it as it does
    cleaned = _without_surrogates(message)
    if cleaned == message:
        return line
    return json.dumps(cleaned, ensure_ascii=False).encode("utf-8") + b"\n"


def _without_surrogates(value):
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(key): _without_surrogates(item) for key, item in value.items()}
    return value


@contextlib.contextmanager
def _stdin_without_lone_surrogates() -> Iterator[None]:
    """Meanwhile fd 0 is a pipe fed, line by line, with stdin's lines without lone surrogates
    (by a thread, until stdin ends); the SDK reads fd 0 as it would stdin."""
    original = os.dup(0)
    read_end, write_end = os.pipe()
    os.dup2(read_end, 0)
    os.close(read_end)

    def feed() -> None:
        with open(original, "rb") as source, open(write_end, "wb") as sink:
            for line in source:
                try:
                    sink.write(without_lone_surrogates(line))
                    sink.flush()
                except BrokenPipeError:
                    return

    threading.Thread(target=feed, name="mcp-stdin", daemon=True).start()
    try:
        yield
    finally:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send whatever is written to stdout, by Python or by native code, to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
