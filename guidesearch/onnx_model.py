"""The model as ONNX, run by onnxruntime: made locally from the installed weights, once.

The export (torch.onnx) and the int8 form (onnxruntime's dynamic quantization, per-channel)
are written to the cache folder (Settings.cache_dir) on first use and checked against the
sentence-transformers output before they are kept; nothing is downloaded. Tokenizing uses the
model's own tokenizer.json (the `tokenizers` library); mean pooling and normalisation, which
sentence-transformers does for this model, are done here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from guidesearch.backends import Backend
from guidesearch.config import DEFAULT_MODEL, PACKAGED_MODELS
from guidesearch.embed import quiet_weight_loading, resolve_model_path, unit_rows
from guidesearch.errors import ModelError

# A converted form is kept only if it agrees with sentence-transformers fp32 on these texts.
PROBES = ("Why do my calves cramp at night?", "Nerve damage can cause muscle cramps and weakness.",
          "leg cramps", "Stretch the calf muscle and drink water before bed.")
MIN_AGREEMENT = {"fp32": 0.999, "int8": 0.97}     # cosine with the fp32 reference, per probe
OPSET = 17
FILE_OF = {"fp32": "model.onnx", "int8": "model-int8.onnx"}


class OnnxEncoder:
    """An ONNX export of a mean-pooling sentence-transformers model, run by onnxruntime."""

    def __init__(self, model_name: str, cache_dir: Path, backend: Backend, threads: int) -> None:
        folder = Path(resolve_model_path(model_name))
        if not folder.is_dir():
            raise ModelError(f"The {backend.name} backend needs the model as a local folder, and "
                             f"{model_name!r} is not one. Use GUIDESEARCH_BACKEND=torch.")
        self.name = DEFAULT_MODEL if model_name in PACKAGED_MODELS else model_name
        self.backend, self.precision = backend.name, backend.precision
        self.max_tokens, self.dimension = _read_config(folder)
        self._tokenizer, self._counter = _tokenizers(folder, self.max_tokens)
        path = converted_model(folder, cache_dir, backend.precision)
        self._session = _session(path, threads)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text as the model reads it, special tokens included, nothing truncated."""
        return [len(encoding.ids) for encoding in self._counter.encode_batch(list(texts))] if texts else []

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text. Texts are batched by length, so that
        a batch pads little."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            vectors[rows] = self._run([texts[i] for i in rows])
        return vectors

    def _run(self, texts: list[str]) -> np.ndarray:
        return _mean_pooled(self._session, self._tokenizer, texts)


def _mean_pooled(session, tokenizer, texts: list[str]) -> np.ndarray:
    """Unit vectors: the mean of the token vectors of each text, padding left out."""
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, {item.name: feed[item.name] for item in session.get_inputs()})[0]
    summed = (hidden * mask[..., None]).sum(axis=1)
    return unit_rows(summed / np.maximum(mask.sum(axis=1, keepdims=True), 1))


def _read_config(folder: Path) -> tuple[int, int]:
    """(max tokens, dimension) from the sentence-transformers configuration; refuses a model
    whose pooling is not the mean of token vectors (the one pooling done here)."""
    try:
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        if not pooling.get("pooling_mode_mean_tokens") or any(
                pooling.get(key) for key in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                             "pooling_mode_mean_sqrt_len_tokens")):
            raise ValueError("its pooling is not the mean of token vectors")
        return int(config["max_seq_length"]), int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"The ONNX backends cannot run the model in {folder} ({exc}). "
                         "Use GUIDESEARCH_BACKEND=torch.") from exc


def _tokenizers(folder: Path, max_tokens: int):
    """One tokenizer that truncates and pads (for the model), one that does neither (to count)."""
    from tokenizers import Tokenizer
    try:
        model = Tokenizer.from_file(str(folder / "tokenizer.json"))
        counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception as exc:  # the library raises its own kinds for a missing or bad file
        raise ModelError(f"Cannot read the tokenizer of {folder} ({exc}). Use GUIDESEARCH_BACKEND=torch.") from exc
    model.enable_truncation(max_tokens)
    model.enable_padding()
    counter.no_truncation()
    counter.no_padding()
    return model, counter


