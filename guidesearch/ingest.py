"""Read guides from the corpus folder and find their sections (files in, Sections out).

Two formats:
- Plain text (.txt), as guides are published: the first line is the title; headings are short
  lines without closing punctuation that introduce body text; an FAQ block at the end marks
  each question with a following line holding only "+".
- Markdown (.md): CommonMark headings (ATX "#" to "######" and setext underlines), as
  markdown-it-py finds them, give the heading path; text before the first heading belongs to the
  title; a heading inside a code block, a list or a block quote is text.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import charset_normalizer
from markdown_it import MarkdownIt

from guidesearch.errors import CorpusError
from guidesearch.records import NOT_READ, UNREADABLE, FileStamp, Guide, Section, SkippedFile
from guidesearch.text import TITLE_STOPWORDS, WORD, is_bullet, is_table_line

GUIDE_SUFFIXES = (".txt", ".md", ".markdown")
_MD_SOURCE_LINE = re.compile(r"^Source:\s+https?://\S+$")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# Control bytes that never occur in text (tab, line feed, form feed and carriage return do).
_CONTROL_BYTES = bytes(code for code in range(32) if code not in b"\t\n\f\r")
# Where str.splitlines breaks lines (and the unit separator) become line breaks, so that no two
# words glue; the other C0 and C1 controls and DEL are dropped; tab stays.
_LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# The single-byte encodings of English and Western European guides, tried first.
_WESTERN_ENCODINGS = ["cp1252", "latin_1"]
# Only the block structure is needed: inline parsing (emphasis, links) is left off, and the
# heading text is the inline source as written.
_COMMONMARK = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
# Lines of Markdown parsed at a time, so that memory stays bounded on a very large guide.
_WINDOW_LINES = 10_000


@dataclass(frozen=True)
class CorpusScan:
    """What reading the corpus produced: the guides, and the files passed over with reasons."""

    guides: tuple[Guide, ...]
    skipped: tuple[SkippedFile, ...]
    not_guides: tuple[str, ...] = ()   # other files in the folder (a .pdf, a .docx), never read, and
                                       # folders that are links out of it, never entered ("name/")

    @property
    def sections(self) -> list[Section]:
        return [section for guide in self.guides for section in guide.sections]


def read_corpus(corpus_dir: Path, max_file_bytes: int, indexed: Mapping[str, str] | None = None) -> CorpusScan:
    """Read every guide under corpus_dir, recursively.

    A file that cannot be read is skipped with a one-line reason; it never stops the others.
    Of files with the same content one is indexed, so that a copy does not take over the links
    to the original: the one the index holds with this content (indexed: source -> content
    hash of the guides the index holds now), else one the index holds, else the first by name.

    Raises:
        CorpusError: the folder is missing or holds no guide file at all.
    """
    corpus_dir = Path(corpus_dir)
    problem = corpus_folder_problem(corpus_dir)
    if problem:
        raise CorpusError(problem)
    read: list[Guide | SkippedFile] = []
    root = corpus_root(corpus_dir)
    visible = list(_visible_files(corpus_dir))      # one walk for the guides and the other files
    for path in _guides_among(visible):
        source = path.relative_to(corpus_dir).as_posix()
        try:
            read.append(read_guide(path, source, max_file_bytes, root))
        except Exception as exc:  # noqa: BLE001 -- no single guide can fail the build
            read.append(SkippedFile(source, f"could not be read ({type(exc).__name__}: {exc}); "
                                             "this is a bug in Guide Search, please report it",
                                    read_file(path, max_file_bytes, root).stamp))
    indexed = indexed or {}
    kept: dict[str, Guide] = {}     # content hash -> the guide indexed for it
    for outcome in read:
        if isinstance(outcome, Guide) and (outcome.sha256 not in kept or _preferred(outcome, indexed, corpus_dir)
                                           < _preferred(kept[outcome.sha256], indexed, corpus_dir)):
            kept[outcome.sha256] = outcome
    guides: list[Guide] = []
    skipped: list[SkippedFile] = []
    for outcome in read:
        if isinstance(outcome, SkippedFile):
            skipped.append(outcome)
        elif kept[outcome.sha256] is not outcome:
            skipped.append(SkippedFile(outcome.source, f"same content as {kept[outcome.sha256].source}", outcome.stamp))
        else:
            guides.append(outcome)
    if not guides and not skipped:
        raise CorpusError(f"The corpus folder {corpus_dir} holds no guides. Add .txt or .md (or .markdown) files "
                          "to it.")
    return CorpusScan(tuple(guides), tuple(skipped), tuple(_other_sources(corpus_dir, visible)))


def _preferred(guide: Guide, indexed: Mapping[str, str], corpus_dir: Path) -> tuple[bool, bool, bool]:
    """Sorts first the copy to index among files of the same content: the one indexed with this
    content, then one indexed at all, then a file rather than a link to it (results cite the file
    a maintainer edits: adversarial testing); a tie keeps the first by name."""
    return (indexed.get(guide.source) != guide.sha256, guide.source not in indexed,
            (corpus_dir / guide.source).is_symlink())


def corpus_folder_problem(corpus_dir: Path) -> str:
    """Why corpus_dir cannot be read as the corpus folder, in words with the fix; "" when it can."""
    if Path(corpus_dir).is_dir():
        return ""
    if Path(corpus_dir).exists():
        return (f"The corpus folder {corpus_dir} is a file, not a folder: point --corpus / GUIDESEARCH_CORPUS "
                "at the folder that holds the guides.")
    return (f"The corpus folder {corpus_dir} does not exist. Create it and put guides (.txt, .md or .markdown) in it, "
            "or point --corpus / GUIDESEARCH_CORPUS at your guides.")


def corpus_root(corpus_dir: Path) -> Path:
    """The corpus folder's real path: a symlinked corpus folder is fine, links out of it are not."""
    return Path(os.path.realpath(corpus_dir))


