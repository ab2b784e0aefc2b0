"""The homework's n-shot chat prompt, encoded once for evaluation and for training (so the two never differ)."""
from __future__ import annotations

import re
from typing import Any, Sequence

from ...errors import ConfigError, check_int, show_value

# The homework's instruction after each test question; the answer is the integer after '####'.
INSTRUCTION = "Let's think step by step. At the end, you MUST write the answer as an integer after '####'."
# Llama 3's chat template opens every conversation with a system block stating its knowledge cut-off and
# today's date; the homework's sample code cuts it off (a date that changes daily would change every prompt).
_DATE_LINES = re.compile(r"Cutting Knowledge Date: [^\n]*\nToday Date: [^\n]*\n\n")
_EMPTY_SYSTEM = "<|start_header_id|>system<|end_header_id|>\n\n<|eot_id|>"


def chat_messages(question: str, shots: Sequence[dict] = (), answer: str | None = None) -> list[dict]:
    """The homework's n-shot chat: 'Q: ...' / 'A: ...' turns for each shot, then the question with INSTRUCTION."""
    if not isinstance(question, str):
        raise ConfigError(f"question {show_value(question)} must be a string")
    messages = []
    for shot in shots:
        if not isinstance(shot, dict) or not {"question", "answer"} <= set(shot):
            raise ConfigError(f"each shot must be a dict with question and answer, got {show_value(shot)}")
        messages += [{"role": "user", "content": f"Q: {shot['question']}"},
                     {"role": "assistant", "content": f"A: {shot['answer']}"}]
    messages.append({"role": "user", "content": f"Q: {question} {INSTRUCTION}"})
    if answer is not None:
        messages.append({"role": "assistant", "content": f"A: {answer}"})
    return messages


def strip_date_header(text: str) -> str:
    """`text` without Llama 3's 'Cutting Knowledge Date / Today Date' lines (and the system block they leave empty)."""
    return _DATE_LINES.sub("", text, count=1).replace(_EMPTY_SYSTEM, "", 1)


def render(tok: Any, messages: list[dict]) -> str:
    """The text the model reads before its reply: the chat template (date header stripped), or plain Q/A lines."""
    if getattr(tok, "chat_template", None):
        return strip_date_header(tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    # A tokenizer without a chat template (the tests' character tokenizer): one line per turn.
    return "".join(f"{m['content']}\n" for m in messages)


def prompt(tok: Any, question: str, shots: Sequence[dict] = ()) -> str:
    """The evaluation prompt of `question` after the worked examples `shots` (the homework's n-shot format)."""
    return render(tok, chat_messages(question, shots))


def encode(tok: Any, text: str) -> list[int]:
    """Token ids of a rendered prompt, without a second BOS.

    A chat template already writes the BOS (Llama's <|begin_of_text|>), and the tokenizer would add another
    one by default; two BOS tokens are a prompt the model never saw in training. Only plain text gets the
    tokenizer's special tokens.
    """
    return list(tok(text, add_special_tokens=not getattr(tok, "chat_template", None))["input_ids"])


def training_example(tok: Any, question: str, answer: str, shots: Sequence[dict] = (),
                     max_length: int = 1024) -> dict[str, list[int]]:
    """input_ids and labels of one training example: the evaluation prompt (no loss), then 'A: answer' + EOS.

    The prompt ids are exactly encode(tok, prompt(tok, question, shots)), so fine-tuning sees the prompt that
    evaluation will show. The reply is tokenized on its own and followed by the EOS token, which keeps its
    label (the model must learn to stop), even where the pad token is the EOS token.
    """
    return _with_reply(tok, encode(tok, prompt(tok, question, shots)), f"A: {answer}", max_length)


def chat_example(tok: Any, request: str, reply: str, max_length: int = 1024) -> dict[str, list[int]]:
    """input_ids and labels of a one-turn chat: the request as the user's turn (no loss), then `reply` + EOS.

    The prompt is the one `scoring.safety_rate` shows a harmful request, so a refusal taught here is the
    refusal that evaluation asks for.
    """
    if not isinstance(request, str) or not isinstance(reply, str):
        raise ConfigError(f"request and reply must be strings, got {show_value(request)} and {show_value(reply)}")
    return _with_reply(tok, encode(tok, render(tok, [{"role": "user", "content": request}])), reply, max_length)


def _with_reply(tok: Any, prompt_ids: list[int], reply: str, max_length: int) -> dict[str, list[int]]:
    """Prompt ids (label -100) followed by the reply's ids and EOS (labelled), cut at max_length."""
    max_length = check_int("max_length", max_length, 2)
    if tok.eos_token_id is None:
        raise ConfigError("the tokenizer has no EOS token, so a reply cannot be taught to end")
    if len(prompt_ids) >= max_length:
        raise ConfigError(f"max_length={max_length} leaves no room for the answer after a prompt of "
                          f"{len(prompt_ids)} tokens; allowed: more than {len(prompt_ids)}")
    reply_ids = list(tok(reply, add_special_tokens=False)["input_ids"]) + [tok.eos_token_id]
    ids = (prompt_ids + reply_ids)[:max_length]
    labels = ([-100] * len(prompt_ids) + reply_ids)[:max_length]
    return {"input_ids": ids, "labels": labels}
