"""Run a build with the fake encoder in a child process, pausing at a named point so a test
can kill it there, or let it go on by creating INDEX/../go:
python tests/build_helper.py CORPUS INDEX POINT (embed|write|swap|none) [WAIT_SECONDS]."""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conftest import FakeEncoder  # noqa: E402

from guidesearch import lexical, store  # noqa: E402
from guidesearch.build import build_index  # noqa: E402
from guidesearch.config import Settings  # noqa: E402


def pause(point: str, go: Path) -> None:
    print(f"AT {point}", flush=True)
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def main(corpus: str, index: str, point: str) -> None:
    encoder = FakeEncoder()
    go = Path(index).parent / "go"
    if point == "embed":
        encode = encoder.encode
        encoder.encode = lambda texts, *a, **k: (pause("embed", go), encode(texts))[1]
    elif point == "write":   # vectors and records written, BM25 not yet
        save = lexical.LexicalIndex.save
        lexical.LexicalIndex.save = lambda self, folder: (pause("write", go), save(self, folder))[1]
    elif point == "swap":    # the new build folder is complete, CURRENT not yet switched
        point_at = store._point_current_at
        store._point_current_at = lambda folder, name: (pause("swap", go), point_at(folder, name))[1]
    settings = Settings(corpus_dir=Path(corpus), index_dir=Path(index), model_name=encoder.name)
    print(build_index(settings, encoder, wait_seconds=float(sys.argv[4]) if len(sys.argv) > 4 else 0).summary(),
          flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
