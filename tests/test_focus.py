"""The focus of a long message: subject line and questions first, greetings and thanks dropped."""

from __future__ import annotations

from guidesearch.focus import find_focus

MESSAGE = ("SUBJECT: burning feet diabetis MESSAGE: hello, my mom is 67 and has had type 2 diabetis for 15 "
           "years. this year her feet burn and tingle at night so she cant sleep. are there other medicines "
           "that work for this nerve pain?? and will it keep getting worse. thank you")


def test_a_short_question_is_searched_as_typed():
    question = "why do my calves cramp at night?"
    assert find_focus(question, 25) == question


def test_a_long_message_puts_subject_and_questions_first_and_drops_greetings():
    assert find_focus(MESSAGE, 25) == (
        "burning feet diabetis are there other medicines that work for this nerve pain?? "
        "and will it keep getting worse. "
        "my mom is 67 and has had type 2 diabetis for 15 years. "
        "this year her feet burn and tingle at night so she cant sleep.")


def test_greetings_and_thanks_are_dropped_even_without_a_question():
    text = "hello there. " + "my left calf has cramped every night for a month now " * 3 + ". thanks a lot"
    focus = find_focus(text, 25)
    assert "hello" not in focus and "thanks" not in focus and "calf" in focus


def test_focus_can_be_turned_off_and_never_leaves_nothing():
    assert find_focus(MESSAGE, 0) == MESSAGE
    assert find_focus("thank you so much. " * 10, 25) == "thank you so much. " * 10


def test_the_questions_of_a_message_are_the_sentences_that_end_in_a_question_mark():
    from guidesearch.focus import questions
    message = ("SUBJECT: Worried wife here MESSAGE: Was a keen golfer until his surgery. Does quinine help? "
               "Have a look at his feet. Does quinine help? any advice")
    assert questions(message) == ["Does quinine help?"]
    assert questions("SUBJECT: is quinine safe? MESSAGE: My mum takes it.") == ["is quinine safe?"]


def test_question_marks_of_other_scripts_end_questions():
    from guidesearch.focus import questions
    message = ("مرحبا. My mother has had neuropathy for years. Could the low potassium be causing the cramps؟ "
               "Is magnesium safe for her？ She is 80.")
    assert questions(message) == ["Could the low potassium be causing the cramps؟", "Is magnesium safe for her？"]
    assert find_focus(message, 10).startswith("Could the low potassium")
