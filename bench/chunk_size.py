"""How many tokens a chunk holds (Settings.max_tokens): whole sections up to the model's limit
(256 for all-MiniLM-L6-v2), or smaller pieces of them.

all-MiniLM-L6-v2 reads 256 word pieces, but it was trained on inputs cut at 128: a chunk of 256
tokens is a mean over more text than the model learned to sum up, and a question about one list
item of a long section ("why is it hard to get through everyday tasks") meets that item
averaged with every other item. Smaller chunks keep an item closer to its neighbours; each
still carries its section's heading path, and the results still show one place per section (the
section's best chunk), so Hit@k still counts sections.

The size is chosen on tuning sets only (the highest mean nDCG@10 over them; a tie goes to the
larger size, the smaller change). The report sets are then measured once, at the old and the
chosen size. Each size has its own indexes: the seed guide's in a temporary folder, and
MedQuAD's in bench/work/medquad-<size>, started from a copy of the benchmark index so that a
section short enough to stay whole reuses its vector.

    python bench/chunk_size.py --out bench/results/chunk_size.md

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import (CREDIT, emit, medquad_index_at, ranking_figures, report_sets, seed_searcher,  # noqa: E402
                    tuning_sets)
from guidesearch.config import Settings  # noqa: E402
from guidesearch.retrieve import open_searcher  # noqa: E402

SIZES = (256, 192, 128, 96)
METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")


def medquad_at(size: int):
    """A searcher over MedQuAD chunked at `size` tokens (common.medquad_index_at)."""
    settings = Settings.from_env().with_(index_dir=medquad_index_at(size), max_tokens=size)
    return open_searcher(settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    tuning, report, chunks = {}, {}, {}
    with tempfile.TemporaryDirectory() as base:
        for size in SIZES:
            (Path(base) / str(size)).mkdir()
            seed = seed_searcher(Path(base) / str(size), Settings.from_env().with_(max_tokens=size))
            medquad = medquad_at(size)
            chunks[size] = (len(seed.index.chunks), len(medquad.index.chunks))
            tuning[size] = {name: ranking_figures(searcher, questions)
                            for name, (searcher, questions) in tuning_sets(seed, medquad).items()}
            report[size] = {name: (searcher, questions)
                            for name, (searcher, questions) in report_sets(seed, medquad).items()}
        names = list(tuning[SIZES[0]])
        lines = [f"Command: python bench/chunk_size.py {' '.join(sys.argv[1:])}  ({{seconds}} s)", "",
                 "## Tuning sets: nDCG@10 by tokens per chunk", "",
                 "| tokens | chunks (seed / MedQuAD) | " + " | ".join(names) + " | mean |",
                 "|---|---|" + "---|" * (len(names) + 1)]
        means = {}
        for size in SIZES:
            row = [tuning[size][name]["nDCG@10"] for name in names]
            means[size] = sum(row) / len(row)
            lines.append(f"| {size} | {chunks[size][0]} / {chunks[size][1]:,} | "
                         + " | ".join(f"{x:.3f}" for x in row) + f" | {means[size]:.4f} |")
        chosen = max(means, key=lambda size: round(means[size], 4))     # ties: the first, the larger size
        lines += ["", f"Chosen: {chosen} tokens.", "", "## Report sets (never used for a choice)", "",
                  "| questions | tokens | " + " | ".join(METRICS) + " |", "|---|---|" + "---|" * len(METRICS)]
        for name in report[SIZES[0]]:
            for size in dict.fromkeys((SIZES[0], chosen)):
                searcher, questions = report[size][name]
                got = ranking_figures(searcher, questions)
                lines.append(f"| {name} | {size} | " + " | ".join(f"{got[m]:.3f}" for m in METRICS) + " |")
    lines += ["", CREDIT]
    lines[0] = lines[0].replace("{seconds}", f"{time.time() - started:.0f}")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
