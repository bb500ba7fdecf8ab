"""Is the index up to date? One comparison of a manifest with a corpus scan.

`diff_index` is the only place that decides what was added, changed, removed or skipped and which
settings changed: `build_index.py --check`, the page's banner and the build report all use it, so
they can never disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from guidesearch.config import Settings
from guidesearch.errors import GuideSearchError
from guidesearch.ingest import corpus_folder_problem, corpus_root, list_guide_files, read_file
from guidesearch.records import UNREADABLE, FileStamp, display_name, display_names
from guidesearch.backends import passage_backend
from guidesearch.store import (REBUILD, IndexShape, Manifest, check_index_folder, current_build, damage, manifest_of,
                               read_manifest)



@dataclass(frozen=True)
class IndexDiff:
    """How the corpus and settings differ from what the index was built from."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)   # unchanged files skipped, with why
    settings: tuple[str, ...] = ()       # settings that shape the index and changed
    missing: bool = False                # no index at all
    problem: str = ""                    # the index or the corpus cannot be read: why
    corpus_missing: bool = False         # the problem is the corpus folder: a rebuild cannot help

    @property
    def no_guides_left(self) -> bool:
        """Every guide the index holds is gone and none came: a rebuild could only fail."""
        return bool(self.removed) and not (self.added or self.changed or self.unchanged)

    @property
    def fresh(self) -> bool:
        return not (self.added or self.changed or self.removed or self.settings or self.missing
                    or self.problem)

    def stale_note(self) -> str:
        """One line saying the guides changed after the index was built (settings aside), or ""
        (also when no guide is left: there is nothing to rebuild from)."""
        changes = [f"{len(names)} {label}" for label, names in
                   (("added", self.added), ("changed", self.changed), ("removed", self.removed)) if names]
        if not changes or self.problem or self.no_guides_left:
            return ""
        return (f"the guides changed ({', '.join(changes)} guide file(s)) after this index was built, so these "
                "answers may be out of date.")

    def describe(self) -> str:
        """What differs, one line each, in words a maintainer can act on."""
        if self.missing:
            return "No index has been built yet."
        if self.problem:
            return self.problem
        lines = [f"A setting that shapes the index changed: {change}." for change in self.settings]
        for label, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                lines.append(f"{len(names)} guide file(s) {label} since the build: {display_names(names)}")
        if not lines:
            lines.append("The index is up to date.")
        if self.no_guides_left:
            lines.append("The corpus folder holds no guide now: put guides in it before rebuilding (until then "
                         "the index answers from the guides it holds).")
        lines += [f"Skipped {display_name(source)}: {reason}" for source, reason in sorted(self.skipped.items())]
        return "\n".join(lines)


def diff_index(manifest: Manifest, stamps: dict[str, FileStamp], shape: IndexShape) -> IndexDiff:
    """Compare what an index was built from with the corpus files seen now and the settings.

    Args:
        manifest: the current build's manifest.
        stamps: every guide file of the corpus now, by source (see scan_stamps).
        shape: what the current settings would build.
    """
    built = manifest.files
    added = sorted(source for source in stamps if source not in built)
    changed = sorted(source for source in stamps
                     if source in built and stamps[source].sha256 != built[source].sha256)
    removed = sorted(source for source in built if source not in stamps)
    unchanged = sorted(set(stamps) - set(added) - set(changed))
    skipped = {source: manifest.skipped[source] for source in unchanged if source in manifest.skipped}
    return IndexDiff(tuple(added), tuple(changed), tuple(removed), tuple(unchanged), skipped,
                     shape.changes_from(manifest.shape))


# A file whose time is this close to (or after) the start of the build that read it may have
# been edited again within one tick of a coarse file-system clock: its hash is checked each time
# (git does the same for "racily clean" files).
RACY_NS = 2_000_000_000


def stamp_file(path: Path, max_file_bytes: int, known: FileStamp | None = None,
               corpus_root: Path | None = None, trusted_before_ns: int | None = None) -> FileStamp:
    """A file's stamp as a build would record it, hashing only what size and time cannot vouch for.

    Args:
        known: the stamp the build recorded; reused when size and time still match.
        trusted_before_ns: known stamps with a time at or after this are hashed again.
    """
    if known is not None and known.sha256 != UNREADABLE and \
            (trusted_before_ns is None or known.mtime_ns < trusted_before_ns):
        try:
            info = os.stat(path)
        except OSError:
            info = None
        if info is not None and (known.size, known.mtime_ns) == (info.st_size, info.st_mtime_ns):
            return known
    return read_file(path, max_file_bytes, corpus_root).stamp


