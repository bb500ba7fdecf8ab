"""Speed, memory and ranking quality of Guide Search against a plain baseline, in one run.

The baseline is what a LangChain user gets: sentence-transformers in fp32 with torch's default
thread count, one question at a time, and an exact FAISS inner-product search (top 5) over the
same passage vectors. The project is open_searcher / Searcher.search: hybrid ranking, coverage
check and evidence sentences, with the question encoder backend "auto" picks.

    python bench/speed.py                      # 300 questions, 600 passages (seeded samples)
    python bench/speed.py --all --out bench/results/speed.md
    python bench/speed.py --json

The seed corpus is indexed into a temporary folder at the start. The MedQuAD rows need two
indexes built beforehand (10-30 minutes each); they are skipped, saying why, when missing or stale:
    python build_index.py --corpus ../shared/medquad/guides --index bench/work/medquad-index --backend auto
    python build_index.py --corpus ../shared/medquad/guides --index bench/work/medquad-index-fp32 --backend torch

Contains data from MedQuAD (Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019),
https://github.com/abachaa/MedQuAD, licensed under CC BY 4.0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

# Read before any project encoder runs: the torch ones set the thread count on every call.
DEFAULT_THREADS = torch.get_num_threads()
# The same for FAISS's OpenMP threads: the project's searches set one thread on every call.
DEFAULT_FAISS_THREADS = faiss.omp_get_max_threads()

from sentence_transformers import SentenceTransformer  # noqa: E402

from guidesearch.backends import (BY_NAME, ONNX, ONNX_INT8, QUESTION_THREADS, TORCH,  # noqa: E402
                                  TORCH_BF16, cpu_flags, passage_backend)
from guidesearch.build import build_index  # noqa: E402
from guidesearch.chunk import chunk_sections  # noqa: E402
from guidesearch.config import DEFAULT_MODEL, Settings  # noqa: E402
from guidesearch.coverage import CoverageCheck  # noqa: E402
from guidesearch.embed import load_encoder, passage_encoder, resolve_model_path  # noqa: E402
from guidesearch.evaluate import Question, evaluate, read_questions  # noqa: E402
from guidesearch.freshness import check_freshness  # noqa: E402
from guidesearch.ingest import list_guide_files, read_guide  # noqa: E402
from guidesearch.records import Guide, Hit, SearchResult  # noqa: E402
from guidesearch.retrieve import Searcher, open_searcher  # noqa: E402
from guidesearch.store import StoredIndex, load_index  # noqa: E402

MEDQUAD = ROOT.parent / "shared" / "medquad"
WORK = ROOT / "bench" / "work"
SEED_QUESTIONS = ROOT / "tests" / "data" / "seed_questions.jsonl"
CREDIT = ("Contains data from MedQuAD (Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019), "
          "https://github.com/abachaa/MedQuAD, licensed under CC BY 4.0.")
WARMUP = 5          # questions run before timing starts: first calls pay for lazy set-up
SEED = 7
# MedQuAD indexes by the backend they are built with: "torch" embeds fp32 passages, "auto" bf16.
MEDQUAD_INDEXES = (("torch", WORK / "medquad-index-fp32"), ("auto", WORK / "medquad-index"))
# (passage precision, question backend); "auto" is what open_searcher picks for that index.
PAIRINGS = (("fp32", "torch"), ("bf16", "auto"), ("bf16", "torch-bf16"), ("bf16", "onnx-int8"),
            ("fp32", "onnx-int8"))
ENCODER_BACKENDS = (TORCH, TORCH_BF16, ONNX, ONNX_INT8)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=300,
                        help="questions timed per latency row, and sampled for nDCG (default 300)")
    parser.add_argument("--passages", type=int, default=600, help="passages embedded per build row (default 600)")
    parser.add_argument("--all", action="store_true", help="nDCG rows on every question (7,202 on MedQuAD)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args()
    if args.questions < 2 or args.passages < 1:
        parser.error("--questions must be at least 2 (for percentiles) and --passages at least 1")
    return args


def progress(message: str) -> None:
    print(f"[speed] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- rows


@dataclass
class Row:
    what: str
    baseline: str
    project: str
    ratio: str
    notes: str = ""
    figures: dict = field(default_factory=dict)     # the raw numbers, for --json
    medquad: bool = False                           # holds MedQuAD figures: the credit is due


def skipped(what: str, why: str, medquad: bool = False) -> Row:
    return Row(what, "–", "–", "–", f"skipped: {why}", medquad=medquad)


def guarded(what: str, make_rows: Callable[[], list[Row]], medquad: bool = False) -> list[Row]:
    """The rows of one measurement, or one row saying why it could not be made: a benchmark
    that stops on the last row after 40 minutes loses every figure before it."""
    try:
        return make_rows()
    except Exception as exc:  # any failure: reported in the row, never as a traceback
        why = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        progress(f"{what}: {why}")
        return [skipped(what, why, medquad)]


def p50_p95(ms: Sequence[float]) -> tuple[float, float]:
    low, high = np.percentile(np.asarray(ms, dtype=np.float64), [50, 95])
    return float(low), float(high)


def latency_row(what: str, base_ms: Sequence[float], proj_ms: Sequence[float], notes: str,
                medquad: bool = False) -> Row:
    (b50, b95), (p50, p95) = p50_p95(base_ms), p50_p95(proj_ms)
    figures = {"baseline_p50_ms": b50, "baseline_p95_ms": b95, "project_p50_ms": p50,
               "project_p95_ms": p95, "measured": len(proj_ms)}
    return Row(what, f"{b50:.1f} / {b95:.1f}", f"{p50:.1f} / {p95:.1f}",
               f"{p50 / b50:.2f} / {p95 / b95:.2f}", notes, figures, medquad)


def sample(items: Sequence, count: int) -> list:
    """count items drawn with random.Random(7): each once while there are enough, then the
    whole list again in another order (latency rows may want more questions than a set has)."""
    rng, picked = random.Random(SEED), []
    while len(picked) < count and items:
        picked += rng.sample(list(items), min(len(items), count - len(picked)))
    return picked


def interleave(calls: dict[str, Callable[[str], object]], questions: Sequence[str]) -> dict[str, list[float]]:
    """Milliseconds per call, by name. Every question runs every call, in an order rotated per
    question, so that a change in the machine's load falls on all of them alike; the first
    WARMUP questions are run but not kept."""
    names, times = list(calls), {name: [] for name in calls}
    for i, question in enumerate(questions):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            calls[name](question)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= WARMUP:
                times[name].append(elapsed)
    return times


# ---------------------------------------------------------------- the baseline


def st_encode(model: SentenceTransformer, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    # The project's torch encoders set torch's thread count on each call; the baseline runs as
    # it would in a process of its own, with torch's default.
    if torch.get_num_threads() != DEFAULT_THREADS:
        torch.set_num_threads(DEFAULT_THREADS)
    vectors = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    return np.ascontiguousarray(vectors, dtype=np.float32)


class Baseline:
    """What a LangChain user gets: sentence-transformers fp32 and an exact FAISS inner-product
    search over given passage vectors, returning the chunks as they rank (repeats included)."""

    def __init__(self, model: SentenceTransformer, index: StoredIndex) -> None:
        self.model, self.chunks = model, index.chunks
        self.dense = faiss.IndexFlatIP(index.vectors.shape[1])
        self.dense.add(np.ascontiguousarray(index.vectors, dtype=np.float32))

    def search(self, question: str, top_k: int = 5) -> list[tuple[float, int]]:
        vector = st_encode(self.model, [question])
        faiss.omp_set_num_threads(DEFAULT_FAISS_THREADS)
        scores, rows = self.dense.search(vector, top_k)
        return [(float(s), int(r)) for s, r in zip(scores[0], rows[0]) if r >= 0]

    def result(self, question: str, top_k: int = 10) -> SearchResult:
        """The baseline's answer in the form evaluate scores (it has no coverage check)."""
        hits = tuple(Hit(rank, score, score, self.chunks[row])
                     for rank, (score, row) in enumerate(self.search(question, top_k), 1))
        return SearchResult(question, hits, True)


