"""Read guides from the corpus folder and find their sections (files in, Sections out).

Two formats:
- Plain text (.txt), as guides are published: the first line is the title; headings are short
  lines without closing punctuation that introduce body text; an FAQ block at the end marks
  each question with a following line holding only "+".
- Markdown (.md): "#" to "######" headings give the heading path; text before the first
  heading belongs to the title; headings inside code fences are text.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from guidesearch.errors import CorpusError
from guidesearch.records import FileStamp, Guide, Section, SkippedFile
from guidesearch.text import BULLET, TITLE_STOPWORDS, WORD

GUIDE_SUFFIXES = (".txt", ".md", ".markdown")
_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_MD_SOURCE_LINE = re.compile(r"^Source:\s+https?://\S+$")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class CorpusScan:
    """What reading the corpus produced: the guides, and the files passed over with reasons."""

    guides: tuple[Guide, ...]
    skipped: tuple[SkippedFile, ...]

    @property
    def sections(self) -> list[Section]:
        return [section for guide in self.guides for section in guide.sections]


def read_corpus(corpus_dir: Path, max_file_bytes: int) -> CorpusScan:
    """Read every guide under corpus_dir, recursively.

    A file that cannot be read is skipped with a one-line reason; it never stops the others.

    Raises:
        CorpusError: the folder is missing or holds no guide file at all.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"The corpus folder {corpus_dir} does not exist. Create it and put guides "
                          "(.txt or .md) in it, or point GUIDESEARCH_CORPUS / --corpus at your guides.")
    guides: list[Guide] = []
    skipped: list[SkippedFile] = []
    seen: dict[str, str] = {}
    for path in list_guide_files(corpus_dir):
        source = path.relative_to(corpus_dir).as_posix()
        outcome = read_guide(path, source, max_file_bytes)
        if isinstance(outcome, SkippedFile):
            skipped.append(outcome)
        elif outcome.sha256 in seen:
            skipped.append(SkippedFile(source, f"same content as {seen[outcome.sha256]}", outcome.stamp))
        else:
            seen[outcome.sha256] = source
            guides.append(outcome)
    if not guides and not skipped:
        raise CorpusError(f"The corpus folder {corpus_dir} holds no guides. Add .txt or .md files to it.")
    return CorpusScan(tuple(guides), tuple(skipped))


def list_guide_files(corpus_dir: Path) -> list[Path]:
    """Guide files under corpus_dir, sorted; hidden files and editor leftovers are ignored.

    Folders reached through symbolic links are not entered, so a link loop cannot trap the walk.
    """
    found = []
    for folder, subfolders, names in os.walk(corpus_dir, followlinks=False):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in names:
            if is_guide_name(name):
                found.append(Path(folder) / name)
    return sorted(found)


def is_guide_name(name: str) -> bool:
    """A guide file by its name: .txt or .md, not hidden, not an editor's backup or swap file."""
    if name.startswith(".") or name.endswith("~") or name.startswith("#"):
        return False
    return name.lower().endswith(GUIDE_SUFFIXES)


def read_guide(path: Path, source: str, max_file_bytes: int) -> Guide | SkippedFile:
    """Read and section one guide, or say in one line why it was skipped.

    The stamp describes exactly the bytes read: the time is taken before reading, so an edit
    made while (or after) the file is read shows as a change on the next check.
    """
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_size > max_file_bytes:
                return SkippedFile(source, f"{info.st_size:,} bytes is above the size limit of "
                                           f"{max_file_bytes:,} bytes (raise max_file_bytes to index it)",
                                   FileStamp("", info.st_size, info.st_mtime_ns))
            data = handle.read(max_file_bytes + 1)
    except OSError as exc:
        return SkippedFile(source, f"cannot be read: {exc.strerror or exc}")
    stamp = FileStamp(hashlib.sha256(data).hexdigest(), len(data), info.st_mtime_ns)
    if len(data) > max_file_bytes:   # grew while being read
        return SkippedFile(source, f"more than the size limit of {max_file_bytes:,} bytes "
                                   "(raise max_file_bytes to index it)", stamp)
    text = decode_guide(data)
    if text is None:
        return SkippedFile(source, "not text (binary content)", stamp)
    if not text.strip():
        return SkippedFile(source, "empty file", stamp)
    sections = tuple(parse_guide(text, source))
    if not sections:
        return SkippedFile(source, "no text under any heading", stamp)
    return Guide(source, sections[0].title, sections, stamp)


def decode_guide(data: bytes) -> str | None:
    """Decode a guide's bytes: a byte-order mark wins, then UTF-8, then Windows-1252/Latin-1.

    Returns None for binary content (NUL bytes without a BOM, or many control characters).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _normalise_newlines(data.decode(encoding))
            except UnicodeDecodeError:
                return None
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="strict") if _is_cp1252(data) else data.decode("latin-1")
    controls = sum(1 for char in text[:65536] if ord(char) < 32 and char not in "\t\n\r\f")
    if controls > 0.01 * min(len(text), 65536):
        return None
    return _normalise_newlines(text)


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_guide(text: str, source: str) -> Iterator[Section]:
    """Sections of a guide, by the format its file name says."""
    lines = text.split("\n")
    if source.lower().endswith((".md", ".markdown")):
        return parse_markdown(lines, source)
    return parse_plain_text(lines, source)


def title_from_source(source: str) -> str:
    """A readable title from a file name: "does-neuropathy_cause.txt" -> "Does neuropathy cause"."""
    stem = Path(source).stem.replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else source


# --- Markdown ---------------------------------------------------------------------------------

def parse_markdown(lines: list[str], source: str) -> Iterator[Section]:
    """Sections of a Markdown guide, each with its heading path (title > h2 > h3 ...)."""
    title = _markdown_title(lines) or title_from_source(source)
    stack: list[tuple[int, str]] = []   # open headings below the title: (level, text)
    body: list[str] = []
    in_fence = False
    seen_title = False
    for line in lines:
        if _MD_FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        level, heading = len(match.group(1)), match.group(2).strip()
        if not heading:
            continue   # a bare "#" marks nothing; its body stays with the section above
        yield from _section(source, title, [text for _, text in stack], body)
        body = []
        if level == 1 and not seen_title and heading == title:
            seen_title = True
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    yield from _section(source, title, [text for _, text in stack], body)


def _markdown_title(lines: list[str]) -> str | None:
    """The first heading's text when it is a level-1 heading."""
    in_fence = False
    for line in lines:
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _MD_HEADING.match(line)
        if match and match.group(2).strip():
            return match.group(2).strip() if len(match.group(1)) == 1 else None
    return None


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
    title = lines[first].strip()
    topic = _content_words(title)
    body: list[str] = []
    path: list[str] = []
    parent: str | None = None        # heading of the open group, if any
    rest = lines[first + 1:]
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
    if "|" in line or BULLET.match(line) or line[-1] in ".:;,!?+":
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
    return bool(body) and body[-1].endswith(":") and not any(BULLET.match(b) for b in body)


def _content_words(text: str) -> set[str]:
    """Lower-cased words without stopwords or a plural "s", for comparing headings with a title."""
    words = (word.lower() for word in WORD.findall(text))
    return {word.rstrip("s") for word in words if word not in TITLE_STOPWORDS}
