"""Backends: which engine runs the model, the fallbacks, and that they all agree with fp32."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from guidesearch import backends
from guidesearch.backends import (ONNX, ONNX_INT8, TORCH, TORCH_BF16, passage_backend, question_backend,
                                  questions_compatible)
from guidesearch.build import build_index
from guidesearch.config import DEFAULT_MODEL, Settings
from guidesearch.embed import load_encoder, question_encoder
from guidesearch.errors import IndexMismatchError, ModelError, SettingsError
from guidesearch.freshness import check_freshness
from guidesearch.retrieve import Searcher

from conftest import ROOT, FakeEncoder

TEXTS = ["why do my calves cramp at night?", "B12", "", "Nerve damage. " * 200,
         "Peripheral neuropathy — “burning” feet; café au lait 😖"]


@pytest.fixture
def no_bf16(monkeypatch):
    """A CPU without bf16 instructions (most CPUs before 2020)."""
    monkeypatch.setattr(backends, "cpu_flags", lambda: frozenset({"avx2", "fma"}))


@pytest.fixture
def with_bf16(monkeypatch):
    monkeypatch.setattr(backends, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))


def test_auto_embeds_passages_in_bf16_where_the_cpu_has_it(with_bf16):
    assert passage_backend(Settings()) == TORCH_BF16


def test_auto_falls_back_to_fp32_without_bf16(no_bf16):
    assert passage_backend(Settings()) == TORCH
    assert passage_backend(Settings(backend="torch-bf16")) == TORCH     # asked for, but not emulated
    assert question_backend(Settings(), "fp32") == ONNX


def test_auto_asks_questions_with_onnx_and_without_it_with_torch(with_bf16, monkeypatch):
    assert question_backend(Settings(), "bf16") == ONNX
    monkeypatch.setattr(backends, "onnx_available", lambda: False)
    assert question_backend(Settings(), "bf16") == TORCH_BF16
    monkeypatch.setattr(backends, "cpu_flags", lambda: frozenset())
    assert question_backend(Settings(), "bf16") == TORCH


def test_other_models_use_the_reference_backend(with_bf16):
    other = Settings(model_name="some/other-model")
    assert passage_backend(other) == TORCH and question_backend(other, "fp32") == TORCH


def test_a_question_precision_not_measured_for_the_passages_is_replaced(with_bf16):
    assert question_backend(Settings(backend="onnx-int8"), "bf16") == ONNX_INT8      # measured
    assert question_backend(Settings(backend="onnx"), "int8") == ONNX_INT8           # not measured
    assert question_backend(Settings(backend="onnx"), "bf16") == ONNX
    assert questions_compatible("bf16", "fp32", DEFAULT_MODEL)
    assert questions_compatible("fp32", "int8", DEFAULT_MODEL)
    assert not questions_compatible("bf16", "fp32", "some/other-model")
    assert not questions_compatible("int8", "fp32", DEFAULT_MODEL)


def test_only_questions_whose_verdict_reads_no_vector_take_the_fast_encoder(small_settings):
    build_index(small_settings, FakeEncoder())
    reference, fast = FakeEncoder(), FakeEncoder()
    searcher = Searcher.open(small_settings, reference, fast)
    reference.encoded = 0       # opening measured how close made-up words come to corpus words
    searcher.search("nerve damage cramps", evidence=False)          # every key word in the corpus
    assert (reference.encoded, fast.encoded) == (0, 1)
    searcher.search("pickle juice for cramps", evidence=False)      # unknown words: probes too
    assert reference.encoded == 7 and fast.encoded == 1     # question, 2 words, 1 phrase: each alone and dropped


def test_an_unknown_backend_is_a_one_line_settings_error(monkeypatch):
    monkeypatch.setenv("GUIDESEARCH_BACKEND", "gpu")
    with pytest.raises(SettingsError, match="Unknown backend 'gpu': use one of auto, torch"):
        Settings.from_env()


@pytest.fixture(scope="module")
def reference(model_cache):
    return load_encoder(Settings.from_env(), TORCH, 1)


@pytest.mark.parametrize("backend, agreement", [(TORCH_BF16, 0.99), (ONNX, 0.999), (ONNX_INT8, 0.95)],
                         ids=lambda value: getattr(value, "name", str(value)))
def test_every_backend_gives_unit_vectors_that_agree_with_fp32(reference, backend, agreement):
    encoder = load_encoder(Settings.from_env(), backend, 1)
    vectors = encoder.encode(TEXTS, batch_size=2)
    expected = reference.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * expected).sum(axis=1).min() > agreement
    assert encoder.count_tokens(TEXTS) == reference.count_tokens(TEXTS)
    assert (encoder.name, encoder.max_tokens, encoder.precision) == (DEFAULT_MODEL, 256, backend.precision)


def test_the_onnx_model_is_made_once_and_remade_when_damaged(model_cache):
    settings = Settings.from_env()
    load_encoder(settings, ONNX, 1)
    (made,) = list(model_cache.glob("onnx/*/model.onnx"))
    stamp = made.stat().st_mtime_ns
    load_encoder(settings, ONNX, 1)
    assert made.stat().st_mtime_ns == stamp             # read from the cache, not made again
    made.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="could not be loaded"):
        load_encoder(settings, ONNX, 1)
    assert load_encoder(settings, ONNX, 1).encode(["leg cramps"]).shape == (1, 384)


def test_a_cache_that_cannot_be_written_falls_back_to_torch(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    settings = Settings.from_env(cache_dir=blocked / "cache")
    assert question_encoder(settings, "fp32").backend == "torch"        # auto: falls back
    with pytest.raises(ModelError, match="GUIDESEARCH_CACHE"):
        load_encoder(settings.with_(backend="onnx"), ONNX, 1)            # asked for: says why


def test_the_index_records_its_passage_precision_and_a_change_rebuilds_everything(small_settings, with_bf16):
    fp32 = FakeEncoder()
    build_index(small_settings, fp32)
    assert check_freshness(small_settings).fresh
    in_bf16 = small_settings.with_(backend="torch-bf16")
    assert check_freshness(in_bf16).settings == ("passage precision: built with 'fp32', now 'bf16'",)
    bf16 = FakeEncoder()
    bf16.precision = "bf16"
    report = build_index(in_bf16, bf16)
    assert check_freshness(in_bf16).fresh
    assert report.embedded == report.chunks and report.reused == 0    # fp32 vectors are not mixed in
    assert bf16.counted == []                                         # but the chunks are reused
    with pytest.raises(IndexMismatchError, match="were not measured"):
        Searcher.open(small_settings, fp32)


def test_input_errors_answer_before_anything_heavy_is_imported():
    code = ("import sys\nfrom guidesearch.cli import main\n"
            "for argv in (['search', ''], ['search', '?!'], ['search', 'x', '-k', '0']):\n"
            "    try:\n        print(main(argv))\n    except SystemExit as exit:\n        print(exit.code)\n"
            "print(sorted(m for m in ('torch', 'onnxruntime', 'faiss', 'sentence_transformers', 'numpy') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split("\n")[:4] == ["1", "1", "2", "[]"], done.stdout + done.stderr
    assert "The question is empty" in done.stderr and "-k (--top-k) must be at least 1" in done.stderr


def test_two_processes_starting_together_make_the_onnx_model_once(tmp_path):
    code = ("from guidesearch.backends import ONNX\nfrom guidesearch.config import Settings\n"
            "from guidesearch.embed import load_encoder\n"
            "print(load_encoder(Settings.from_env(), ONNX, 1).encode(['leg cramps']).shape)")
    env = {**os.environ, "GUIDESEARCH_CACHE": str(tmp_path / "cache")}
    starts = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in starts]
    assert [out for out, _ in outputs] == ["(1, 384)\n"] * 2, outputs
    folder = next((tmp_path / "cache" / "onnx").iterdir())
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".lock")) == ["model-int8.onnx", "model.onnx"]
