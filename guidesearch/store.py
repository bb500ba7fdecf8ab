"""The index on disk: FAISS vectors, chunk records, BM25, manifest (save / load / is it fresh?).

Layout of the index folder:
    CURRENT             name of the build folder in use, replaced atomically by a finished build
    build-<stamp>/      vectors.faiss, chunks.jsonl, bm25/, manifest.json
A build writes a new folder and only then points CURRENT at it, so an interrupted build leaves
the previous index in use. Records are JSON, never pickle.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from guidesearch.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from guidesearch.ingest import list_guide_files
from guidesearch.lexical import LexicalIndex, Vocabulary
from guidesearch.records import Chunk

FORMAT_VERSION = 1
CHUNKER_VERSION = 3     # bump when chunk.py or ingest.py change what chunks they produce
REBUILD = "Rebuild it with: python build_index.py"


@dataclass(frozen=True)
class FileStamp:
    """What the build saw of one corpus file: cheap fields first, the hash to be sure."""

    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Manifest:
    model_name: str
    dimension: int
    max_tokens: int
    stemmer: str
    files: dict[str, FileStamp]
    skipped: dict[str, str]
    counts: dict[str, int]
    built_at: str
    build_seconds: float
    versions: dict[str, str]
    chunker_version: int = CHUNKER_VERSION
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        data["files"] = {name: FileStamp(**stamp) for name, stamp in data["files"].items()}
        return cls(**data)


@dataclass
class StoredIndex:
    """A loaded index: chunk i is row i of the vectors and document i of the BM25 index."""

    folder: Path
    manifest: Manifest
    chunks: list[Chunk]
    dense: object               # faiss.Index (inner product over unit vectors)
    lexical: LexicalIndex
    vocabulary: Vocabulary
    vectors: np.ndarray = field(repr=False)


def current_build(index_dir: Path) -> Path | None:
    """The build folder CURRENT points at, or None when nothing has been built."""
    pointer = Path(index_dir) / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"Cannot read {pointer} ({exc}). {REBUILD}") from exc
    folder = Path(index_dir) / name
    if not name.startswith("build-") or "/" in name or not folder.is_dir():
        raise IndexCorruptError(f"{pointer} names {name!r}, which is not a build folder. {REBUILD}")
    return folder


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of the current build, or None when nothing has been built."""
    folder = current_build(index_dir)
    if folder is None:
        return None
    try:
        return Manifest.from_json((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(f"The manifest in {folder} is unreadable ({exc}). {REBUILD}") from exc


def write_build(index_dir: Path, manifest: Manifest, chunks: list[Chunk], vectors: np.ndarray,
                lexical: LexicalIndex, vocabulary: Vocabulary) -> Path:
    """Write a complete build beside the current one, then switch CURRENT to it atomically."""
    import faiss
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=index_dir))
    dense = faiss.IndexFlatIP(manifest.dimension)
    dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(dense, str(staging / "vectors.faiss"))
    with open(staging / "chunks.jsonl", "w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(json.dumps(asdict(chunk), ensure_ascii=False) + "\n")
    lexical.save(staging / "bm25")
    vocabulary.save(staging)
    # The manifest is written last: a folder with a manifest is a complete build.
    (staging / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    _fsync_tree(staging)
    final = index_dir / f"build-{manifest.built_at.replace(':', '').replace('-', '')}-{os.getpid()}"
    os.rename(staging, final)
    _point_current_at(index_dir, final.name)
    remove_old_builds(index_dir, keep={final.name})
    return final


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _point_current_at(index_dir: Path, name: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT-", dir=index_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(name + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, index_dir / "CURRENT")
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_old_builds(index_dir: Path, keep: set[str]) -> None:
    """Remove builds other than `keep` and the newest previous one, and abandoned staging folders.

    The previous build stays one round so that a reader that has just read CURRENT can still
    open its files.
    """
    builds = sorted((p for p in index_dir.glob("build-*") if p.is_dir() and p.name not in keep),
                    key=lambda p: p.stat().st_mtime)
    for old in builds[:-1] + sorted(index_dir.glob(".staging-*")) + sorted(index_dir.glob(".CURRENT-*")):
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def load_index(index_dir: Path, model_name: str, max_tokens: int | None,
               check_settings: bool = True) -> StoredIndex:
    """Load the current build and check it against the settings and against itself.

    check_settings=False skips the first check; the build uses it to reuse vectors across a
    change of chunking.

    Raises:
        IndexMissingError: nothing has been built.
        IndexMismatchError: built with another model or chunking.
        IndexCorruptError: a file is truncated, corrupted, or disagrees with the others.
    """
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissingError(f"No index in {index_dir}. Build it with: python build_index.py")
    problem = settings_mismatch(manifest, model_name, max_tokens) if check_settings else ""
    if problem:
        raise IndexMismatchError(f"The index in {index_dir} {problem}. {REBUILD}")
    folder = current_build(index_dir)
    assert folder is not None
    chunks = _read_chunks(folder / "chunks.jsonl")
    dense, vectors = _read_vectors(folder / "vectors.faiss", manifest.dimension)
    lexical = _read_lexical(folder / "bm25")
    vocabulary = _read_vocabulary(folder)
    sizes = {"chunk records": len(chunks), "vectors": dense.ntotal, "BM25 documents": lexical.size,
             "manifest count": manifest.counts.get("chunks", -1)}
    if len(set(sizes.values())) != 1:
        found = ", ".join(f"{count} {name}" for name, count in sizes.items())
        raise IndexCorruptError(f"The index in {folder} disagrees with itself ({found}). {REBUILD}")
    return StoredIndex(folder, manifest, chunks, dense, lexical, vocabulary, vectors)


def settings_mismatch(manifest: Manifest, model_name: str, max_tokens: int | None) -> str:
    """Why the index cannot serve these settings, or "" when it can."""
    from guidesearch.lexical import stemmer_name
    if manifest.format_version != FORMAT_VERSION:
        return f"has format {manifest.format_version}; this version reads format {FORMAT_VERSION}"
    if manifest.model_name != model_name:
        return f"was built with the model {manifest.model_name!r}, not {model_name!r}"
    if max_tokens is not None and manifest.max_tokens != max_tokens:
        return f"was built with {manifest.max_tokens}-token chunks, not {max_tokens}"
    if manifest.chunker_version != CHUNKER_VERSION:
        return f"was built by chunker version {manifest.chunker_version}, not {CHUNKER_VERSION}"
    if manifest.stemmer != stemmer_name():
        return f"was built with the stemmer {manifest.stemmer!r}, not {stemmer_name()!r}"
    return ""


def _read_chunks(path: Path) -> list[Chunk]:
    chunks = []
    number = 0
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                data = json.loads(line)
                data["headings"] = tuple(data["headings"])
                chunks.append(Chunk(**data))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        where = f" at line {number}" if number else ""
        raise IndexCorruptError(f"The chunk records {path} are unreadable{where} ({exc}). {REBUILD}") from exc
    return chunks


def _read_vectors(path: Path, dimension: int) -> tuple[object, np.ndarray]:
    import faiss
    try:
        if path.stat().st_size < 45:   # FAISS aborts rather than raising on some stubs
            raise ValueError(f"only {path.stat().st_size} bytes")
        dense = faiss.read_index(str(path))
        vectors = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros((0, dimension), np.float32)
    except (OSError, RuntimeError, ValueError) as exc:
        raise IndexCorruptError(f"The vector file {path} is unreadable ({exc}). {REBUILD}") from exc
    if dense.d != dimension:
        raise IndexCorruptError(f"{path} holds {dense.d}-dimensional vectors, the manifest says "
                                f"{dimension}. {REBUILD}")
    return dense, np.asarray(vectors, dtype=np.float32)


def _read_vocabulary(folder: Path) -> Vocabulary:
    try:
        return Vocabulary.load(folder)
    except (OSError, ValueError, TypeError, EOFError) as exc:
        raise IndexCorruptError(f"The vocabulary in {folder} is unreadable ({exc}). {REBUILD}") from exc


def _read_lexical(folder: Path) -> LexicalIndex:
    try:
        return LexicalIndex.load(folder)
    except Exception as exc:  # bm25s raises OSError, ValueError, KeyError, EOFError...
        raise IndexCorruptError(f"The BM25 index {folder} is unreadable ({exc}). {REBUILD}") from exc


@dataclass(frozen=True)
class Staleness:
    """How the corpus and settings differ from what the index was built from."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    settings: str = ""          # why the settings no longer match, or ""
    missing: bool = False       # no index at all

    @property
    def fresh(self) -> bool:
        return not (self.added or self.changed or self.removed or self.settings or self.missing)

    def describe(self) -> str:
        """One line per difference, for the CLI and the page."""
        if self.missing:
            return "No index has been built yet."
        lines = [f"The index {self.settings}."] if self.settings else []
        for label, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                lines.append(f"{len(names)} guide file(s) {label} since the build: {shown}")
        return "\n".join(lines) if lines else "The index is up to date."


def stamp_file(path: Path, known: FileStamp | None = None) -> FileStamp:
    """A file's stamp; the hash is reused from `known` when size and time have not moved."""
    info = path.stat()
    if known is not None and known.size == info.st_size and known.mtime_ns == info.st_mtime_ns:
        return known
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = "unreadable"
    return FileStamp(digest, info.st_size, info.st_mtime_ns)


def check_freshness(index_dir: Path, corpus_dir: Path, model_name: str,
                    max_tokens: int | None) -> Staleness:
    """Compare the index with the corpus folder and the settings.

    Cheap enough to run on every question: files whose size and modification time match the
    manifest are not read.
    """
    manifest = read_manifest(index_dir)
    if manifest is None:
        return Staleness(missing=True)
    added, changed = [], []
    present = set()
    for path in list_guide_files(corpus_dir) if Path(corpus_dir).is_dir() else []:
        source = path.relative_to(corpus_dir).as_posix()
        present.add(source)
        known = manifest.files.get(source)
        try:
            stamp = stamp_file(path, known)
        except OSError:
            continue
        if known is None:
            added.append(source)
        elif stamp.sha256 != known.sha256:
            changed.append(source)
    removed = sorted(set(manifest.files) - present)
    return Staleness(tuple(added), tuple(changed), tuple(removed),
                     settings_mismatch(manifest, model_name, max_tokens))