def list_guide_files(corpus_dir: Path) -> list[Path]:
    """Guide files under corpus_dir, sorted; hidden files and editor leftovers are ignored.

    Folders reached through symbolic links are not entered, so a link loop cannot trap the walk.
    """
    return _guides_among(_visible_files(corpus_dir))


def _guides_among(paths: Iterable[Path]) -> list[Path]:
    return sorted(path for path in paths if is_guide_name(path.name) and not _is_linked_folder(path))


def list_other_files(corpus_dir: Path) -> list[str]:
    """Files under corpus_dir that are not guides by their name (a .pdf, a .docx), as sources,
    and folders that are links out of it, which are not entered, as "name/": a build names
    them, since a maintainer who put one there expects it to be searched."""
    return _other_sources(corpus_dir, _visible_files(corpus_dir))


def _other_sources(corpus_dir: Path, visible: Iterable[Path]) -> list[str]:
    root, other = corpus_root(corpus_dir), []
    for path in visible:
        source = path.relative_to(corpus_dir).as_posix()
        if _is_linked_folder(path):
            # A link to a folder inside the corpus passes over nothing: its guides are read where they are.
            other += [] if is_inside(path.resolve(), root) else [f"{source}/"]
        elif not is_guide_name(path.name) and not _is_leftover(path.name):
            other.append(source)
    return sorted(other)


def _visible_files(corpus_dir: Path) -> Iterator[Path]:
    """The files under corpus_dir, hidden folders left out, and the folders that are links,
    which the walk does not enter (a link loop cannot trap it; one could lead outside the
    corpus): found by adversarial testing, where a linked folder of guides was passed over
    without a word."""
    for folder, subfolders, names in os.walk(corpus_dir, followlinks=False):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        yield from (Path(folder) / name for name in names)
        yield from (Path(folder) / name for name in subfolders if (Path(folder) / name).is_symlink())


def _is_linked_folder(path: Path) -> bool:
    return path.is_symlink() and path.is_dir()


def is_guide_name(name: str) -> bool:
    """A guide file by its name: .txt, .md or .markdown, not hidden, not an editor's backup or swap file."""
    return not _is_leftover(name) and name.lower().endswith(GUIDE_SUFFIXES)


def _is_leftover(name: str) -> bool:
    """Hidden, or an editor's backup, swap or lock file ("~$guide.md": Word's, while it is open)."""
    return name.startswith((".", "#", "~$")) or name.endswith("~")


