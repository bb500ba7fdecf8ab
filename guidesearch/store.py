"""The index on disk: FAISS vectors, chunk records, BM25, manifest (save / load / is it fresh?).

Layout of the index folder:
    CURRENT             name of the build folder in use, replaced atomically by a finished build
    build-<stamp>/      vectors.faiss, chunks.jsonl, bm25/, manifest.json
A build writes a new folder and only then points CURRENT at it, so an interrupted build leaves
the previous index in use. Records are JSON, never pickle.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from guidesearch.config import BUILD_COMMAND, Settings
from guidesearch.dense import DenseIndex
from guidesearch.errors import IndexCorruptError, IndexFolderError, IndexMismatchError, IndexMissingError
from guidesearch.lexical import LexicalIndex, Vocabulary, stemmer_name
from guidesearch.records import Chunk, FileStamp

FORMAT_VERSION = 2
CHUNKER_VERSION = 9     # bump when chunk.py or ingest.py change what chunks they produce
REBUILD = f"Rebuild it with: {BUILD_COMMAND}"
# Vectors of chunks that left the index are kept this many at least (and as many as the new or
# the previous index holds, so every vector leaving a build is kept), so a guide deleted and then
# restored, or an edit undone, is not embedded again.
MIN_RETIRED = 2000


@dataclass(frozen=True)
class IndexShape:
    """Everything that shapes what the index holds: a difference in any of these is a reason
    to rebuild. A future setting of that kind belongs here."""

    model_name: str
    max_tokens: int             # effective: the setting capped at the model's maximum
    chunker_version: int
    max_file_bytes: int
    stemmer: str
    # Number format the passages were embedded in (backends.py); indexes from before backends
    # were chosen were all embedded in fp32.
    precision: str = "fp32"

    @classmethod
    def of(cls, settings: Settings, model_max_tokens: int, precision: str) -> "IndexShape":
        return cls(settings.model_name, settings.effective_max_tokens(model_max_tokens),
                   CHUNKER_VERSION, settings.max_file_bytes, stemmer_name(), precision)

    def changes_from(self, built: "IndexShape") -> tuple[str, ...]:
        """What differs from the shape an index was built with, one phrase each."""
        labels = {"model_name": "the model", "max_tokens": "tokens per chunk",
                  "chunker_version": "the chunker version", "max_file_bytes": "the file size limit",
                  "stemmer": "the stemmer", "precision": "passage precision"}
        return tuple(f"{label}: built with {getattr(built, name)!r}, now {getattr(self, name)!r}"
                     for name, label in labels.items() if getattr(built, name) != getattr(self, name))


@dataclass(frozen=True)
class Manifest:
    """What a build holds and how it was made; the last file a build writes."""

    shape: IndexShape
    dimension: int
    model_max_tokens: int
    files: dict[str, FileStamp]         # every corpus file the build looked at, skipped or not
    skipped: dict[str, str]             # source -> why it was not indexed
    counts: dict[str, int]              # guides, sections, chunks
    built_at: str
    build_seconds: float
    versions: dict[str, str]
    started_ns: int = 0                 # when the build started reading the corpus (time.time_ns)
    index_files: dict[str, FileStamp] = field(default_factory=dict)   # the build's own files
    format_version: int = FORMAT_VERSION
    corpus: str = ""                    # the corpus folder built from (its real path); "": not recorded

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_data(cls, data: dict) -> "Manifest":
        """Type-check a parsed manifest of this format (manifest_of checks the format first).

        Raises:
            ValueError: a field missing or of the wrong type.
        """
        _check_types(data, {"shape": dict, "dimension": int, "model_max_tokens": int, "files": dict,
                            "skipped": dict, "counts": dict, "built_at": str,
                            "build_seconds": (int, float), "versions": dict, "started_ns": int,
                            "index_files": dict})
        shape = IndexShape(**data["shape"])
        _check_types(asdict(shape), {"model_name": str, "max_tokens": int, "chunker_version": int,
                                     "max_file_bytes": int, "stemmer": str, "precision": str})
        files = {str(name): FileStamp(**stamp) for name, stamp in data["files"].items()}
        index_files = {str(name): FileStamp(**stamp) for name, stamp in data["index_files"].items()}
        if not isinstance(data.get("corpus", ""), str):
            raise ValueError("corpus must be a folder's path")
        if not all(isinstance(v, int) for v in data["counts"].values()) \
                or not {"guides", "sections", "chunks"} <= set(data["counts"]):
            raise ValueError("counts must hold whole numbers of guides, sections and chunks")
        return cls(**{**data, "shape": shape, "files": files, "index_files": index_files})


def _check_types(data: dict, expected: dict[str, type | tuple[type, ...]]) -> None:
    for name, kind in expected.items():
        if name not in data:
            raise ValueError(f"{name!r} is missing")
        if not isinstance(data[name], kind) or isinstance(data[name], bool):
            raise ValueError(f"{name!r} has the wrong type ({type(data[name]).__name__})")


@dataclass
class StoredIndex:
    """A loaded index: chunk i is row i of the vectors and document i of the BM25 index."""

    folder: Path
    manifest: Manifest
    chunks: list[Chunk]
    dense: DenseIndex           # the vectors, searched by inner product
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


def require_build(index_dir: Path) -> Path:
    """The build folder CURRENT points at.

    Raises:
        IndexMissingError: nothing has been built (checked before a model is loaded for nothing).
    """
    folder = current_build(index_dir)
    if folder is None:
        check_index_folder(index_dir)
        raise IndexMissingError(f"No index in {index_dir}. Build it with: {BUILD_COMMAND}")
    return folder


def check_index_folder(index_dir: Path) -> None:
    """Refuse what cannot be an index folder: a file, or a build folder of an index or a folder
    inside one. Searched, each is "no index", and the advice to build there would nest an index
    inside a build (found by adversarial testing).

    Raises:
        IndexFolderError: saying what it is, and which folder to give instead.
    """
    index_dir = Path(index_dir)
    give = "give --index (or GUIDESEARCH_INDEX)"
    if index_dir.is_file():
        raise IndexFolderError(f"{index_dir} is a file, not an index folder: {give} the folder build_index.py built.")
    here = index_dir.absolute()
    for folder in (here, *here.parents):
        if (folder / "manifest.json").is_file() and (folder.parent / "CURRENT").is_file():
            where = "one build inside" if folder == here else f"inside {folder.name}, one build of"
            raise IndexFolderError(f"{index_dir} is {where} the index {folder.parent}: {give} {folder.parent} "
                                   "instead.")


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of the current build, or None when nothing has been built."""
    folder = current_build(index_dir)
    return None if folder is None else manifest_of(folder)