# ---------------------------------------------------------------- corpora and indexes


@dataclass
class Corpus:
    """One corpus and what the rows need of it; what is missing says why."""

    name: str
    questions: list[Question]
    searcher: Searcher | None = None        # open_searcher on the index backend "auto" builds
    indexes: dict[str, tuple[Settings, StoredIndex]] = field(default_factory=dict)  # by passage precision
    missing: list[str] = field(default_factory=list)    # in full, with the fix: listed under the table
    short: dict[str, str] = field(default_factory=dict)  # the same in a few words, by passage precision
    medquad: bool = False
    passage_encoder: object = None          # the encoder that built the auto index (seed only)

    def lacks(self, full: str, short: str = "", precision: str = "any") -> None:
        progress(full)
        self.missing.append(full)
        self.short[precision] = short or full

    def why_missing(self, precision: str = "any") -> str:
        """Why the index of precision passages (or anything at all) is not there."""
        return self.short.get(precision) or "; ".join(self.short.values()) or "not available"


def seed_corpus(tmp: Path) -> Corpus:
    """The seed corpus indexed twice into temporary folders: fp32 passages ("torch") and the
    passages a build makes by default ("auto": bf16 where the CPU has bf16 instructions)."""
    corpus = Corpus("seed corpus", read_questions(SEED_QUESTIONS))
    for backend in ("torch", "auto"):
        settings = Settings(corpus_dir=ROOT / "corpus", index_dir=tmp / f"seed-{backend}", backend=backend)
        encoder = passage_encoder(settings)
        report = build_index(settings, encoder, log=lambda m: progress(f"seed build: {m}"))
        progress(f"seed index ({backend}, {encoder.precision} passages): {report.chunks} chunks, "
                 f"{report.embedded} embedded in {report.seconds:.1f} s")
        if backend == "auto":
            corpus.searcher, corpus.passage_encoder = open_searcher(settings=settings), encoder
            corpus.indexes.setdefault(encoder.precision, (settings, corpus.searcher.index))
        else:
            corpus.indexes[encoder.precision] = (settings, load_index(settings.index_dir, settings.model_name))
    return corpus


