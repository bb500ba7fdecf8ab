"""Does "not covered" generalise? Calibrate the coverage thresholds on development halves and
report on data never used for the choice (issue 12).

Near misses, made so that no threshold was developed on them:
- MedQuAD with a random 10% of its topics left out (bench/heldout_guides.py builds that index):
  the dev questions about a left-out topic. Topics are split in two halves: one to tune on, one
  to report on.
- The seed guide's near misses in new wordings (tests/data/seed_near_misses_reworded.jsonl):
  even lines to tune on, odd lines to report on. Misspelt near misses
  (seed_near_misses_typo_dev.jsonl) and topics of several words with lay phrases the guide
  answers (seed_phrases_dev.jsonl) tune; long messages (seed_long_messages.jsonl, near misses
  and answerable) report. Four sets written blind (only the guide seen): seed_blind_dev.jsonl
  tunes; seed_blind_report.jsonl, seed_blind_report_2.jsonl and seed_blind_report_3.jsonl report,
  less any question worded as in a tuning set (tests/question_sets.py without_tuning_wordings).
Answerable questions, for the false flags: the seed questions (original, and new wordings: even
lines to tune, odd to report), MedQuAD dev questions about the kept topics (the 2,000-question
tuning split to tune, the held-apart rest to report), the consumer messages (dev to tune,
report set to report; over the full MedQuAD index), and unrelated questions. MedQuAD's short lay
questions (brands, slang, slips; over the full index): even lines "tune*", which chose the rule
that a rare absent word counts only when the model reads it in pieces (coverage.AbsentTerm), not
the thresholds (brand names make their false flags far above 3% under any threshold that flags
"quinine"); odd lines to report. Reported too, never used for a choice: MedQuAD's kinds of
question, and the seed guide's fresh, kinds-of-question and seven-styles report sets.

Choice: among thresholds that wrongly flag at most 2% (two thirds of the issue's 3% limit) of
the answerable tuning questions over each corpus (the seed guide's sets pooled, the MedQuAD-90
split, the consumer messages), flag at least 90% of the unrelated questions, and leave the
README's own example questions covered, the one with the highest mean share of tuning near
misses flagged; it replaces the shipped thresholds only when it judges the tuning questions
better beyond chance (shipped_unless_beaten). (Pooled, because one question of the 20 lay phrases
is already 5%: each set alone at 2%, as before, could keep nothing but the strictest thresholds
once that set came in.)
The bound was 3% until the seed's long and formal tuning set came in (2026-11-27): at 3% the
rule then chose min_term_weight 0.45 and min_together_weight 0.8, and the held-out answerable
rewordings were wrongly flagged at 6.7% against 2.2% before. Tuning false flags understate
held-out ones; a false "not covered" withholds an answer, a missed near miss still shows the
closest passages marked as weak. That bound was changed after seeing the report sets, and
bench/results/coverage_general.md says so.

    python bench/heldout_guides.py && python bench/coverage_general.py --out bench/results/coverage_general.md

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import os
import pickle
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import CREDIT, answerable, emit, medquad_searcher, medquad_split, seed_searcher  # noqa: E402
from question_sets import without_tuning_wordings  # noqa: E402
from coverage import collect  # noqa: E402
from heldout_guides import WORK, held_out_topics  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.coverage import Evidence, decide  # noqa: E402
from guidesearch.evaluate import read_questions  # noqa: E402
from guidesearch.retrieve import open_searcher  # noqa: E402

GRID = {"min_cosine": (0.3, 0.35), "term_similarity": (0.55, 0.6, 0.65),
        "term_shift_weight": (1.0, 2.0, 3.0, 4.0),
        "min_term_weight": (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5),
        "max_absent_share": (0.005, 0.01),
        "min_absent_shift": (0.1, 0.15, 0.2, 1.0),
        "phrase_similarity": (0.35, 0.4, 0.45, 0.5, 0.55),
        "min_phrase_weight": (0.3, 0.4, 0.5, 0.6, 0.8, 10.0)}
SAMPLE = 300
MAX_FALSE_FLAGS = 0.02
# The questions the README shows: a reader's first try must not be told "not covered".
README_EXAMPLES = ("why do my calves seize up at night?", "why do my calves cramp at night?")
MIN_UNRELATED = 0.9
# The grid's best replaces the shipped thresholds only at this sign-test p (shipped_unless_beaten).
SIGNIFICANCE = 0.05


def medquad_sets() -> dict[str, tuple[str, list]]:
    """MedQuAD near misses and answerable questions over the index without the left-out topics."""
    held, titles = held_out_topics()
    halves = sorted(held)
    random.Random(3).shuffle(halves)
    tune_topics = set(halves[: len(halves) // 2])
    tuning, report = medquad_split()
    every = tuning + report

    def about(question, topics):
        return all(titles[item.file] in topics for item in question.relevant)

    kept = set(titles.values()) - held
    rng = random.Random(4)
    return {
        "MedQuAD-90 near misses, tuning topics": ("tune", rng.sample([q for q in every if about(q, tune_topics)], SAMPLE)),
        "MedQuAD-90 near misses, report topics": ("report", rng.sample([q for q in every if about(q, held - tune_topics)], SAMPLE)),
        "MedQuAD-90 answerable, tuning split": ("tune", rng.sample([q for q in tuning if about(q, kept)], SAMPLE)),
        "MedQuAD-90 answerable, held-apart split": ("report", rng.sample([q for q in report if about(q, kept)], SAMPLE)),
    }


def seed_sets() -> dict[str, tuple[str, list]]:
    data = ROOT / "tests" / "data"
    reworded = answerable(data / "seed_reworded.jsonl")
    near = read_questions(data / "seed_near_misses_reworded.jsonl")
    original = read_questions(data / "seed_out_of_scope.jsonl")
    long_messages = read_questions(data / "seed_long_messages.jsonl")
    phrases = read_questions(data / "seed_phrases_dev.jsonl")
    fresh = read_questions(data / "seed_fresh_report.jsonl")
    long_formal = read_questions(data / "seed_long_formal_dev.jsonl")
    blind_dev = read_questions(data / "seed_blind_dev.jsonl")
    blind = without_tuning_wordings([q for name in ("seed_blind_report", "seed_blind_report_2",
                                                    "seed_blind_report_3")
                                     for q in read_questions(data / f"{name}.jsonl")])
    return {"seed answerable, original": ("tune", answerable(data / "seed_questions.jsonl")),
            "seed answerable, lay": ("tune", answerable(data / "seed_lay_dev.jsonl")),
            "README examples": ("must", [q for q in answerable(data / "seed_lay_dev.jsonl")
                                         if q.question in README_EXAMPLES]),
            "seed answerable, new wordings even lines": ("tune", reworded[0::2]),
            "seed answerable, new wordings odd lines": ("report", reworded[1::2]),
            "seed near misses, original": ("tune", [q for q in original if q.group == "near-miss"]),
            "seed unrelated, original": ("tune", [q for q in original if q.group == "unrelated"]),
            "seed near misses, new wordings even lines": ("tune", near[0::2]),
            "seed near misses, new wordings odd lines": ("report", near[1::2]),
            "seed near misses, misspelt": ("tune", read_questions(data / "seed_near_misses_typo_dev.jsonl")),
            "seed near misses, topics of several words": ("tune", [q for q in phrases if q.expect_none]),
            "seed answerable, lay phrases": ("tune", [q for q in phrases if not q.expect_none]),
            "seed near misses, stories, formal, lay, short": ("tune", [q for q in long_formal if q.expect_none]),
            "seed answerable, stories, formal, lay, short": ("tune", [q for q in long_formal if not q.expect_none]),
            "seed near misses, long messages": ("report", [q for q in long_messages if q.expect_none]),
            "seed answerable, long messages": ("report", [q for q in long_messages if not q.expect_none]),
            "seed near misses, fresh": ("report", [q for q in fresh if q.expect_none]),
            "seed answerable, fresh": ("report", [q for q in fresh if not q.expect_none]),
            "seed answerable, kinds of question": ("report", answerable(data / "seed_kinds_report.jsonl")),
            "seed answerable, the issue's seven styles": ("report", answerable(data / "seed_styles_report.jsonl")),
            "seed near misses, written blind (dev)": ("tune", [q for q in blind_dev if q.expect_none]),
            "seed answerable, written blind (dev)": ("tune", [q for q in blind_dev if not q.expect_none]),
            "seed near misses, written blind (report)": ("report", [q for q in blind if q.expect_none]),
            "seed answerable, written blind (report)": ("report", [q for q in blind if not q.expect_none])}


def flagged(evidence: list, settings: Settings) -> float:
    return sum(not decide(item, settings).covered for item in evidence) / len(evidence)


def without_piece_rules(evidence: Evidence) -> Evidence:
    """The evidence as the check read it before the rules on words the model reads in pieces:
    no chance floor (Evidence.chance_similarity), and a rare absent word read whole counts."""
    return dataclasses.replace(evidence, chance_similarity=0.0,
                               absent=tuple(dataclasses.replace(term, pieces=99) for term in evidence.absent),
                               asked=tuple(map(without_piece_rules, evidence.asked)))


def choose(measured: dict, base: Settings) -> tuple[Settings, list]:
    """The best GRID thresholds by the rule of this module's doc, with the unknown words together
    off (Evidence.together), then min_together_weight by the same rule at those thresholds: the
    evidence measures words together at the default term_similarity, which the first stage may
    not keep (it kept it: bench/results/coverage_general.md)."""
    groups = _Groups(measured)
    scored = []
    for values in itertools.product(*GRID.values()):
        settings = base.with_(**dict(zip(GRID, values)), min_together_weight=10.0)
        score = groups.score(settings)
        if score is not None:
            scored.append((score, values, settings))
    scored.sort(key=lambda item: item[0], reverse=True)
    chosen = scored[0][2]
    together = [(score, value) for value in TOGETHER
                if (score := groups.score(chosen.with_(min_together_weight=value))) is not None]
    best = max(score for score, _ in together)
    # Of equal scores the highest threshold: the fewest questions named not covered by it.
    return chosen.with_(min_together_weight=max(value for score, value in together if score == best)), scored[:10]


def shipped_unless_beaten(measured: dict, best: Settings, shipped: Settings) -> tuple[Settings, str]:
    """The best settings if they beat the shipped ones beyond chance on the tuning questions,
    else the shipped ones; and why, in a line.

    The grid's best differs from its neighbours, the shipped thresholds among them, by a few
    questions: a new tuning set can move it by one question (2026-11-27: the blind dev set made
    the best min_phrase_weight 0.3, for two near misses more and one false flag more). So the
    tuning questions whose verdict changes are counted, each one better (a near miss or an
    unrelated question flagged, an answerable one no longer flagged) or worse, and the best
    replaces the shipped settings only when a one-sided sign test on them gives p < SIGNIFICANCE.
    The p is optimistic (the best was picked from the grid on these same questions), so the
    test errs towards change; and shipped thresholds that now break a limit of the rule give way.
    """
    groups = _Groups(measured)
    if groups.score(shipped) is None:
        return best, "the shipped thresholds break a limit of the rule: the grid's best replaces them"
    better, worse = groups.changes(best, shipped)
    p = sign_test(better, worse)
    keep = p >= SIGNIFICANCE
    return (shipped if keep else best), (f"against the shipped thresholds the grid's best judges {better} tuning "
                                          f"question(s) better and {worse} worse (sign test p = {p:.3f}): "
                                          + ("the shipped thresholds are kept" if keep else "the best replaces them"))


def sign_test(better: int, worse: int) -> float:
    """One-sided sign test: the chance of at least `better` of better + worse fair coin tosses."""
    tosses = better + worse
    return sum(math.comb(tosses, k) for k in range(better, tosses + 1)) / 2 ** tosses


# min_together_weight, chosen after the GRID (choose); 10 is off.
TOGETHER = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 10.0)


class _Groups:
    """The measured evidence as the choice reads it, grouped once (the grid scores 40,320 settings)."""

    def __init__(self, measured: dict) -> None:
        tuning = {name: evidence for name, (use, evidence) in measured.items() if use == "tune"}
        corpora: dict[str, list] = {}          # answerable tuning evidence, pooled per corpus
        for name in tuning:
            if "answerable" in name or "consumer" in name:
                corpora.setdefault(name.split()[0].rstrip(","), []).extend(tuning[name])
        self.pooled = list(corpora.values())
        self.must = [item for name, (use, evidence) in measured.items() if use == "must" for item in evidence]
        self.misses = [tuning[n] for n in tuning if "near misses" in n]
        self.unrelated = [tuning[n] for n in tuning if "unrelated" in n]

    def score(self, settings: Settings) -> float | None:
        """The mean share of tuning near misses flagged, or None when the settings break a limit."""
        if any(flagged(pooled, settings) > MAX_FALSE_FLAGS for pooled in self.pooled):
            return None
        if any(not decide(item, settings).covered for item in self.must):
            return None
        if any(flagged(evidence, settings) < MIN_UNRELATED for evidence in self.unrelated):
            return None
        return sum(flagged(evidence, settings) for evidence in self.misses) / len(self.misses)

    def changes(self, new: Settings, old: Settings) -> tuple[int, int]:
        """How many tuning questions new judges better than old, and how many worse; a wording
        in two tuning sets counts once."""
        better = worse = 0
        seen = set()
        for evidence, flag_is_right in [*((e, True) for group in self.misses + self.unrelated for e in group),
                                        *((e, False) for group in self.pooled for e in group)]:
            if evidence.question_words in seen:
                continue
            seen.add(evidence.question_words)
            now, before = not decide(evidence, new).covered, not decide(evidence, old).covered
            if now != before:
                better += now == flag_is_right
                worse += now != flag_is_right
        return better, worse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started = time.time()
    # Measured once with the widest window; decide() applies each threshold afterwards.
    base = Settings.from_env(max_absent_share=max(GRID["max_absent_share"]))
    measured: dict[str, tuple[str, list]] = {}
    ninety = open_searcher(settings=base.with_(index_dir=WORK / "index"))
    for name, (use, questions) in medquad_sets().items():
        measured[name] = (use, [e for _, e in collect(ninety, questions)])
    full = medquad_searcher(base)
    for name, use, path in (("consumer dev, answerable", "tune", "consumer_dev.jsonl"),
                            ("consumer report, answerable", "report", "consumer_questions.jsonl"),
                            ("MedQuAD kinds of question, answerable", "report", "medquad_kinds_report.jsonl")):
        measured[name] = (use, [e for _, e in collect(full, answerable(ROOT / "bench" / "data" / path))])
    lay = [e for _, e in collect(full, answerable(ROOT / "bench" / "data" / "medquad_short_lay.jsonl"))]
    measured["MedQuAD short lay questions, answerable, even lines"] = ("tune*", lay[0::2])
    measured["MedQuAD short lay questions, answerable, odd lines"] = ("report", lay[1::2])
    with tempfile.TemporaryDirectory() as folder:
        seed = seed_searcher(Path(folder))
        seed = dataclasses.replace(seed, settings=base.with_(corpus_dir=seed.settings.corpus_dir,
                                                             index_dir=seed.settings.index_dir))
        seed.coverage.settings = seed.settings
        for name, (use, questions) in seed_sets().items():
            measured[name] = (use, [e for _, e in collect(seed, questions)])
    if os.environ.get("COVERAGE_EVIDENCE"):     # for exploring thresholds without measuring again
        Path(os.environ["COVERAGE_EVIDENCE"]).write_bytes(pickle.dumps(measured))
    best, leaders = choose(measured, base)
    shipped = base.with_(**{name: getattr(Settings(), name) for name in (*GRID, "min_together_weight")})
    chosen, why = shipped_unless_beaten(measured, best, shipped)
    # The check before issue 12: an unknown word's gain alone, no absent corpus words.
    before = Settings(min_cosine=0.3, term_similarity=0.65, term_shift_weight=0.0, min_term_weight=0.05,
                      min_absent_shift=1.0, min_phrase_weight=10.0)
    lines = [f"Command: python bench/coverage_general.py {' '.join(sys.argv[1:])}  ({time.time() - started:.0f} s)", "",
             "Share of each set flagged \"not covered\" (near misses and unrelated: higher is better; "
             "answerable: lower is better). Before: "
             f"min_cosine {before.min_cosine}, term_similarity {before.term_similarity}, gain >= {before.min_term_weight} "
             "(no shift), no absent terms, a long message's questions not judged alone. "
             "Grid's best: " + ", ".join(f"{k} {getattr(best, k)}" for k in (*GRID, "min_together_weight"))
             + f"; {why}. Chosen: " + ", ".join(f"{k} {getattr(chosen, k)}" for k in (*GRID, "min_together_weight"))
             + ".", "",
             "Chosen, no piece rules: the same thresholds, without the two rules on words the model reads "
             "in pieces (an unknown one passes as a word for a covered thing at term_similarity however close "
             "made-up words come by chance; a rare absent word counts whether read whole or in pieces).", "",
             "Chosen, words together off: the same thresholds, min_together_weight 10 (Evidence.together unread).", "",
             "| set | used for | size | before | chosen, no piece rules | chosen, words together off | chosen |",
             "|---|---|---|---|---|---|---|"]
    apart = chosen.with_(min_together_weight=10.0)
    for name, (use, evidence) in measured.items():
        alone = [dataclasses.replace(without_piece_rules(item), asked=()) for item in evidence]    # nor questions alone
        lines.append(f"| {name} | {use} | {len(evidence)} | {flagged(alone, before.with_(max_absent_share=0.0)):.3f} "
                     f"| {flagged([without_piece_rules(item) for item in evidence], apart):.3f} "
                     f"| {flagged(evidence, apart):.3f} | {flagged(evidence, chosen):.3f} |")
    lines += ["", "Best ten settings on the tuning sets (mean tuning near misses flagged, words together off):", ""]
    lines += [f"- {score:.3f}: " + ", ".join(f"{k} {v}" for k, v in zip(GRID, values)) for score, values, _ in leaders]
    lines += ["", "min_together_weight at the chosen thresholds (mean tuning near misses flagged; "
              "- where a limit is broken):", ""]
    for value in TOGETHER:
        score = _Groups(measured).score(chosen.with_(min_together_weight=value))
        lines.append(f"- {value}: " + ("-" if score is None else f"{score:.3f}"))
    lines += ["", CREDIT]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
