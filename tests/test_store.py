"""The index on disk: FAISS against brute force, round trip, mismatches, corrupted files."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from guidesearch.build import build_index
from guidesearch.config import Settings
from guidesearch.errors import IndexCorruptError, IndexFolderError, IndexMismatchError, IndexMissingError
from guidesearch.retrieve import Searcher
from guidesearch.freshness import check_freshness
from guidesearch.store import current_build, load_index, remove_old_builds

from conftest import SMALL_GUIDES, FakeEncoder

@pytest.fixture
def fake_settings(small_settings, fake_encoder) -> Settings:
    build_index(small_settings, fake_encoder)
    return small_settings


def test_round_trip_keeps_chunks_vectors_and_manifest(fake_settings, fake_encoder):
    index = load_index(fake_settings.index_dir, fake_encoder.name)
    assert [c.heading for c in index.chunks] == ["Causes", "Treatment", "Symptoms"]
    assert index.chunks[2].source == "feet/numb.md" and index.chunks[2].headings == ("Numb Feet", "Symptoms")
    expected = fake_encoder.encode([c.embed_text for c in index.chunks])
    np.testing.assert_allclose(index.vectors, expected, atol=1e-6)
    manifest = index.manifest
    assert (manifest.shape.model_name, manifest.dimension, manifest.shape.max_tokens) == ("fake-encoder", 64, 64)
    assert manifest.counts == {"guides": 2, "sections": 3, "chunks": 3}
    assert set(manifest.files) == {"cramps.md", "feet/numb.md"}
    assert len(manifest.files["cramps.md"].sha256) == 64
    assert {"sentence-transformers", "faiss-cpu", "bm25s", "python"} <= set(manifest.versions)


def test_no_index_names_the_build_command(tmp_path):
    with pytest.raises(IndexMissingError, match="python build_index.py"):
        load_index(tmp_path / "index", "fake-encoder")


def test_other_model_or_chunking_is_detected(fake_settings):
    with pytest.raises(IndexMismatchError, match="model 'fake-encoder', not 'all-MiniLM-L6-v2'"):
        load_index(fake_settings.index_dir, "all-MiniLM-L6-v2")
    other_model = check_freshness(fake_settings.with_(model_name="other-model"))
    assert not other_model.fresh and "other-model" in other_model.describe()
    assert len(other_model.settings) == 1          # the model alone, not a made-up token change
    smaller = check_freshness(fake_settings.with_(max_tokens=32))
    assert smaller.settings == ("tokens per chunk: built with 64, now 32",)


def test_changed_added_and_removed_guides_are_detected(fake_settings):
    corpus = fake_settings.corpus_dir
    assert check_freshness(fake_settings).fresh
    (corpus / "cramps.md").write_text(SMALL_GUIDES["cramps.md"] + "\nMore text.\n", encoding="utf-8")
    (corpus / "new.txt").write_text("New Guide\nBody.\n", encoding="utf-8")
    (corpus / "feet" / "numb.md").unlink()
    staleness = check_freshness(fake_settings)
    assert (staleness.changed, staleness.added, staleness.removed) == (("cramps.md",), ("new.txt",), ("feet/numb.md",))
    assert "1 guide file(s) changed since the build: cramps.md" in staleness.describe()


def test_touched_but_unchanged_file_is_not_stale(fake_settings):
    path = fake_settings.corpus_dir / "cramps.md"
    path.write_bytes(path.read_bytes())   # new modification time, same content
    assert check_freshness(fake_settings).fresh


@pytest.mark.parametrize("name", ["vectors.faiss", "chunks.jsonl", "manifest.json", "vocabulary.npy",
                                  "vocabulary.json", "bm25/data.csc.index.npy", "bm25/vocab.index.json",
                                  "bm25/params.index.json", "bm25/indptr.csc.index.npy"])
@pytest.mark.parametrize("keep", [0.0, 0.5])
def test_truncated_index_file_gives_an_error_naming_the_fix(fake_settings, fake_encoder, name, keep):
    path = current_build(fake_settings.index_dir) / name
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(IndexCorruptError, match="python build_index.py"):
        load_index(fake_settings.index_dir, fake_encoder.name)


def test_records_that_disagree_with_the_vectors_are_detected(fake_settings, fake_encoder):
    path = current_build(fake_settings.index_dir) / "chunks.jsonl"
    path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="damaged: chunks.jsonl has .* bytes, the build wrote"):
        load_index(fake_settings.index_dir, fake_encoder.name)


def test_garbage_in_files_is_reported_not_crashed(fake_settings, fake_encoder):
    folder = current_build(fake_settings.index_dir)
    (folder / "vectors.faiss").write_bytes(b"\x00garbage" * 40)
    with pytest.raises(IndexCorruptError, match="damaged: vectors.faiss"):
        load_index(fake_settings.index_dir, fake_encoder.name)
    (fake_settings.index_dir / "CURRENT").write_text("../../etc\n")
    with pytest.raises(IndexCorruptError, match="not a build folder"):
        load_index(fake_settings.index_dir, fake_encoder.name)


def test_chunk_records_are_json_lines(fake_settings):
    lines = (current_build(fake_settings.index_dir) / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert {tuple(sorted(json.loads(line))) for line in lines} == {
        ("chunk_id", "headings", "source", "text", "title")}


def test_searcher_over_fake_index_finds_the_matching_section(fake_settings, fake_encoder):
    searcher = Searcher.open(fake_settings, fake_encoder)
    for mode in ("dense", "lexical", "hybrid"):
        result = searcher.search("tingling toes", top_k=2, mode=mode)
        assert result.hits[0].source == "feet/numb.md", mode


def test_an_index_of_another_format_says_so_and_is_replaced_by_a_build(fake_settings, fake_encoder):
    path = current_build(fake_settings.index_dir) / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": 1}))
    with pytest.raises(IndexCorruptError, match=r"built by another version .*format 1.*python build_index.py"):
        load_index(fake_settings.index_dir, fake_encoder.name)
    assert "another version" in check_freshness(fake_settings).describe()
    assert build_index(fake_settings, fake_encoder).rebuilt
    assert check_freshness(fake_settings).fresh


@pytest.mark.parametrize("change", [{"counts": "31"}, {"counts": {"guides": 2}}, {"files": []},
                                    {"shape": {"model_name": 3}}, {"dimension": "64"}, {"built_at": None}])
def test_a_manifest_with_wrong_typed_fields_is_reported_and_a_build_replaces_it(fake_settings, fake_encoder, change):
    path = current_build(fake_settings.index_dir) / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(IndexCorruptError, match="unreadable .*python build_index.py"):
        load_index(fake_settings.index_dir, fake_encoder.name)
    assert not check_freshness(fake_settings).fresh
    assert build_index(fake_settings, fake_encoder).rebuilt
    assert Searcher.open(fake_settings, fake_encoder).search("tingling toes").hits[0].source == "feet/numb.md"


def test_a_full_disk_leaves_no_staging_folder_and_the_previous_index_answering(fake_settings, fake_encoder,
                                                                              monkeypatch):
    import errno

    import faiss
    before = current_build(fake_settings.index_dir)
    (fake_settings.corpus_dir / "new.md").write_text("# New\n\n## Part\n\nFresh text.\n", encoding="utf-8")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = faiss.PyCallbackIOWriter            # what the vectors' file write raises on a full disk
    monkeypatch.setattr(faiss, "PyCallbackIOWriter", lambda write: writer(full))
    with pytest.raises(IndexFolderError, match="No space left .*the previous index still answers"):
        build_index(fake_settings, fake_encoder)
    assert not list(fake_settings.index_dir.glob(".staging-*"))
    assert current_build(fake_settings.index_dir) == before
    assert Searcher.open(fake_settings, fake_encoder).search("tingling toes").hits[0].source == "feet/numb.md"


def test_index_files_respect_the_umask_so_another_user_can_read_them(small_settings, fake_encoder):
    old = os.umask(0o022)
    try:
        folder = build_index(small_settings, fake_encoder).folder
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE((small_settings.index_dir / "CURRENT").stat().st_mode) == 0o644
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()} == {0o644}


def test_a_replaced_build_is_kept_while_a_reader_may_still_open_it(fake_settings, fake_encoder):
    first = current_build(fake_settings.index_dir)
    for text in ("one", "two"):
        (fake_settings.corpus_dir / "new.md").write_text(f"# N\n\n## P\n\nText {text}.\n", encoding="utf-8")
        build_index(fake_settings, FakeEncoder())
    assert first.exists()                       # replaced two builds ago, but within the grace period
    remove_old_builds(fake_settings.index_dir, keep={current_build(fake_settings.index_dir).name},
                      grace_seconds=0)
    assert not first.exists() and len(list(fake_settings.index_dir.glob("build-*"))) == 2


def test_a_chunk_whose_text_is_a_number_is_damage(fake_settings, fake_encoder):
    path = current_build(fake_settings.index_dir) / "chunks.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    lines[0] = json.dumps({**record, "text": 31})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="python build_index.py"):
        load_index(fake_settings.index_dir, fake_encoder.name)


def test_reordered_records_or_other_vectors_of_the_same_shape_are_damage(fake_settings, fake_encoder):
    import faiss
    folder = current_build(fake_settings.index_dir)
    path = folder / "chunks.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(reversed(lines)), encoding="utf-8")          # same bytes, other order
    with pytest.raises(IndexCorruptError, match="chunks.jsonl is not the file the build wrote"):
        load_index(fake_settings.index_dir, fake_encoder.name)
    path.write_text("".join(lines), encoding="utf-8")
    other = faiss.IndexFlatIP(64)
    other.add(np.ascontiguousarray(np.eye(3, 64, dtype=np.float32)))   # same shape, other vectors
    faiss.write_index(other, str(folder / "vectors.faiss"))
    with pytest.raises(IndexCorruptError, match="vectors.faiss is not the file the build wrote"):
        load_index(fake_settings.index_dir, fake_encoder.name)
    report = build_index(fake_settings, FakeEncoder())
    assert report.rebuilt and report.reused == 0           # nothing reused from the damaged build
