"""Index lifecycle: incremental rebuilds, one build at a time, builds killed at any moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from guidesearch.build import build_index, build_lock
from guidesearch.config import Settings
from guidesearch.errors import BuildLockedError, CorpusError
from guidesearch.retrieve import Searcher
from guidesearch.freshness import check_freshness
from guidesearch.store import current_build, load_index

from conftest import SMALL_GUIDES, FakeEncoder, make_corpus

HELPER = Path(__file__).resolve().parent / "build_helper.py"
@pytest.fixture
def settings(small_settings) -> Settings:
    return small_settings


def test_rebuild_without_change_embeds_nothing_and_says_so(settings, fake_encoder):
    first = build_index(settings, fake_encoder)
    assert (first.embedded, first.reused, first.added) == (3, 0, ("cramps.md", "feet/numb.md"))
    again = build_index(settings, FakeEncoder())
    assert (again.embedded, again.reused, again.unchanged) == (0, 3, 2)
    assert "Nothing new to embed." in again.summary()


def test_edit_embeds_only_the_changed_chunk(settings, fake_encoder):
    build_index(settings, fake_encoder)
    path = settings.corpus_dir / "cramps.md"
    path.write_text(path.read_text().replace("drink water", "drink plenty of water"), encoding="utf-8")
    report = build_index(settings, FakeEncoder())
    assert (report.changed, report.embedded, report.reused) == (("cramps.md",), 1, 2)


def test_deleted_guide_disappears_and_renamed_guide_keeps_its_embeddings(settings, fake_encoder):
    build_index(settings, fake_encoder)
    (settings.corpus_dir / "feet" / "numb.md").unlink()
    report = build_index(settings, FakeEncoder())
    assert report.removed == ("feet/numb.md",)
    searcher = Searcher.open(settings, fake_encoder)
    assert {hit.source for hit in searcher.search("tingling toes", top_k=10).hits} == {"cramps.md"}
    (settings.corpus_dir / "cramps.md").rename(settings.corpus_dir / "leg-cramps.md")
    renamed = build_index(settings, FakeEncoder())
    assert (renamed.added, renamed.removed, renamed.embedded, renamed.reused) == (
        ("leg-cramps.md",), ("cramps.md",), 0, 2)


def test_a_restored_guide_bigger_than_the_kept_minimum_embeds_nothing(settings, fake_encoder, monkeypatch):
    """Found by adversarial testing: with more chunks than MIN_RETIRED (2,000; 2 here) a deleted
    guide lost the vectors past it, and restoring it embedded them again."""
    monkeypatch.setattr("guidesearch.build.MIN_RETIRED", 2)
    big = "# Many\n\n" + "".join(f"## Topic {i}\n\nNote {i} on muscle care.\n\n" for i in range(6))
    (settings.corpus_dir / "many.md").write_text(big, encoding="utf-8")
    assert build_index(settings, fake_encoder).embedded == 9
    (settings.corpus_dir / "many.md").unlink()
    assert build_index(settings, FakeEncoder()).embedded == 0
    (settings.corpus_dir / "many.md").write_text(big, encoding="utf-8")
    restored = build_index(settings, FakeEncoder())
    assert (restored.embedded, restored.reused) == (0, 9)


def test_other_chunking_settings_re_embed_what_they_change(settings, fake_encoder):
    long_text = " ".join(f"Sentence {i} about calf cramps." for i in range(30))
    (settings.corpus_dir / "long.md").write_text(f"# Long\n\n## Part\n\n{long_text}\n", encoding="utf-8")
    build_index(settings, fake_encoder)
    smaller = build_index(settings.with_(max_tokens=32), FakeEncoder())
    assert smaller.embedded > 0 and smaller.reused == 3     # the short sections are the same text
    assert load_index(settings.index_dir, fake_encoder.name).manifest.shape.max_tokens == 32
    assert not check_freshness(settings).fresh and check_freshness(settings.with_(max_tokens=32)).fresh


def test_other_model_never_reuses_vectors(settings, fake_encoder):
    build_index(settings, fake_encoder)
    other = FakeEncoder()
    other.name = "another-model"
    report = build_index(settings.with_(model_name="another-model"), other)
    assert (report.embedded, report.reused) == (3, 0)


def test_bad_guides_do_not_stop_the_good_ones(settings, fake_encoder):
    make_corpus(settings.corpus_dir, {"empty.md": "", "image.md": b"\x89PNG\r\n\x1a\n\x00\x00IHDR"})
    report = build_index(settings, fake_encoder)
    assert report.guides == 2
    assert [f"Skipped {s.source}: {s.reason}" for s in report.skipped] == [
        "Skipped empty.md: empty file", "Skipped image.md: not text (binary content)"]
    assert "Skipped empty.md: empty file" in report.summary()


def test_no_readable_guide_stops_the_build(tmp_path, fake_encoder):
    corpus = make_corpus(tmp_path / "corpus", {"empty.md": ""})
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model_name=fake_encoder.name)
    with pytest.raises(CorpusError, match="No guide .* could be indexed .*empty.md: empty file"):
        build_index(settings, fake_encoder)
    assert current_build(settings.index_dir) is None


def test_second_build_stops_with_a_clear_message_while_one_runs(settings, fake_encoder):
    with build_lock(settings.index_dir):
        with pytest.raises(BuildLockedError, match=r"Another build .* is running \(pid \d+.*--wait SECONDS"):
            build_index(settings, fake_encoder)
        started = time.monotonic()
        with pytest.raises(BuildLockedError, match=r"waited 0.5 s") as waited:
            build_index(settings, fake_encoder, wait_seconds=0.5)
        assert "--wait" not in str(waited.value)        # it was given (found by adversarial testing)
        assert time.monotonic() - started >= 0.5
    assert build_index(settings, fake_encoder).guides == 2


def start_helper(settings: Settings, point: str, wait: float = 0.0) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, str(HELPER), str(settings.corpus_dir), str(settings.index_dir),
                              point, str(wait)], stdout=subprocess.PIPE, text=True)
    if point != "none":
        assert child.stdout.readline().strip() == f"AT {point}"
    return child


def test_a_build_waiting_for_the_lock_runs_after_the_first(settings, fake_encoder):
    first = start_helper(settings, "swap")
    second = start_helper(settings, "none", wait=60)
    time.sleep(1.0)
    assert second.poll() is None            # still waiting for the lock
    first.kill()                             # the kernel frees the lock of a killed build
    first.wait()
    assert second.wait(timeout=60) == 0
    assert "Indexed 2 guide(s)" in second.stdout.read()


@pytest.mark.parametrize("point", ["embed", "write", "swap"])
def test_build_killed_at_any_point_leaves_the_previous_index_working(settings, fake_encoder, point):
    build_index(settings, fake_encoder)
    before = current_build(settings.index_dir)
    (settings.corpus_dir / "new.md").write_text("# New\n\n## Part\n\nFresh text on cramps.\n", encoding="utf-8")
    child = start_helper(settings, point)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert current_build(settings.index_dir) == before
    searcher = Searcher.open(settings, fake_encoder)
    assert searcher.search("tingling toes").hits[0].source == "feet/numb.md"
    report = build_index(settings, fake_encoder)      # the lock of the killed build is recovered
    assert report.added == ("new.md",)
    assert not list(settings.index_dir.glob(".staging-*"))
    assert Searcher.open(settings, fake_encoder).search("fresh text").hits[0].source == "new.md"


def test_new_chunker_version_rebuilds_but_reuses_unchanged_vectors(settings, fake_encoder, monkeypatch):
    from guidesearch import store
    build_index(settings, fake_encoder)
    monkeypatch.setattr(store, "CHUNKER_VERSION", store.CHUNKER_VERSION + 1)
    assert "chunker version" in check_freshness(settings).describe()
    report = build_index(settings, FakeEncoder())
    assert (report.embedded, report.reused) == (0, 3)
    assert check_freshness(settings).fresh


def test_searches_answer_from_the_old_index_until_the_new_one_is_swapped_in(settings, fake_encoder):
    build_index(settings, fake_encoder)
    (settings.corpus_dir / "new.md").write_text("# New\n\n## Part\n\nFresh text on cramps.\n", encoding="utf-8")
    child = start_helper(settings, "swap")
    during = Searcher.open(settings, fake_encoder)        # the page opening while the build runs
    assert {hit.source for hit in during.search("fresh text", top_k=10).hits} == {"cramps.md", "feet/numb.md"}
    (settings.index_dir.parent / "go").touch()
    assert child.wait(timeout=60) == 0
    assert during.search("tingling toes").hits[0].source == "feet/numb.md"   # still serving, files kept
    after = Searcher.open(settings, fake_encoder)
    assert after.search("fresh text").hits[0].source == "new.md"


def test_unchanged_guides_are_not_chunked_again_and_an_up_to_date_index_is_left_alone(settings, fake_encoder):
    first = build_index(settings, fake_encoder)
    path = settings.corpus_dir / "cramps.md"
    path.write_text(path.read_text().replace("drink water", "drink plenty of water"), encoding="utf-8")
    encoder = FakeEncoder()
    build_index(settings, encoder)
    assert encoder.counted and all("Numb Feet" not in text for text in encoder.counted)
    idle = FakeEncoder()
    again = build_index(settings, idle)
    assert not again.rebuilt and (idle.counted, idle.encoded) == ([], 0)
    assert again.folder == current_build(settings.index_dir) != first.folder
    assert "is up to date" in again.summary() and "Nothing new to embed." in again.summary()


def test_a_corrupted_index_is_rebuilt_even_when_the_guides_have_not_changed(settings, fake_encoder):
    first = build_index(settings, fake_encoder)
    (first.folder / "vectors.faiss").write_bytes(b"")
    report = build_index(settings, FakeEncoder())
    assert report.rebuilt and report.embedded == 3
    assert Searcher.open(settings, fake_encoder).search("tingling toes").hits[0].source == "feet/numb.md"


def test_an_edit_made_while_the_build_embeds_shows_as_stale(settings, fake_encoder):
    """The manifest holds the stamps of the bytes that were read, never a second look."""
    path = settings.corpus_dir / "cramps.md"
    encode = fake_encoder.encode

    def edit_then_encode(texts, *args, **kwargs):
        path.write_text(path.read_text() + "\nAn edit made during the build.\n", encoding="utf-8")
        return encode(texts)

    fake_encoder.encode = edit_then_encode
    build_index(settings, fake_encoder)
    diff = check_freshness(settings)
    assert diff.changed == ("cramps.md",) and not diff.fresh
    report = build_index(settings, FakeEncoder())
    assert report.rebuilt and report.changed == ("cramps.md",)
    assert "edit made during the build" in "\n".join(c.text for c in load_index(settings.index_dir, "fake-encoder").chunks)


def test_raising_the_size_limit_makes_the_index_stale_and_indexes_the_guide(settings, fake_encoder):
    small = settings.with_(max_file_bytes=80)
    report = build_index(small, fake_encoder)
    assert [s.source for s in report.skipped] == ["cramps.md"] and check_freshness(small).fresh
    raised = settings.with_(max_file_bytes=10_000)
    assert check_freshness(raised).settings == ("the file size limit: built with 80, now 10000",)
    report = build_index(raised, FakeEncoder())
    assert report.diff.settings == ("the file size limit: built with 80, now 10000",) and not report.skipped
    assert "cramps.md" in {c.source for c in load_index(settings.index_dir, "fake-encoder").chunks}
    assert check_freshness(raised).fresh


def test_a_token_limit_above_the_models_is_capped_and_stays_fresh(settings, fake_encoder):
    above = settings.with_(max_tokens=1000)             # the fake model reads 64
    messages = []
    build_index(above, fake_encoder, log=messages.append)
    assert any("above what fake-encoder reads" in m for m in messages)
    assert check_freshness(above).fresh and check_freshness(settings).fresh
    assert not build_index(above, FakeEncoder()).rebuilt


def test_a_guide_that_cannot_be_chunked_is_skipped_and_the_others_indexed(settings, fake_encoder):
    heading = " ".join(["word"] * 700)
    (settings.corpus_dir / "long-heading.md").write_text(f"# T\n\n## {heading}\n\nBody text here.\n",
                                                        encoding="utf-8")
    report = build_index(settings, fake_encoder)
    assert report.guides == 2 and [s.source for s in report.skipped] == ["long-heading.md"]
    assert "cannot be chunked" in report.skipped[0].reason and "\n" not in report.skipped[0].reason
    assert check_freshness(settings).fresh


def test_deleting_a_guide_with_nothing_else_changed_rebuilds_with_the_real_tokenizer(tmp_path, encoder):
    corpus = make_corpus(tmp_path / "corpus", {"a.md": "# A\n\n## One\n\nFirst guide text.\n",
                                               "b.md": "# B\n\n## Two\n\nSecond guide text.\n"})
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, encoder)
    (corpus / "b.md").unlink()
    report = build_index(settings, encoder)
    assert (report.removed, report.embedded) == (("b.md",), 0)
    assert {c.source for c in load_index(settings.index_dir, encoder.name).chunks} == {"a.md"}


def test_pipes_devices_and_links_out_of_the_corpus_are_skipped_never_read(settings, fake_encoder, tmp_path):
    outside = tmp_path / "private.txt"
    outside.write_text("Private Notes\nMy secret bank password is hunter2.\n", encoding="utf-8")
    os.mkfifo(settings.corpus_dir / "pipe.md")                     # reading it would hang
    (settings.corpus_dir / "zero.md").symlink_to("/dev/zero")      # reading it would never end
    (settings.corpus_dir / "private.txt").symlink_to(outside)
    (settings.corpus_dir / "inside.md").symlink_to(settings.corpus_dir / "cramps.md")
    report = build_index(settings, fake_encoder)
    reasons = {s.source: s.reason for s in report.skipped}
    assert reasons["pipe.md"].startswith("not a regular file")
    assert reasons["private.txt"].startswith("links to a file outside the corpus folder")
    assert reasons["zero.md"].startswith("links to a file outside the corpus folder")
    assert reasons["inside.md"] == "same content as cramps.md"
    assert check_freshness(settings).fresh
    searcher = Searcher.open(settings, fake_encoder)
    assert all("hunter2" not in hit.text for hit in searcher.search("secret bank password", top_k=10).hits)


def test_a_file_name_that_is_not_utf8_is_skipped_in_one_printable_line(settings, fake_encoder):
    build_index(settings, fake_encoder)
    (settings.corpus_dir / os.fsdecode(b"caf\xe9.md")).write_text("# Cafe\n\n## Part\n\nText.\n", encoding="utf-8")
    (settings.corpus_dir / "new\nline.md").write_text("# Odd\n\n## Part\n\nOdd name.\n", encoding="utf-8")
    described = check_freshness(settings).describe()
    assert "2 guide file(s) added since the build: caf\\xe9.md, new\\nline.md" in described
    report = build_index(settings, FakeEncoder())
    assert "Skipped caf\\xe9.md: its name is not valid UTF-8 (rename the file)" in report.summary()
    assert all(line.isprintable() for line in (report.summary() + "\n" + described).split("\n"))
    assert check_freshness(settings).fresh


def test_a_damaged_build_is_stale_for_check_and_replaced_by_the_next_build(settings, fake_encoder):
    first = build_index(settings, fake_encoder)
    (first.folder / "chunks.jsonl").unlink()
    diff = check_freshness(settings)
    assert not diff.fresh and "damaged: chunks.jsonl is missing" in diff.describe()
    assert build_index(settings, FakeEncoder()).rebuilt and check_freshness(settings).fresh


def test_a_skipped_file_edited_but_still_skipped_is_reported_alike_by_check_and_build(settings, fake_encoder):
    (settings.corpus_dir / "empty.md").write_text("", encoding="utf-8")
    build_index(settings, fake_encoder)
    (settings.corpus_dir / "empty.md").write_text("   \n", encoding="utf-8")
    diff = check_freshness(settings)
    report = build_index(settings, FakeEncoder())
    assert diff.changed == report.changed == ("empty.md",)
    assert check_freshness(settings).fresh


def test_an_unreadable_file_above_the_size_limit_does_not_stay_stale(settings, fake_encoder, monkeypatch):
    (settings.corpus_dir / "big.md").write_text("# Big\n\n## Part\n\n" + "word " * 100, encoding="utf-8")
    real = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied")) if self.name == "big.md" else real(self, *a, **k))
    small = settings.with_(max_file_bytes=200)
    build_index(small, fake_encoder)
    assert check_freshness(small).fresh


def test_an_edit_that_keeps_size_and_time_right_after_a_build_is_still_seen(settings, fake_encoder):
    build_index(settings, fake_encoder)
    path = settings.corpus_dir / "cramps.md"
    before = path.stat()
    path.write_text(path.read_text().replace("water", "WATER"), encoding="utf-8")   # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))     # a coarse clock: same time
    assert check_freshness(settings).changed == ("cramps.md",)


def test_a_guide_of_one_enormous_word_leaves_search_memory_bounded(settings, fake_encoder):
    import tracemalloc
    (settings.corpus_dir / "one-word.md").write_text("# One Word\n\n## Body\n\n" + "abcdefghij" * 100_000,
                                                     encoding="utf-8")
    build_index(settings, fake_encoder)
    tracemalloc.start()
    searcher = Searcher.open(settings, fake_encoder)
    result = searcher.search("abcdefghijabcdefghij tingling toes")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"peak {peak:,} bytes to open and search an index holding a 1,000,000-letter word")
    assert result.hits and peak < 50_000_000


def test_identical_sections_are_embedded_once_and_shown_once(settings, fake_encoder):
    sections = "## Same\n\nRepeat after me: stretch the calf.\n\n" * 2000
    (settings.corpus_dir / "repeats.md").write_text(f"# Repeats\n\n{sections}", encoding="utf-8")
    (settings.corpus_dir / "copy.md").write_text("# Copy\n\n## Same\n\nRepeat after me: stretch the calf.\n",
                                                 encoding="utf-8")
    report = build_index(settings, fake_encoder)
    built = fake_encoder.encoded
    searcher = Searcher.open(settings, fake_encoder)
    assert report.chunks == report.embedded == 3 + 2000 + 1
    # 5 distinct texts (the 2,000 repeats are one), then each vocabulary word once
    assert built == 5 + len(searcher.index.vocabulary.words)
    result = searcher.search("repeat after me stretch the calf", top_k=3)
    texts = [hit.text for hit in result.hits]
    assert len(texts) == len(set(texts)) == 3
    assert "copy.md > Same" in result.hits[0].also_in or result.hits[0].source == "copy.md"


def test_readers_never_fail_while_rebuilds_swap_builds(settings, fake_encoder):
    import threading
    build_index(settings, fake_encoder)
    path = settings.corpus_dir / "cramps.md"
    done = threading.Event()

    def rebuild_many() -> None:
        for i in range(40):
            path.write_text(SMALL_GUIDES["cramps.md"] + f"\nEdit {i}.\n", encoding="utf-8")
            build_index(settings, FakeEncoder())
        done.set()

    builder = threading.Thread(target=rebuild_many)
    builder.start()
    loads = failures = 0
    while not done.is_set():
        try:
            index = load_index(settings.index_dir, fake_encoder.name)
            assert len(index.chunks) == index.dense.ntotal == 3
        except Exception:  # noqa: BLE001 -- any failure counts
            failures += 1
        loads += 1
    builder.join()
    print(f"{loads} loads during 40 rebuilds, {failures} failed")
    assert loads > 40 and failures == 0


def test_a_guide_with_a_large_data_uri_image_is_indexed(settings, fake_encoder):
    import base64
    image = base64.b64encode(bytes(range(256)) * 60).decode()          # about 20 KB, no spaces
    (settings.corpus_dir / "diagram.md").write_text(
        f"# Diagram\n\n## Picture\n\n![nerves](data:image/png;base64,{image})\n\nNerves run down the leg.\n",
        encoding="utf-8")
    report = build_index(settings, fake_encoder)
    assert report.guides == 3 and not report.skipped
    chunks = load_index(settings.index_dir, fake_encoder.name).chunks
    assert "".join(c.text for c in chunks if c.source == "diagram.md").replace("\n", "").count(image) == 1


def test_the_vocabulary_keeps_the_most_frequent_words_up_to_its_bound(monkeypatch, fake_encoder):
    from guidesearch import lexical
    monkeypatch.setattr(lexical, "MAX_VOCABULARY", 3)
    texts = ["cramps cramps cramps nerves nerves magnesium zzz", "cramps nerves magnesium qqq"]
    assert lexical.Vocabulary.build(texts, fake_encoder, 8).words == ("cramps", "magnesium", "nerves")


def test_a_guide_that_trips_a_bug_is_skipped_and_the_others_indexed(settings, fake_encoder, monkeypatch):
    from guidesearch import ingest
    parse = ingest.parse_guide

    def broken(text, source):
        if source == "cramps.md":
            raise RuntimeError("parser bug")
        return parse(text, source)

    monkeypatch.setattr(ingest, "parse_guide", broken)
    report = build_index(settings, fake_encoder)
    assert report.guides == 1 and report.skipped[0].source == "cramps.md"
    assert "RuntimeError: parser bug" in report.skipped[0].reason
    assert check_freshness(settings).fresh


def test_a_copy_added_later_is_skipped_and_the_guide_already_indexed_keeps_its_place(settings, fake_encoder):
    original = sorted(SMALL_GUIDES)[-1]
    build_index(settings, fake_encoder)
    # The copy's name sorts first: by name alone it would take over the original's passages.
    (settings.corpus_dir / "aaa-copy.md").write_bytes((settings.corpus_dir / original).read_bytes())
    report = build_index(settings, fake_encoder)
    assert {s.source: s.reason for s in report.skipped} == {"aaa-copy.md": f"same content as {original}"}
    assert "aaa-copy.md" not in {c.source for c in load_index(settings.index_dir, fake_encoder.name).chunks}
    assert "Guide files: 1 added, 0 changed, 0 removed, 2 unchanged since the last build; 1 of them not " \
           "indexed (below)." in report.summary()
    assert check_freshness(settings).fresh


def test_a_copy_indexed_once_its_original_is_removed_is_named(settings, fake_encoder):
    """Found by adversarial testing: the copy, unchanged as a file, was counted "unchanged" with
    nothing to say that it now answers in its original's place."""
    original = sorted(SMALL_GUIDES)[-1]
    build_index(settings, fake_encoder)
    (settings.corpus_dir / "aaa-copy.md").write_bytes((settings.corpus_dir / original).read_bytes())
    assert [item.source for item in build_index(settings, fake_encoder).skipped] == ["aaa-copy.md"]
    (settings.corpus_dir / original).unlink()
    summary = build_index(settings, fake_encoder).summary()
    assert "0 added, 0 changed, 1 removed, 2 unchanged since the last build." in summary
    assert "Indexed now, skipped by the last build: aaa-copy.md." in summary
    assert "aaa-copy.md" in {c.source for c in load_index(settings.index_dir, fake_encoder.name).chunks}
    assert "Indexed now" not in build_index(settings, fake_encoder).summary()


