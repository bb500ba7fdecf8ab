"""Do the lay cues of guidesearch/intent.py (LAY_CUES: "from happening in the first place" asks
for prevention, "what kind of doctor" for diagnosis, "will it ever get better" for the outlook)
earn their place? The ranking is measured through the full search with the question kinds
asked by their stems alone, then with the lay cues too. And does the lead section, before a
guide's first heading, answer what the guide's title asks ("Does Neuropathy Cause Leg Cramps"
opens with its answer)? Without that rule a lead section answers no kind.

The choice is read on the seven tuning sets of bench/common.py (mean nDCG@10, the rule of the
chunk size and the BM25 floor). The report sets are measured for the record; two of them were
written for this check by a session that saw only the guides, never the code or the cues
(tests/data/seed_kinds_report.jsonl, bench/data/medquad_kinds_report.jsonl: a question asking
each kind of thing, in lay, short, long, misspelt and formal wordings), committed before they
were first measured.

    python bench/intent_cues.py --out bench/results/intent_cues.md   (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, emit, evaluate_with, mean_ndcg, metrics_table, study_sets  # noqa: E402
from guidesearch import intent  # noqa: E402

METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")
NEWER_CAUSES = "|how come|why(?=\\s*\\?)"     # "how come ...", "..., why?": added after the first cues
FIRST_CUES = dict(intent.LAY_CUES, causes=intent.LAY_CUES["causes"].replace(NEWER_CAUSES, ""))
assert FIRST_CUES != intent.LAY_CUES, "bench/intent_cues.py: NEWER_CAUSES no longer in LAY_CUES"
# name -> (the lay cues, or None for the stems alone; whether a lead section answers what its
# guide's title asks)
VARIANTS = {
    "stems only": (None, False),
    "stems and the first lay cues": (FIRST_CUES, False),
    "stems and lay cues": (intent.LAY_CUES, False),
    "stems, lay cues, lead answers its title (shipped)": (intent.LAY_CUES, True),
}


@contextmanager
def asked_with(cues: dict | None, searchers: list):
    """question_intents reads intent.INTENTS when called: these kinds for the time of the block."""
    kept = intent.INTENTS, intent.LAY_CUES
    intent.LAY_CUES = cues or {}
    intent.INTENTS = intent.build_intents(cues is not None)
    try:
        yield
    finally:
        intent.INTENTS, intent.LAY_CUES = kept


@contextmanager
def lead_answers(title: bool, searchers: list):
    """Without the lead rule a lead section answers no kind; each searcher's ChunkContext (read
    when an index opens) is made again for the time of the block."""
    shipped = intent.heading_intents
    if not title:
        intent.heading_intents = lambda headings: frozenset() if len(headings) == 1 else shipped(headings)
    kept = [searcher.chunk_context for searcher in searchers]
    for searcher in searchers:
        searcher.chunk_context = intent.ChunkContext(searcher.index.chunks)
    try:
        yield
    finally:
        intent.heading_intents = shipped
        for searcher, context in zip(searchers, kept):
            searcher.chunk_context = context


def measure(sets: dict) -> dict:
    rows = {}
    searchers = list({id(searcher): searcher for searcher, _ in sets.values()}.values())
    for variant, (cues, title) in VARIANTS.items():
        with asked_with(cues, searchers), lead_answers(title, searchers):
            for name, (searcher, questions) in sets.items():
                rows[(name, variant)] = evaluate_with(searcher, questions, searcher.settings).metrics()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    with study_sets() as (_, _, tuning, report):
        tuned, reported = measure(tuning), measure(report)
    lines = ["# Lay cues for the kind of thing a question asks (guidesearch/intent.py LAY_CUES), and the lead section", "",
             "`python bench/intent_cues.py --out bench/results/intent_cues.md`", "",
             "## Tuning sets (the choice)", ""]
    lines += [f"- mean nDCG@10 over the {len(tuning)} tuning sets, {variant}: {mean_ndcg(tuned, variant):.4f}"
              for variant in VARIANTS]
    lines += ["", *metrics_table(tuned, "kinds asked by", METRICS), "",
              "## Report sets (never chosen on)", "", *metrics_table(reported, "kinds asked by", METRICS), "",
              f"Full search, top 10, no evidence sentences; {time.time() - started:.0f} s. {CREDIT}"]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
