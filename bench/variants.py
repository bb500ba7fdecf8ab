"""Ranking variants tried over 128-token chunks for issue 12, and not shipped.

Each variant changes one thing in Searcher's hybrid ranking and is measured through the full
search on the seven tuning sets of bench/common.py (mean nDCG@10, the rule that chose the chunk
size and the BM25 floor); the report sets are measured at each variant's best value, for the
record only. What was shipped is the "shipped" row.

- section mean: each chunk's cosine mixed with the cosine to its section's mean chunk vector
  (a section read whole, without embedding it again).
- 256-token sections: the same with the section's best 256-token chunk (an index of each size).
- known questions: the development questions as a memory; a section gains w x (cosine - t) of
  the closest development question labelled with it. On the tuning sets each question is left
  out of its own memory (leave one out); on the report sets the memory holds them all.
- dense feedback: the question vector moved towards the mean of its m nearest passages
  (pseudo-relevance feedback, Rocchio), by beta.
- BM25 k1 / b, and BM25 over whole sections.
- dense weight of the fusion.

    python bench/variants.py --out bench/results/variants.md   (needs bench/work/medquad-index
                                                                and bench/work/medquad-256)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import (CREDIT, answerable, emit, evaluate_with, medquad_index_at, medquad_searcher,  # noqa: E402
                    medquad_split, read_questions, report_sets, seed_searcher, tuning_sets)
from guidesearch.config import Settings  # noqa: E402
from guidesearch.evaluate import SectionIndex, fold, relevant_sections, section_key  # noqa: E402
from guidesearch.lexical import LexicalIndex, analyse  # noqa: E402
from guidesearch.retrieve import Candidates, Searcher, open_searcher  # noqa: E402

DATA = ROOT / "tests" / "data"
BENCH_DATA = ROOT / "bench" / "data"


def _section_rows(chunks) -> tuple[np.ndarray, dict]:
    keys: dict = {}
    return np.array([keys.setdefault(section_key(chunk), len(keys)) for chunk in chunks]), keys


@contextmanager
def patched_cosines(mix):
    """Hybrid candidates whose cosines are mix(searcher, rows, cosines, query)."""
    original = Searcher.hybrid_candidates

    def candidates(self, query, dense_rows, lexical, searched, depth=100):
        found = original(self, query, dense_rows, lexical, searched, depth)
        return Candidates(found.rows, mix(self, found.rows, found.cosines, query), found.lexical,
                          found.lexical_scale, found.lexical_rows)
    Searcher.hybrid_candidates = candidates
    try:
        yield
    finally:
        Searcher.hybrid_candidates = original


class SectionMeans:
    def __init__(self) -> None:
        self._of: dict = {}

    def __call__(self, weight: float):
        def mix(searcher, rows, cosines, query):
            if id(searcher.index) not in self._of:
                sections, keys = _section_rows(searcher.index.chunks)
                means = np.zeros((len(keys), searcher.index.vectors.shape[1]), np.float32)
                np.add.at(means, sections, searcher.index.vectors)
                self._of[id(searcher.index)] = (sections, means / np.linalg.norm(means, axis=1, keepdims=True))
            sections, means = self._of[id(searcher.index)]
            return (1 - weight) * cosines + weight * (means[sections[rows]] @ query)
        return patched_cosines(mix)


class CoarseSections:
    """Each searcher's index at 256 tokens: fine (128-token) searcher -> coarse searcher."""

    def __init__(self, pairs: list) -> None:
        self._maps = {}
        for fine, coarse in pairs:
            coarse_sections, keys = _section_rows(coarse.index.chunks)
            fine_sections = np.array([keys.get(section_key(chunk), -1) for chunk in fine.index.chunks])
            self._maps[id(fine.index)] = (coarse.index.vectors, coarse_sections, fine_sections, len(keys))

    def __call__(self, weight: float):
        def mix(searcher, rows, cosines, query):
            vectors, coarse_sections, fine_sections, count = self._maps[id(searcher.index)]
            best = np.full(count + 1, -1.0, np.float32)
            np.maximum.at(best, coarse_sections, vectors @ query)
            coarse = np.where(fine_sections[rows] < 0, cosines, best[fine_sections[rows]])
            return weight * np.maximum(cosines, coarse) + (1 - weight) * cosines
        return patched_cosines(mix)


