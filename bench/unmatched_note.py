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
from dataclasses import dataclass
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


@dataclass
class Counts:
    """One kind of question (near misses or answerable) at one weight."""

    asked: int = 0
    covered: int = 0
    noted: int = 0              # covered and told of words the guides never use
    noted_relevant: int = 0     # of those, whose best hit is relevant (answerable questions)


def measure(searcher, questions, weight: float) -> dict[str, Counts]:
    """Counts at one weight, for "near" misses and "answerable" questions."""
    sections = SectionIndex(searcher.index.chunks)
    kept, searcher.coverage.settings = searcher.coverage.settings, searcher.coverage.settings.with_(
        min_note_weight=weight)
    counts = {"near": Counts(), "answerable": Counts()}
    try:
        for question in questions:
            result = searcher.search(question.question, top_k=1, evidence=False)
            kind = counts["near" if question.expect_none else "answerable"]
            kind.asked += 1
            kind.covered += result.covered
            if result.covered and result.unmatched_terms:
                kind.noted += 1
                kind.noted_relevant += bool(result.hits) and not question.expect_none and \
                    section_key(result.hits[0].chunk) in relevant_sections(question, sections)
    finally:
        searcher.coverage.settings = kept
    return counts


def row(name: str, counts: dict[str, Counts], weight: float) -> str:
    near, answerable = counts["near"], counts["answerable"]
    noted_near = f"{near.noted} of {near.covered}" if near.asked else "–"
    best = f"{answerable.noted_relevant} of {answerable.noted}" if answerable.noted else "–"
    shown = "off" if weight >= 10 else f"{weight:g}"
    return (f"| {name} | {shown} | {noted_near} | {answerable.noted} of {answerable.asked} "
            f"({answerable.noted / max(answerable.asked, 1):.1%}) | {best} |")


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
    results: dict[str, dict[float, dict[str, Counts]]] = {}
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        for name, questions in (("seed tuning questions", tuning), ("seed report questions", report)):
            results[name] = {weight: measure(seed, questions, weight) for weight in WEIGHTS}
    tuned = results["seed tuning questions"]
    chosen = min(w for w in WEIGHTS if tuned[w]["answerable"].noted <= MOST_NOTED * tuned[w]["answerable"].asked)
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
