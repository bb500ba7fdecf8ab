"""Every maintainer action, in sequence, with the real model through the real CLI.

After each step: build_index.py exits 0 without a traceback, `--check` exits 0, the index holds
exactly the guides the corpus now holds, a search finds each guide by its own words, and the
build embedded only what it had never seen (a delete-only rebuild once crashed in the real
tokenizer while every fake-encoder test passed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from guidesearch.config import DEFAULT_MODEL, Settings
from guidesearch.retrieve import Searcher
from guidesearch.store import load_index

from conftest import ROOT, SEED

MAGNESIUM = ("# Magnesium and Muscle Cramps\n\n## What Magnesium Does\n\nMagnesium helps muscles relax "
             "after they contract. Low magnesium levels can make cramps more likely.\n\n## Food Sources\n\n"
             "Spinach, almonds and black beans are rich in magnesium.\n")
STRETCHING = ("# Stretching for Night Cramps\n\n## Calf Stretch\n\nStand facing a wall and lean forward "
              "with one leg behind you to stretch the calf for thirty seconds.\n\n## When to Stretch\n\n"
              "Stretch before bed to lower the chance of a cramp at night.\n")
QUININE = ("# Tonic Water and Quinine\n\n## Why Quinine Is Not Advised\n\nQuinine, found in tonic water, "
           "was once used for leg cramps but can cause serious bleeding problems.\n")
# A question only each guide answers, and the guide that must come first.
PROBES = {"spinach almonds black beans magnesium": "magnesium",
          "lean on a wall to stretch the calf for thirty seconds": "stretch",
          "tonic water quinine bleeding": "quinine"}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=600)


class Maintainer:
    """A corpus and an index, changed and rebuilt as a maintainer does, checked after each step."""

    def __init__(self, base, encoder) -> None:
        self.corpus, self.index, self.encoder = base / "corpus", base / "index", encoder
        self.corpus.mkdir()
        shutil.copy(SEED, self.corpus / SEED.name)

    def folders(self) -> list[str]:
        return ["--corpus", str(self.corpus), "--index", str(self.index)]

    def build(self, *flags: str) -> tuple[int, int, str]:
        """Run build_index.py; (chunks embedded, chunks reused, its output)."""
        done = cli("build_index.py", *self.folders(), *flags)
        output = done.stdout + done.stderr
        assert done.returncode == 0 and "Traceback" not in output, output
        embedded, reused = map(int, re.search(r"Chunks: (\d+) embedded, (\d+) reused", output).groups())
        return embedded, reused, output

    def check(self, *flags: str) -> subprocess.CompletedProcess:
        return cli("build_index.py", *self.folders(), "--check", *flags)

    def assert_serves_exactly_the_corpus(self, *flags: str) -> None:
        done = self.check(*flags)
        assert done.returncode == 0, done.stdout + done.stderr
        on_disk = {p.relative_to(self.corpus).as_posix() for p in self.corpus.rglob("*.*")}
        index = load_index(self.index, DEFAULT_MODEL)
        assert {chunk.source for chunk in index.chunks} == on_disk - set(index.manifest.skipped)
        searcher = Searcher.open(Settings(corpus_dir=self.corpus, index_dir=self.index), self.encoder)
        for question, word in PROBES.items():
            sources = [hit.source for hit in searcher.search(question, top_k=20).hits]
            present = [name for name in on_disk if word in name and name not in index.manifest.skipped]
            if present:
                assert sources[0] in present, (question, sources)
            else:
                assert not any(word in source for source in sources), (question, sources)


@pytest.fixture(scope="module")
def day(tmp_path_factory, encoder) -> Maintainer:
    return Maintainer(tmp_path_factory.mktemp("lifecycle"), encoder)


def test_01_first_build(day):
    (day.corpus / "magnesium.md").write_text(MAGNESIUM, encoding="utf-8")
    (day.corpus / "stretching.md").write_text(STRETCHING, encoding="utf-8")
    embedded, reused, _ = day.build()
    assert reused == 0 and embedded >= 18
    day.first_total = embedded
    day.assert_serves_exactly_the_corpus()


def test_02_add_a_guide(day):
    (day.corpus / "quinine.md").write_text(QUININE, encoding="utf-8")
    assert day.check().returncode == 1
    assert day.build()[:2] == (1, day.first_total)
    day.assert_serves_exactly_the_corpus()


def test_03_edit_one_section(day):
    (day.corpus / "magnesium.md").write_text(MAGNESIUM.replace("black beans", "black beans and pumpkin seeds"),
                                             encoding="utf-8")
    embedded, reused, output = day.build()
    assert (embedded, reused) == (1, day.first_total) and "1 changed" in output
    day.assert_serves_exactly_the_corpus()


def test_04_delete_a_guide_alone(day):
    (day.corpus / "magnesium.md").unlink()
    embedded, reused, output = day.build()
    assert (embedded, reused) == (0, day.first_total + 1 - 2) and "1 removed" in output
    day.assert_serves_exactly_the_corpus()


def test_05_rename_a_guide(day):
    (day.corpus / "stretching.md").rename(day.corpus / "calf-stretching.md")
    embedded, _, output = day.build()
    assert embedded == 0 and "1 added" in output and "1 removed" in output
    day.assert_serves_exactly_the_corpus()


def test_06_move_a_guide_into_a_sub_folder(day):
    (day.corpus / "exercise").mkdir()
    (day.corpus / "calf-stretching.md").rename(day.corpus / "exercise" / "calf-stretching.md")
    assert day.build()[0] == 0
    day.assert_serves_exactly_the_corpus()


def test_07_replace_a_guide_by_an_identical_copy_under_a_new_name(day):
    shutil.copy(day.corpus / "quinine.md", day.corpus / "quinine-and-tonic-water.md")
    (day.corpus / "quinine.md").unlink()
    embedded, _, output = day.build()
    assert embedded == 0 and "1 added, 0 changed, 1 removed" in output
    day.assert_serves_exactly_the_corpus()


def test_08_change_a_setting_that_shapes_the_index(day):
    embedded, reused, _ = day.build("--max-tokens", "96")
    assert embedded > 0 and reused > 0            # long sections are cut again, short ones kept
    stale = day.check()
    assert stale.returncode == 1 and "tokens per chunk: built with 96, now 128" in stale.stdout
    day.assert_serves_exactly_the_corpus("--max-tokens", "96")
    back, _, _ = day.build()
    assert back == 0                               # the 128-token chunks' vectors were kept
    day.assert_serves_exactly_the_corpus()


def test_09_a_token_limit_above_the_models_is_the_models(day):
    embedded, _, _ = day.build("--max-tokens", "256")     # the model's own limit
    assert embedded > 0
    embedded, _, output = day.build("--max-tokens", "1000")
    assert embedded == 0 and "nothing was rebuilt" in output and "above what" in output
    day.assert_serves_exactly_the_corpus("--max-tokens", "1000")


def test_10_delete_every_guide_but_one(day):
    shutil.rmtree(day.corpus / "exercise")
    (day.corpus / "quinine-and-tonic-water.md").unlink()
    embedded, reused, output = day.build()
    assert (embedded, reused) == (0, day.first_total - 4) and "2 removed" in output
    day.assert_serves_exactly_the_corpus()


def test_11_restore_a_deleted_guide_reuses_its_vectors(day):
    (day.corpus / "stretching.md").write_text(STRETCHING, encoding="utf-8")
    embedded, reused, output = day.build()
    assert (embedded, reused) == (0, day.first_total - 2) and "1 added" in output   # the seed and it
    day.assert_serves_exactly_the_corpus()


def test_12_raising_the_size_limit_indexes_a_guide_skipped_as_too_large(day):
    paragraphs = "\n\n".join(f"## Exercise {i}\n\nWalk for {i + 5} minutes, then stretch both calves "
                             "gently for half a minute each." for i in range(200))
    (day.corpus / "big.md").write_text(f"# Walking Plan\n\n{paragraphs}\n", encoding="utf-8")
    assert (day.corpus / "big.md").stat().st_size > 10_000 > SEED.stat().st_size
    embedded, _, output = day.build("--max-file-bytes", "10000")
    assert embedded == 0 and "Skipped big.md" in output and "raise it with --max-file-bytes" in output
    day.assert_serves_exactly_the_corpus("--max-file-bytes", "10000")
    stale = day.check("--max-file-bytes", "100000")
    assert stale.returncode == 1 and "file size limit" in stale.stdout
    embedded, _, output = day.build("--max-file-bytes", "100000")
    assert embedded > 0 and "Settings: the file size limit: built with 10000, now 100000" in output
    day.assert_serves_exactly_the_corpus("--max-file-bytes", "100000")
    assert "big.md" in {c.source for c in load_index(day.index, DEFAULT_MODEL).chunks}


def test_13_a_token_limit_no_heading_fits_fails_in_one_line_and_keeps_the_index(day):
    (day.corpus / "big.md").unlink()
    before = (day.index / "CURRENT").read_text()
    done = cli("build_index.py", *day.folders(), "--max-tokens", "16")
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: No guide") and "cannot be chunked" in done.stderr
    assert (day.index / "CURRENT").read_text() == before
    stale = day.check("--max-file-bytes", "100000")
    assert stale.returncode == 1 and "1 guide file(s) removed since the build: big.md" in stale.stdout
    embedded, _, _ = day.build("--max-file-bytes", "100000")
    assert embedded == 0
    day.assert_serves_exactly_the_corpus("--max-file-bytes", "100000")