def manifest_of(folder: Path) -> Manifest:
    """The manifest of one build folder.

    Raises:
        IndexCorruptError: missing, unreadable, or from another format.
    """
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        found = data.get("format_version") if isinstance(data, dict) else None
        if found != FORMAT_VERSION:
            raise IndexCorruptError(f"The index in {folder.parent} was built by another version of Guide "
                                    f"Search (index format {found}; this version reads format "
                                    f"{FORMAT_VERSION}). {REBUILD}")
        return Manifest.from_data(data)
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IndexCorruptError(f"The manifest in {folder} is unreadable ({exc}). {REBUILD}") from exc


def write_build(index_dir: Path, manifest: Manifest, chunks: list[Chunk], vectors: np.ndarray,
                lexical: LexicalIndex, vocabulary: Vocabulary, retired: "RetiredVectors") -> Path:
    """Write a complete build beside the current one, then switch CURRENT to it atomically.

    A build that fails or is interrupted part-way removes what it wrote; the current build is
    untouched.

    Raises:
        IndexFolderError: the folder cannot be written (full, read-only): the message says so and
            whether the previous index still answers.
    """
    index_dir = Path(index_dir)
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=index_dir))
        os.chmod(staging, 0o777 & ~_umask())       # readable by a page running as another user
        manifest = _write_files(staging, manifest, chunks, vectors, lexical, vocabulary, retired)
        final = index_dir / f"build-{manifest.built_at.replace(':', '').replace('-', '')}-{os.getpid()}"    # made_here
        os.rename(staging, final)
        staging = None
        _swap_current(index_dir, final)
    except OSError as exc:
        raise IndexFolderError(write_failure(index_dir, exc)) from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    remove_old_builds(index_dir, keep={final.name})
    return final


def made_here(build: Path) -> bool:
    """Whether this process wrote the build folder (write_build names it with the process id)."""
    return build.name.endswith(f"-{os.getpid()}")