def stale_reason(settings: Settings) -> tuple[str, str]:
    """Why the index in settings.index_dir cannot be measured: in full, with the command that
    fixes it, and in a few words; ("", "") when it is up to date."""
    diff = check_freshness(settings)
    if diff.fresh:
        return "", ""
    folder = settings.index_dir.relative_to(ROOT)
    short = f"{folder} is {'missing' if diff.missing else 'not up to date'}"
    return (f"{short} ({diff.describe().splitlines()[0]}) - build it with: python build_index.py "
            f"--corpus ../shared/medquad/guides --index {folder} --backend {settings.backend}",
            f"{short} (see Skipped below)")


def medquad_corpus() -> Corpus:
    """MedQuAD's dev questions and the two indexes of its guides that are already built; the
    script never builds them (that takes 10-30 minutes each)."""
    questions_file, guides = MEDQUAD / "dev_questions.jsonl", MEDQUAD / "guides"
    if not questions_file.is_file() or not guides.is_dir():
        corpus = Corpus("MedQuAD", [], medquad=True)
        corpus.lacks(f"MedQuAD not found: {questions_file} and {guides} are needed")
        return corpus
    corpus = Corpus("MedQuAD", read_questions(questions_file), medquad=True)
    for backend, folder in MEDQUAD_INDEXES:
        settings = Settings(corpus_dir=guides, index_dir=folder, backend=backend)
        full, short = stale_reason(settings)
        if full:
            corpus.lacks(full, short, passage_backend(settings).precision)
        elif backend == "auto":
            corpus.searcher = open_searcher(settings=settings)
            corpus.indexes.setdefault(corpus.searcher.index.manifest.shape.precision,
                                      (settings, corpus.searcher.index))
        else:
            index = load_index(settings.index_dir, settings.model_name)
            corpus.indexes[index.manifest.shape.precision] = (settings, index)
    return corpus


def default_precision() -> str:
    """The passage precision of an index built with backend auto on this machine."""
    return passage_backend(Settings(backend="auto")).precision


_ENCODERS: dict[tuple[str, int | None], object] = {}


def encoder_for(backend: str, threads: int | None):
    """One question encoder per (backend, threads), loaded once: each load takes seconds."""
    if (backend, threads) not in _ENCODERS:
        progress(f"loading the {backend} encoder, {threads} thread(s)")
        _ENCODERS[backend, threads] = load_encoder(Settings(), BY_NAME[backend], threads)
    return _ENCODERS[backend, threads]


# ---------------------------------------------------------------- 1, 2: question latency


