"""What the benchmarks share: the seed searcher over a fresh index, the MedQuAD questions, and
printing (and saving) a report."""
from __future__ import annotations

import dataclasses
import random
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from guidesearch.build import build_index  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.embed import passage_encoder  # noqa: E402
from guidesearch.evaluate import Question, evaluate, read_questions  # noqa: E402
from guidesearch.retrieve import open_searcher  # noqa: E402

# tests/question_sets.py, which seed question files tune and which report, is read from there.
sys.path.insert(0, str(ROOT / "tests"))

MEDQUAD = ROOT.parent / "shared" / "medquad" / "dev_questions.jsonl"
# The MedQuAD index bench/medquad.py builds, which most benchmarks read.
MEDQUAD_INDEX = ROOT / "bench" / "work" / "medquad-index"
CREDIT = "MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0."


def seed_searcher(base: Path, settings: Settings | None = None):
    """A searcher over an index of the seed guide built in `base` with these settings (default:
    the environment's)."""
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / "does-neuropathy-cause-leg-cramps.txt", corpus)
    settings = (settings or Settings.from_env()).with_(corpus_dir=corpus, index_dir=base / "index")
    build_index(settings, passage_encoder(settings))
    return open_searcher(settings=settings)


def medquad_searcher(settings: Settings | None = None):
    """A searcher over MEDQUAD_INDEX, with these settings (default: the environment's)."""
    return open_searcher(settings=(settings or Settings.from_env()).with_(index_dir=MEDQUAD_INDEX))


def medquad_index_at(max_tokens: int) -> Path:
    """bench/work/medquad-<max_tokens>: MedQuAD chunked at that many tokens, built (or brought up
    to date) from a copy of MEDQUAD_INDEX, so that a section short enough to be the same chunk
    reuses its vector (bench/chunk_size.py; the 256-token one is issue 12's "before")."""
    folder = ROOT / "bench" / "work" / f"medquad-{max_tokens}"
    build_from_copy(MEDQUAD.parent / "guides", folder, MEDQUAD_INDEX, max_tokens=max_tokens)
    return folder


def build_from_copy(corpus: Path, index: Path, start: Path, log=lambda _: None, **settings):
    """Build (or bring up to date) the index of corpus in index, from a copy of the index in start
    when there is none yet, so that passages whose text is unchanged reuse its vectors; settings:
    Settings fields. Returns the BuildReport."""
    if not index.exists():
        shutil.copytree(start, index, symlinks=True)
    settings = Settings.from_env().with_(corpus_dir=corpus, index_dir=index, **settings)
    return build_index(settings, passage_encoder(settings), log=log)


def answerable(path: Path) -> list[Question]:
    """The questions of a file that the guides answer (no expect: none)."""
    return [question for question in read_questions(path) if not question.expect_none]


def medquad_split() -> tuple[list[Question], list[Question]]:
    """The answerable MedQuAD dev questions as (the 2,000 that bench/fusion.py and every later
    choice tuned on, random.Random(0); the rest, held apart), each in file order."""
    questions = answerable(MEDQUAD)
    tuned = {question.qid for question in random.Random(0).sample(questions, 2000)}
    return ([q for q in questions if q.qid in tuned], [q for q in questions if q.qid not in tuned])


# Enough MedQuAD tuning questions to see a change, in a minute per setting.
MEDQUAD_TUNING_SAMPLE = 600


def tuning_sets(seed, medquad) -> dict[str, tuple]:
    """The question sets later ranking choices are made on, each with the searcher that answers
    it (seed, medquad): name -> (searcher, answerable questions)."""
    data = ROOT / "tests" / "data"
    tuned, _ = medquad_split()
    return {
        "seed original 72": (seed, answerable(data / "seed_questions.jsonl")),
        "seed new wordings, even lines 46": (seed, read_questions(data / "seed_reworded.jsonl")[0::2]),
        "seed lay questions 26": (seed, answerable(data / "seed_lay_dev.jsonl")),
        "seed lay phrases 20": (seed, answerable(data / "seed_phrases_dev.jsonl")),
        "consumer messages dev 36": (medquad, answerable(ROOT / "bench" / "data" / "consumer_dev.jsonl")),
        "MedQuAD short lay questions, even lines 30":
            (medquad, read_questions(ROOT / "bench" / "data" / "medquad_short_lay.jsonl")[0::2]),
        f"MedQuAD dev, {MEDQUAD_TUNING_SAMPLE} of the 2,000 tuned on":
            (medquad, random.Random(1).sample(tuned, MEDQUAD_TUNING_SAMPLE)),
    }