def dense_feedback(values: tuple[int, float]):
    """Pseudo-relevance feedback (Rocchio) on the dense side: cosines to the question vector plus
    beta x the mean vector of its m nearest candidates."""
    m, beta = values

    def mix(searcher, rows, cosines, query):
        nearest = rows[np.argsort(-cosines)[:m]]
        moved = query + beta * searcher.index.vectors[nearest].mean(axis=0)
        return searcher.index.vectors[rows] @ (moved / np.linalg.norm(moved))
    return patched_cosines(mix)


class KnownQuestions:
    """Development questions as a memory (see the module docstring)."""

    def __init__(self, memories: list) -> None:
        self._memory = {}
        for searcher, questions in memories:
            sections = SectionIndex(searcher.index.chunks)
            self._memory[id(searcher.index)] = (
                searcher.encoder.encode([question.question for question in questions]),
                [relevant_sections(question, sections) for question in questions],
                [fold(question.question) for question in questions],
                [section_key(chunk) for chunk in searcher.index.chunks])
        self.leave_one_out = True

    @contextmanager
    def __call__(self, values: tuple[float, float]):
        weight, threshold = values
        search, bonus = Searcher.search, Searcher.context_bonus
        asked = {}
        memory = self._memory

        def remembering_search(searcher, text, *args, **kwargs):
            asked["vector"] = searcher.encoder.encode([text])[0]
            asked["text"] = fold(text)
            return search(searcher, text, *args, **kwargs)

        def known_bonus(searcher, text, rows):
            vectors, labels, texts, keys = memory[id(searcher.index)]
            cosines = vectors @ asked["vector"]
            gain: dict = {}
            for i in np.flatnonzero(cosines > threshold):
                if self.leave_one_out and texts[i] == asked["text"]:
                    continue
                for key in labels[i]:
                    gain[key] = max(gain.get(key, 0.0), float(cosines[i]) - threshold)
            return bonus(searcher, text, rows) + weight * np.array([gain.get(keys[row], 0.0) for row in rows],
                                                                   np.float32)
        Searcher.search, Searcher.context_bonus = remembering_search, known_bonus
        try:
            yield
        finally:
            Searcher.search, Searcher.context_bonus = search, bonus


@contextmanager
def lexical_variant(searchers, values: tuple):
    """Each searcher's BM25 rebuilt with bm25s parameters k1, b, over its chunks or whole sections."""
    import bm25s
    level, k1, b = values
    kept = {id(searcher): searcher.index.lexical for searcher in searchers}
    for searcher in searchers:
        chunks = searcher.index.chunks
        if level == "sections":
            text_of = defaultdict(list)
            for chunk in chunks:
                text_of[section_key(chunk)].append(chunk.text)
            texts = [f"{' > '.join(chunk.headings)}: " + " ".join(text_of[section_key(chunk)]) for chunk in chunks]
        else:
            texts = [chunk.embed_text for chunk in chunks]
        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index([analyse(text) or ["\x00"] for text in texts], show_progress=False)
        object.__setattr__(searcher.index, "lexical", LexicalIndex(retriever))
    try:
        yield
    finally:
        for searcher in searchers:
            object.__setattr__(searcher.index, "lexical", kept[id(searcher)])


