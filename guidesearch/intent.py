"""What a question asks for, and which sections answer that kind of thing.

Questions ask a kind of thing (causes, symptoms, diagnosis, treatment, ...), and guide sections
answer a kind of thing, mostly named in their headings ("Causes of ...", "Diagnosing ...",
MedQuAD's "Treatment", "Inheritance"). The ranking adds a bonus to a candidate whose heading path
answers a kind the question asks for, and another when the question names the guide's subject
(its title): a question about one condition then reads that condition's guide first.

The patterns are English and deliberately plain: each is a few stems a reader or a heading uses.
bench/intent.py measured them, and the weights in Settings, on development questions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from guidesearch.lexical import analyse


GENERAL = "information"


@dataclass(frozen=True)
class Intent:
    name: str
    asks: re.Pattern        # in a question
    answers: re.Pattern     # in a heading path


def _pattern(text: str) -> re.Pattern:
    return re.compile(text, re.IGNORECASE)


KINDS = [
    ("causes",
     r"\b(caus\w*|why (do|does|did|am|is|are|would|can)|reasons?|triggers?|due to|what makes|leads? to|"
     r"results? from|brings? on|where does .* come from)\b",
     r"\b(caus\w*|why)\b"),
    ("symptoms",
     r"\b(symptoms?|signs?|feels? like|looks? like|what happens|warning)\b",
     r"\b(symptoms?|signs?)\b"),
    ("diagnosis",
     r"\b(diagnos\w*|tests?|tested|testing|exam\w*|detect\w*|find out|check (for|if|whether)|screen\w*|"
     r"confirm\w*|how (do|does|can|will) (the )?(doctors?|you|i) (know|tell))\b",
     r"\b(diagnos\w*|tests?|exams?|screening)\b"),
    ("treatment",
     r"\b(treat\w*|cur(e|es|ed|ing)|therap\w*|medications?|medicines?|meds|drugs?|pills?|manag\w*|"
     r"reliev\w*|relief|ease|get rid|remed\w*|surgery|operation|what can (i|we|you) do|helps?|"
     r"take for|stop (it|them|the))\b",
     r"\b(treat\w*|therap\w*|medications?|management|managing|strategies|lifestyle|remed\w*|what to do)\b"),
    ("prevention",
     r"\b(prevent\w*|avoid\w*|(reduce|lower|cut) (the|my|your)? ?(risk|chances?)|protect\w*|keep .* from|"
     r"stop getting)\b",
     r"\bprevent\w*\b"),
    ("outlook",
     r"\b(outlook|prognosis|life expectancy|go away|goes away|recover\w*|long[- ]term|surviv\w*|curable|"
     r"get better|live with|how long|fatal|die|dying|permanent)\b",
     r"\b(outlook|prognosis)\b"),
    ("inheritance",
     r"\b(inherit\w*|hereditary|passed (down|on)|pass (it )?(down|on)|runs? in (the |my |our )?famil\w*|"
     r"my (children|kids|son|daughter|baby))\b",
     r"\binherit\w*\b"),
    ("genetic changes",
     r"\b(genes?|mutations?|mutated|genetic changes?|chromosom\w*|dna)\b",
     r"\bgenetic changes?\b"),
    ("frequency",
     r"\b(how (common|rare|many people|often does)|prevalen\w*|incidence)\b",
     r"\bhow common\b"),
    ("risk",
     r"\b(at risk|risk factors?|who (gets|can get|is likely)|more likely|susceptib\w*|chances? of getting)\b",
     r"\b(at risk|risk factors?)\b"),
    ("complications",
     r"\b(complications?|side effects?|lead to other|damage)\b",
     r"\bcomplications?\b"),
    ("research",
     r"\b(research\w*|clinical trials?|stud(y|ies)|new treatments?)\b",
     r"\bresearch\b"),
    ("support",
     r"\b(support groups?|organi[sz]ations?|others with|connect with)\b",
     r"\bsupport\b"),
    ("stages",
     r"\b(stages?|staging|how advanced)\b",
     r"\bstages?\b"),
    ("doctor",
     r"\b(when (should|do|to|must) (i |we |you )?(see|call|contact|go)|see a doctor|emergency|urgent)\b",
     r"\b(when to see|contact a|medical professional)\b"),
    ("information",
     r"^\s*(what('s| is| are)|define|definition|meaning of|explain|tell me about|info\w* (on|about))\b",
     r"\b(what is it|understanding|overview|introduction|about)\b"),
]

# How readers ask some kinds in everyday words, beyond the stems above: written from general
# usage before they were measured, then kept because the seven tuning sets gained (mean nDCG@10
# 0.8703 -> 0.8750) and no report set lost, questions written afterwards by someone who saw only
# the guides included (bench/results/intent_cues.md); "how come" and a "why" before the question
# mark came later, on tuning questions (0.8749 -> 0.8757, one run). Words a story uses as often as a question
# are left out: scan, MRI, blood test ("my MRI was clear"), shot ("a flu shot last week"), "how do I get"
# (relief, rid of it: not a cause), "come back" (from work), "so I don't get" (confused), "what's
# behind" (my knee), "why should" (I see a doctor), "physiology", "making progress", "a text
# from my mom": found by review, measured again after.
LAY_CUES = {
    "prevention": r"in the first place|from happening|ward off|stave off|keep (it|them) away|lower (my|the|your) odds|"
                  r"(stop|keep) \w+( \w+)? from (coming|happening|getting|starting)|avoid getting|prophyla\w*|"
                  r"before (it|they) starts?",
    "causes": r"how (do|did|does|can|would) (you|i|people|someone|kids|children) (catch|develop)|to blame|"
              r"is it from|could (it|this|that|they) be from|what sets off|why (have|has|might|could)|how come|"
              r"why(?=\s*\?)",
    "treatment": r"what works|fix (it|this|them)|deal with|cope|what should (i|we) take|"
                 r"physio(therap\w*)?|exercises? (for|to help)|best way to (handle|deal|get over)",
    "outlook": r"will (it|i|they|this) (ever )?(get better|heal|go away|come back|get worse)|"
               r"worse over time|(will|does|can) (it|this|they) progress|how bad (will|does|is)",
    "diagnosis": r"how (do|would|can) (i|you) know (if|whether)|which (doctor|specialist)|"
                 r"what (kind|sort) of (doctor|specialist)",
    "inheritance": r"will my (kids|children|son|daughter|baby|grandchildren) get|"
                   r"(get|got|gets|inherit\w*) (it|this|them|that) from my (mom|mum|dad|mother|father|parents)",
}


def build_intents(lay_cues: bool = True) -> tuple[Intent, ...]:
    """The kinds, each asked by its stems (and its LAY_CUES: bench/intent_cues.py measures
    without them)."""
    return tuple(Intent(name, _pattern(asks + (rf"|\b({LAY_CUES[name]})\b" if lay_cues and name in LAY_CUES else "")),
                        _pattern(answers))
                 for name, asks, answers in KINDS)


INTENTS = build_intents()


def question_intents(question: str) -> frozenset[str]:
    """The kinds of thing a question asks for (none for a bare keyword question). "What is"
    asks for a definition only when it asks for nothing more specific ("what are the
    treatments for ...")."""
    asked = frozenset(intent.name for intent in INTENTS if intent.asks.search(question))
    return asked - {GENERAL} if len(asked) > 1 else asked


@lru_cache(maxsize=65536)
def heading_intents(headings: tuple[str, ...]) -> frozenset[str]:
    """The kinds of thing a section answers, from its heading path below the title. The lead
    section, before the first heading, answers what its guide's title asks: a guide called
    "Does Neuropathy Cause Leg Cramps" opens with its answer (bench/results/intent_cues.md)."""
    if len(headings) == 1:
        return question_intents(headings[0])
    path = " > ".join(headings[1:])
    return frozenset(intent.name for intent in INTENTS if intent.answers.search(path))


def intent_matches(question: str, headings: Sequence[tuple[str, ...]]) -> list[float]:
    """For each heading path, the share of the kinds the question asks for that it answers:
    1.0 for the one kind a plain question asks; a message asking several kinds of thing shares
    the bonus between the sections answering each."""
    asked = question_intents(question)
    if not asked:
        return [0.0] * len(headings)
    return [len(asked & heading_intents(path)) / len(asked) for path in headings]


def title_overlap(question_terms: frozenset[str], title: str) -> float:
    """The share of a guide title's terms the question uses: 1.0 when it names the subject."""
    terms = _title_terms(title)
    return len(terms & question_terms) / len(terms) if terms else 0.0


@lru_cache(maxsize=65536)
def _title_terms(title: str) -> frozenset[str]:
    return frozenset(analyse(title))


class ChunkContext:
    """What intent_matches and title_overlap read of each chunk of an index (the kinds its
    heading path answers, its guide's title), worked out once when the index is opened: the
    ranking then reads them as arrays for its ~200 candidates, rather than matching patterns
    and sets candidate by candidate (cProfile over 300 MedQuAD questions: the bonus took 1.5 ms
    of a 7 ms search that way, 0.6 ms this way)."""

    def __init__(self, chunks: Sequence) -> None:
        kinds = {intent.name: column for column, intent in enumerate(INTENTS)}
        self._kinds = kinds
        self._answers = np.zeros((len(chunks), len(kinds)), dtype=np.float32)
        for row, chunk in enumerate(chunks):
            for name in heading_intents(chunk.headings):
                self._answers[row, kinds[name]] = 1.0
        titles = sorted({chunk.title for chunk in chunks})
        where = {title: number for number, title in enumerate(titles)}
        self._titles = titles
        self._title_of = np.array([where[chunk.title] for chunk in chunks], dtype=np.int64)

    def intent_matches(self, question: str, rows: np.ndarray) -> np.ndarray:
        """intent_matches(question, the heading paths of rows), as an array."""
        asked = question_intents(question)
        if not asked:
            return np.zeros(len(rows), dtype=np.float32)
        return self._answers[rows][:, [self._kinds[name] for name in asked]].sum(axis=1) / len(asked)

    def title_overlap(self, question_terms: frozenset[str], rows: np.ndarray) -> np.ndarray:
        """title_overlap(question_terms, the title of each row), once per distinct title."""
        titles, where = np.unique(self._title_of[rows], return_inverse=True)
        overlap = np.array([title_overlap(question_terms, self._titles[t]) for t in titles], dtype=np.float32)
        return overlap[where.reshape(-1)] if len(rows) else np.zeros(0, dtype=np.float32)
