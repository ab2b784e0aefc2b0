"""Predict, then run: a multiple-choice question before the cell that reveals the answer ("先猜猜看").

`ask(question, choices, answer, explain)` shows the question as core ipywidgets (RadioButtons and a button, so
JupyterLab and Colab with ipywidgets 7 or 8 both work). The explanation stays hidden until the student has
picked a choice and pressed the button; the choice is kept for the kernel session in `answers` (re-running the
cell shows it again). Headless (nbclient, nbval) the question renders with the answer hidden and nothing fails;
its plain-text form, which a saved notebook shows where widgets do not render, lists the choices without the answer.
"""
from __future__ import annotations

import html
import re
from typing import Sequence

import ipywidgets as W
from IPython.display import display

from ..errors import ConfigError, check_int

#: The student's last choice (an index into the choices) per question key, for this kernel session.
answers: dict[str, int] = {}
#: Every question shown in this session by key, so code (and tests) can drive one as a student would.
questions: dict[str, "Question"] = {}

_LETTERS = "ABCDEFGH"


def _bold(text: str) -> str:
    """Markdown's **bold** as HTML: a question is written like the prose around it."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)


class QuestionBox(W.VBox):
    """The question's widget; its plain-text form is the question and its choices (never the answer)."""

    text_form: str = ""

    def __repr__(self) -> str:
        return self.text_form

    def _repr_mimebundle_(self, **kwargs):
        # ipywidgets cuts the plain-text form at 110 characters; a saved notebook must list every choice
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle:
            bundle["text/plain"] = self.text_form
        return bundle


class Question:
    """One prediction question: the widgets, the student's choice, and the check that reveals the explanation."""

    def __init__(self, question: str, choices: Sequence[str], answer: int, explain: str, key: str):
        self.question, self.choices, self.answer, self.explain, self.key = question, list(choices), answer, explain, key
        labels = [f"({_LETTERS[i]}) {c}" for i, c in enumerate(self.choices)]
        self.radio = W.RadioButtons(options=[(label, i) for i, label in enumerate(labels)], value=None,
                                    layout=W.Layout(width="max-content"))
        self.button = W.Button(description="看答案 (check)", button_style="info")
        self.feedback = W.HTML(value="")
        self.button.on_click(lambda _: self.check())
        title = W.HTML(value=f"<b>🤔 先猜猜看 (predict first)：</b>{_bold(html.escape(question))}")
        self.box = QuestionBox(children=[title, self.radio, self.button, self.feedback])
        self.box.text_form = "先猜猜看 (predict first): " + question + "\n" + "\n".join(labels)
        if key in answers:  # the same question shown again in this session keeps the earlier choice
            self.choose(answers[key])

    def choose(self, index: int) -> None:
        """Select choice `index` as a student clicking it would (the explanation stays hidden until check())."""
        self.radio.value = check_int("choice", index, 0, len(self.choices) - 1)

    @property
    def chosen(self) -> int | None:
        """The selected choice's index, or None before the student picks one."""
        return self.radio.value

    def check(self) -> bool | None:
        """Reveal whether the choice is right, and the explanation; None (and a nudge) when nothing is chosen."""
        if self.chosen is None:
            self.feedback.value = "<i>請先選一個答案，再看解說。 (Pick an answer first.)</i>"
            return None
        answers[self.key] = self.chosen
        right = self.chosen == self.answer
        verdict = ("✅ 答對了！" if right else
                   f"❌ 不是喔，答案是 ({_LETTERS[self.answer]}) {html.escape(self.choices[self.answer])}。")
        self.feedback.value = f"<p>{verdict}</p><p>{html.escape(self.explain)}</p>"
        return right


def ask(question: str, choices: Sequence[str], answer: int, explain: str, key: str | None = None) -> None:
    """Show a multiple-choice prediction question; `answer` is the index of the right choice (hidden until checked)."""
    if not isinstance(question, str) or not question.strip():
        raise ConfigError(f"question must be non-empty text, got {question!r}")
    choices = list(choices) if not isinstance(choices, str) else []
    if not 2 <= len(choices) <= len(_LETTERS) or not all(isinstance(c, str) and c for c in choices):
        raise ConfigError(f"choices must be 2..{len(_LETTERS)} non-empty strings, got {choices!r}")
    answer = check_int("answer", answer, 0, len(choices) - 1)
    if not isinstance(explain, str) or not explain.strip():
        raise ConfigError(f"explain must be non-empty text, got {explain!r}")
    key = question if key is None else key
    q = Question(question, choices, answer, explain, key)
    questions[key] = q
    display(q.box)