@dataclass(frozen=True)
class FileRead:
    """What looking at one corpus file gave: its stamp, and its bytes or why they were not read."""

    stamp: FileStamp
    data: bytes | None
    reason: str = ""


def read_file(path: Path, max_file_bytes: int, corpus_root: Path | None = None) -> FileRead:
    """The one way a corpus file is looked at, by the build and by the freshness check alike, so
    the two always agree on its stamp.

    Only regular files whose real path is inside corpus_root are read, at most max_file_bytes
    of them; the time is taken before reading, so an edit made while (or after) the file is read
    shows as a change on the next check.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        return FileRead(FileStamp(UNREADABLE, -1, -1), None, f"cannot be read: {exc.strerror or exc}")
    seen = FileStamp(NOT_READ, info.st_size, info.st_mtime_ns)
    if corpus_root is not None and not is_inside(path, corpus_root):
        return FileRead(seen, None, "links to a file outside the corpus folder (only files inside it are read)")
    if not stat.S_ISREG(info.st_mode):
        return FileRead(seen, None, "not a regular file (a device, pipe or socket)")
    if info.st_size > max_file_bytes:
        return FileRead(seen, None, f"{info.st_size:,} bytes is above the size limit of {max_file_bytes:,} "
                                    "bytes (raise it with --max-file-bytes or GUIDESEARCH_MAX_FILE_BYTES to index it)")
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            data = handle.read(max_file_bytes + 1)
    except OSError as exc:
        return FileRead(FileStamp(UNREADABLE, info.st_size, info.st_mtime_ns), None,
                        f"cannot be read: {exc.strerror or exc}")
    stamp = FileStamp(hashlib.sha256(data).hexdigest(), len(data), info.st_mtime_ns)
    if len(data) > max_file_bytes:   # grew while being read
        return FileRead(stamp, None, f"more than the size limit of {max_file_bytes:,} bytes "
                                     "(raise it with --max-file-bytes or GUIDESEARCH_MAX_FILE_BYTES to index it)")
    return FileRead(stamp, data)


def is_inside(path: Path, root: Path) -> bool:
    """Whether a path, links followed, is inside root (itself resolved by the caller)."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(root)
    except (OSError, ValueError):
        return False


def read_guide(path: Path, source: str, max_file_bytes: int,
               corpus_root: Path | None = None) -> Guide | SkippedFile:
    """Read and section one guide, or say in one line why it was skipped."""
    read = read_file(path, max_file_bytes, corpus_root)
    if read.data is None:
        return SkippedFile(source, read.reason, read.stamp)
    if not is_valid_name(source):
        return SkippedFile(source, "its name is not valid UTF-8 (rename the file)", read.stamp)
    text = decode_guide(read.data)
    if text is None:
        return SkippedFile(source, "not text (binary content)", read.stamp)
    if not text.strip():
        return SkippedFile(source, "empty file", read.stamp)
    sections = tuple(parse_guide(text, source))
    if not sections:
        return SkippedFile(source, "no text under any heading", read.stamp)
    return Guide(source, sections[0].title, sections, read.stamp)


def is_valid_name(source: str) -> bool:
    try:
        source.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def decode_guide(data: bytes) -> str | None:
    """Decode a guide's bytes, with its line breaks as "\n".

    A byte-order mark (UTF-8, UTF-16, UTF-32) wins; then strict UTF-8; then Windows-1252 (or
    Latin-1) when charset-normalizer finds that reading clean, else charset-normalizer's best
    reading (Cyrillic, Hebrew, Japanese...). Western comes first because the guides are English
    and charset-normalizer's own first choice on a short text is often a Central European, DOS or
    Asian encoding: "Café" became "Cafď", "25°C" Chinese and "…" "à" in our measurements.

    Returns:
        The text, or None for binary content: NUL bytes without a byte-order mark, or control
        bytes (other than tab, line breaks and form feed) in more than 1% of the first 64 KiB.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _normalise_newlines(data.decode(encoding))
            except UnicodeDecodeError:
                return None
    if _looks_binary(data):
        return None
    try:
        return _normalise_newlines(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _normalise_newlines(_guess_decode(data))


def _looks_binary(data: bytes) -> bool:
    """NUL bytes, or control bytes in more than 1% of the first 64 KiB."""
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return b"\x00" in data or controls > 0.01 * len(sample)


def _guess_decode(data: bytes) -> str:
    """Text of bytes that are not UTF-8: Windows-1252 (or Latin-1) when charset-normalizer finds
    that reading clean, else its best reading, else Latin-1 as the last resort."""
    for encodings in (_WESTERN_ENCODINGS, None):
        match = charset_normalizer.from_bytes(data, cp_isolation=encodings).best()
        if match is not None:
            return str(match)
    return data.decode("cp1252") if _is_cp1252(data) else data.decode("latin-1")


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def _normalise_newlines(text: str) -> str:
    """Line breaks as "\n"; other control characters (escape sequences that recolour or clear a
    terminal, plant a hidden link, ...) dropped, as the guides' text is untrusted and reaches
    terminals through the CLI and MCP; tab kept."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", text.replace("\r\n", "\n")))


