"""Shared fixtures: the real model (loaded once), a deterministic fake encoder, a seed index."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np
import pytest

from guidesearch.build import build_index
from guidesearch.config import DEFAULT_MODEL, Settings
from guidesearch.embed import TextEncoder, passage_encoder, question_encoder
from guidesearch.retrieve import Searcher

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED = ROOT / "corpus" / "does-neuropathy-cause-leg-cramps.txt"
SHARED_SEED = ROOT.parent / "shared" / "seed" / "does-neuropathy-cause-leg-cramps.txt"


class FakeEncoder:
    """Bag-of-words vectors from hashed words: deterministic, instant, and similar texts get
    similar vectors. For tests where the model's quality does not matter."""

    name = "fake-encoder"
    dimension = 64
    max_tokens = 64
    backend = "fake"
    precision = "fp32"

    def __init__(self) -> None:
        self.encoded = 0     # texts encoded so far, to see what a rebuild re-embeds
        self.counted = []    # texts whose tokens were counted, to see what a rebuild re-chunks

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        self.counted.extend(texts)
        return [len(re.findall(r"\w+|[^\w\s]", text)) + 2 for text in texts]

    def encode(self, texts: Sequence[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.encoded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        vectors[:, 0] += 1e-3       # no zero vectors
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """Converted models (ONNX, int8) are made once per test run, in a folder of the run's own,
    never in the tester's cache."""
    folder = tmp_path_factory.mktemp("model-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GUIDESEARCH_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="session")
def encoder(model_cache) -> TextEncoder:
    """The real model as a build runs it (the default backend: bf16 where the CPU has it)."""
    return passage_encoder(Settings.from_env())


@pytest.fixture(scope="session")
def questions_encoder(model_cache, encoder) -> TextEncoder:
    """The real model as questions are asked of an index built by `encoder`."""
    return question_encoder(Settings.from_env(), encoder.precision)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


def make_corpus(folder: Path, files: dict[str, str | bytes]) -> Path:
    """A corpus folder holding the given files (text is written as UTF-8)."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


SMALL_GUIDES = {
    "cramps.md": "# Leg Cramps\n\n## Causes\n\nNerve damage and low magnesium cause cramps.\n\n"
                 "## Treatment\n\nStretch the calf and drink water.\n",
    "feet/numb.md": "# Numb Feet\n\n## Symptoms\n\nTingling and burning in the toes.\n",
}


@pytest.fixture
def small_settings(tmp_path, fake_encoder) -> Settings:
    """Settings over a two-guide corpus for the fake encoder; nothing built yet."""
    corpus = make_corpus(tmp_path / "corpus", SMALL_GUIDES)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model_name=fake_encoder.name)


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory, encoder) -> Settings:
    """Settings of an index of the seed corpus built once, with the real model, under tmp."""
    base = tmp_path_factory.mktemp("seed")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    settings = Settings.from_env(corpus_dir=corpus, index_dir=base / "index", model_name=DEFAULT_MODEL)
    build_index(settings, encoder)
    return settings


@pytest.fixture(scope="session")
def seed_searcher(seed_settings, questions_encoder) -> Searcher:
    return Searcher.open(seed_settings, questions_encoder)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's Chromium, never a downloaded browser. Without it the
    browser tests skip, unless GUIDESEARCH_REQUIRE_BROWSER=1 (CI) makes that a failure."""
    from page_server import CHROMIUM, CHROMIUM_ARGS
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("GUIDESEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    for the rest of the session, and the asyncio-based tests (API, MCP, AppTest) cannot start
    their own while it runs."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
