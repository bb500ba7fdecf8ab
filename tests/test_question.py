"""Whatever is typed gets a clear message or a normal answer, never a traceback."""

from __future__ import annotations

import pytest

from guidesearch.errors import QuestionError
from guidesearch.question import clean_question


@pytest.mark.parametrize("raw", ["", "   \n\t ", None])
def test_empty_questions_say_what_to_type(raw):
    with pytest.raises(QuestionError, match="empty. Type a question"):
        clean_question(raw, 2000)


@pytest.mark.parametrize("raw", ["?!?!", "...", "<<>>", "--- ***"])
def test_punctuation_only_says_to_use_words(raw):
    with pytest.raises(QuestionError, match="no words"):
        clean_question(raw, 2000)


def test_control_characters_and_spacing_are_cleaned():
    assert clean_question("leg\x00 cramps\x1b[31m\u200b at\r\nnight", 2000).text == "leg cramps at night"


@pytest.mark.parametrize("raw", ["leg \x1b[2J\x07 cramps", "leg \x1b[1;31mcramps\x1b[0m",
                                 "leg \x1b]8;;http://x\x07\x1b]8;;\x07cramps"])
def test_terminal_escape_sequences_go_whole(raw):
    """Found by adversarial testing: "[2J" of a pasted screen-clear was searched as "2j"."""
    assert clean_question(raw, 100).text == "leg cramps"


def test_an_unterminated_escape_sequence_takes_only_its_escape():
    """Found by review: an unterminated "\x1b]" took the rest of the question with it."""
    assert clean_question("leg cramps \x1b]0;what helps at night", 100).text == "leg cramps 0;what helps at night"
    assert clean_question("leg \x1b(Bcramps", 100).text == "leg cramps"


def test_lone_surrogates_are_dropped_so_the_text_can_be_tokenized_and_written():
    clean = clean_question("cramps \ud800 at\udcff night", 2000)
    assert clean.text == "cramps at night"
    clean.text.encode("utf-8")


def test_long_question_is_cut_at_a_word_boundary():
    clean = clean_question("cramp " * 20_000, 2000)
    assert clean.truncated and len(clean.text) <= 2000 and clean.text.endswith("cramp")


def test_emoji_and_other_scripts_are_kept():
    assert clean_question("🦵💥", 2000).text == "🦵💥"
    assert clean_question("ночные судороги ног", 2000).text == "ночные судороги ног"


@pytest.mark.parametrize("raw, text", [
    ("gaba\u00adpentin dose", "gabapentin dose"),            # a pasted soft hyphen: was "gaba pentin"
    ("zero\u200bwidth\u2060joiner", "zerowidthjoiner"),
    ("e\u0301xercise", "\u00e9xercise"),                      # decomposed accent, composed
    ("ｇａｂａｐｅｎｔｉｎ", "gabapentin"),                    # full-width letters
])
def test_invisible_characters_and_other_forms_of_the_same_letters_are_folded(raw, text):
    """Found by adversarial testing: the guides' words were missed in these forms."""
    assert clean_question(raw, 2000).text == text