def parse_guide(text: str, source: str) -> Iterator[Section]:
    """Sections of a guide, by the format its file name says."""
    lines = _normalise_newlines(text).split("\n")
    if source.lower().endswith((".md", ".markdown")):
        return parse_markdown(lines, source)
    return parse_plain_text(lines, source)


def title_from_source(source: str) -> str:
    """A readable title from a file name: "does-neuropathy_cause.txt" -> "Does neuropathy cause"."""
    stem = Path(source).stem.replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else source


# --- Markdown ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Block:
    """A top-level block of a Markdown guide: its lines [start, end), and for a heading its
    level (1-6) and text ("" for a bare "#")."""

    start: int
    end: int
    level: int = 0
    text: str = ""
    hidden: bool = False    # lines a reader never sees: an HTML comment, a link reference definition


def parse_markdown(lines: list[str], source: str) -> Iterator[Section]:
    """Sections of a Markdown guide, each with its heading path (title > h2 > h3 ...).

    markdown-it-py finds the headings by CommonMark; each section's text is cut from the guide's
    own lines between them, so it stays exactly as written. Only top-level headings count: one
    inside a list or a block quote is part of that block's text. The title is the first heading
    when that is a level-1 heading, else it comes from the file name.

    Args:
        lines: the guide's lines, without their line breaks.
        source: the guide's path relative to the corpus folder.
    """
    lines, front_title = _without_front_matter(_split_carriage_returns(lines))
    headings = _markdown_headings(lines)
    leading = _through_first_named(headings)
    first = leading[-1] if leading and leading[-1].text else None
    title_heading = first if first is not None and first.level == 1 else None
    title = title_heading.text if title_heading else front_title or title_from_source(source)
    yield from _markdown_sections(lines, source, title, itertools.chain(leading, headings), title_heading)


# YAML front matter: "---" on the first line, "key: value" lines, "---" or "..." to close it.
_FRONT_MATTER_LINES = 100
_FRONT_MATTER_FIELD = re.compile(r"^(?:[\w-]+\s*:.*|\s+.*|-\s.*|#.*|)$")
_FRONT_MATTER_KEY = re.compile(r"^[\w-]+\s*:")
_FRONT_MATTER_TITLE = re.compile(r"^title\s*:\s*(.+?)\s*$", re.IGNORECASE)


def _without_front_matter(lines: list[str]) -> tuple[list[str], str]:
    """The lines with a YAML front matter block blanked (same numbering), and its title, or "".
    A reader of the rendered guide never sees front matter; read as Markdown, its "---" is a
    rule and its last field a heading ("title: Knee Pain" as a level-2 heading)."""
    if not lines or lines[0].strip() != "---":
        return lines, ""
    for end in range(1, min(len(lines), _FRONT_MATTER_LINES)):
        if lines[end].strip() in ("---", "..."):
            fields = lines[1:end]
            if not all(_FRONT_MATTER_FIELD.match(field) for field in fields) or \
                    not any(_FRONT_MATTER_KEY.match(field) for field in fields):
                return lines, ""
            titles = [_front_matter_value(match.group(1)) for field in fields
                      if (match := _FRONT_MATTER_TITLE.match(field))]
            return [""] * (end + 1) + lines[end + 1:], titles[0] if titles else ""
    return lines, ""