def measure(sets: dict, settings_of=None) -> dict[str, float]:
    return {name: evaluate_with(searcher, questions, settings_of(searcher) if settings_of else searcher.settings)
            .metrics()["nDCG@10"] for name, (searcher, questions) in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    medquad = medquad_searcher()
    settings256 = Settings.from_env().with_(max_tokens=256)
    medquad256 = open_searcher(settings=settings256.with_(index_dir=medquad_index_at(256)))
    with tempfile.TemporaryDirectory() as base, tempfile.TemporaryDirectory() as base256:
        seed = seed_searcher(Path(base))
        seed256 = seed_searcher(Path(base256), settings256)
        tuning, report = tuning_sets(seed, medquad), report_sets(seed, medquad)
        held = report["MedQuAD dev, 5,202 held apart"][1]
        report["MedQuAD dev, 1,000 of the 5,202 held apart"] = (medquad, random.Random(2).sample(held, 1000))
        del report["MedQuAD dev, 5,202 held apart"]
        reworded = read_questions(DATA / "seed_reworded.jsonl")
        known = KnownQuestions([
            (seed, answerable(DATA / "seed_questions.jsonl") + reworded[0::2] + answerable(DATA / "seed_lay_dev.jsonl")
            + answerable(DATA / "seed_phrases_dev.jsonl")),
            (medquad, medquad_split()[0] + answerable(BENCH_DATA / "consumer_dev.jsonl")
             + read_questions(BENCH_DATA / "medquad_short_lay.jsonl")[0::2])])
        variants = {
            "section mean, weight": (SectionMeans(), (0.2, 0.4, 0.6)),
            "256-token sections, weight": (CoarseSections([(seed, seed256), (medquad, medquad256)]), (0.5, 1.0)),
            "known questions, (weight, threshold)": (known, ((0.5, 0.5), (0.5, 0.6), (1.0, 0.7))),
            "dense feedback (m, beta)": (dense_feedback, ((3, 0.3), (5, 0.6), (10, 0.5))),
            "BM25 (texts, k1, b)": (lambda values: lexical_variant((seed, medquad), values),
                                    (("sections", 1.5, 0.75), ("chunks", 1.2, 0.75), ("chunks", 1.5, 0.5),
                                     ("chunks", 0.9, 0.4))),
        }
        names = list(tuning)
        lines = [f"Command: python bench/variants.py {' '.join(sys.argv[1:])}  (TIME s)", "",
                 "Tuning sets, nDCG@10 (" + " / ".join(names) + "), and their mean:", "",
                 "| variant | value | " + " | ".join(f"t{i + 1}" for i in range(len(names))) + " | mean |",
                 "|---|---|" + "---|" * (len(names) + 1)]

        def add(variant: str, value, figures: dict) -> float:
            mean = sum(figures.values()) / len(figures)
            lines.append(f"| {variant} | {value} | " + " | ".join(f"{figures[n]:.3f}" for n in names)
                         + f" | {mean:.4f} |")
            return mean
        shipped = add("shipped", "–", measure(tuning))
        best_of = {}
        for variant, (apply, values) in variants.items():
            scored = []
            for value in values:
                with apply(value):
                    scored.append((add(variant, value, measure(tuning)), value))
            best_of[variant] = max(scored)
        for weight in (0.7, 0.75, 0.85, 0.9):
            mean = add("dense weight", weight, measure(tuning, lambda s: s.settings.with_(dense_weight=weight)))
            best_of["dense weight"] = max(best_of.get("dense weight", (0, 0)), (mean, weight))
        lines += ["", "t1..t7 are, in order: " + "; ".join(names) + ".", "",
                  f"Shipped: mean {shipped:.4f}. Each variant's best: " + "; ".join(
                      f"{variant} {value} {mean:.4f}" for variant, (mean, value) in best_of.items()) + ".", "",
                  "Report sets at each variant's best value (never used for a choice; known questions with the "
                  "whole memory):", "",
                  "| variant | value | " + " | ".join(report) + " |", "|---|---|" + "---|" * len(report)]
        lines.append("| shipped | – | " + " | ".join(f"{v:.3f}" for v in measure(report).values()) + " |")
        known.leave_one_out = False
        for variant, (mean, value) in best_of.items():
            if variant == "dense weight":
                figures = measure(report, lambda s: s.settings.with_(dense_weight=value))
            else:
                with variants[variant][0](value):
                    figures = measure(report)
            lines.append(f"| {variant} | {value} | " + " | ".join(f"{v:.3f}" for v in figures.values()) + " |")
    lines += ["", CREDIT]
    lines[0] = lines[0].replace("TIME", f"{time.time() - started:.0f}")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
