"""The whole build: corpus to sections to chunks to vectors to a new index, one build at a time.

Embeddings are reused from the current build when the model and the exact embedded text are
the same, so a rebuild embeds only new or edited text.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

import filelock

from guidesearch import __version__
from guidesearch.chunk import chunk_sections
from guidesearch.config import DEFAULT_MAX_TOKENS, Settings
from guidesearch.embed import TextEncoder
from guidesearch.errors import BuildLockedError, CorpusError, GuideSearchError, IndexFolderError
from guidesearch.freshness import IndexDiff, diff_since
from guidesearch.ingest import CorpusScan, corpus_root, list_other_files, read_corpus
from guidesearch.lexical import LexicalIndex, Vocabulary
from guidesearch.records import UNREADABLE, Chunk, FileStamp, Guide, SkippedFile, display_name, display_names
from guidesearch.store import (CHUNKER_VERSION, MIN_RETIRED, IndexShape, Manifest, RetiredVectors,
                               StoredIndex, check_index_folder, load_index, read_manifest, write_build,
                               write_failure)

LOCK_NAME = ".build.lock"
HOLDER_NAME = ".build.lock.holder"     # who holds the lock, for the "another build" message


@dataclass(frozen=True)
class BuildReport:
    """What a build did, for the summary line and the tests."""

    folder: Path
    guides: int
    sections: int
    chunks: int
    embedded: int
    reused: int
    seconds: float
    diff: IndexDiff             # what changed since the previous build (see freshness.diff_index)
    skipped: tuple[SkippedFile, ...]
    rebuilt: bool = True        # False: the index was already up to date and was left as it is
    not_guides: tuple[str, ...] = ()    # as CorpusScan.not_guides: files never read, linked folders ("name/")

    # What changed is what `--check` saw before the build: the one diff (freshness.diff_index).
    @property
    def added(self) -> tuple[str, ...]:
        return self.diff.added

    @property
    def changed(self) -> tuple[str, ...]:
        return self.diff.changed

    @property
    def removed(self) -> tuple[str, ...]:
        return self.diff.removed

    @property
    def unchanged(self) -> int:
        return len(self.diff.unchanged)

    @property
    def now_indexed(self) -> tuple[str, ...]:
        """Unchanged files the last build skipped and this one indexed: a copy whose original
        was removed, say. Counted unchanged, as files, yet new to the index (adversarial testing)."""
        skipped = {item.source for item in self.skipped}
        return tuple(source for source in sorted(self.diff.skipped) if source not in skipped)

    def summary(self) -> str:
        if self.rebuilt:
            first = (f"Indexed {self.guides} guide(s), {self.sections} section(s), {self.chunks} chunk(s) "
                     f"in {self.seconds:.1f} s into {self.folder}.")
        else:
            first = (f"The index in {self.folder} is up to date with {self.guides} guide(s), "
                     f"{self.sections} section(s), {self.chunks} chunk(s); nothing was rebuilt.")
        lines = [first,
                 f"Guide files: {len(self.added)} added, {len(self.changed)} changed, "
                 f"{len(self.removed)} removed, {self.unchanged} unchanged since the last build"
                 + (f"; {len(self.skipped)} of them not indexed (below)." if self.skipped else "."),
                 f"Chunks: {self.embedded} embedded, {self.reused} reused from earlier builds."]
        lines += [f"Settings: {change}." for change in self.diff.settings]
        if self.now_indexed:
            lines.append(f"Indexed now, skipped by the last build: {display_names(self.now_indexed)}.")
        if self.embedded == 0:
            lines.append("Nothing new to embed.")
        lines += [f"Skipped {display_name(item.source)}: {item.reason}" for item in self.skipped]
        files = [name for name in self.not_guides if not name.endswith("/")]
        folders = [name for name in self.not_guides if name.endswith("/")]
        if files:
            lines.append(f"Not read, not .txt, .md or .markdown: {display_names(files)}.")
        if folders:
            lines.append(f"Not entered, folders that are links: {display_names(folders)} (put the guides "
                         "themselves in the corpus folder).")
        return "\n".join(lines)


@contextmanager
def build_lock(index_dir: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the index folder's build lock; the kernel releases it if the process dies.

    Raises:
        BuildLockedError: another build still holds it after wait_seconds.
    """
    lock = filelock.FileLock(index_dir / LOCK_NAME, timeout=max(wait_seconds, 0.0))
    holder = index_dir / HOLDER_NAME
    check_index_folder(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire(poll_interval=0.2)
    except filelock.Timeout as exc:     # before OSError: Timeout is a TimeoutError
        who = _read_holder(holder)
        waited = f"; waited {wait_seconds:g} s for it" if wait_seconds > 0 else ", or run again with --wait SECONDS"
        raise BuildLockedError(f"Another build of {index_dir} is running ({who}). Wait for it to "
                               f"finish{waited}.") from exc
    except OSError as exc:
        raise IndexFolderError(write_failure(index_dir, exc)) from exc
    try:
        holder.write_text(f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n",
                          encoding="utf-8")
        yield
    finally:
        lock.release()


def _read_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "another process"
    except OSError:
        return "another process"


def build_index(settings: Settings, encoder: TextEncoder, show_progress: bool = False,
                wait_seconds: float = 0.0, log: Callable[[str], None] = lambda _: None) -> BuildReport:
    """Read the corpus, chunk and embed what is new, and swap in a new index.

    Guides whose content is unchanged keep their chunks, and text already embedded keeps its
    vector (also text of guides removed in recent builds); when nothing at all has changed and
    the current index loads, nothing is written.

    Raises:
        CorpusError: the corpus folder is missing, empty, or no guide in it could be indexed.
        BuildLockedError: another build is running.
    """
    started, started_ns = time.perf_counter(), time.time_ns()
    with build_lock(settings.index_dir, wait_seconds):
        shape = IndexShape.of(settings, encoder.max_tokens, encoder.precision)
        # Said only of a size someone chose: the default is capped silently for a model that reads less.
        if settings.max_tokens not in (None, DEFAULT_MAX_TOKENS) and settings.max_tokens > encoder.max_tokens:
            log(f"max_tokens={settings.max_tokens} is above what {encoder.name} reads; "
                f"chunks are cut to {encoder.max_tokens} tokens.")
        previous = _previous_index(settings, encoder)
        manifest_before = previous.manifest if previous else _readable_manifest(settings)
        before = diff_since(manifest_before, settings, shape)     # what --check would say now
        corpus = str(corpus_root(settings.corpus_dir))
        # The same guides in another folder: built again (every vector reused) to record where from.
        if previous is not None and before.fresh and previous.manifest.corpus == corpus:
            return replace(_unchanged_report(previous, before, time.perf_counter() - started),
                           not_guides=tuple(list_other_files(settings.corpus_dir)))
        indexed = {source: stamp.sha256 for source, stamp in manifest_before.files.items()
                   if source not in manifest_before.skipped} if manifest_before else {}
        scan = read_corpus(settings.corpus_dir, settings.max_file_bytes, indexed)
        log(f"Read {len(scan.guides)} guide(s) with {len(scan.sections)} section(s).")
        chunks, scan = _chunk_with_cache(scan, encoder, shape.max_tokens, previous)
        if not scan.guides:
            raise CorpusError(f"No guide in {settings.corpus_dir} could be indexed ({_reasons(scan.skipped)}). "
                              "Fix or replace these files and build again.")
        same = previous if _same_vectors(previous, encoder) else None
        vectors, reused, retired = _embed_with_cache(chunks, encoder, same, settings.batch_size,
                                                     show_progress, log)
        texts = [chunk.embed_text for chunk in chunks]
        lexical = LexicalIndex.build(texts)
        vocabulary = Vocabulary.build(texts, encoder, settings.batch_size, same.vocabulary if same else None)
        manifest = replace(_manifest(shape, encoder, scan, chunks, started, started_ns), corpus=corpus)
        folder = write_build(settings.index_dir, manifest, chunks, vectors, lexical, vocabulary, retired)
    return BuildReport(folder, len(scan.guides), len(scan.sections), len(chunks), len(chunks) - reused,
                       reused, manifest.build_seconds, before, scan.skipped, not_guides=scan.not_guides)


def _reasons(skipped: tuple[SkippedFile, ...], shown: int = 3) -> str:
    """The first few skip reasons, in one line of bounded length."""
    text = "; ".join(f"{display_name(item.source)}: {item.reason}" for item in skipped[:shown])
    return text + (f"; and {len(skipped) - shown} more" if len(skipped) > shown else "")


def _readable_manifest(settings: Settings) -> Manifest | None:
    """The current manifest when it can be read (for the report of what changed)."""
    try:
        return read_manifest(settings.index_dir)
    except GuideSearchError:
        return None


def _unchanged_report(previous: StoredIndex, diff: IndexDiff, seconds: float) -> BuildReport:
    counts = previous.manifest.counts
    skipped = tuple(SkippedFile(source, reason) for source, reason in previous.manifest.skipped.items())
    return BuildReport(previous.folder, counts["guides"], counts["sections"], counts["chunks"], 0,
                       counts["chunks"], seconds, diff, skipped, rebuilt=False)


def _chunk_with_cache(scan: CorpusScan, encoder: TextEncoder, max_tokens: int,
                      previous: StoredIndex | None) -> tuple[list[Chunk], CorpusScan]:
    """Chunks of every guide, and the scan with guides that cannot be chunked moved to skipped.

    A guide whose bytes and chunking are unchanged keeps its old chunks (counting tokens is
    most of a rebuild's time).
    """
    old = _old_chunks(previous, max_tokens)
    files = previous.manifest.files if previous else {}
    chunks: list[Chunk] = []
    guides: list[Guide] = []
    skipped = list(scan.skipped)
    for guide in scan.guides:
        if guide.source in old and guide.source in files and files[guide.source].sha256 == guide.sha256:
            chunks.extend(old[guide.source])
            guides.append(guide)
            continue
        try:
            chunks.extend(chunk_sections(guide.sections, encoder, max_tokens))
            guides.append(guide)
        except GuideSearchError as exc:
            skipped.append(SkippedFile(guide.source, f"cannot be chunked: {exc}", guide.stamp))
        except Exception as exc:  # noqa: BLE001 -- no single guide can fail the build
            skipped.append(SkippedFile(guide.source, f"cannot be chunked ({type(exc).__name__}: {exc}); "
                                                     "this is a bug in Guide Search, please report it",
                                       guide.stamp))
    return chunks, CorpusScan(tuple(guides), tuple(sorted(skipped, key=lambda s: s.source)), scan.not_guides)


def _old_chunks(previous: StoredIndex | None, max_tokens: int) -> dict[str, list[Chunk]]:
    """The previous build's chunks by guide, when they were cut the way this build cuts."""
    old: dict[str, list[Chunk]] = {}
    if previous is not None and previous.manifest.shape.max_tokens == max_tokens \
            and previous.manifest.shape.chunker_version == CHUNKER_VERSION:
        for chunk in previous.chunks:
            old.setdefault(chunk.source, []).append(chunk)
    return old


def _previous_index(settings: Settings, encoder: TextEncoder) -> StoredIndex | None:
    """The current build, when its chunks can be reused (same model); otherwise None (a full
    build). Its vectors are reused only when their precision is this encoder's (_same_vectors)."""
    try:
        manifest = read_manifest(settings.index_dir)
        if manifest is None or manifest.shape.model_name != encoder.name \
                or manifest.dimension != encoder.dimension:
            return None
        return load_index(settings.index_dir, None)
    except Exception:  # noqa: BLE001 -- a damaged old index of any kind is replaced, never reused
        return None


def _same_vectors(previous: StoredIndex | None, encoder: TextEncoder) -> bool:
    """Vectors of another precision are not mixed into a build: a change of backend that
    changes the precision re-embeds everything (the chunks are still reused)."""
    return previous is not None and previous.manifest.shape.precision == encoder.precision


def embed_key(chunk: Chunk) -> str:
    return hashlib.sha256(chunk.embed_text.encode("utf-8")).hexdigest()


def _embed_with_cache(chunks: list[Chunk], encoder: TextEncoder, previous: StoredIndex | None,
                      batch_size: int, show_progress: bool,
                      log: Callable[[str], None]) -> tuple[np.ndarray, int, RetiredVectors]:
    """Vectors for all chunks, reusing those whose embedded text is already known, and the
    vectors that leave the index, kept for a later build."""
    known = _known_vectors(previous)
    keys = [embed_key(chunk) for chunk in chunks]
    todo = [i for i, key in enumerate(keys) if key not in known]
    vectors = np.zeros((len(chunks), encoder.dimension), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in known:
            vectors[i] = known[key]
    log(f"Embedding {len(todo)} chunk(s), reusing {len(chunks) - len(todo)}.")
    if todo:
        # Identical texts (a passage repeated across sections or guides) are embedded once.
        unique = {keys[i]: i for i in todo}
        encoded = encoder.encode([chunks[i].embed_text for i in unique.values()], batch_size, show_progress)
        row_of = {key: n for n, key in enumerate(unique)}
        vectors[todo] = encoded[[row_of[keys[i]] for i in todo]]
    # Every vector leaving this build is kept: deleting a guide bigger than MIN_RETIRED chunks,
    # then restoring it, re-embedded what did not fit (found by adversarial testing).
    limit = max(MIN_RETIRED, len(chunks), len(previous.chunks) if previous is not None else 0)
    return vectors, len(chunks) - len(todo), _retire(known, set(keys), encoder.dimension, limit)


def _known_vectors(previous: StoredIndex | None) -> dict[str, np.ndarray]:
    """Embed key -> vector for every chunk of the previous build and every vector it retired,
    the newest first (dicts keep insertion order)."""
    if previous is None:
        return {}
    known = {embed_key(chunk): previous.vectors[row] for row, chunk in enumerate(previous.chunks)}
    retired = RetiredVectors.load(previous.folder, previous.manifest.dimension)
    for key, vector in zip(retired.keys, retired.vectors):
        known.setdefault(key, vector)
    return known


def _retire(known: dict[str, np.ndarray], kept: set[str], dimension: int, limit: int) -> RetiredVectors:
    keys = [key for key in known if key not in kept][:limit]
    vectors = np.array([known[key] for key in keys], np.float32).reshape(len(keys), dimension)
    return RetiredVectors(keys, vectors)


def _manifest(shape: IndexShape, encoder: TextEncoder, scan: CorpusScan, chunks: list[Chunk],
              started: float, started_ns: int) -> Manifest:
    """The manifest describes exactly the bytes that were read and indexed: the stamps taken
    when each file was read, never a second look that could see a later edit."""
    files = {guide.source: guide.stamp for guide in scan.guides}
    files.update({item.source: item.stamp or FileStamp(UNREADABLE, -1, -1) for item in scan.skipped})
    return Manifest(
        shape=shape, dimension=encoder.dimension, model_max_tokens=encoder.max_tokens, files=files,
        skipped={item.source: item.reason for item in scan.skipped},
        counts={"guides": len(scan.guides), "sections": len(scan.sections), "chunks": len(chunks)},
        built_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        build_seconds=round(time.perf_counter() - started, 3),
        versions={**_versions(), "passage backend": encoder.backend}, started_ns=started_ns)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    found = {"guidesearch": __version__, "python": platform.python_version()}
    for package in ("sentence-transformers", "faiss-cpu", "bm25s", "torch", "onnxruntime", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
