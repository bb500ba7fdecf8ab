"""Chooses the hybrid ranking's intent and title bonuses (Settings.intent_weight, title_weight)
on development questions, and reports them on questions kept apart.

Tuning: the MedQuAD dev sample bench/fusion.py tuned on (random.Random(0), 2,000 questions) and
the original seed questions (tests/data/seed_questions.jsonl). Report, never used for the choice:
the other 5,202 MedQuAD dev questions, the seed questions in new wordings
(tests/data/seed_reworded.jsonl) and the consumer-style questions (bench/data/consumer_questions.jsonl).
The consumer-style development questions (bench/data/consumer_dev.jsonl, other guides) tune too.
Consumer messages are searched by their focus (guidesearch/focus.py), as Searcher.search does.
Every configuration ranks the same candidates (one model call per question), one result per
section, as Searcher.search does.

    python bench/intent.py --out bench/results/intent.md    (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import answerable, emit, medquad_split, seed_searcher  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.evaluate import Outcome, SectionIndex, relevant_sections, section_key  # noqa: E402
from guidesearch.focus import find_focus  # noqa: E402
from guidesearch.fusion import fuse, order  # noqa: E402
from guidesearch.intent import intent_matches, title_overlap  # noqa: E402
from guidesearch.lexical import analyse  # noqa: E402
from guidesearch.retrieve import CANDIDATES, open_searcher  # noqa: E402

CONSUMER_DEV = ROOT / "bench" / "data" / "consumer_dev.jsonl"
CONSUMER = ROOT / "bench" / "data" / "consumer_questions.jsonl"
INTENT_WEIGHTS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.12, 0.16, 0.2)
TITLE_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.45)
METRICS = ("nDCG@10", "Hit@1", "Hit@3", "Hit@10", "MRR@10")


@dataclasses.dataclass
class Prepared:
    """One question's candidates and features, computed once for every configuration."""

    relevant: dict
    keys: list                  # section key of each candidate row
    cosines: np.ndarray
    lexical: np.ndarray
    lexical_scale: float
    intent: np.ndarray
    title: np.ndarray
    heading: np.ndarray         # cosine of the question to each candidate's section heading


def focused(searcher, questions):
    """The questions as Searcher.search reads them: a long message by its focus."""
    return [dataclasses.replace(q, question=find_focus(" ".join(q.question.split()), searcher.settings.focus_words))
            for q in questions]


def prepare(searcher, questions, headings=None) -> list[Prepared]:
    """Each question's candidates and features; headings (bench/headings.py), when given, gives
    the cosine of the question to each candidate's section heading."""
    sections = SectionIndex(searcher.index.chunks)
    prepared = []
    for question in questions:
        text = searcher.coverage.repair_spelling(question.question)     # as Searcher.search does
        query = searcher.encoder.encode([text])[0]
        dense = searcher.index.dense.top_k(query, CANDIDATES)
        candidates = searcher.hybrid_candidates(query, dense[0], searcher.lexical_scores(text), text)
        chunks = [searcher.index.chunks[row] for row in candidates.rows]
        terms = frozenset(analyse(text))
        prepared.append(Prepared(
            relevant_sections(question, sections), [section_key(chunk) for chunk in chunks],
            candidates.cosines, candidates.lexical, candidates.lexical_scale,
            np.array(intent_matches(text, [chunk.headings for chunk in chunks]), dtype=np.float32),
            np.array([title_overlap(terms, chunk.title) for chunk in chunks], dtype=np.float32),
            headings.cosines(candidates.rows, query) if headings else np.zeros(len(chunks), np.float32)))
    return prepared