def _session(path: Path, threads: int):
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError("The ONNX backends need onnxruntime: pip install -r requirements.txt, "
                         "or use GUIDESEARCH_BACKEND=torch.") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3          # no notices about graph rewrites on every start
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own kinds for a damaged file
        path.unlink(missing_ok=True)        # made again on the next start
        raise ModelError(f"The converted model {path} could not be loaded ({exc}); it was removed "
                         "and is made again on the next start.") from exc


def converted_model(folder: Path, cache_dir: Path, precision: str) -> Path:
    """The model's ONNX file in precision ("fp32" or "int8"), made and checked on first use.

    Raises:
        ModelError: it cannot be made (a package missing, the cache not writable, or the
            result does not agree with the reference).
    """
    target = cache_dir / "onnx" / _weights_key(folder)
    path = target / FILE_OF[precision]
    if path.is_file():
        return path
    import filelock
    try:
        target.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(target / ".lock", timeout=600):
            if not path.is_file():          # another process may have made it meanwhile
                _convert(folder, target)
    except (OSError, filelock.Timeout) as exc:
        raise ModelError(f"Cannot write the converted model to {target} ({exc}). Set "
                         "GUIDESEARCH_CACHE to a folder you can write, or use GUIDESEARCH_BACKEND=torch.") from exc
    return path


def _weights_key(folder: Path) -> str:
    """A folder name that changes when the weights do (a reinstall writes them anew)."""
    stamps = sorted(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                    for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".json"))
    digest = hashlib.sha256(f"{folder.resolve()}|{'|'.join(stamps)}".encode()).hexdigest()[:16]
    return f"{folder.name}-{digest}"


def _convert(folder: Path, target: Path) -> None:
    """Export fp32 and quantize to int8 in a scratch folder; keep both only if they agree with
    sentence-transformers on PROBES."""
    with tempfile.TemporaryDirectory(dir=target, prefix=".making-") as scratch:
        fp32, int8 = Path(scratch) / FILE_OF["fp32"], Path(scratch) / FILE_OF["int8"]
        reference = _export(folder, fp32)
        _quantize(fp32, int8)
        for precision, path in (("fp32", fp32), ("int8", int8)):
            _check_agreement(folder, path, precision, reference)
        for path in (int8, fp32):           # fp32 last: its presence means both are there
            os.replace(path, target / path.name)


def _export(folder: Path, path: Path) -> np.ndarray:
    """torch.onnx export of the transformer (token vectors out); returns the reference vectors
    of PROBES from sentence-transformers fp32."""
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError("Making the ONNX model needs torch and sentence-transformers: "
                         "pip install -r requirements.txt.") from exc
    quiet_weight_loading()      # the first search of a fresh cache converts: no bar on its stderr
    model = SentenceTransformer(str(folder), device="cpu")
    reference = model.encode(list(PROBES), normalize_embeddings=True, convert_to_numpy=True)
    transformer = model[0].auto_model.eval()

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                    token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")         # tracer notes about Python control flow
        torch.onnx.export(TokenVectors(), (sample, torch.ones_like(sample), torch.zeros_like(sample)),
                          str(path), input_names=names, output_names=["token_vectors"],
                          dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "token_vectors"]},
                          opset_version=OPSET, dynamo=False)
    return np.asarray(reference, dtype=np.float32)


def _quantize(source: Path, target: Path) -> None:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ModelError("Making the int8 model needs onnxruntime and onnx: pip install -r requirements.txt.") from exc
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)            # the quantizer logs advice meant for image models
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def _check_agreement(folder: Path, path: Path, precision: str, reference: np.ndarray) -> None:
    max_tokens, dimension = _read_config(folder)
    tokenizer, _ = _tokenizers(folder, max_tokens)
    vectors = _mean_pooled(_session(path, 1), tokenizer, list(PROBES))
    agreement = float((vectors * reference).sum(axis=1).min())
    if vectors.shape[1] != dimension or agreement < MIN_AGREEMENT[precision]:
        raise ModelError(f"The {precision} ONNX model made from {folder} does not agree with the "
                         f"reference (cosine {agreement:.4f}); use GUIDESEARCH_BACKEND=torch.")
