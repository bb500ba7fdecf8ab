"""How often a covered question is told which of its words the guides never use
(SearchResult.unmatched_note), and how often its best hit then answers it.

The coverage check leaves some near misses covered: their topic ("compression socks") weighs
too little in the question to flag it, and the page showed their best hit as a strong match
with nothing to say that no passage names the topic. A key word the guides never use, with no
near synonym there, that weighs at least Settings.min_note_weight is now named to the reader.
The note also falls on answerable questions whose wording the guides lack ("seize", "physio"):
the weight trades the two. (The best hit keeps its label: over the answerable questions noted,
it answers about as often as any best hit does, last column.)

Choice, on the seed tuning questions (tests/question_sets.py): the lowest weight that notes at
most 10% of the answerable tuning questions. The seed report questions (each wording once, none
also a tuning one), MedQuAD dev questions (answerable: a sample of the 2,000 tuning ones and of
those held apart) and the consumer messages over MedQuAD were not used for it; MedQuAD's are
measured at the chosen weight only. History: 0.25 was first chosen by eye on the tuning figures
and the report figures at it seen once; this rule was then written down, and picked 0.25 too.
A review then found that each question of a message must be weighed alone as well, which notes
more tuning questions: the rule now picks 0.3, which ships.

    python bench/unmatched_note.py --out bench/results/unmatched_note.md   (needs bench/work/medquad-index)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, answerable, emit, medquad_searcher, medquad_split, seed_searcher  # noqa: E402
from guidesearch.evaluate import SectionIndex, relevant_sections, section_key  # noqa: E402
from question_sets import seed_report_questions, seed_tuning_questions  # noqa: E402

WEIGHTS = (0.2, 0.25, 0.3, 0.35, 0.4, 10.0)
MOST_NOTED = 0.10           # of the answerable tuning questions
MEDQUAD_SAMPLE = 300


def measure(searcher, questions, weight: float) -> dict[str, list[int]]:
    """Counts at one weight: near misses covered and noted; answerable questions covered and
    noted, and of those noted, whose best hit is relevant."""
    sections = SectionIndex(searcher.index.chunks)
    kept, searcher.coverage.settings = searcher.coverage.settings, searcher.coverage.settings.with_(
        min_note_weight=weight)
    # near misses: asked, covered and noted, covered and not noted;
    # answerable: asked, covered and noted, of those the best hit relevant.
    counts = {"near": [0, 0, 0], "answerable": [0, 0, 0]}
    try:
        for question in questions:
            result = searcher.search(question.question, top_k=1, evidence=False)
            kind = "near" if question.expect_none else "answerable"
            counts[kind][0] += 1
            if result.covered and result.unmatched_terms:
                counts[kind][1] += 1
                if kind == "answerable" and result.hits:
                    counts[kind][2] += section_key(result.hits[0].chunk) in relevant_sections(question, sections)
            elif kind == "near" and result.covered:
                counts["near"][2] += 1      # covered, not noted: what the note would have been for
    finally:
        searcher.coverage.settings = kept
    return counts


def row(name: str, counts: dict[str, list[int]], weight: float) -> str:
    near, answerable = counts["near"], counts["answerable"]
    covered_near = near[1] + near[2]
    noted_near = f"{near[1]} of {covered_near}" if near[0] else "–"
    best = f"{answerable[2]} of {answerable[1]}" if answerable[1] else "–"
    shown = "off" if weight >= 10 else f"{weight:g}"
    return (f"| {name} | {shown} | {noted_near} | {answerable[1]} of {answerable[0]} "
            f"({answerable[1] / max(answerable[0], 1):.1%}) | {best} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    tuning, report = seed_tuning_questions(), seed_report_questions()
    medquad_tune, medquad_held = medquad_split()
    rng = random.Random(0)
    medquad_sets = {"MedQuAD dev, tuning split, answerable": rng.sample(medquad_tune, MEDQUAD_SAMPLE),
                    "MedQuAD dev, held apart, answerable": rng.sample(medquad_held, MEDQUAD_SAMPLE),
                    "consumer messages over MedQuAD, dev": answerable(ROOT / "bench" / "data" / "consumer_dev.jsonl"),
                    "consumer messages over MedQuAD, report": answerable(ROOT / "bench" / "data" /
                                                                         "consumer_questions.jsonl")}
    results: dict[str, dict[float, dict]] = {}
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        for name, questions in (("seed tuning questions", tuning), ("seed report questions", report)):
            results[name] = {weight: measure(seed, questions, weight) for weight in WEIGHTS}
    tuned = results["seed tuning questions"]
    chosen = min((w for w in WEIGHTS if tuned[w]["answerable"][1] <= MOST_NOTED * tuned[w]["answerable"][0]))
    medquad = medquad_searcher()        # at the chosen weight only
    for name, questions in medquad_sets.items():
        results[name] = {chosen: measure(medquad, questions, chosen)}
    lines = [f"Command: python bench/unmatched_note.py {' '.join(sys.argv[1:])}  ({time.time() - started:.0f} s)", "",
             "Covered questions told which of their words the guides never use, by Settings.min_note_weight "
             "(hybrid, one result):", "",
             "| questions | weight | near misses left covered, noted | answerable noted, of all asked | noted whose "
             "best hit is relevant |", "|---|---|---|---|---|"]
    for name, by_weight in results.items():
        lines += [row(name, counts, weight) for weight, counts in by_weight.items()]
    lines += ["", f"Chosen on the seed tuning questions (the lowest weight noting at most {MOST_NOTED:.0%} of the "
              f"answerable ones): {chosen:g}.", "",
              "MedQuAD questions name one relevant section each, so a best hit from another section that also "
              "answers counts as not relevant there.", "", CREDIT]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
