"""Which engine runs the model: the fastest this machine supports, and the fp32 reference.

Every backend runs the same model weights; they differ in engine and number format:
    torch       sentence-transformers in fp32: the reference, always available
    torch-bf16  the same in bfloat16, where the CPU has bf16 instructions (avx512_bf16, amx_bf16)
    onnx        an ONNX export of the weights run by onnxruntime, fp32
    onnx-int8   that export with int8 weights (dynamic quantization)
    auto        passages (builds): torch-bf16 where supported, else torch; questions: onnx
                (fp32) for the packaged model, with onnx-int8 where the coverage check reads
                no vector (see embed.fast_encoder), else the passages' backend

Figures behind the choices are in bench/results/speed.md (python bench/speed.py).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from guidesearch.config import DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backend:
    name: str           # one of config.BACKENDS but "auto"
    engine: str         # "torch" or "onnx"
    precision: str      # "fp32", "bf16" or "int8"


TORCH = Backend("torch", "torch", "fp32")
TORCH_BF16 = Backend("torch-bf16", "torch", "bf16")
ONNX = Backend("onnx", "onnx", "fp32")
ONNX_INT8 = Backend("onnx-int8", "onnx", "int8")
BY_NAME = {backend.name: backend for backend in (TORCH, TORCH_BF16, ONNX, ONNX_INT8)}

# Question precisions measured to rank as well as the passages' own precision, for the packaged
# model: MedQuAD dev nDCG@10 within 0.05 points of fp32/fp32 on all 7,202 questions
# (bench/results/speed.md). Any other pairing, or another model, asks questions in the precision
# the passages were embedded in. int8 questions shift the coverage check's word-drop gains by up
# to 0.015 (enough to miss "pickle juice" with thresholds calibrated in fp32), so the search asks
# in int8 only where the verdict reads no vector (retrieve.Searcher.search).
COMPATIBLE_QUESTIONS: dict[str, frozenset[str]] = {
    "fp32": frozenset({"fp32", "bf16", "int8"}),
    "bf16": frozenset({"fp32", "bf16", "int8"}),
}

# One question is a few dozen tokens: a second thread costs more in hand-off than it saves, and
# far more when the machine is busy (bench/results/speed.md). Builds use every core.
QUESTION_THREADS = 1


def build_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where they cannot be read."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_bf16() -> bool:
    """bf16 matrix instructions: without them torch emulates bf16, slower than fp32."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def passage_backend(settings: Settings) -> Backend:
    """The backend that embeds passages in a build (and what the index's shape records)."""
    if settings.backend == "auto":
        return TORCH_BF16 if cpu_has_bf16() and _packaged(settings) else TORCH
    chosen = BY_NAME[settings.backend]
    if chosen.precision == "bf16" and not cpu_has_bf16():
        log.warning("This CPU has no bf16 instructions: embedding in fp32 instead.")
        return TORCH
    return chosen


def question_backend(settings: Settings, passage_precision: str) -> Backend:
    """The backend that embeds questions for an index whose passages are in passage_precision.

    "auto" takes the fastest measured to keep quality; an explicit backend is used when its
    precision is compatible with the passages' and otherwise replaced by the passages' own.
    """
    if settings.backend == "auto":
        candidates = [ONNX] if _packaged(settings) and onnx_available() else []
        candidates += [TORCH_BF16] if cpu_has_bf16() and _packaged(settings) else []
        candidates.append(TORCH)
    else:
        candidates = [passage_backend(settings), TORCH]
    for backend in candidates:
        if questions_compatible(passage_precision, backend.precision, settings.model_name):
            return backend
    # Nothing asked for suits the passages: ask in their own precision.
    return {"int8": ONNX_INT8, "bf16": TORCH_BF16}.get(passage_precision, TORCH)


def questions_compatible(passage_precision: str, question_precision: str, model_name: str) -> bool:
    """Whether questions in question_precision were measured to rank these passages well."""
    if question_precision == passage_precision:
        return True
    return model_name == DEFAULT_MODEL and question_precision in COMPATIBLE_QUESTIONS.get(passage_precision, ())


def _packaged(settings: Settings) -> bool:
    """Converted and reduced-precision forms are measured for the packaged model only."""
    return settings.model_name == DEFAULT_MODEL