def _front_matter_value(value: str) -> str:
    """A one-line YAML value as text, or "": a block scalar (">", "|") continues on later lines,
    and a comment (" # draft") is no part of it."""
    if value.startswith((">", "|")):
        return ""
    value = re.sub(r"\s+#.*$", "", value) if not value.startswith(("'", '"')) else value
    return value.strip().strip("\"'").strip()


def _split_carriage_returns(lines: list[str]) -> list[str]:
    """The lines as CommonMark counts them: a lone "\r" ends a line too."""
    if not any("\r" in line for line in lines):
        return lines
    return _normalise_newlines("\n".join(lines)).split("\n")


def _through_first_named(headings: Iterator[_Block]) -> list[_Block]:
    """Headings taken from `headings` up to and including the first one with text."""
    taken = []
    for heading in headings:
        taken.append(heading)
        if heading.text:
            break
    return taken


def _markdown_sections(lines: list[str], source: str, title: str, headings: Iterable[_Block],
                       title_heading: _Block | None) -> Iterator[Section]:
    """Sections cut from `lines` at the headings; the title heading opens the title's section."""
    stack: list[_Block] = []    # open headings below the title
    body: list[str] = []
    line = 0
    for heading in headings:
        body.extend(lines[line:heading.start])
        line = heading.end
        if not heading.text:
            continue   # a bare "#" marks nothing; its body stays with the section above
        yield from _section(source, title, [open_heading.text for open_heading in stack], body)
        body = []
        if heading is title_heading:
            continue
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
    body.extend(lines[line:])
    yield from _section(source, title, [open_heading.text for open_heading in stack], body)


def _markdown_headings(lines: list[str], window_lines: int = _WINDOW_LINES) -> Iterator[_Block]:
    """The top-level headings of a Markdown guide, in order.

    The parser reads a window of lines at a time. Every block of a window but its last ended
    before the window did, so it is parsed as in the whole guide; the next window starts where
    the last of those ended. A window holding fewer than two blocks is doubled.
    """
    start, size = 0, window_lines
    while start < len(lines):
        end = min(len(lines), start + size)
        blocks = _top_level_blocks(lines[start:end], start)
        if end < len(lines):
            if len(blocks) < 2:
                size *= 2
                continue
            blocks = blocks[:-1]
            end = blocks[-1].end
        yield from (block for block in blocks if block.level or block.hidden)
        start, size = end, window_lines


def _top_level_blocks(lines: list[str], first_line: int) -> list[_Block]:
    """The top-level blocks of `lines`, numbered from `first_line`. What a reader of the rendered
    guide never sees is hidden: an HTML comment block, and the lines no block holds (link
    reference definitions: "[ref]: http://intranet/..."), found by adversarial testing."""
    tokens = _COMMONMARK.parse("\n".join(lines))
    blocks = []
    for i, token in enumerate(tokens):
        if token.level != 0 or token.nesting < 0 or token.map is None:
            continue
        start, end = (first_line + number for number in token.map)
        if token.type == "heading_open":
            blocks.append(_Block(start, end, int(token.tag[1:]), _heading_text(tokens[i + 1].content)))
        else:
            blocks.append(_Block(start, end, hidden=_is_comment(token)))
    return sorted(blocks + _unheld_lines(lines, first_line, blocks), key=lambda block: block.start)


def _is_comment(token) -> bool:
    """An HTML block that is one comment: "<!-- a --> shown <!-- b -->" shows its middle."""
    content = token.content.strip()
    return token.type == "html_block" and content.startswith("<!--") and content.find("-->") == len(content) - 3


def _unheld_lines(lines: list[str], first_line: int, blocks: list[_Block]) -> list[_Block]:
    """Hidden blocks for the runs of non-blank lines that no block holds."""
    held = [False] * len(lines)
    for block in blocks:
        held[block.start - first_line:block.end - first_line] = [True] * (block.end - block.start)
    runs, start = [], None
    for number, line in enumerate([*lines, ""]):
        unseen = number < len(lines) and not held[number] and line.strip() != ""
        if unseen and start is None:
            start = number
        elif not unseen and start is not None:
            runs.append(_Block(first_line + start, first_line + number, hidden=True))
            start = None
    return runs


