"""Would the cosine of the question to each passage's own section heading help hybrid ranking?
("why do my legs cramp?" against "Causes of Neuropathy-Induced Leg Cramps"; a FAQ heading that is
the question itself.) Tried for issue 12: the weight, with the intent bonus it may overlap, is
chosen on development questions and reported on questions kept apart. Not shipped: no gain on
the report sets (bench/results/headings.md). The headings are embedded here, once per run.

Tuning: the original seed questions, the even lines of the seed questions in new wordings,
the MedQuAD dev sample every earlier choice tuned on (2,000) and the consumer-style development
messages. Report, never used for the choice: the odd lines of the new wordings, the answerable
long messages (tests/data/seed_long_messages.jsonl), the other 5,202 MedQuAD dev questions and
the 54 consumer-style messages. Messages are searched by their focus, as Searcher.search does;
every configuration ranks the same candidates, one result per section (bench/intent.py).

    python bench/headings.py --out bench/results/headings.md    (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, answerable, emit, medquad_searcher, medquad_split, seed_searcher  # noqa: E402
from intent import CONSUMER, CONSUMER_DEV, METRICS, figures, focused, prepare, row  # noqa: E402

HEADING_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
INTENT_WEIGHTS = (0.0, 0.02, 0.04, 0.06)
DATA = ROOT / "tests" / "data"


class Headings:
    """The vector of each chunk's section heading (its last heading; the guide title for the
    text before the first heading), embedded by the searcher's encoder."""

    def __init__(self, searcher) -> None:
        texts = sorted({chunk.heading for chunk in searcher.index.chunks})
        where = {text: row for row, text in enumerate(texts)}
        self.vectors = searcher.encoder.encode(texts)
        self.rows = np.array([where[chunk.heading] for chunk in searcher.index.chunks])

    def cosines(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        return self.vectors[self.rows[rows]] @ query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    medquad_tuning, medquad_held = medquad_split()
    reworded = answerable(DATA / "seed_reworded.jsonl")
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        heads = Headings(seed)
        sets = {"seed original 72 (tuning)": prepare(seed, answerable(DATA / "seed_questions.jsonl"), heads),
                "seed new wordings, even lines (tuning)": prepare(seed, focused(seed, reworded[0::2]), heads),
                "seed new wordings, odd lines (report)": prepare(seed, focused(seed, reworded[1::2]), heads),
                "seed long messages, answerable (report)": prepare(
                    seed, focused(seed, answerable(DATA / "seed_long_messages.jsonl")), heads)}
    searcher = medquad_searcher()
    heads = Headings(searcher)
    sets["MedQuAD dev 2,000 (tuning)"] = prepare(searcher, medquad_tuning, heads)
    sets["consumer dev 36 (tuning)"] = prepare(searcher, focused(searcher, answerable(CONSUMER_DEV)), heads)
    sets["MedQuAD dev 5,202 (report)"] = prepare(searcher, medquad_held, heads)
    sets["consumer 54 (report)"] = prepare(searcher, focused(searcher, answerable(CONSUMER)), heads)
    settings = searcher.settings
    tuning = [name for name in sets if "(tuning)" in name]
    grid = {(wh, wi): {name: figures(sets[name], settings.dense_weight, wi, settings.title_weight, wh)["nDCG@10"]
                       for name in tuning}
            for wh in HEADING_WEIGHTS for wi in INTENT_WEIGHTS}
    # The rule bench/intent.py chose by: each tuning set's gain over neither bonus as a share of
    # the best gain the grid reaches on it; the least share is maximised.
    def share(weights, name):
        plain, top = grid[0.0, 0.0][name], max(values[name] for values in grid.values())
        return (grid[weights][name] - plain) / (top - plain) if top > plain else 1.0
    best = max(grid, key=lambda weights: (min(share(weights, name) for name in tuning), -sum(weights)))
    before = (0.0, settings.intent_weight)
    lines = [f"Command: python bench/headings.py {' '.join(sys.argv[1:])}  ({time.time() - started:.0f} s)", "",
             f"Tuning grid, nDCG@10 ({' / '.join(tuning)}); title_weight {settings.title_weight}, "
             f"dense_weight {settings.dense_weight}:", "",
             "| heading \\ intent | " + " | ".join(str(wi) for wi in INTENT_WEIGHTS) + " |",
             "|---|" + "---|" * len(INTENT_WEIGHTS)]
    for wh in HEADING_WEIGHTS:
        lines.append(f"| {wh} | " + " | ".join(
            " / ".join(f"{grid[wh, wi][name]:.3f}" for name in tuning) for wi in INTENT_WEIGHTS) + " |")
    lines += ["", f"Chosen: heading_weight {best[0]}, intent_weight {best[1]}. Before: heading_weight 0, "
              f"intent_weight {before[1]}.", "",
              "| questions | configuration | " + " | ".join(METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
    for name, items in sets.items():
        lines.append(row(f"{name} | before", figures(items, settings.dense_weight, before[1], settings.title_weight)))
        lines.append(row(f"{name} | chosen", figures(items, settings.dense_weight, best[1], settings.title_weight,
                                                     best[0])))
    lines += ["", CREDIT]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