def figures(prepared: list[Prepared], dense_weight: float, intent_weight: float, title_weight: float,
            heading_weight: float = 0.0) -> dict:
    totals = dict.fromkeys(METRICS, 0.0)
    for item in prepared:
        scores = fuse(item.cosines, item.lexical, dense_weight, item.lexical_scale)
        scores = scores + intent_weight * item.intent + title_weight * item.title + heading_weight * item.heading
        ranked = list(dict.fromkeys(item.keys[position] for position in order(scores)))[:10]  # one per section
        outcome = Outcome(None, None, item.relevant, ranked)
        values = (outcome.ndcg(), outcome.hit_at(1), outcome.hit_at(3), outcome.hit_at(10), outcome.reciprocal_rank())
        for name, value in zip(METRICS, values):
            totals[name] += value
    return {name: total / len(prepared) for name, total in totals.items()}


def row(name: str, values: dict) -> str:
    return f"| {name} | " + " | ".join(f"{values[m]:.3f}" for m in METRICS) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    medquad_tuning, medquad_held = medquad_split()
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        sets = {"seed (tuning)": prepare(seed, answerable(ROOT / "tests" / "data" / "seed_questions.jsonl")),
                "seed reworded (report)": prepare(seed, answerable(ROOT / "tests" / "data" / "seed_reworded.jsonl"))}
    searcher = open_searcher(settings=Settings.from_env(index_dir=ROOT / "bench" / "work" / "medquad-index"))
    sets["MedQuAD dev 2,000 (tuning)"] = prepare(searcher, medquad_tuning)
    sets["MedQuAD dev 5,202 (report)"] = prepare(searcher, medquad_held)
    sets["consumer dev 36 (tuning)"] = prepare(searcher, focused(searcher, answerable(CONSUMER_DEV)))
    sets["consumer 54 (report)"] = prepare(searcher, focused(searcher, answerable(CONSUMER)))
    dense_weight = searcher.settings.dense_weight
    tuning = ("seed (tuning)", "MedQuAD dev 2,000 (tuning)", "consumer dev 36 (tuning)")
    grid = {(wi, wt): {name: figures(sets[name], dense_weight, wi, wt)["nDCG@10"] for name in tuning}
            for wi in INTENT_WEIGHTS for wt in TITLE_WEIGHTS}
    # The choice: the weights that do best by every tuning set at once. Each set's nDCG@10 gain
    # over no bonus is taken as a share of the best gain the grid reaches on it, and the least
    # of the shares is maximised (MedQuAD's templated questions alone would push the
    # weights up to the grid's edge; the seed's and the consumers' wordings lose from that).
    def share(weights, name):
        plain, top = grid[0.0, 0.0][name], max(values[name] for values in grid.values())
        return (grid[weights][name] - plain) / (top - plain) if top > plain else 1.0
    best = max(grid, key=lambda weights: (min(share(weights, name) for name in tuning), -sum(weights)))
    lines = [f"Command: python bench/intent.py {' '.join(sys.argv[1:])}  ({time.time() - started:.0f} s)", "",
             "Tuning grid, nDCG@10 (seed / MedQuAD tuning / consumer dev), one result per section:", "",
             "| intent \\ title | " + " | ".join(str(wt) for wt in TITLE_WEIGHTS) + " |",
             "|---|" + "---|" * len(TITLE_WEIGHTS)]
    for wi in INTENT_WEIGHTS:
        lines.append(f"| {wi} | " + " | ".join(
            " / ".join(f"{grid[wi, wt][name]:.3f}" for name in tuning) for wt in TITLE_WEIGHTS) + " |")
    lines += ["", f"Chosen: intent_weight {best[0]}, title_weight {best[1]} (dense_weight {dense_weight}).", "",
              "| questions | configuration | " + " | ".join(METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
    for name, items in sets.items():
        lines.append(row(f"{name} | no bonus", figures(items, dense_weight, 0.0, 0.0)))
        lines.append(row(f"{name} | intent only", figures(items, dense_weight, best[0], 0.0)))
        lines.append(row(f"{name} | title only", figures(items, dense_weight, 0.0, best[1])))
        lines.append(row(f"{name} | chosen", figures(items, dense_weight, *best)))
    lines += ["", "MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0."]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