def search_latency(corpus: Corpus, model: SentenceTransformer, count: int) -> list[Row]:
    """Baseline and searcher.search (with and without evidence) timed on the same questions,
    interleaved; the baseline searches the searcher's own passage vectors."""
    searcher = corpus.searcher
    if searcher is None:
        return [skipped(f"Question latency p50 / p95 ms, {corpus.name}",
                        corpus.why_missing(default_precision()), corpus.medquad)]
    baseline = Baseline(model, searcher.index)
    questions = sample([q.question for q in corpus.questions], count + WARMUP)
    progress(f"{corpus.name}: timing {len(questions)} questions (baseline and project, interleaved)")
    times = interleave({"baseline": baseline.search,
                        "project": lambda q: searcher.search(q, top_k=5),
                        "no evidence": lambda q: searcher.search(q, top_k=5, evidence=False)}, questions)
    distinct = len(set(questions[WARMUP:]))
    where = (f"n={count} questions ({distinct} distinct) after {WARMUP} warm-up; "
             f"{len(searcher.index.chunks):,} chunks, {searcher.index.manifest.shape.precision} passages, "
             f"questions by {searcher.encoder.backend} ({searcher.encoder.precision})"
             + (f", or {searcher.fast_encoder.backend} where the coverage check reads no vector; "
                f"evidence by {searcher.fast_encoder.backend}" if searcher.fast_encoder else ""))
    return [latency_row(f"Question latency p50 / p95 ms, {corpus.name}: hybrid + coverage + evidence",
                        times["baseline"], times["project"], where, corpus.medquad),
            latency_row(f"Question latency p50 / p95 ms, {corpus.name}: hybrid + coverage, no evidence",
                        times["baseline"], times["no evidence"], where, corpus.medquad)]


# ---------------------------------------------------------------- 3: question encoder alone


def encoder_latency(model: SentenceTransformer, questions: Sequence[str], count: int) -> list[Row]:
    """encode([question]) per backend at 1 and 2 intra-op threads, against the baseline's
    sentence-transformers fp32 with torch's default threads, all interleaved."""
    calls: dict[str, Callable[[str], object]] = {"baseline": lambda q: st_encode(model, [q])}
    rows: list[Row] = []
    for backend in ENCODER_BACKENDS:
        for threads in (1, 2):
            try:
                encoder = encoder_for(backend.name, threads)
            except Exception as exc:  # e.g. onnxruntime missing: that backend's row says so
                rows.append(skipped(f"Question encoder alone, {backend.name}, {threads} thread(s)", str(exc)))
                continue
            calls[f"{backend.name}|{threads}"] = lambda q, e=encoder: e.encode([q])
    picked = sample(list(questions), count + WARMUP)
    progress(f"timing {len(calls)} question encoders on {len(picked)} questions, interleaved")
    times = interleave(calls, picked)
    notes = (f"n={count} questions, one at a time, after {WARMUP} warm-up; baseline: sentence-transformers "
             f"fp32, torch default {DEFAULT_THREADS} thread(s)")
    for name, ms in times.items():
        if name != "baseline":
            backend, threads = name.split("|")
            rows.append(latency_row(f"Question encoder alone p50 / p95 ms, {backend}, {threads} thread(s)",
                                    times["baseline"], ms, notes))
    return rows


# ---------------------------------------------------------------- 4: build throughput


def passage_texts(seed: Corpus, medquad: Corpus, count: int) -> tuple[list[str], str]:
    """count chunk texts as a build embeds them: from a MedQuAD index, else the seed chunks
    and MedQuAD guides chunked here; and where they came from."""
    for precision in ("bf16", "fp32"):
        if precision in medquad.indexes:
            chunks = medquad.indexes[precision][1].chunks
            return [c.embed_text for c in sample(chunks, min(count, len(chunks)))], "MedQuAD index chunks"
    texts = [c.embed_text for c in seed.searcher.index.chunks]
    if (MEDQUAD / "guides").is_dir():
        texts += chunked_guides(MEDQUAD / "guides", seed.passage_encoder, count)
        return sample(texts, min(count, len(texts))), "seed chunks + MedQuAD guides chunked here (no index)"
    return sample(texts, count), "seed chunks, repeated (no MedQuAD)"


def chunked_guides(guides: Path, encoder, count: int) -> list[str]:
    """Chunk texts of MedQuAD guides taken in a seeded order until there are count of them."""
    files, texts = list_guide_files(guides), []
    random.Random(SEED).shuffle(files)
    max_tokens = Settings().effective_max_tokens(encoder.max_tokens)
    for path in files:
        guide = read_guide(path, path.relative_to(guides).as_posix(), Settings().max_file_bytes)
        if isinstance(guide, Guide):
            texts += [c.embed_text for c in chunk_sections(guide.sections, encoder, max_tokens)]
        if len(texts) >= count:
            break
    return texts


