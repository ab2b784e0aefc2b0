"""Prediction questions: the explanation stays hidden until a choice is checked; choices are kept; bad input is one line."""
from __future__ import annotations

import pytest

from cl_helpers import ConfigError
from cl_helpers.teaching import quiz

CHOICES = ["higher than before", "about the same", "much lower"]


@pytest.fixture(autouse=True)
def fresh_session():
    quiz.answers.clear()
    quiz.questions.clear()
    yield


def show(capsys, key="q1", answer=2):
    quiz.ask("After task 2, where is task 0's accuracy?", CHOICES, answer, "It drops: the weights moved.", key=key)
    return quiz.questions[key], capsys.readouterr().out


def test_text_form_lists_the_choices_but_never_the_answer_or_explanation(capsys):
    q, shown = show(capsys)
    assert "(A) higher than before" in shown and "(C) much lower" in shown
    assert "weights moved" not in shown and "答對" not in shown
    assert q.feedback.value == ""


def test_a_saved_notebook_lists_every_choice_of_a_long_question(capsys):
    # ipywidgets cuts a widget's text/plain at 110 characters: a long question would lose its last choices
    long_question = "After task 2, and after every later task of the stream, where is task 0's accuracy? " * 2
    quiz.ask(long_question, CHOICES, 2, "It drops.", key="long")
    plain = quiz.questions["long"].box._repr_mimebundle_()["text/plain"]
    assert plain.endswith("(C) much lower") and "(B) about the same" in plain and "drops" not in plain


def test_bold_in_a_question_is_bold_in_the_widget(capsys):
    quiz.ask("Is the path **as far** from A?", CHOICES, 0, "Yes.", key="bold")
    title = quiz.questions["bold"].box.children[0].value
    assert "<b>as far</b>" in title and "**" not in title


def test_check_before_choosing_nudges_and_records_nothing(capsys):
    q, _ = show(capsys)
    assert q.check() is None
    assert "先選" in q.feedback.value and "weights moved" not in q.feedback.value
    assert quiz.answers == {}


def test_wrong_then_right_choice_reveals_the_explanation_and_names_the_answer(capsys):
    q, _ = show(capsys)
    q.choose(0)
    assert q.feedback.value == ""  # choosing alone reveals nothing
    assert q.check() is False
    assert "❌" in q.feedback.value and "(C) much lower" in q.feedback.value and "weights moved" in q.feedback.value
    q.choose(2)
    assert q.check() is True
    assert "✅" in q.feedback.value
    assert quiz.answers["q1"] == 2


def test_button_click_checks_like_a_student_would(capsys):
    q, _ = show(capsys)
    q.choose(1)
    q.button.click()
    assert "❌" in q.feedback.value and quiz.answers["q1"] == 1


def test_choice_is_kept_when_the_cell_runs_again(capsys):
    q, _ = show(capsys)
    q.choose(1)
    q.check()
    again, _ = show(capsys)
    assert again is not q and again.chosen == 1
    assert again.feedback.value == ""  # the explanation waits for the button again


@pytest.mark.parametrize("kwargs, word", [
    (dict(choices=["only one"]), "choices"),
    (dict(choices="ab"), "choices"),
    (dict(answer=3), "answer"),
    (dict(question=""), "question"),
    (dict(explain=" "), "explain"),
])
def test_bad_input_is_one_config_error_line(kwargs, word):
    args = dict(question="Which?", choices=CHOICES, answer=0, explain="Because.")
    args.update(kwargs)
    with pytest.raises(ConfigError) as err:
        quiz.ask(**args)
    assert word in str(err.value) and "\n" not in str(err.value)


def test_choose_out_of_range_is_rejected(capsys):
    q, _ = show(capsys)
    with pytest.raises(ConfigError):
        q.choose(5)
