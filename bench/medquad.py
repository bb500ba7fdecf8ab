"""MedQuAD benchmark: build an index of ../shared/medquad/guides in a folder of its own, run the
development questions, print retrieval figures per mode, build speed and query latency.

    python bench/medquad.py                 # 1,000 sampled dev questions (seeded)
    python bench/medquad.py --all           # all 7,202 dev questions
    python bench/medquad.py --all --out bench/results/medquad.md

Contains data from MedQuAD (Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019),
https://github.com/abachaa/MedQuAD, licensed under CC BY 4.0.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guidesearch.build import build_index  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.embed import TextEncoder, passage_encoder  # noqa: E402
from guidesearch.evaluate import evaluate, read_questions  # noqa: E402
from guidesearch.retrieve import Searcher, open_searcher  # noqa: E402
from guidesearch.freshness import check_freshness  # noqa: E402

MEDQUAD = ROOT.parent / "shared" / "medquad"
CREDIT = ("Contains data from MedQuAD (Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019), "
          "https://github.com/abachaa/MedQuAD, licensed under CC BY 4.0.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guides", type=Path, default=MEDQUAD / "guides")
    parser.add_argument("--questions", type=Path, default=MEDQUAD / "dev_questions.jsonl")
    parser.add_argument("--index", type=Path, default=ROOT / "bench" / "work" / "medquad-index")
    parser.add_argument("--sample", type=int, default=1000, help="questions to sample (default 1000)")
    parser.add_argument("--all", action="store_true", help="run every question")
    parser.add_argument("--modes", default="dense,lexical,hybrid")
    parser.add_argument("--dense-weight", type=float, help="hybrid weight of the dense cosine")
    parser.add_argument("--out", type=Path, help="also write the report (Markdown) here")
    return parser.parse_args()


def build(settings: Settings, encoder: TextEncoder) -> list[str]:
    """Build (or bring up to date) the benchmark index; lines describing the build."""
    if check_freshness(settings).fresh:
        return [f"Index in {settings.index_dir} already up to date (built earlier; no build timed in this run)."]
    report = build_index(settings, encoder, show_progress=sys.stderr.isatty(), log=lambda m: print(m, flush=True))
    rate = report.embedded / report.seconds if report.seconds else 0.0
    return [f"Build: {report.guides:,} guides, {report.sections:,} sections, {report.chunks:,} chunks, "
            f"{report.embedded:,} embedded, {report.reused:,} reused, in {report.seconds:.0f} s "
            f"({rate:.1f} passages/s including chunking and BM25)."]


def run_mode(searcher: Searcher, questions, mode: str) -> tuple[dict, list[float], float]:
    latencies: list[float] = []

    def ask(text: str):
        started = time.perf_counter()
        result = searcher.search(text, top_k=10, mode=mode, evidence=False)
        latencies.append(time.perf_counter() - started)
        return result

    report = evaluate(questions, ask, searcher.index.chunks, 10)
    return report.metrics(), latencies, report.flagged_share(report.answerable)


def main() -> None:
    args = parse_args()
    settings = Settings.from_env(corpus_dir=args.guides, index_dir=args.index, dense_weight=args.dense_weight)
    lines = build(settings, passage_encoder(settings))
    print("\n".join(lines), flush=True)
    questions = read_questions(args.questions)
    if not args.all and args.sample < len(questions):
        questions = random.Random(0).sample(questions, args.sample)
    searcher = open_searcher(settings=settings)
    rows = []
    for mode in args.modes.split(","):
        figures, latencies, flagged = run_mode(searcher, questions, mode)
        cuts = statistics.quantiles(latencies, n=100)
        rows.append(f"| {mode} | {figures['Hit@1']:.3f} | {figures['Hit@5']:.3f} | {figures['Hit@10']:.3f} | "
                    f"{figures['Recall@10']:.3f} | {figures['MRR@10']:.3f} | {figures['nDCG@10']:.3f} | {flagged:.3f} | "
                    f"{cuts[49] * 1000:.0f} | {cuts[94] * 1000:.0f} |")
        print(rows[-1], flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = "\n".join([
        f"Command: python bench/medquad.py {' '.join(sys.argv[1:])}",
        f"Machine: {os.cpu_count()} cores; model {settings.model_name}; hybrid dense_weight {settings.dense_weight}",
        f"Questions: {len(questions):,} of {args.questions.name}", *lines, "",
        "| mode | Hit@1 | Hit@5 | Hit@10 | Recall@10 | MRR@10 | nDCG@10 | flagged not covered | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|", *rows, "",
        f"Peak memory (max RSS): {peak:,.0f} MB. Latency is the whole search call: cleaning, query "
        "embedding, ranking and the coverage check.", "", CREDIT])
    print("\n" + report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