@contextmanager
def study_sets():
    """The searchers the later ranking choices read (the seed one over a fresh index in a
    temporary folder, the MedQuAD one) and the question sets over them: yields (seed, medquad,
    tuning_sets(...), report_sets(...))."""
    medquad = medquad_searcher()
    with tempfile.TemporaryDirectory() as base:
        seed = seed_searcher(Path(base))
        yield seed, medquad, tuning_sets(seed, medquad), report_sets(seed, medquad)


def choice_report(report: dict[str, tuple], measure, values: tuple, column: str, metrics: tuple[str, ...]) -> list[str]:
    """Markdown lines of a table: each report set (report_sets) measured at each value of a
    setting, measure(searcher, questions, value) -> figures."""
    lines = [f"| questions | {column} | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for name, (searcher, questions) in report.items():
        for value in values:
            got = measure(searcher, questions, value)
            lines.append(f"| {name} | {value} | " + " | ".join(f"{got[m]:.3f}" for m in metrics) + " |")
    return lines


def report_sets(seed, medquad) -> dict[str, tuple]:
    """The question sets no choice is made on, as tuning_sets has them."""
    data = ROOT / "tests" / "data"
    _, held = medquad_split()
    return {
        "seed new wordings, odd lines 45": (seed, read_questions(data / "seed_reworded.jsonl")[1::2]),
        "seed fresh questions, answerable 25": (seed, answerable(data / "seed_fresh_report.jsonl")),
        "seed long messages, answerable 10": (seed, answerable(data / "seed_long_messages.jsonl")),
        "MedQuAD short lay questions, odd lines 30":
            (medquad, read_questions(ROOT / "bench" / "data" / "medquad_short_lay.jsonl")[1::2]),
        "consumer messages 54": (medquad, answerable(ROOT / "bench" / "data" / "consumer_questions.jsonl")),
        "MedQuAD dev, 5,202 held apart": (medquad, held),
        # Written by a session that saw the guides only (not the code), committed before first measured.
        "seed kinds of question, answerable 36": (seed, answerable(data / "seed_kinds_report.jsonl")),
        "seed questions in the issue's seven styles 70": (seed, answerable(data / "seed_styles_report.jsonl")),
        "MedQuAD kinds of question 30": (medquad, answerable(ROOT / "bench" / "data" / "medquad_kinds_report.jsonl")),
    }


def ranking_figures(searcher, questions: list[Question]) -> dict:
    """nDCG@10, Hit@k, MRR@10 ... of the searcher's full search (top 10, no evidence sentences)."""
    return evaluate(questions, lambda text: searcher.search(text, top_k=10, evidence=False),
                    searcher.index.chunks, 10).metrics()


def evaluate_with(searcher, questions: list[Question], settings: Settings):
    """The evaluation (top 10, no evidence sentences) of the searcher under other settings; its
    coverage check, which reads a copy of its own, gets them too for the time of the run."""
    copy = dataclasses.replace(searcher, settings=settings)
    kept = searcher.coverage.settings
    searcher.coverage.settings = settings
    try:
        return evaluate(questions, lambda text: copy.search(text, top_k=10, evidence=False),
                        searcher.index.chunks, 10)
    finally:
        searcher.coverage.settings = kept


def mean_ndcg(rows: dict, variant: str) -> float:
    """A variant's nDCG@10 averaged over the question sets of rows ((set, variant) -> figures),
    each set counting once: the rule later ranking choices are read by."""
    scores = [figures["nDCG@10"] for (_, shown), figures in rows.items() if shown == variant]
    return sum(scores) / len(scores)


def metrics_table(rows: dict, column: str, metrics: tuple[str, ...]) -> list[str]:
    """Markdown lines of a table: one row per (question set, variant) -> figures."""
    lines = [f"| questions | {column} | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    return lines + [f"| {name} | {variant} | " + " | ".join(f"{figures[m]:.3f}" for m in metrics) + " |"
                    for (name, variant), figures in rows.items()]


def emit(lines: list[str], out: Path | None) -> None:
    """Print the report, and write it to `out` too when given."""
    report = "\n".join(lines)
    print(report)
    if out:
        out.write_text(report + "\n", encoding="utf-8")