def build_throughput(model: SentenceTransformer, seed: Corpus, medquad: Corpus, count: int) -> list[Row]:
    """Chunks per second embedding the same texts: sentence-transformers fp32 (default threads,
    batch 32) against passage_encoder(settings); runs in the order A B B A so that a change of
    load falls on both, the faster of each pair kept."""
    texts, source = passage_texts(seed, medquad, count)
    encoder, seconds, vectors = seed.passage_encoder, {"baseline": [], "project": []}, {}
    progress(f"embedding {len(texts)} passages twice each (baseline, project, project, baseline)")
    for name in ("baseline", "project", "project", "baseline"):
        started = time.perf_counter()
        vectors[name] = st_encode(model, texts) if name == "baseline" else encoder.encode(texts, batch_size=32)
        seconds[name].append(time.perf_counter() - started)
    base, proj = len(texts) / min(seconds["baseline"]), len(texts) / min(seconds["project"])
    agreement = (vectors["baseline"] * vectors["project"]).sum(axis=1)
    notes = f"n={len(texts)} passages ({source}); project: {encoder.backend}, {encoder.precision}, every core"
    return [Row("Build: passages embedded per second", f"{base:.1f}", f"{proj:.1f}", f"{proj / base:.2f}",
                notes, {"baseline_per_s": base, "project_per_s": proj, "passages": len(texts)},
                source.startswith("MedQuAD")),
            Row(f"Build: cosine of project passage vectors to fp32 ({encoder.precision})", "1 (reference)",
                f"min {agreement.min():.4f} / mean {agreement.mean():.4f}", "–", f"n={len(texts)} passages",
                {"min": float(agreement.min()), "mean": float(agreement.mean())}, source.startswith("MedQuAD"))]


# ---------------------------------------------------------------- 5: ranking quality per pairing


def pairing_searcher(corpus: Corpus, precision: str, backend: str) -> Searcher:
    """A searcher over the corpus's index of precision passages, asking questions with backend."""
    if precision not in corpus.indexes:
        raise LookupError(f"no {precision} index: {corpus.why_missing(precision)}")
    settings, index = corpus.indexes[precision]
    if backend == "auto":
        if corpus.searcher is None or corpus.searcher.index is not index:
            raise LookupError(f"backend auto does not build {precision} passages on this CPU")
        return corpus.searcher
    encoder = encoder_for(backend, QUESTION_THREADS)
    # Made directly: Searcher.open refuses the pairings auto never chooses (int8 questions),
    # and those are among what is measured here.
    return Searcher(settings, encoder, index, CoverageCheck.from_index(index, encoder, settings))


def scored(questions: list[Question], ask: Callable[[str], SearchResult], chunks) -> dict:
    summary = evaluate(questions, ask, chunks, 10).summary()
    return {"ndcg@10": summary["ndcg@10"], "hit@1": summary["hit@1"], "answerable": summary["questions"]}


def pairing_figures(corpus: Corpus, questions: list[Question]) -> dict[tuple[str, str], dict | str]:
    """nDCG@10 and Hit@1 per (passage precision, question backend), or why it is missing."""
    figures: dict[tuple[str, str], dict | str] = {}
    for precision, backend in PAIRINGS:
        try:
            searcher = pairing_searcher(corpus, precision, backend)
            progress(f"{corpus.name}: evaluating {precision}/{searcher.encoder.backend} on {len(questions)} questions")
            ask = lambda q, s=searcher: s.search(q, top_k=10, evidence=False)  # noqa: E731
            figures[precision, backend] = {**scored(questions, ask, searcher.index.chunks),
                                           "backend": searcher.encoder.backend}
        except LookupError as exc:
            figures[precision, backend] = str(exc)
        except Exception as exc:  # one pairing failing leaves the others standing
            figures[precision, backend] = f"{type(exc).__name__}: {exc}"
    return figures


def baseline_figures(corpus: Corpus, model: SentenceTransformer, questions: list[Question]) -> dict | str:
    """The baseline retriever's figures: dense only, sentence-transformers fp32 questions over
    fp32 passages (what it would have embedded), repeats of a passage left in."""
    if "fp32" not in corpus.indexes:
        return f"no fp32 index: {corpus.why_missing('fp32')}"
    index = corpus.indexes["fp32"][1]
    progress(f"{corpus.name}: evaluating the baseline on {len(questions)} questions")
    return scored(questions, Baseline(model, index).result, index.chunks)


