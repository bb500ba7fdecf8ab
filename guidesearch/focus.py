"""The focus of a long message: what to search for when a person writes a letter, not a query.

Questions typed by the public often come as a subject line and a long message: a greeting, a
story (ages, relatives, what the doctor said), one or several questions, then thanks. The model
reads 256 tokens, so the question at the end of a long story may not be read at all. The focus
drops the greetings, thanks and "SUBJECT:"/"MESSAGE:" labels, and puts the subject line and the
sentences that ask something first, then the rest of the story: it names the condition more
often than the questions do ("will it get worse?"). Measured in bench/results/focus.md: the
questions alone, and each question searched apart, both lost to this on development messages.
Short questions are left as they are.
"""

from __future__ import annotations

import re

_LABELLED = re.compile(r"^\s*subject\s*:\s*(?P<subject>.*?)\s*message\s*:\s*(?P<body>.*)$", re.I | re.S)
# Question marks of other scripts too: Arabic and Persian "؟", full-width "？" (CJK), the Greek
# question mark (U+037E, not the semicolon it looks like), "⁇", the small "﹖", the interrobang.
_QUESTION_MARKS = "?؟？\u037e⁇﹖‽"
_SENTENCE = re.compile(rf"[^.!{_QUESTION_MARKS}]+(?:[.!{_QUESTION_MARKS}]+|$)")
# A greeting opens a sentence that may go on ("hello, my mom is 67 ..."): only the greeting
# (up to a comma close after it) goes. A sign-off takes its whole sentence.
_GREETING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening)|greetings)\b[^,.!?]{0,25}[,!]?\s*", re.I)
_SIGN_OFF = re.compile(r"^\s*(thanks?|thank you|many thanks|regards|sincerely|best wishes|cheers|god bless|"
                       r"please (help|reply|respond|answer))\b", re.I)
_ASKS = re.compile(
    rf"([{_QUESTION_MARKS}]|^\s*(and |but |so |also |or )?(what|why|how|when|where|who|which|can|could|does|do|did|is|are|"
    r"was|should|will|would|may|might|has|have)\b|\b(i (want|would like|need) to know|wondering|please (tell|advise|explain|let me know)|"
    r"any (advice|info\w*|suggestions?|help)|is there (a|any)|are there (any)?)\b)", re.I)


def is_long(text: str, min_words: int) -> bool:
    """Whether a question is a message to find the focus of (min_words 0: never)."""
    return 0 < min_words <= len(text.split())


def find_focus(text: str, min_words: int) -> str:
    """The focus of a message of at least min_words words; the text itself otherwise (and when
    nothing is left of it)."""
    if not is_long(text, min_words):
        return text
    subject, asking, telling = _parts(text)
    return " ".join([subject, *asking, *telling]).strip() or text


def questions(text: str) -> list[str]:
    """The sentences of a message that end in a question mark (the subject line too, when it
    does), each once, in order. Stricter than what the focus puts first: a story sentence that
    opens with "Was" or "Have" ("Was a keen golfer until ...") asks nothing."""
    subject, asking, _ = _parts(text)
    return list(dict.fromkeys(s for s in [subject, *asking] if s.rstrip().endswith(tuple(_QUESTION_MARKS))))


def _parts(text: str) -> tuple[str, list[str], list[str]]:
    """(subject line, sentences that ask, the other sentences), without greetings and sign-offs."""
    labelled = _LABELLED.match(text)
    subject, body = (labelled["subject"].strip(), labelled["body"]) if labelled else ("", text)
    sentences = [_GREETING.sub("", s, count=1).strip() for s in _SENTENCE.findall(body) if not _SIGN_OFF.match(s)]
    sentences = [s for s in sentences if s]
    return (subject, [s for s in sentences if _ASKS.search(s)], [s for s in sentences if not _ASKS.search(s)])
