"""Is the index up to date? One comparison of a manifest with a corpus scan.

`diff_index` is the only place that decides what was added, changed, removed or skipped and which
settings changed: `build_index.py --check`, the page's banner and the build report all use it, so
they can never disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from guidesearch.config import Settings
from guidesearch.errors import GuideSearchError
from guidesearch.ingest import list_guide_files
from guidesearch.records import FileStamp
from guidesearch.store import IndexShape, Manifest, read_manifest

UNREADABLE = "unreadable"       # the hash of a file that could not be read
NOT_READ = ""                   # the hash of a file above the size limit: never read


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
    problem: str = ""                    # the index cannot be read: why

    @property
    def fresh(self) -> bool:
        return not (self.added or self.changed or self.removed or self.settings or self.missing
                    or self.problem)

    def describe(self) -> str:
        """What differs, one line each, in words a maintainer can act on."""
        if self.missing:
            return "No index has been built yet."
        if self.problem:
            return self.problem
        lines = [f"A setting that shapes the index changed: {change}." for change in self.settings]
        for label, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                lines.append(f"{len(names)} guide file(s) {label} since the build: {shown}")
        if not lines:
            lines.append("The index is up to date.")
        lines += [f"Skipped {source}: {reason}" for source, reason in sorted(self.skipped.items())]
        return "\n".join(lines)


def diff_index(manifest: Manifest | None, stamps: dict[str, FileStamp], shape: IndexShape) -> IndexDiff:
    """Compare what an index was built from with the corpus files seen now and the settings.

    Args:
        manifest: the current build's manifest, or None when there is none.
        stamps: every guide file of the corpus now, by source (see scan_stamps).
        shape: what the current settings would build.
    """
    if manifest is None:
        return IndexDiff(added=tuple(sorted(stamps)), missing=True)
    built = manifest.files
    added = sorted(source for source in stamps if source not in built)
    changed = sorted(source for source in stamps
                     if source in built and stamps[source].sha256 != built[source].sha256)
    removed = sorted(source for source in built if source not in stamps)
    unchanged = sorted(set(stamps) - set(added) - set(changed))
    skipped = {source: manifest.skipped[source] for source in unchanged if source in manifest.skipped}
    return IndexDiff(tuple(added), tuple(changed), tuple(removed), tuple(unchanged), skipped,
                     shape.changes_from(manifest.shape))


def stamp_file(path: Path, max_file_bytes: int, known: FileStamp | None = None) -> FileStamp:
    """A file's stamp as a build would record it, hashing only what size and time cannot vouch for.

    A file above the size limit is not read (its hash is NOT_READ, as in the build); one that
    cannot be read has the hash UNREADABLE and is tried again every time.
    """
    try:
        info = path.stat()
    except OSError:
        return FileStamp(UNREADABLE, -1, -1)
    if known is not None and known.sha256 != UNREADABLE and \
            (known.size, known.mtime_ns) == (info.st_size, info.st_mtime_ns):
        return known
    if info.st_size > max_file_bytes:
        return FileStamp(NOT_READ, info.st_size, info.st_mtime_ns)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = UNREADABLE
    return FileStamp(digest, info.st_size, info.st_mtime_ns)


def scan_stamps(corpus_dir: Path, max_file_bytes: int,
                known: dict[str, FileStamp] | None = None) -> dict[str, FileStamp]:
    """Stamps of every guide file in the corpus; cheap when little changed."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        return {}
    known = known or {}
    stamps = {}
    for path in list_guide_files(corpus_dir):
        source = path.relative_to(corpus_dir).as_posix()
        stamps[source] = stamp_file(path, max_file_bytes, known.get(source))
    return stamps


def check_freshness(settings: Settings) -> IndexDiff:
    """The difference between the index in settings.index_dir and the corpus and settings now.

    Cheap enough to run on every question: files whose size and time match the manifest are
    not read. Never raises for a damaged index: the difference then says what is wrong.
    """
    if not Path(settings.corpus_dir).is_dir():
        return IndexDiff(problem=f"The corpus folder {settings.corpus_dir} does not exist. Create it "
                                 "and put guides in it, or point GUIDESEARCH_CORPUS / --corpus at them.")
    try:
        manifest = read_manifest(settings.index_dir)
    except GuideSearchError as exc:
        return IndexDiff(problem=str(exc))
    if manifest is None:
        return IndexDiff(added=tuple(sorted(scan_stamps(settings.corpus_dir, settings.max_file_bytes))),
                         missing=True)
    stamps = scan_stamps(settings.corpus_dir, settings.max_file_bytes, manifest.files)
    return diff_index(manifest, stamps, _shape(settings, manifest))


def _shape(settings: Settings, manifest: Manifest) -> IndexShape:
    """The shape these settings would build, without loading the model: its maximum sequence
    length is the manifest's when the model is the same."""
    shape = IndexShape.of(settings, manifest.model_max_tokens)
    if settings.model_name != manifest.shape.model_name:
        # Another model's maximum is unknown until it is loaded: report the model change alone.
        shape = replace(shape, max_tokens=manifest.shape.max_tokens)
    return shape