def quality_rows(corpus: Corpus, model: SentenceTransformer, count: int, everything: bool) -> list[Row]:
    if not corpus.questions:
        return [skipped(f"nDCG@10 / Hit@1, {corpus.name}", corpus.why_missing(), corpus.medquad)]
    questions = corpus.questions if everything else sample(corpus.questions, min(count, len(corpus.questions)))
    base = baseline_figures(corpus, model, questions)
    figures = pairing_figures(corpus, questions)
    reference = figures[PAIRINGS[0]]
    rows = []
    for (precision, backend), got in figures.items():
        what = f"nDCG@10 / Hit@1, {corpus.name}, passages/questions {precision}/"
        if isinstance(got, str):
            rows.append(skipped(what + backend, got, corpus.medquad))
            continue
        what += got["backend"] + (" (auto)" if backend == "auto" else "")
        rows.append(quality_row(what, base, got, reference, len(questions), corpus.medquad))
    return rows


def nd(figures: dict | str) -> float | None:
    """nDCG@10 of a figures dict; None when skipped or without answerable questions."""
    return figures["ndcg@10"] if isinstance(figures, dict) else None


def quality_row(what: str, base: dict | str, got: dict, reference: dict | str, asked: int, medquad: bool) -> Row:
    def cell(f: dict | str) -> str:
        return f"{f['ndcg@10']:.3f} / {f['hit@1']:.3f}" if nd(f) is not None else "–"
    notes = [f"n={got['answerable']} answerable of {asked} questions; hybrid, top 10, no evidence"]
    if nd(reference) is not None and nd(got) is not None:
        notes.append(f"Δ nDCG@10 vs fp32/torch {100 * (nd(got) - nd(reference)):+.2f} points")
    else:
        notes.append("Δ vs fp32/torch: no fp32/torch figure")
    if isinstance(base, str):
        notes.append(f"baseline skipped: {base}")
    ratio = f"{nd(got) / nd(base):.3f}" if nd(base) and nd(got) is not None else "–"
    return Row(what, cell(base), cell(got), ratio, "; ".join(notes),
               {"baseline": base if isinstance(base, dict) else None, "project": got,
                "reference_fp32_torch": reference if isinstance(reference, dict) else None}, medquad)


# ---------------------------------------------------------------- 6: peak memory, each in a process of its own

RSS_START = "import json, re, resource, sys\nargs = json.loads(sys.argv[1])\nsys.path.insert(0, args['root'])\n"
# ru_maxrss survives exec on Linux: a child started by this (large) process reports this
# process's peak unless it grew past it. VmHWM is the peak of the child's own memory image.
RSS_END = """
status = open("/proc/self/status", encoding="ascii").read() if sys.platform == "linux" else ""
own = re.search(r"VmHWM:\\s*(\\d+)", status)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, own.group(1) if own else -1)
"""
# A LangChain FAISS store holds the vectors and the passage texts: so does this baseline.
RSS_BASELINE_SEARCH = """
import faiss
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(args["model"], device="cpu")
dense = faiss.read_index(args["vectors"])
texts = [json.loads(line)["text"] for line in open(args["chunks"], encoding="utf-8")]
for question in args["questions"]:
    scores, rows = dense.search(model.encode([question], normalize_embeddings=True), 5)
    found = [texts[row] for row in rows[0]]
"""
RSS_PROJECT_SEARCH = """
from guidesearch.config import Settings
from guidesearch.retrieve import open_searcher
searcher = open_searcher(settings=Settings(corpus_dir=args["corpus"], index_dir=args["index"], backend="auto"))
for question in args["questions"]:
    searcher.search(question, top_k=5)
"""
RSS_BASELINE_BUILD = """
import faiss
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(args["model"], device="cpu")
vectors = model.encode(json.load(open(args["texts"], encoding="utf-8")), batch_size=32, normalize_embeddings=True)
faiss.IndexFlatIP(vectors.shape[1]).add(vectors)
"""
RSS_PROJECT_BUILD = """
from guidesearch.build import build_index
from guidesearch.config import Settings
from guidesearch.embed import passage_encoder
settings = Settings(corpus_dir=args["corpus"], index_dir=args["index"], backend="auto")
build_index(settings, passage_encoder(settings))
"""