def _write_files(staging: Path, manifest: Manifest, chunks: list[Chunk], vectors: np.ndarray,
                 lexical: LexicalIndex, vocabulary: Vocabulary, retired: "RetiredVectors") -> Manifest:
    import faiss
    dense = faiss.IndexFlatIP(manifest.dimension)
    dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    # Through a Python file: FAISS's own writer reports a full disk as a RuntimeError, which read
    # as a bug rather than as "no space left" (found by adversarial testing). Streamed, not
    # serialize_index, which held about three copies of the vectors at once (review).
    with open(staging / "vectors.faiss", "wb") as out:
        faiss.write_index(dense, faiss.PyCallbackIOWriter(out.write))
    with open(staging / "chunks.jsonl", "w", encoding="utf-8") as out:
        for chunk in chunks:
            out.write(json.dumps(asdict(chunk)) + "\n")
    lexical.save(staging / "bm25")
    vocabulary.save(staging)
    retired.save(staging)
    # The manifest is written last: a folder with a manifest is a complete build. It holds the
    # hash of every other file, so damage is found on load.
    manifest = replace(manifest, index_files=_stamp_files(staging))
    (staging / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    _fsync_tree(staging)
    return manifest


def write_failure(index_dir: Path, exc: OSError) -> str:
    """One line on why the index folder cannot be written, and whether the previous index answers."""
    try:
        previous = current_build(index_dir)
    except IndexCorruptError:
        previous = None
    still = "; the previous index still answers" if previous is not None else ""
    if _disk_full(index_dir, exc):
        return (f"No space left where the index is written ({index_dir}): the new build was not "
                f"written{still}. Free some space and build again.")
    return (f"Cannot write the index in {index_dir} ({exc.strerror or exc}){still}. Point --index or "
            "GUIDESEARCH_INDEX at a folder you can write.")


def _disk_full(index_dir: Path, exc: OSError) -> bool:
    """ENOSPC, or a short write with no errno (numpy's np.save reports a full disk that way)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return exc.errno is None and shutil.disk_usage(index_dir).free < (1 << 20)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stamp_files(folder: Path) -> dict[str, FileStamp]:
    return {path.relative_to(folder).as_posix(): FileStamp(_sha256_of(path), path.stat().st_size, 0)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def damage(folder: Path, manifest: Manifest, full: bool = False) -> str:
    """What is wrong with a build's files, or "": a missing file or another size (cheap, for the
    freshness check), and with full=True another content (sha256, on load).
    """
    for name, stamp in manifest.index_files.items():
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            return f"{name} is missing"
        if size != stamp.size:
            return f"{name} has {size:,} bytes, the build wrote {stamp.size:,}"
        if full and _sha256_of(path) != stamp.sha256:
            return f"{name} is not the file the build wrote (its content changed)"
    return ""


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _swap_current(index_dir: Path, final: Path) -> None:
    """Point CURRENT at the new build; the build it replaces is marked retired now (its time),
    so that it is kept while a reader may still be opening it."""
    try:
        replaced = current_build(index_dir)
    except IndexCorruptError:
        replaced = None
    _point_current_at(index_dir, final.name)
    if replaced is not None and replaced != final:
        os.utime(replaced)


def _point_current_at(index_dir: Path, name: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT-", dir=index_dir)
    os.chmod(tmp, 0o666 & ~_umask())
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


# A build replaced less than this long ago is kept: a reader that read CURRENT just before the
# swap may still be opening its files.
RETIRED_GRACE_SECONDS = 300


def remove_old_builds(index_dir: Path, keep: set[str], grace_seconds: float = RETIRED_GRACE_SECONDS) -> None:
    """Remove builds replaced more than grace_seconds ago (the newest replaced one is always
    kept), and staging folders and pointer files that builds killed outright left behind."""
    builds = sorted((p for p in index_dir.glob("build-*") if p.is_dir() and p.name not in keep),
                    key=lambda p: p.stat().st_mtime)
    now = time.time()
    old = [p for p in builds[:-1] if now - p.stat().st_mtime > grace_seconds]
    for path in old + sorted(index_dir.glob(".staging-*")) + sorted(index_dir.glob(".CURRENT-*")):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def load_index(index_dir: Path, model_name: str | None) -> StoredIndex:
    """Load the current build, check that it serves this model and agrees with itself.

    CURRENT is read once: every file comes from the build folder it named then, even when a
    rebuild swaps in another one meanwhile. model_name=None skips the model check (the build
    uses it to decide what it can reuse).

    Raises:
        IndexMissingError: nothing has been built.
        IndexMismatchError: built with another model, stemmer or format.
        IndexCorruptError: a file is truncated, corrupted, or disagrees with the others.
    """
    folder = require_build(index_dir)
    manifest = manifest_of(folder)
    problem = incompatibility(manifest, model_name) if model_name is not None else ""
    if problem:
        raise IndexMismatchError(f"The index in {index_dir} {problem}. {REBUILD}")
    damaged = damage(folder, manifest, full=True)
    if damaged:
        raise IndexCorruptError(f"The index in {folder} is damaged: {damaged}. {REBUILD}")
    chunks = _read_chunks(folder / "chunks.jsonl")
    dense = _read_vectors(folder / "vectors.faiss", manifest.dimension)
    lexical = _read_lexical(folder / "bm25")
    vocabulary = _read_vocabulary(folder)
    sizes = {"chunk records": len(chunks), "vectors": dense.ntotal, "BM25 documents": lexical.size,
             "manifest count": manifest.counts["chunks"]}
    if len(set(sizes.values())) != 1:
        found = ", ".join(f"{count} {name}" for name, count in sizes.items())
        raise IndexCorruptError(f"The index in {folder} disagrees with itself ({found}). {REBUILD}")
    return StoredIndex(folder, manifest, chunks, dense, lexical, vocabulary, dense.vectors)


def incompatibility(manifest: Manifest, model_name: str) -> str:
    """Why the index cannot answer questions embedded by this model, or "" when it can.

    Other differences of shape (chunk size, file size limit) leave it usable but out of date.
    """
    if manifest.shape.model_name != model_name:
        return f"was built with the model {manifest.shape.model_name!r}, not {model_name!r}"
    if manifest.shape.stemmer != stemmer_name():
        return f"was built with the stemmer {manifest.shape.stemmer!r}, not {stemmer_name()!r}"
    return ""


def _read_chunks(path: Path) -> list[Chunk]:
    chunks = []
    number = 0
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                data = json.loads(line)
                data["headings"] = tuple(data["headings"])
                chunk = Chunk(**data)
                if not all(isinstance(v, str) for v in (chunk.chunk_id, chunk.source, chunk.title, chunk.text,
                                                         *chunk.headings)) or not chunk.headings:
                    raise ValueError("a field that must be text is not")
                chunks.append(chunk)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        where = f" at line {number}" if number else ""
        raise IndexCorruptError(f"The chunk records {path} are unreadable{where} ({exc}). {REBUILD}") from exc
    return chunks


def _read_vectors(path: Path, dimension: int) -> DenseIndex:
    """The stored flat FAISS index, read into the form questions search (dense.py)."""
    import faiss
    try:
        if path.stat().st_size < 45:   # FAISS aborts rather than raising on some stubs
            raise ValueError(f"only {path.stat().st_size} bytes")
        flat = faiss.read_index(str(path))
        vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, flat.d), np.float32)
    except (OSError, RuntimeError, ValueError) as exc:
        raise IndexCorruptError(f"The vector file {path} is unreadable ({exc}). {REBUILD}") from exc
    if flat.d != dimension:
        raise IndexCorruptError(f"{path} holds {flat.d}-dimensional vectors, the manifest says "
                                f"{dimension}. {REBUILD}")
    return DenseIndex(vectors)


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


class RetiredVectors:
    """Vectors of chunks that are no longer in the index, by embed key, newest first."""

    def __init__(self, keys: list[str], vectors: np.ndarray) -> None:
        self.keys = keys
        self.vectors = vectors

    @classmethod
    def empty(cls, dimension: int) -> "RetiredVectors":
        return cls([], np.zeros((0, dimension), np.float32))

    def save(self, folder: Path) -> None:
        (folder / "retired.json").write_text(json.dumps(self.keys), encoding="utf-8")
        np.save(folder / "retired.npy", self.vectors, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, dimension: int) -> "RetiredVectors":
        """What a build kept; nothing when the files are missing or damaged (a cache only)."""
        try:
            keys = json.loads((folder / "retired.json").read_text(encoding="utf-8"))
            vectors = np.load(folder / "retired.npy", allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return cls.empty(dimension)
        if not isinstance(keys, list) or not isinstance(vectors, np.ndarray) \
                or vectors.shape != (len(keys), dimension):
            return cls.empty(dimension)
        return cls([str(key) for key in keys], vectors.astype(np.float32, copy=False))
