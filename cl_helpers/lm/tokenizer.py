"""A character-level tokenizer: one token per character of a small fixed alphabet, plus padding.

The toy language is lower-case English, digits and a little punctuation; the end of an answer is the
newline character, so "the model stops talking" is just the token for "\n". Padding (id 0) only fills
the right end of a batch, and the loss and the metrics never look at it.
"""
from __future__ import annotations

import torch

from ..errors import ConfigError

PAD = 0
ALPHABET = "\n abcdefghijklmnopqrstuvwxyz0123456789?:+-=.,'!"
EOS = "\n"
_ID = {ch: i + 1 for i, ch in enumerate(ALPHABET)}
VOCAB_SIZE = len(ALPHABET) + 1
EOS_ID = _ID[EOS]


def encode(text: str) -> list[int]:
    """Token ids of `text`; a character outside the alphabet raises ConfigError naming it."""
    try:
        return [_ID[ch] for ch in text]
    except KeyError as exc:
        raise ConfigError(f"character {exc.args[0]!r} is not in the toy alphabet; allowed: {ALPHABET!r}") from None


def decode(ids: list[int] | torch.Tensor) -> str:
    """The text of token ids, stopping at the first end-of-answer; padding is dropped."""
    out = []
    for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
        if i == EOS_ID:
            break
        if i != PAD:
            out.append(ALPHABET[i - 1])
    return "".join(out)


def encode_pairs(prompts: list[str], answers: list[str], context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded token ids (N, L) of prompt + answer + end, and a mask (N, L - 1) of the answer targets.

    Position j of the mask is True when token j + 1 belongs to the answer or its end token: the model is
    trained to predict the answer from the prompt, never to predict the prompt itself.
    """
    seqs, starts = [], []
    for prompt, answer in zip(prompts, answers):
        p, a = encode(prompt), encode(answer + EOS)
        if len(p) + len(a) > context + 1:
            raise ConfigError(f"prompt + answer of {len(p) + len(a)} tokens exceed the context ({context} + 1): "
                              f"{prompt + answer!r}")
        seqs.append(p + a)
        starts.append(len(p))
    length = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), length), PAD, dtype=torch.long)
    mask = torch.zeros(len(seqs), length - 1, dtype=torch.bool)
    for i, (s, start) in enumerate(zip(seqs, starts)):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, start - 1:len(s) - 1] = True
    return ids, mask
