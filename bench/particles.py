"""Should BM25 leave out the particles of phrasal verbs a question uses ("seize up", "pass out",
"wear off")? guidesearch/lexical.py QUESTION_PARTICLES. Found on the project's own example
question, "why do my calves seize up at night?": its one rare BM25 term was "up", which the
guide holds only in "check-ups", so "Preventing Neuropathy-Induced Leg Cramps" ranked first.

The first version left out seven particles (up, down, out, off, over, away, around) and won on
the tuning sets. A review then found what none of the question sets holds: the words go
wherever they stand, and "down" is the one discriminating term of "Down syndrome" (in 1.9% of
MedQuAD's chunks, "syndrom" in 22.8%), "out" of "passing out" (Fainting). No MedQuAD dev
question holds any of the seven, so those rows could not see it. What ships leaves out "up"
alone, and only where it stands alone ("check-ups" keeps it); the spot checks below show the
topics the others carry.

The choice is read on the seven tuning sets of bench/common.py (mean nDCG@10, the rule of the
chunk size, the BM25 floor and the lay cues; a tie keeps what ships). The report sets are
measured for the record.

    python bench/particles.py --out bench/results/particles.md   (needs bench/work/medquad-index)

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
from guidesearch import lexical  # noqa: E402

METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")
EXAMPLE = "why do my calves seize up at night?"
VARIANTS = {"every term": frozenset(),
            "seven particles left out (first version)": frozenset({"up", "down", "out", "off", "over", "away", "around"}),
            "up left out (shipped)": lexical.QUESTION_PARTICLES}
# Questions over MedQuAD whose particle names the topic (found by review).
SPOT_CHECKS = ("down syndrome life expectancy", "is down syndrome inherited", "what causes passing out",
               "off label drug use", "over the counter medicines safety")


@contextmanager
def left_out(particles: frozenset):
    """LexicalIndex._known_terms reads lexical.QUESTION_PARTICLES when called."""
    kept = lexical.QUESTION_PARTICLES
    lexical.QUESTION_PARTICLES = particles
    try:
        yield
    finally:
        lexical.QUESTION_PARTICLES = kept


def measure(sets: dict) -> dict:
    """(set name, variant) -> the set's figures, for every variant."""
    rows = {}
    for variant, particles in VARIANTS.items():
        with left_out(particles):
            for name, (searcher, questions) in sets.items():
                rows[(name, variant)] = evaluate_with(searcher, questions, searcher.settings).metrics()
    return rows


def top_three(searcher, question: str, guides: bool) -> str:
    """The sections (or, guides=True, the guides' titles) of the question's three best hits."""
    hits = searcher.search(question, top_k=3, evidence=False).hits
    return "; ".join(hit.title if guides else (" > ".join(hit.headings[1:]) or "(the lead section)") for hit in hits)


def example_lines(seed, medquad) -> list[str]:
    """The example's top three over the seed guide, and each spot check's over MedQuAD, per variant."""
    lines = [f'The top three for "{EXAMPLE}" (sections of the seed guide):', ""]
    for variant, particles in VARIANTS.items():
        with left_out(particles):
            lines.append(f"- {variant}: {top_three(seed, EXAMPLE, guides=False)}")
    for question in SPOT_CHECKS:
        lines += ["", f'The top three for "{question}" (MedQuAD guides):', ""]
        for variant, particles in VARIANTS.items():
            with left_out(particles):
                lines.append(f"- {variant}: {top_three(medquad, question, guides=True)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    with study_sets() as (seed, medquad, tuning, report):
        tuned, reported = measure(tuning), measure(report)
        example = example_lines(seed, medquad)
    lines = ["# Particles of phrasal verbs left out of BM25's question (guidesearch/lexical.py QUESTION_PARTICLES)", "",
             "`python bench/particles.py --out bench/results/particles.md`", "", *example, "",
             "## Tuning sets (the choice)", ""]
    lines += [f"- mean nDCG@10 over the {len(tuning)} tuning sets, {variant}: {mean_ndcg(tuned, variant):.4f}"
              for variant in VARIANTS]
    lines += ["", *metrics_table(tuned, "BM25 reads", METRICS), "",
              "## Report sets (never chosen on)", "", *metrics_table(reported, "BM25 reads", METRICS), "",
              f"Full search, top 10, no evidence sentences; {time.time() - started:.0f} s. {CREDIT}"]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
