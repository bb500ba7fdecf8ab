"""Hybrid figures on the MedQuAD dev questions that were never used for tuning: those outside the
2,000-question sample (random.Random(0)) on which bench/fusion.py chose the fusion weight.

    python bench/heldout.py        (needs the index bench/medquad.py builds in bench/work/)

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from guidesearch.config import Settings
from guidesearch.evaluate import evaluate, read_questions
from guidesearch.retrieve import open_searcher
questions = [q for q in read_questions(ROOT.parent / "shared" / "medquad" / "dev_questions.jsonl") if not q.expect_none]
tuned = {q.qid for q in random.Random(0).sample(questions, 2000)}
held = [q for q in questions if q.qid not in tuned]
settings = Settings.from_env(index_dir=ROOT / "bench" / "work" / "medquad-index")
searcher = open_searcher(settings=settings)
report = evaluate(held, lambda t: searcher.search(t, top_k=10, evidence=False), searcher.index.chunks, 10)
print(f"{len(held)} held-apart questions (not in the fusion-tuning sample)")
print(json.dumps({k: round(v, 3) for k, v in report.metrics().items()}))