def scan_stamps(corpus_dir: Path, max_file_bytes: int, known: dict[str, FileStamp] | None = None,
                trusted_before_ns: int | None = None) -> dict[str, FileStamp]:
    """Stamps of every guide file in the corpus; cheap when little changed."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        return {}
    known = known or {}
    root = corpus_root(corpus_dir)
    return {source: stamp_file(path, max_file_bytes, known.get(source), root, trusted_before_ns)
            for source, path in ((p.relative_to(corpus_dir).as_posix(), p) for p in list_guide_files(corpus_dir))}


def diff_since(manifest: Manifest | None, settings: Settings, shape: IndexShape) -> IndexDiff:
    """The corpus and settings now against a build (None: nothing built, every guide is added;
    no file is read for that), trusting its stamps where size and time vouch for them."""
    corpus_dir = Path(settings.corpus_dir)
    if manifest is None:
        sources = (p.relative_to(corpus_dir).as_posix() for p in list_guide_files(corpus_dir)) \
            if corpus_dir.is_dir() else ()
        return IndexDiff(added=tuple(sorted(sources)), missing=True)
    stamps = scan_stamps(corpus_dir, settings.max_file_bytes, manifest.files, manifest.started_ns - RACY_NS)
    return diff_index(manifest, stamps, shape)


def check_freshness(settings: Settings) -> IndexDiff:
    """The difference between the index in settings.index_dir and the corpus and settings now.

    Cheap enough to run on every question: files whose size and time match the manifest are
    not read. Never raises for a damaged index: the difference then says what is wrong.
    """
    problem = corpus_folder_problem(Path(settings.corpus_dir))
    if problem:
        return IndexDiff(corpus_missing=True, problem=problem)
    try:
        check_index_folder(settings.index_dir)      # a file, or a build folder: no index to compare
    except GuideSearchError as exc:
        return IndexDiff(problem=str(exc))
    try:
        folder = current_build(settings.index_dir)
        manifest = manifest_of(folder) if folder is not None else None
    except GuideSearchError as exc:
        return IndexDiff(problem=str(exc))
    if manifest is None:
        return diff_since(None, settings, IndexShape.of(settings, 0, passage_backend(settings).precision))
    damaged = damage(folder, manifest)
    if damaged:
        return IndexDiff(problem=f"The index in {folder} is damaged: {damaged}. {REBUILD}")
    return diff_since(manifest, settings, _shape(settings, manifest))


def _shape(settings: Settings, manifest: Manifest) -> IndexShape:
    """The shape these settings would build, without loading the model: its maximum sequence
    length is the manifest's when the model is the same."""
    shape = IndexShape.of(settings, manifest.model_max_tokens, passage_backend(settings).precision)
    if settings.model_name != manifest.shape.model_name:
        # Another model's maximum is unknown until it is loaded: report the model change alone.
        shape = replace(shape, max_tokens=manifest.shape.max_tokens)
    return shape


def with_recorded_corpus(settings: Settings) -> Settings:
    """The settings with the corpus the index was built from (recorded_corpus) when they name no
    corpus: every command and the page then compare the index with, and rebuild it from, the
    guides it holds rather than the default corpus folder (found by adversarial testing: the
    API's /index listed every guide as added and removed while /health and search said nothing).
    Unchanged when a corpus is named, or nothing usable is recorded."""
    recorded = None if settings.corpus_named else recorded_corpus(settings.index_dir)
    return settings.with_(corpus_dir=recorded) if recorded else settings


def recorded_corpus(index_dir: Path) -> Path | None:
    """The corpus folder the index's manifest records it was built from, while that folder is
    there (a project moved, or an index copied from another machine, records a folder that is
    gone: then the default stands); None when nothing is built or recorded."""
    try:
        manifest = read_manifest(index_dir)
    except GuideSearchError:
        return None
    folder = Path(manifest.corpus) if manifest and manifest.corpus else None
    return folder if folder is not None and folder.is_dir() else None


def stale_note(settings: Settings, corpus_named: bool = True) -> str:
    """One line saying the guides changed after the index was built, or "": for a corpus named,
    only when it is the one the index was built from, which its manifest records (an index built
    from another folder is no stale copy of it). With none named, the corpus settings hold is
    compared as /index and --check compare it, the default folder when the recorded one is gone
    (found by adversarial testing: /health said nothing while /index listed a guide removed).
    Before manifests recorded the corpus, only when the caller knows it (corpus_named: False for
    an index named without its corpus). Settings are not compared: a search may choose its own
    backend."""
    try:
        manifest = read_manifest(settings.index_dir)
    except GuideSearchError:
        return ""
    built_from = manifest.corpus if manifest else ""
    if settings.corpus_named and built_from and built_from != str(corpus_root(settings.corpus_dir)):
        return ""
    if not built_from and not corpus_named:
        return ""
    return check_freshness(settings).stale_note()
