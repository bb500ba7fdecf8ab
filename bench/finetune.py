"""Would all-MiniLM-L6-v2 fine-tuned on the development questions rank better? (issue 12: "a
model fine-tuned locally from the packaged weights on the development questions ... measured
on data it was not trained on"). A bench experiment, not shipped.

Training pairs (question -> the passage of a relevant section), development data only: the
2,000 MedQuAD dev questions every earlier choice tuned on, the consumer-style development
messages (their focus, grade-2 sections), the original seed questions and the even lines of
the seed questions in new wordings. Each pair has a hard negative: another section of the same
guide. One epoch of the in-batch ranking loss with those negatives (as sentence-transformers'
MultipleNegativesRankingLoss, scale 20), AdamW 2e-5 with warm-up, batch 16, passages cut to
128 tokens while training, from the packaged weights.

Report, never trained on: the odd lines of the seed questions in new wordings, the seed long
messages, the 5,202 held-apart MedQuAD dev questions and the 54 consumer-style messages. Both
models run through the same backend (torch bf16) and the same search (Searcher.search).

    python bench/finetune.py train                  # -> bench/work/finetuned-minilm (about 10 min)
    python bench/finetune.py index                  # -> bench/work/medquad-index-ft (28k passages)
    python bench/finetune.py report --out bench/results/finetune.md

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
from common import CREDIT, answerable, emit, medquad_split, metrics_table, ranking_figures, seed_searcher  # noqa: E402
from guidesearch.config import DEFAULT_MODEL, Settings  # noqa: E402
from guidesearch.build import build_index  # noqa: E402
from guidesearch.embed import passage_encoder, resolve_model_path  # noqa: E402
from guidesearch.evaluate import SectionIndex, relevant_sections  # noqa: E402
from guidesearch.focus import find_focus  # noqa: E402
from guidesearch.retrieve import open_searcher  # noqa: E402

WORK = ROOT / "bench" / "work"
MODEL = WORK / "finetuned-minilm"
MEDQUAD_FT = WORK / "medquad-index-ft"
MEDQUAD = WORK / "medquad-index"
DATA = ROOT / "tests" / "data"
BACKEND = "torch-bf16"
METRICS = ("nDCG@10", "Hit@1", "Hit@3", "MRR@10")


def passages_of(chunks, questions, focus_words: int, min_grade: int = 1) -> list[tuple[str, str, str]]:
    """(question, passage, hard negative) triples: each question with the first chunk of each
    relevant section, and the first chunk of another section of the same guide that is not
    relevant (the confusion the ranking makes: "Causes" for "Symptoms"), or of a random
    section when the guide has no other."""
    sections = SectionIndex(chunks)
    first: dict = {}
    for chunk in chunks:
        first.setdefault((chunk.source, chunk.headings), chunk.embed_text)
    by_guide: dict = {}
    for key in first:
        by_guide.setdefault(key[0], []).append(key)
    everything = list(first)
    rng = random.Random(1)
    triples = []
    for question in questions:
        text = find_focus(" ".join(question.question.split()), focus_words)
        relevant = relevant_sections(question, sections)
        for key, grade in relevant.items():
            if grade >= min_grade and key in first:
                others = [other for other in by_guide[key[0]] if other not in relevant] or everything
                triples.append((text, first[key], first[rng.choice(others)]))
    return triples


def training_pairs(settings: Settings) -> list[tuple[str, str]]:
    medquad = open_searcher(settings=settings.with_(index_dir=MEDQUAD))
    pairs = passages_of(medquad.index.chunks, medquad_split()[0], settings.focus_words)
    pairs += passages_of(medquad.index.chunks, answerable(ROOT / "bench" / "data" / "consumer_dev.jsonl"),
                         settings.focus_words, min_grade=2)
    with tempfile.TemporaryDirectory() as folder:
        seed = seed_searcher(Path(folder), settings)
        seed_questions = answerable(DATA / "seed_questions.jsonl") + answerable(DATA / "seed_reworded.jsonl")[0::2]
        pairs += passages_of(seed.index.chunks, seed_questions, settings.focus_words)
    return pairs


def train(settings: Settings, batch_size: int = 16, seed: int = 0) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    pairs = training_pairs(settings)
    random.Random(seed).shuffle(pairs)
    batches, batch, seen = [], [], set()
    for question, passage, negative in pairs:   # a passage twice in a batch would be its own negative
        if passage in seen:
            batches.append(batch)
            batch, seen = [], set()
        batch.append((question, passage, negative))
        seen.add(passage)
        if len(batch) == batch_size:
            batches.append(batch)
            batch, seen = [], set()
    batches += [batch] if batch else []
    model = SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu")
    reads = model.max_seq_length
    model.max_seq_length = 128      # the heading and the passage's start: half the time per step
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    warmup = max(1, len(batches) // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (len(batches) - step) / len(batches)))
    started = time.time()
    for step, batch in enumerate(batches):
        questions = model(model.tokenize([q for q, _, _ in batch]))["sentence_embedding"]
        passages = model(model.tokenize([p for _, p, _ in batch] + [n for _, _, n in batch]))["sentence_embedding"]
        scores = 20.0 * torch.nn.functional.normalize(questions, dim=1) @ torch.nn.functional.normalize(passages, dim=1).T
        loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if step % 10 == 0:
            print(f"step {step}/{len(batches)} loss {loss.item():.3f} ({time.time() - started:.0f} s)", flush=True)
    model.max_seq_length = reads
    model.save(str(MODEL))
    print(f"{len(pairs)} pairs, {len(batches)} batches, {time.time() - started:.0f} s -> {MODEL}")


def index(settings: Settings) -> None:
    ft = settings.with_(model_name=str(MODEL), corpus_dir=ROOT.parent / "shared" / "medquad" / "guides",
                        index_dir=MEDQUAD_FT)
    report = build_index(ft, passage_encoder(ft), show_progress=True)
    print(f"{report.chunks} chunks, {report.embedded} embedded, {report.seconds:.0f} s")


def report(settings: Settings, out: Path | None) -> None:
    started = time.time()
    reworded = answerable(DATA / "seed_reworded.jsonl")
    seed_sets = {"seed new wordings, odd lines 45 (report)": reworded[1::2],
                 "seed long messages, answerable 10 (report)": answerable(DATA / "seed_long_messages.jsonl"),
                 "seed new wordings, even lines 46 (trained on)": reworded[0::2],
                 "seed original 72 (trained on)": answerable(DATA / "seed_questions.jsonl")}
    medquad_sets = {"MedQuAD dev, 5,202 held apart (report)": medquad_split()[1],
                    "consumer messages 54 (report)": answerable(ROOT / "bench" / "data" / "consumer_questions.jsonl"),
                    "consumer messages dev 36 (trained on)": answerable(ROOT / "bench" / "data" / "consumer_dev.jsonl")}
    rows = {}
    for label, model in (("packaged", DEFAULT_MODEL), ("fine-tuned", str(MODEL))):
        with tempfile.TemporaryDirectory() as folder:
            seed = seed_searcher(Path(folder), settings.with_(model_name=model))
            for name, questions in seed_sets.items():
                rows[name, label] = ranking_figures(seed, questions)
        searcher = open_searcher(settings=settings.with_(model_name=model,
                                                         index_dir=MEDQUAD if label == "packaged" else MEDQUAD_FT))
        for name, questions in medquad_sets.items():
            rows[name, label] = ranking_figures(searcher, questions)
    ordered = {key: rows[key] for name in [*seed_sets, *medquad_sets] for key in rows if key[0] == name}
    lines = [f"Command: python bench/finetune.py report {' '.join(sys.argv[2:])}  ({time.time() - started:.0f} s)", "",
             f"Both models through the {BACKEND} backend and Searcher.search (hybrid, one result per section).", "",
             *metrics_table(ordered, "model", METRICS), "", CREDIT]
    emit(lines, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("train", "index", "report"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = Settings.from_env(backend=BACKEND)
    {"train": lambda: train(settings), "index": lambda: index(settings),
     "report": lambda: report(settings, args.out)}[args.step]()


if __name__ == "__main__":
    main()