def peak_rss_mb(code: str, **args: object) -> float:
    """Peak resident memory of code run in a fresh Python, in MB: its VmHWM where Linux gives
    it, else ru_maxrss (both in KB)."""
    done = subprocess.run([sys.executable, "-c", RSS_START + code + RSS_END,
                           json.dumps({"root": str(ROOT), **args}, default=str)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the child process failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    maxrss, own = (int(word) for word in done.stdout.split()[-2:])
    return (own if own > 0 else maxrss) / 1024


def rss_row(what: str, baseline: float, project: float, notes: str, medquad: bool = False) -> Row:
    return Row(what, f"{baseline:,.0f}", f"{project:,.0f}", f"{project / baseline:.2f}", notes,
               {"baseline_mb": baseline, "project_mb": project}, medquad)


def rss_search(medquad: Corpus) -> list[Row]:
    what = "Peak RSS MB, load + 10 searches, MedQuAD"
    if medquad.searcher is None:
        return [skipped(what, medquad.why_missing(default_precision()), True)]
    index, settings = medquad.searcher.index, medquad.searcher.settings
    questions = [q.question for q in sample(medquad.questions, 10)]
    progress("peak memory of a search process: baseline, then project")
    baseline = peak_rss_mb(RSS_BASELINE_SEARCH, model=resolve_model_path(DEFAULT_MODEL), questions=questions,
                           vectors=index.folder / "vectors.faiss", chunks=index.folder / "chunks.jsonl")
    project = peak_rss_mb(RSS_PROJECT_SEARCH, corpus=settings.corpus_dir, index=settings.index_dir,
                          questions=questions)
    return [rss_row(what, baseline, project, f"n=10 questions, {len(index.chunks):,} chunks; each in a child "
                    "process; baseline loads ST fp32, the FAISS file and the passage texts", True)]


def rss_build(seed: Corpus, tmp: Path) -> list[Row]:
    texts = tmp / "seed-texts.json"
    texts.write_text(json.dumps([c.embed_text for c in seed.searcher.index.chunks]), encoding="utf-8")
    progress("peak memory of a build process: baseline, then project")
    baseline = peak_rss_mb(RSS_BASELINE_BUILD, model=resolve_model_path(DEFAULT_MODEL), texts=texts)
    project = peak_rss_mb(RSS_PROJECT_BUILD, corpus=ROOT / "corpus", index=tmp / "rss-build")
    return [rss_row("Peak RSS MB, build of the seed corpus", baseline, project,
                    f"n={len(seed.searcher.index.chunks)} chunks; each in a child process; baseline: ST fp32 "
                    "encode + FAISS; project: build_index, backend auto (chunking, BM25, vocabulary too)")]


# ---------------------------------------------------------------- 7: the command line


def cli_row() -> list[Row]:
    """An empty question should fail at once, before the model loads."""
    walls, done = [], None
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "guidesearch", "search", ""], cwd=ROOT,
                              capture_output=True, text=True)
        walls.append((time.perf_counter() - started) * 1000)
    message = (done.stderr.strip().splitlines() or [""])[-1]
    median = statistics.median(walls)
    return [Row('CLI: python -m guidesearch search "" wall ms', "–", f"{median:.0f}", "–",
                f"median of 3 runs; exit code {done.returncode}; {message}",
                {"median_ms": median, "runs_ms": walls, "exit_code": done.returncode, "message": message})]


# ---------------------------------------------------------------- the run and the report


def load_seed(tmp: Path) -> Corpus:
    try:
        return seed_corpus(tmp)
    except Exception as exc:  # every seed row then says why
        corpus = Corpus("seed corpus", [])
        corpus.lacks(f"the seed index could not be built ({type(exc).__name__}: {exc})")
        return corpus


def load_medquad() -> Corpus:
    try:
        return medquad_corpus()
    except Exception as exc:  # a damaged index, say: every MedQuAD row then says why
        corpus = Corpus("MedQuAD", [], medquad=True)
        corpus.lacks(f"MedQuAD could not be opened ({type(exc).__name__}: {exc})")
        return corpus


