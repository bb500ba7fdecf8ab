"""Rebuild costs: full build, rebuild with no change, after editing, deleting and restoring one guide.

    python bench/rebuild.py --corpus corpus
    python bench/rebuild.py --corpus ../shared/medquad/guides --seed-index bench/work/medquad-index

Works on a copy of the corpus in bench/work/, never on corpus/ or index/. With --seed-index, the
copy of the index starts from that finished build (its vectors are the cache), so the "full build"
row is skipped: a full MedQuAD build is timed by bench/medquad.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guidesearch.build import build_index  # noqa: E402
from guidesearch.config import Settings  # noqa: E402
from guidesearch.embed import TextEncoder, passage_encoder  # noqa: E402
from guidesearch.ingest import list_guide_files  # noqa: E402


def timed_build(settings: Settings, encoder: TextEncoder, label: str) -> str:
    started = time.perf_counter()
    report = build_index(settings, encoder)
    seconds = time.perf_counter() - started
    return (f"| {label} | {seconds:.1f} | {report.embedded:,} | {report.reused:,} | "
            f"{len(report.added)}/{len(report.changed)}/{len(report.removed)}/{report.unchanged} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--seed-index", type=Path, help="start from a copy of this built index")
    args = parser.parse_args()
    work = ROOT / "bench" / "work" / f"rebuild-{args.corpus.resolve().name}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(args.corpus, work / "corpus")
    if args.seed_index:
        shutil.copytree(args.seed_index, work / "index", ignore=shutil.ignore_patterns(".build.lock"))
    settings = Settings.from_env(corpus_dir=work / "corpus", index_dir=work / "index")
    encoder = passage_encoder(settings)
    rows = []
    if not args.seed_index:
        rows.append(timed_build(settings, encoder, "full build"))
    else:   # bring the copied index up to date with this code first
        build_index(settings, encoder)
    rows.append(timed_build(settings, encoder, "no change"))
    edited = list_guide_files(settings.corpus_dir)[0]
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.rstrip("\n") + "\nOne more sentence added by the benchmark.\n", encoding="utf-8")
    rows.append(timed_build(settings, encoder, f"one file edited ({edited.name})"))
    if len(list_guide_files(settings.corpus_dir)) > 1:    # a corpus must keep one guide
        original = edited.read_bytes()
        edited.unlink()
        rows.append(timed_build(settings, encoder, "that file deleted"))
        edited.write_bytes(original)
        rows.append(timed_build(settings, encoder, "that file restored (its vectors were kept)"))
    print(f"Command: python bench/rebuild.py {' '.join(sys.argv[1:])}")
    print(f"Machine: {os.cpu_count()} cores; model {settings.model_name}; corpus {args.corpus}")
    print("| build | seconds | chunks embedded | chunks reused | guides added/changed/removed/unchanged |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
