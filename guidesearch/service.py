"""A long-running searcher for servers: follows the index as rebuilds swap in new builds.

The HTTP API and the MCP server share one LiveSearcher. Every request gets the Searcher of the
build that is loaded; when `index/CURRENT` names a newer build, it is loaded in a background
thread while the old one keeps answering, and swapped in only once it loads. A new build that
cannot be loaded (damaged, another model) leaves the old one answering, and status() says why.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass

from guidesearch.backends import questions_compatible
from guidesearch.config import Settings
from guidesearch.errors import GuideSearchError
from guidesearch.freshness import stale_note
from guidesearch.records import Chunk
from guidesearch.retrieve import Searcher, open_searcher
from guidesearch.store import REBUILD, current_build, read_manifest

# How often a request may look at index/CURRENT for a new build (a file read).
CHECK_SECONDS = 1.0
# How often whether the guides changed after the build is looked at again (stale_note): reading
# every file's size and time takes ~120 ms over MedQuAD's 5,490 guides, too much per question.
STALE_SECONDS = 30.0


@dataclass(frozen=True)
class Section:
    """A whole section of a guide as the index holds it: its chunks joined in order."""

    headings: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Status:
    build: str                  # the build folder answering now
    chunks: int
    loading: str | None         # a newer build being loaded
    problem: str | None         # why a newer build is not answering


class LiveSearcher:
    """The Searcher of the newest build that loads, shared by every request (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        """Raises: IndexMissingError and the other errors of open_searcher."""
        self.settings = settings
        self._searcher = open_searcher(settings=settings)
        self._build = self._searcher.index.folder.name
        self._lock = threading.Lock()
        self._loaded = threading.Condition(self._lock)     # notified when a load ends
        self._checked = time.monotonic()
        self._loading: str | None = None
        self._failed: tuple[str, str] | None = None       # (build, why)
        self._sections: dict[str, list[Section]] | None = None
        self._stale: tuple[float, str] | None = None      # (when looked at, stale_note then)

    def searcher(self) -> Searcher:
        """The searcher to answer with now; starts loading a newer build when there is one."""
        self.refresh()
        return self._searcher

    def refresh(self, wait: bool = False) -> None:
        """Look for a newer build (at most every CHECK_SECONDS, unless wait) and load it in the
        background; with wait, load it before returning (tests, /rebuild)."""
        now = time.monotonic()
        if not wait and now - self._checked < CHECK_SECONDS:
            return
        self._checked = now
        try:
            folder = current_build(self.settings.index_dir)
        except GuideSearchError as exc:
            with self._lock:
                self._failed = ("CURRENT", f"{exc} Meanwhile the build {self._build} still answers.")
            return
        name = folder.name if folder else None
        with self._lock:
            if wait:    # a request may have started loading a build: let that load end first
                self._loaded.wait_for(lambda: self._loading is None)
            if name == self._build:
                self._failed = None     # CURRENT names the build answering: no problem (any more)
                return
            if name is None or name == self._loading or (self._failed and self._failed[0] == name):
                return
            self._loading = name
        if wait:
            self._load(name)
        else:
            threading.Thread(target=self._load, args=(name,), daemon=True, name=f"load {name}").start()

    def _load(self, name: str) -> None:
        try:
            searcher = self._open()
            loaded = searcher.index.folder.name
            with self._lock:
                self._searcher, self._build, self._sections = searcher, loaded, None
                self._failed = None
                self._stale = None      # a note about the build before (adversarial testing: 30 s of it)
        except GuideSearchError as exc:
            with self._lock:
                self._failed = (name, f"The new build {name} could not be loaded, so the previous one "
                                      f"still answers: {exc}")
        except Exception as exc:  # noqa: BLE001 -- a bad build must never stop the server
            with self._lock:
                self._failed = (name, f"The new build {name} could not be loaded ({type(exc).__name__}: "
                                      f"{exc}); the previous one still answers. {REBUILD}")
        finally:
            with self._lock:
                self._loading = None
                self._loaded.notify_all()

    def _open(self) -> Searcher:
        """The new build, asked with the encoder already loaded when its precision suits it."""
        encoder = self._searcher.encoder
        manifest = read_manifest(self.settings.index_dir)
        if manifest is not None and manifest.shape.model_name == encoder.name \
                and questions_compatible(manifest.shape.precision, encoder.precision, encoder.name):
            return Searcher.open(self.settings, encoder, self._searcher.fast_encoder)
        return open_searcher(settings=self.settings)

    def stale_note(self) -> str:
        """freshness.stale_note, looked at again at most every STALE_SECONDS."""
        now = time.monotonic()
        with self._lock:
            if self._stale is not None and now - self._stale[0] < STALE_SECONDS:
                return self._stale[1]
        note = stale_note(self.settings)
        with self._lock:
            self._stale = (now, note)
        return note

    def status(self) -> Status:
        with self._lock:
            return Status(self._build, len(self._searcher.index.chunks), self._loading,
                          self._failed[1] if self._failed else None)

    def sections(self, source: str) -> list[Section] | None:
        """A guide's sections in reading order, from the loaded index (never from the corpus
        folder: only what was indexed is served); None for a guide the index does not hold."""
        return self.guides().get(source)

    def guides(self) -> dict[str, list[Section]]:
        """Every guide of the loaded index: source -> its sections in reading order."""
        searcher = self.searcher()
        with self._lock:
            if self._sections is None or searcher is not self._searcher:
                self._sections = sections_by_source(self._searcher.index.chunks)
            return self._sections


def sections_by_source(chunks: list[Chunk]) -> dict[str, list[Section]]:
    """Each guide's sections in reading order, rebuilt from the index's chunks."""
    parts: dict[str, dict[tuple[str, ...], list[str]]] = {}
    for chunk in chunks:        # chunks are stored in guide and reading order
        parts.setdefault(chunk.source, {}).setdefault(chunk.headings, []).append(chunk.text)
    return {source: [Section(headings, "\n".join(texts)) for headings, texts in sections.items()]
            for source, sections in parts.items()}


def log_to_stderr(line_format: str) -> None:
    """The servers' logging: INFO and above on stderr (never stdout, MCP's protocol channel),
    set before the libraries' own setup, which then leaves it alone. faiss logs at INFO each CPU
    build it could not load ("Could not load library with AVX512-SPR support ... No module"),
    which reads as an error at every start: only its warnings are kept."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format=line_format)
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
