"""Make the MedQuAD "held-out guides" setting for the "not covered" check (issue 12): an index of
MedQuAD with a random 10% of its topics left out. Questions about a left-out topic are near
misses built by construction: the kind of section exists (other conditions have "Symptoms",
"Treatment"...), the topic does not. Questions about the kept guides are answerable.

A topic is a guide title (case folded): MedQuAD often has the same condition from several NIH
sites, and leaving out one copy would leave the topic covered.

    python bench/heldout_guides.py      # builds bench/work/medquad-90/{corpus,index,index-256}

The index is built from a copy of bench/work/medquad-index, so the kept passages' vectors are
reused (a few minutes rather than twenty). bench/coverage_general.py reads it. index-256 is the
same corpus in 256-token chunks, as indexed before bench/results/chunk_size.md: issue 12's
"before" (bench/issue12.py), built from a copy of bench/work/medquad-256.

MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 2019, CC BY 4.0.
"""
from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import MEDQUAD, build_from_copy, medquad_index_at  # noqa: E402

GUIDES = MEDQUAD.parent / "guides"
WORK = ROOT / "bench" / "work" / "medquad-90"
SHARE = 0.10


def title(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        return handle.readline().lstrip("#").strip().casefold()


def held_out_topics() -> tuple[set[str], dict[str, str]]:
    """(the left-out titles, title of every guide by its path relative to the guides folder)."""
    titles = {str(path.relative_to(GUIDES)): title(path) for path in sorted(GUIDES.rglob("*.md"))}
    topics = sorted(set(titles.values()))
    return set(random.Random(0).sample(topics, round(SHARE * len(topics)))), titles


def _print(message: str) -> None:
    print(message, flush=True)


def main() -> None:
    held, titles = held_out_topics()
    corpus, index = WORK / "corpus", WORK / "index"
    if corpus.exists():
        shutil.rmtree(corpus)
    for relative, name in titles.items():
        if name not in held:
            (corpus / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(GUIDES / relative, corpus / relative)
    report = build_from_copy(corpus, index, ROOT / "bench" / "work" / "medquad-index", _print)
    build_from_copy(corpus, WORK / "index-256", medquad_index_at(256), _print, max_tokens=256)
    kept = sum(name not in held for name in titles.values())
    print(f"{len(held)} of {len(set(titles.values()))} topics left out; {kept} of {len(titles)} guides kept; "
          f"{report.chunks} chunks, {report.embedded} embedded, {report.reused} reused, {report.seconds:.0f} s")
    (WORK / "held_out.json").write_text(json.dumps(sorted(held), indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