def measure(args: argparse.Namespace, tmp: Path) -> tuple[list[Row], list[str]]:
    """Every row, in table order; and why indexes were missing."""
    progress("loading the baseline model (sentence-transformers fp32)")
    model = SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu")
    seed, medquad = load_seed(tmp), load_medquad()
    rows: list[Row] = []
    for corpus in (seed, medquad):
        rows += guarded(f"Question latency, {corpus.name}",
                        lambda c=corpus: search_latency(c, model, args.questions), corpus.medquad)
    asked = [q.question for q in (medquad.questions or seed.questions)]
    rows += guarded("Question encoder alone", lambda: encoder_latency(model, asked, args.questions))
    rows += guarded("Build throughput", lambda: build_throughput(model, seed, medquad, args.passages))
    for corpus in (medquad, seed):
        rows += guarded(f"nDCG@10 / Hit@1, {corpus.name}",
                        lambda c=corpus: quality_rows(c, model, args.questions, args.all), corpus.medquad)
    rows += guarded("Peak RSS MB, MedQuAD search", lambda: rss_search(medquad), True)
    rows += guarded("Peak RSS MB, seed build", lambda: rss_build(seed, tmp))
    rows += guarded("CLI", cli_row)
    return rows, seed.missing + medquad.missing


def cpu_model() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        lines = []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")), "unknown")


def reproduce() -> str:
    python = Path(sys.executable)
    python_text = str(python.relative_to(ROOT)) if python.is_relative_to(ROOT) else sys.executable
    return f"cd {shlex.quote(str(ROOT))} && {shlex.join([python_text, 'bench/speed.py', *sys.argv[1:]])}"


def header(started_at: str, load_start: tuple, load_end: tuple, seconds: float) -> dict:
    flags = sorted({"avx512_bf16", "amx_bf16"} & cpu_flags())
    return {"date": started_at, "cpu": cpu_model(), "logical_cpus": os.cpu_count(), "bf16_flags": flags,
            "torch_default_threads": DEFAULT_THREADS, "torch": torch.__version__,
            "load_average_start": list(load_start), "load_average_end": list(load_end),
            "command": shlex.join(["python", "bench/speed.py", *sys.argv[1:]]), "seconds": round(seconds, 1)}


NOTES = [
    "Cells: latency p50 / p95 in ms; nDCG@10 / Hit@1; throughput in passages per second; memory in MB.",
    "Ratio: project / baseline. Latency and memory below 1, throughput and nDCG above 1: the project does better.",
    "Baseline: sentence-transformers fp32, torch default threads, FAISS IndexFlatIP top 5 over the same "
    "passage vectors; for nDCG, dense-only ranking over the fp32 passages (no coverage check, repeats kept).",
    "Project latency includes question cleaning, hybrid ranking (FAISS + BM25), the coverage check and, "
    "where said, evidence sentences. Timed calls alternate per question, so load falls on both sides.",
    "In one process torch's and FAISS's thread counts are shared: the baseline sets their defaults back "
    "before each call, as the project sets its own.",
]


def markdown(info: dict, rows: list[Row], missing: list[str]) -> str:
    load = lambda values: " / ".join(f"{v:.2f}" for v in values)  # noqa: E731
    lines = [f"Date: {info['date']} ({info['seconds']:.0f} s)",
             f"Machine: {info['cpu']}; {info['logical_cpus']} logical CPUs; bf16 flags: "
             f"{', '.join(info['bf16_flags']) or 'none'}; torch {info['torch']}, default "
             f"{info['torch_default_threads']} thread(s)",
             f"Load average (1 / 5 / 15 min): start {load(info['load_average_start'])}, "
             f"end {load(info['load_average_end'])}",
             f"Command: {info['command']}", "",
             "| what | baseline | this project | ratio project/baseline | notes |", "|---|---|---|---|---|"]
    lines += [f"| {r.what} | {r.baseline} | {r.project} | {r.ratio} | {r.notes.replace('|', '/')} |" for r in rows]
    lines += ["", *(f"- {note}" for note in NOTES), *(f"- Skipped: {why}" for why in missing)]
    if any(r.medquad for r in rows):
        lines += ["", CREDIT]
    lines += ["", f"Reproduce: {reproduce()}"]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    started, load_start = time.perf_counter(), os.getloadavg()
    started_at = datetime.now().astimezone().isoformat(timespec="seconds")
    try:
        with tempfile.TemporaryDirectory(prefix="guidesearch-speed-") as scratch:
            rows, missing = measure(args, Path(scratch))
    except Exception as exc:  # the baseline model itself failed to load: nothing can be measured
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    info = header(started_at, load_start, os.getloadavg(), time.perf_counter() - started)
    report = markdown(info, rows, missing)
    if args.json:
        data = {**info, "rows": [asdict(row) for row in rows], "skipped": missing, "reproduce": reproduce()}
        if any(r.medquad for r in rows):
            data["credit"] = CREDIT
        print(json.dumps(data, indent=2, ensure_ascii=False))
        progress(f"Reproduce: {reproduce()}")
    else:
        print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