def _heading_text(content: str) -> str:
    """A heading's inline source, stripped; the lines of a setext heading joined by a space."""
    return " ".join(part.strip() for part in content.split("\n") if part.strip())


def _section(source: str, title: str, path: list[str], body: list[str]) -> Iterator[Section]:
    """One Section from collected body lines; nothing when there is no text."""
    if not path:
        # A "Source: <url>" line under the title is the guide's citation, not a passage.
        body = [line for line in body if not _MD_SOURCE_LINE.match(line.strip())]
    text = "\n".join(body).strip("\n")
    if text.strip():
        yield Section(source, title, (title, *path), text)


# --- Plain text -------------------------------------------------------------------------------

def parse_plain_text(lines: list[str], source: str) -> Iterator[Section]:
    """Sections of a plain-text guide; headings are found in the text itself.

    Nesting: a section whose body is only an introduction ending with ":" (and no list of its
    own) opens a group; the headings after it that do not name the guide's topic are its
    subsections ("Management and Treatment Strategies" > "Medications"). A heading that names
    the topic again ("Preventing ... Leg Cramps") is back at the top level.
    """
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return
    if _reads_as_sentence(lines[first].strip()):
        # No title line: the text starts at once, and the file name names the guide.
        title, rest = title_from_source(source), lines[first:]
    else:
        title, rest = lines[first].strip(), lines[first + 1:]
    topic = _content_words(title)
    body: list[str] = []
    path: list[str] = []
    parent: str | None = None        # heading of the open group, if any
    skip_marker = False
    for i, line in enumerate(rest):
        if skip_marker:
            skip_marker = False
            continue
        kind = _heading_kind(rest, i)
        if kind is None:
            body.append(line)
            continue
        yield from _section(source, title, path, body)
        if kind == "faq":
            skip_marker = True
            parent = None
            path = [line.strip()]
        elif parent is not None and path and not (_content_words(line) & topic):
            path = [parent, line.strip()]
        else:
            path = [line.strip()]
            parent = line.strip() if _opens_group(rest, i + 1) else None
        body = []
    yield from _section(source, title, path, body)


def _reads_as_sentence(line: str) -> bool:
    """A first line that is body text, not a title: long, or ending like a sentence."""
    return len(line) > 120 or len(line.split()) > 14 or line[-1] in ".!:;,"


def _heading_kind(lines: list[str], i: int) -> str | None:
    """"faq" for an FAQ question, "heading" for a heading, None for body text."""
    line = lines[i].strip()
    if line.endswith("?") and i + 1 < len(lines) and lines[i + 1].strip() == "+":
        return "faq"
    if not _looks_like_heading(line):
        return None
    next_text = _next_text(lines, i + 1)
    if next_text is None or next_text == "+" or _looks_like_heading(next_text):
        return None  # a heading introduces body text
    return "heading"


def _next_text(lines: list[str], start: int) -> str | None:
    """The first non-blank line from `start` on, stripped."""
    for i in range(start, len(lines)):
        if lines[i].strip():
            return lines[i].strip()
    return None


def _looks_like_heading(line: str) -> bool:
    if not line or len(line) > 120 or len(line.split()) > 14:
        return False
    if is_table_line(line) or is_bullet(line) or line[-1] in ".:;,!?+":
        return False
    return line[0].isupper() or line[0].isdigit()


def _opens_group(lines: list[str], start: int) -> bool:
    """True when the body starting at `start` is an introduction ending with ":" and no list."""
    body = []
    for i in range(start, len(lines)):
        if _heading_kind(lines, i) is not None:
            break
        if lines[i].strip():
            body.append(lines[i].strip())
    return bool(body) and body[-1].endswith(":") and not any(is_bullet(b) for b in body)


def _content_words(text: str) -> set[str]:
    """Lower-cased words without stopwords or a plural "s", for comparing headings with a title."""
    words = (word.lower() for word in WORD.findall(text))
    return {word.rstrip("s") for word in words if word not in TITLE_STOPWORDS}