def test_files_that_are_not_guides_are_named_by_the_build(settings, fake_encoder):
    (settings.corpus_dir / "notes.docx").write_bytes(b"PK\x03\x04")
    (settings.corpus_dir / "scan.pdf").write_bytes(b"%PDF-1.4")
    (settings.corpus_dir / ".DS_Store").write_bytes(b"\x00")
    assert "Not read, not .txt, .md or .markdown: notes.docx, scan.pdf." in build_index(settings, fake_encoder).summary()
    assert "Not read, not .txt, .md or .markdown: notes.docx, scan.pdf." in build_index(settings, fake_encoder).summary()


def test_a_folder_that_is_a_link_is_named_by_the_build_not_entered(settings, fake_encoder, tmp_path):
    """Found by adversarial testing: a linked folder of guides was passed over without a word."""
    shared = make_corpus(tmp_path / "elsewhere", {"sleep.md": "# Sleep\n\n## Naps\n\nShort naps help.\n"})
    (settings.corpus_dir / "team").mkdir()
    os.symlink(shared, settings.corpus_dir / "team" / "shared")
    os.symlink(shared, settings.corpus_dir / ".hidden-link")
    os.symlink(settings.corpus_dir / "team", settings.corpus_dir / "inside")    # its guides are read where they are
    report = build_index(settings, fake_encoder)
    assert "Not entered, folders that are links: team/shared/ (put the guides themselves in the corpus " \
           "folder)." in report.summary()
    assert not any(source.startswith("team/") for source in report.diff.added)


def test_a_guide_overwritten_with_another_guides_text_leaves_that_guide_in_place(settings, fake_encoder):
    """Found by adversarial testing: `cp feet/numb.md cramps.md` dropped the unchanged feet/numb.md."""
    build_index(settings, fake_encoder)
    (settings.corpus_dir / "cramps.md").write_bytes((settings.corpus_dir / "feet" / "numb.md").read_bytes())
    report = build_index(settings, fake_encoder)
    assert {s.source: s.reason for s in report.skipped} == {"cramps.md": "same content as feet/numb.md"}
    assert check_freshness(settings).fresh
