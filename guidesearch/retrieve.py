"""Question in, hits out: dense (FAISS), lexical (BM25), or a fusion of both."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from guidesearch.backends import questions_compatible
from guidesearch.config import BUILD_COMMAND, Mode, Settings
from guidesearch.coverage import MAX_UNKNOWN_WORDS, CoverageCheck, Evidence, Verdict, key_words
from guidesearch.embed import TextEncoder, fast_encoder, question_encoder
from guidesearch.errors import IndexMismatchError
from guidesearch.focus import find_focus, is_long, questions as focus_questions
from guidesearch.fusion import fuse, order
from guidesearch.highlight import UnitVectors, find_evidence
from guidesearch.intent import ChunkContext, question_intents
from guidesearch.lexical import analyse
from guidesearch.question import clean_question
from guidesearch.records import Hit, SearchResult
from guidesearch.store import StoredIndex, load_index, read_manifest, require_build

# Hybrid ranks the union of each side's best candidates; past this depth neither side's
# ranking adds anything the other one misses (measured on the development sets).
CANDIDATES = 100
# Ranked this many times deeper than asked, so that exact repeats can be dropped.
DUPLICATE_DEPTH = 4
# The coverage check reads the passages this close to the question, whatever the ranking mode.
NEAREST = 3
# A long message's questions are also judged alone (one model call for them all): at most
# MAX_ASKED, each of at least two key words (one, "Any advice?", names no topic) and at most
# MAX_ASKED_WORDS words (a longer "question" is a story itself), with MAX_UNKNOWN_WORDS unknown
# words among them all: each costs the model two texts (three questions of made-up words after a
# story took 4 s to judge before these bounds).
MAX_ASKED = 3
# A word the corpus lacks also searches BM25 for the corpus word closest in meaning ("workouts"
# -> "exercise") in questions of fewer words than this: a long message's story words bring their
# own neighbours ("found" -> "find"), a loss on the tuning sets (bench/results/expansion.md).
MAX_EXPANDED_WORDS = 25
# ... when one of the passages this close to the question holds that word (CoverageCheck.related_words;
# chosen with the threshold in bench/results/expansion.md, where 3 and 10 tie).
RELATED_DEPTH = 3
MIN_ASKED_KEY_WORDS = 2
MAX_ASKED_WORDS = 40


def open_searcher(index_dir: str | Path | None = None, corpus_dir: str | Path | None = None,
                  settings: Settings | None = None) -> "Searcher":
    """A Searcher over an index, with the fastest question encoder measured to suit it.

    The entry point for programs that embed the search:
        searcher = open_searcher()              # index/ and corpus/, or GUIDESEARCH_* variables
        result = searcher.search("why do my calves cramp at night?", top_k=5)
    None means the settings' default (and the environment); settings, when given, wins.

    Raises:
        SettingsError, IndexMissingError, IndexMismatchError, IndexCorruptError, ModelError.
    """
    settings = settings or Settings.from_env(index_dir=index_dir, corpus_dir=corpus_dir)
    require_build(settings.index_dir)      # before the model loads, for nothing
    return Searcher.open(settings, *question_encoders(settings))


def question_encoders(settings: Settings) -> tuple[TextEncoder, TextEncoder | None]:
    """The question encoder suited to the index in settings.index_dir, and its fast form
    (Searcher.fast_encoder), or None."""
    manifest = read_manifest(settings.index_dir)
    questions = question_encoder(settings, manifest.shape.precision if manifest else "fp32")
    return questions, fast_encoder(settings, questions)


@dataclass
class Searcher:
    """Answers questions from one loaded index. Build once, ask many times (from any thread)."""

    settings: Settings
    encoder: TextEncoder
    index: StoredIndex
    coverage: CoverageCheck
    # A faster encoder (int8) for questions whose coverage verdict reads no vector, and for
    # evidence candidates; None: the encoder does everything.
    fast_encoder: TextEncoder | None = None
    unit_vectors: UnitVectors = field(init=False)
    chunk_context: ChunkContext = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.unit_vectors = UnitVectors(self.fast_encoder or self.encoder)
        self.chunk_context = ChunkContext(self.index.chunks)

    @classmethod
    def open(cls, settings: Settings, encoder: TextEncoder,
             fast_encoder: TextEncoder | None = None) -> "Searcher":
        """Load the index in settings.index_dir for this encoder (and fast_encoder, see above).

        Raises:
            IndexMissingError, IndexMismatchError, IndexCorruptError: see store.load_index.
            IndexMismatchError: the encoder's precision was not measured to suit the passages'.
        """
        index = load_index(settings.index_dir, encoder.name)
        for asking in filter(None, (encoder, fast_encoder)):
            _check_compatible(settings, index, asking)
        coverage = CoverageCheck.from_index(index, encoder, settings)
        coverage.chance_similarity      # measured now (0.2 s) rather than in someone's search
        return cls(settings, encoder, index, coverage, fast_encoder)

    def search(self, question: str, top_k: int | None = None, mode: Mode | None = None,
               evidence: bool = True) -> SearchResult:
        """The best passages for a question, and whether the guides cover it.

        With evidence, each hit names the sentence or item that best answers the question.

        Raises:
            QuestionError: the question is empty or has nothing to search for.
        """
        clean = clean_question(question, self.settings.max_question_chars)
        # A long message is searched by its focus: subject line and questions (focus.py).
        focus = find_focus(clean.text, self.settings.focus_words)
        text, cut_to_model = self._fit_model(focus)
        top_k = top_k or self.settings.top_k
        mode = mode or self.settings.mode
        # Typing slips of corpus words are repaired before anything reads the question: the
        # model splits "neuropaty" into pieces that no longer mean neuropathy, and BM25 cannot
        # match it at all (bench/results/spelling.md).
        searched = self.coverage.repair_spelling(text)
        # One model call embeds the question and what the coverage check needs (probes), with
        # the encoder its thresholds were calibrated with; a question whose verdict reads no
        # vector (all key words known) takes the fast one.
        probes = self.coverage.probes(searched)
        fast = self.fast_encoder is not None and not self.coverage.reads_vectors(searched, probes)
        vectors = (self.fast_encoder if fast else self.encoder).encode([searched, *probes])
        query = vectors[0]
        # One exact search serves the dense ranking, the hybrid's candidates, the coverage
        # check's best cosine and the passages that vouch for related words.
        total = self.index.dense.ntotal
        depth = top_k * DUPLICATE_DEPTH     # room to drop repeats of the same passage text
        dense = self.index.dense.top_k(query, min(max(depth, CANDIDATES), total))
        near_texts = [self._passage_text(row) for row in dense[0][:max(NEAREST, RELATED_DEPTH)]]
        measured = self._evidence(searched, vectors, dense, near_texts[:NEAREST])
        related = self._related_words(clean.text, searched, measured, near_texts[:RELATED_DEPTH], mode)
        while True:
            rows, scores = self._rank(searched, query, dense, mode, depth, related)
            hits = self._hits(rows, scores, query, top_k)
            if len(hits) >= top_k or len(rows) < depth or depth >= total:
                break
            depth *= DUPLICATE_DEPTH        # mostly repeats so far: look deeper
            dense = self.index.dense.top_k(query, min(max(depth, CANDIDATES), total))
        # A message's questions are also judged alone: in a long one a word moves the whole
        # little, and in two short ones ("Could low potassium cause the cramps? Is magnesium good
        # before bed?") each missing topic moved the pair too little (found by adversarial testing).
        several = is_long(clean.text, self.settings.focus_words) or len(focus_questions(clean.text)) > 1
        verdict = self.coverage.judge(measured, self._questions_evidence(clean.text) if several else ())
        if evidence:
            found = find_evidence(" ".join((searched, *related)), query, [hit.text for hit in hits], self.unit_vectors)
            hits = tuple(replace(hit, evidence=sentence) for hit, sentence in zip(hits, found))
        focused = focus != clean.text       # then the question stays as typed, and focus says what was searched
        return SearchResult(clean.text if focused else text, hits, verdict.covered, verdict.missing_terms,
                            clean.truncated or cut_to_model, focus=text if focused else "",
                            passing_terms=verdict.passing_terms, related_terms=related,
                            answered=self._answered(clean.text, verdict),
                            spelling=self.coverage.spelling_repairs(text) if searched != text else (),
                            unmatched_terms=verdict.unmatched_terms)

    def _evidence(self, searched: str, vectors: np.ndarray, dense: tuple[np.ndarray, np.ndarray],
                  nearest_texts: list[str]) -> Evidence:
        """The coverage evidence of the searched question (vectors: it and its probes; the texts
        of its NEAREST dense neighbours). Coverage is a property of the question and the corpus,
        not of the ranking shown: it always reads the dense neighbours, whatever the mode."""
        best_cosine = float(dense[1][0]) if len(dense[1]) else -1.0
        nearest = dense[0][:NEAREST]
        return self.coverage.evidence(searched, vectors[0], best_cosine, self.index.vectors[nearest], vectors[1:],
                                      nearest_texts)

    def _related_words(self, typed: str, searched: str, evidence: Evidence, nearest_texts: list[str],
                       mode: Mode) -> tuple[str, ...]:
        """Corpus words BM25 also looks for: in a question of fewer than MAX_EXPANDED_WORDS
        words, those closest in meaning to its unknown words that one of the passages nearest
        to it (nearest_texts: RELATED_DEPTH of them) holds (CoverageCheck.related_words)."""
        if mode == "dense" or not evidence.unknown or len(typed.split()) >= MAX_EXPANDED_WORDS:
            return ()
        return self.coverage.related_words(searched, evidence, nearest_texts)

    def _questions_evidence(self, message: str) -> tuple[Evidence, ...]:
        """The coverage evidence of a long message's questions, each judged alone against its
        own closest passages, in one model call: the first MAX_ASKED of them that can name a
        missing term (a key word the corpus lacks) and are short enough to be a question."""
        questions, probes, budget = [], [], MAX_UNKNOWN_WORDS     # unknown words measured, over all of them
        for question in map(self.coverage.repair_spelling, focus_questions(message)):
            if len(questions) == MAX_ASKED:
                break
            if len(key_words(question)) < MIN_ASKED_KEY_WORDS or len(question.split()) > MAX_ASKED_WORDS:
                continue
            unknown = len(self.coverage.unknown_words(question))
            if 0 < unknown <= budget:
                questions.append(question)
                probes.append(self.coverage.probes(question))   # two texts per unknown word, and per run of them
                budget -= unknown
        if not questions:
            return ()
        vectors = self.encoder.encode([text for question, own in zip(questions, probes) for text in (question, *own)])
        measured, start = [], 0
        for question, own in zip(questions, probes):
            query, probe_vectors = vectors[start], vectors[start + 1:start + 1 + len(own)]
            start += 1 + len(own)
            rows, cosines = self.index.dense.top_k(query, NEAREST)
            measured.append(self.coverage.evidence(question, query, float(cosines[0]), self.index.vectors[rows],
                                                   probe_vectors, together=False))
        return tuple(measured)

    def _answered(self, message: str, verdict: Verdict) -> tuple[str, ...]:
        """The questions of a message asking several that the passages may answer, when the
        message is not covered for the terms some of them name ("Could low potassium cause the
        cramps? And is there anything I can do before bed to stop them?"). Named are the
        questions that hold none of those terms, ask something of their own (two key words, or
        one and a kind of thing asked, intent.py: "stop them" asks for treatment; "Does it
        work?" does not) and, judged alone, name no term the guides lack (the first MAX_ASKED
        of them: each costs a model call). Only named, as questions the passages may answer: a
        question can still be about a missing term ("What are the side effects?" after "Is
        turmeric good for neuropathy?"). Without this a reader is told the guides have nothing
        for a question they may answer."""
        if verdict.covered or not verdict.missing_terms or verdict.passing_terms:
            return ()
        asked = focus_questions(message)
        if len(asked) < 2:
            return ()
        missing = {word for term in verdict.missing_terms for word in term.split()}
        repaired = {question: self.coverage.repair_spelling(question) for question in asked}
        candidates = [question for question in asked if self._asks_alone(repaired[question], missing)][:MAX_ASKED]
        return tuple(question for question in candidates if self._names_nothing_missing(repaired[question]))

    def _asks_alone(self, question: str, missing: set[str]) -> bool:
        keys = key_words(question)
        return bool(keys) and not missing & {key.lower() for key in keys} and \
            (len(keys) >= MIN_ASKED_KEY_WORDS or bool(question_intents(question)))

    def _names_nothing_missing(self, question: str) -> bool:
        """Whether a (repaired) question, judged alone, names no term the guides lack or name
        only in passing. (Its verdict may still be "far": "…to stop them?" alone does not say what.)"""
        text, _ = self._fit_model(question)
        vectors = self.encoder.encode([text, *self.coverage.probes(text)])
        rows, cosines = self.index.dense.top_k(vectors[0], NEAREST)
        evidence = self.coverage.evidence(text, vectors[0], float(cosines[0]), self.index.vectors[rows],
                                          vectors[1:], [self._passage_text(row) for row in rows], together=False)
        verdict = self.coverage.judge(evidence)
        return not verdict.missing_terms and not verdict.passing_terms

    def _passage_text(self, row: int) -> str:
        chunk = self.index.chunks[row]
        return " ".join((chunk.title, *chunk.headings, chunk.text))

    def _hits(self, rows: np.ndarray, scores: np.ndarray, query: np.ndarray, top_k: int) -> tuple[Hit, ...]:
        """The top_k hits, one per section (its best chunk: the rest of the section is one link
        away), with distinct text; a passage that several guides or sections hold word for word
        is shown once, naming the others."""
        first: dict[str, int] = {}          # text -> position in kept
        sections: set[tuple[str, tuple[str, ...]]] = set()
        kept: list[tuple[int, float, list[str]]] = []
        for row, score in zip(rows, scores):
            chunk = self.index.chunks[row]
            if chunk.text in first:
                kept[first[chunk.text]][2].append(" > ".join((chunk.source, *chunk.headings[1:])))
            elif (chunk.source, chunk.headings) in sections:
                continue
            elif len(kept) < top_k:
                sections.add((chunk.source, chunk.headings))
                first[chunk.text] = len(kept)
                kept.append((int(row), float(score), []))
        return tuple(Hit(rank, score, float(self.index.vectors[row] @ query), self.index.chunks[row],
                         tuple(also))
                     for rank, (row, score, also) in enumerate(kept, 1))

    def _fit_model(self, text: str) -> tuple[str, bool]:
        """Cut a question to the tokens the model reads, rather than let it truncate silently:
        at a word boundary, or between characters when one word alone is too long."""
        if self._fits(text):
            return text, False
        words = text.split(" ")
        fitting = _longest_fitting(len(words), lambda n: self._fits(" ".join(words[:n])))
        if fitting:
            return " ".join(words[:fitting]), True
        return text[:_longest_fitting(len(words[0]), lambda n: self._fits(text[:n]))], True

    def _fits(self, text: str) -> bool:
        # max_tokens counts the special tokens, as count_tokens does.
        return self.encoder.count_tokens([text])[0] <= self.encoder.max_tokens

    def _rank(self, text: str, query: np.ndarray, dense: tuple[np.ndarray, np.ndarray], mode: Mode,
              top_k: int, related: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the top_k chunks; related: corpus words BM25 also looks for
        (CoverageCheck.related_words), which the intent and title bonuses do not read."""
        if mode == "dense":
            return dense[0][:top_k], dense[1][:top_k]
        searched = " ".join((text, *related))      # text: repaired by search()
        lexical = self.index.lexical.scores(searched)
        if mode == "lexical":
            return _top_k(lexical, top_k)
        candidates = self.hybrid_candidates(query, dense[0][:max(CANDIDATES, top_k)], lexical, searched,
                                            max(CANDIDATES, top_k))
        fused = fuse(candidates.cosines, candidates.lexical, self.settings.dense_weight, candidates.lexical_scale)
        fused = fused + self.context_bonus(text, candidates.rows)
        ranked = order(fused)[:top_k]
        return candidates.rows[ranked], fused[ranked]

    def context_bonus(self, text: str, rows: np.ndarray) -> np.ndarray:
        """What the question's kind (causes, treatment, ...) and the guide it names add to each
        candidate's fused score (guidesearch/intent.py)."""
        bonus = np.zeros(len(rows), dtype=np.float32)
        if self.settings.intent_weight:
            bonus += self.settings.intent_weight * self.chunk_context.intent_matches(text, rows)
        if self.settings.title_weight:
            bonus += self.settings.title_weight * self.chunk_context.title_overlap(frozenset(analyse(text)), rows)
        return bonus

    def lexical_scores(self, text: str) -> np.ndarray:
        """BM25 score of every chunk, for the question with its typing slips repaired."""
        return self.index.lexical.scores(self.coverage.repair_spelling(text))

    def hybrid_candidates(self, query: np.ndarray, dense_rows: np.ndarray, lexical: np.ndarray, searched: str,
                          depth: int = CANDIDATES) -> "Candidates":
        """What hybrid ranking fuses: the union of each side's best CANDIDATES, with both scores
        (lexical: the BM25 scores of the text searched).

        Rank fusion (RRF) was measured too and lost to dense alone; see bench/results/fusion.md,
        whose benchmark ranks from these same candidates.
        """
        lexical_rows, _ = _top_k(lexical, depth)
        rows = np.unique(np.concatenate([dense_rows, lexical_rows]))
        best = float(lexical.max()) if lexical.size else 0.0
        scale = max(best, self.settings.lexical_floor * self.index.lexical.ceiling(searched)) if best > 0 else 0.0
        return Candidates(rows, self.index.vectors[rows] @ query, lexical[rows], scale, lexical_rows)


@dataclass(frozen=True)
class Candidates:
    """Chunks hybrid ranking chooses from (rows), with their dense and BM25 scores."""

    rows: np.ndarray
    cosines: np.ndarray
    lexical: np.ndarray
    lexical_scale: float            # BM25 scores are divided by it: the best over the whole index, or
                                    # settings.lexical_floor of the question's ceiling when more
    lexical_rows: np.ndarray        # BM25's own best rows, best first


def _check_compatible(settings: Settings, index: StoredIndex, encoder: TextEncoder) -> None:
    passages = index.manifest.shape.precision
    if not questions_compatible(passages, encoder.precision, encoder.name):
        raise IndexMismatchError(
            f"The index in {settings.index_dir} holds {passages} passage vectors, and questions in "
            f"{encoder.precision} were not measured to rank them well. Use GUIDESEARCH_BACKEND=auto, "
            f"or rebuild the index with this backend: {BUILD_COMMAND}")


def _longest_fitting(count: int, fits) -> int:
    """The largest n in 0..count with fits(n), for fits true up to some n and false after."""
    low, high = 0, count
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _top_k(scores: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the top_k positive scores, best first (ties keep corpus order)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) > top_k:     # sort only what can make the top: all scoring >= the k-th best
        kth_best = -np.partition(-scores[positive], top_k - 1)[top_k - 1]
        positive = positive[scores[positive] >= kth_best]
    order = positive[np.argsort(-scores[positive], kind="stable")][:top_k]
    return order, scores[order]
