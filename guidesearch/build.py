"""The whole build: corpus to sections to chunks to vectors to a new index, one build at a time.

Embeddings are reused from the current build when the model and the exact embedded text are
the same, so a rebuild embeds only new or edited text.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from guidesearch import __version__, store
from guidesearch.chunk import chunk_sections
from guidesearch.config import Settings
from guidesearch.embed import TextEncoder
from guidesearch.errors import BuildLockedError, CorpusError, GuideSearchError
from guidesearch.ingest import CorpusScan, read_corpus
from guidesearch.lexical import LexicalIndex, Vocabulary, stemmer_name
from guidesearch.records import Chunk, SkippedFile
from guidesearch.store import (FileStamp, Manifest, StoredIndex, check_freshness, load_index,
                               read_manifest, stamp_file, write_build)

LOCK_NAME = ".build.lock"


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
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    skipped: tuple[SkippedFile, ...]
    rebuilt: bool = True        # False: the index was already up to date and was left as it is

    def summary(self) -> str:
        if self.rebuilt:
            first = (f"Indexed {self.guides} guide(s), {self.sections} section(s), {self.chunks} chunk(s) "
                     f"in {self.seconds:.1f} s into {self.folder}.")
        else:
            first = (f"The index in {self.folder} is up to date with {self.guides} guide(s), "
                     f"{self.sections} section(s), {self.chunks} chunk(s); nothing was rebuilt.")
        lines = [first,
                 f"Guides: {len(self.added)} added, {len(self.changed)} changed, "
                 f"{len(self.removed)} removed, {self.unchanged} unchanged.",
                 f"Chunks: {self.embedded} embedded, {self.reused} reused from the previous build."]
        if self.embedded == 0:
            lines.append("Nothing new to embed.")
        lines += [f"Skipped {item.source}: {item.reason}" for item in self.skipped]
        return "\n".join(lines)


@contextmanager
def build_lock(index_dir: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the index folder's build lock; the kernel releases it if the process dies.

    Raises:
        BuildLockedError: another build still holds it after wait_seconds.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_NAME
    handle = open(path, "a+", encoding="utf-8")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise BuildLockedError(
                        f"Another build of {index_dir} is running ({holder}). Wait for it to finish, "
                        "or run again with --wait SECONDS.") from exc
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        yield
    finally:
        handle.close()


def build_index(settings: Settings, encoder: TextEncoder, show_progress: bool = False,
                wait_seconds: float = 0.0, log: Callable[[str], None] = lambda _: None) -> BuildReport:
    """Read the corpus, chunk and embed what is new, and swap in a new index.

    Guides whose content is unchanged keep their chunks, and text already embedded keeps its
    vector; when nothing at all has changed and the current index loads, nothing is written.

    Raises:
        CorpusError: the corpus folder is missing, empty, or no guide in it could be read.
        BuildLockedError: another build is running.
    """
    started = time.perf_counter()
    with build_lock(settings.index_dir, wait_seconds):
        previous = _previous_index(settings, encoder.name)
        if previous is not None and _is_fresh(settings, encoder):
            return _unchanged_report(previous, time.perf_counter() - started)
        scan = read_corpus(settings.corpus_dir, settings.max_file_bytes)
        if not scan.guides:
            reasons = "; ".join(f"{s.source}: {s.reason}" for s in scan.skipped)
            raise CorpusError(f"No guide in {settings.corpus_dir} could be indexed ({reasons}). "
                              "Fix or replace these files and build again.")
        max_tokens = min(settings.max_tokens or encoder.max_tokens, encoder.max_tokens)
        log(f"Read {len(scan.guides)} guide(s) with {len(scan.sections)} section(s).")
        chunks = _chunk_with_cache(scan, encoder, max_tokens, previous)
        vectors, reused = _embed_with_cache(chunks, encoder, previous, settings.batch_size, show_progress, log)
        texts = [chunk.embed_text for chunk in chunks]
        lexical = LexicalIndex.build(texts)
        vocabulary = Vocabulary.build(texts, encoder, settings.batch_size,
                                      previous.vocabulary if previous else None)
        manifest = _manifest(settings, encoder, max_tokens, scan, chunks, started)
        folder = write_build(settings.index_dir, manifest, chunks, vectors, lexical, vocabulary)
    old_files = previous.manifest.files if previous else {}
    return _report(folder, scan, chunks, reused, old_files, manifest.build_seconds)


def _is_fresh(settings: Settings, encoder: TextEncoder) -> bool:
    return check_freshness(settings.index_dir, settings.corpus_dir, encoder.name, settings.max_tokens).fresh


def _unchanged_report(previous: StoredIndex, seconds: float) -> BuildReport:
    counts = previous.manifest.counts
    skipped = tuple(SkippedFile(source, reason) for source, reason in previous.manifest.skipped.items())
    return BuildReport(previous.folder, counts["guides"], counts["sections"], counts["chunks"], 0,
                       counts["chunks"], seconds, (), (), (), counts["guides"], skipped, rebuilt=False)


def _chunk_with_cache(scan: CorpusScan, encoder: TextEncoder, max_tokens: int,
                      previous: StoredIndex | None) -> list[Chunk]:
    """Chunks of every guide; a guide whose bytes and chunking are unchanged keeps its old ones
    (counting tokens is most of a rebuild's time)."""
    old: dict[str, list[Chunk]] = {}
    if previous is not None and previous.manifest.max_tokens == max_tokens \
            and previous.manifest.chunker_version == store.CHUNKER_VERSION:
        for chunk in previous.chunks:
            old.setdefault(chunk.source, []).append(chunk)
    files = previous.manifest.files if previous else {}
    fresh = [g for g in scan.guides
             if not (g.source in old and g.source in files and files[g.source].sha256 == g.sha256)]
    new: dict[str, list[Chunk]] = {}
    for chunk in chunk_sections([s for g in fresh for s in g.sections], encoder, max_tokens):
        new.setdefault(chunk.source, []).append(chunk)
    return [chunk for g in scan.guides for chunk in new.get(g.source) or old[g.source]]


def _previous_index(settings: Settings, model_name: str) -> StoredIndex | None:
    """The current build, when its vectors can be reused; otherwise None (a full build)."""
    try:
        manifest = read_manifest(settings.index_dir)
        if manifest is None or manifest.model_name != model_name:
            return None
        return load_index(settings.index_dir, model_name, None, check_settings=False)
    except GuideSearchError:
        return None   # an unreadable old index is replaced, not reused


def embed_key(chunk: Chunk) -> str:
    return hashlib.sha256(chunk.embed_text.encode("utf-8")).hexdigest()


def _embed_with_cache(chunks: list[Chunk], encoder: TextEncoder, previous: StoredIndex | None,
                      batch_size: int, show_progress: bool, log: Callable[[str], None]) -> tuple[np.ndarray, int]:
    """Vectors for all chunks; those whose embedded text is unchanged come from the old build."""
    cached: dict[str, int] = {}
    if previous is not None and previous.vectors.shape[1] == encoder.dimension:
        cached = {embed_key(chunk): row for row, chunk in enumerate(previous.chunks)}
    keys = [embed_key(chunk) for chunk in chunks]
    todo = [i for i, key in enumerate(keys) if key not in cached]
    vectors = np.zeros((len(chunks), encoder.dimension), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in cached:
            vectors[i] = previous.vectors[cached[key]]
    log(f"Embedding {len(todo)} chunk(s), reusing {len(chunks) - len(todo)}.")
    if todo:
        vectors[todo] = encoder.encode([chunks[i].embed_text for i in todo], batch_size, show_progress)
    return vectors, len(chunks) - len(todo)


def _manifest(settings: Settings, encoder: TextEncoder, max_tokens: int, scan: CorpusScan,
              chunks: list[Chunk], started: float) -> Manifest:
    files: dict[str, FileStamp] = {}
    for source in [guide.source for guide in scan.guides] + [item.source for item in scan.skipped]:
        try:
            files[source] = stamp_file(settings.corpus_dir / source)
        except OSError:
            continue   # a dangling link or a file gone since the scan
    return Manifest(
        model_name=encoder.name, dimension=encoder.dimension, max_tokens=max_tokens,
        stemmer=stemmer_name(), files=files, chunker_version=store.CHUNKER_VERSION,
        skipped={item.source: item.reason for item in scan.skipped},
        counts={"guides": len(scan.guides), "sections": len(scan.sections), "chunks": len(chunks)},
        built_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        build_seconds=round(time.perf_counter() - started, 3),
        versions=_versions())


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version
    found = {"guidesearch": __version__, "python": platform.python_version()}
    for package in ("sentence-transformers", "faiss-cpu", "bm25s", "torch", "numpy"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _report(folder: Path, scan: CorpusScan, chunks: list[Chunk], reused: int,
            old_files: dict[str, FileStamp], seconds: float) -> BuildReport:
    new = {guide.source: guide.sha256 for guide in scan.guides}
    added = tuple(sorted(s for s in new if s not in old_files))
    changed = tuple(sorted(s for s in new if s in old_files and old_files[s].sha256 != new[s]))
    removed = tuple(sorted(s for s in old_files if s not in new and s not in
                           {item.source for item in scan.skipped}))
    return BuildReport(folder, len(scan.guides), len(scan.sections), len(chunks),
                       len(chunks) - reused, reused, seconds, added, changed, removed,
                       len(new) - len(added) - len(changed), scan.skipped)
