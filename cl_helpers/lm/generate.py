"""Greedy decoding, and the same verdict without decoding: does greedy decoding produce exactly this text?

Greedy decoding produces a target string t exactly when, fed the prompt and t[:j], the model's most
likely next token is t[j] for every j (and after t, the end token). That check needs one forward pass
over prompt + target for a whole batch, instead of one pass per generated token, which is what makes
evaluating hundreds of prompts after every few fine-tuning steps cheap. `generate` is the real thing, for
reading the answers and for self-instruct data; tests check that both agree.
"""
from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

from .tokenizer import EOS_ID, decode, encode, encode_pairs


@torch.no_grad()
def generate(model: nn.Module, prompts: list[str], max_new: int = 40, batch_size: int = 512) -> list[str]:
    """The greedy answer to each prompt (text up to the end token), batched by prompt length."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    context = model.config.context
    by_length: dict[int, list[int]] = defaultdict(list)
    encoded = [encode(p) for p in prompts]
    for i, ids in enumerate(encoded):
        by_length[len(ids)].append(i)
    answers: list[str] = [""] * len(prompts)
    for length, members in by_length.items():
        for start in range(0, len(members), batch_size):
            chunk = members[start:start + batch_size]
            ids = torch.tensor([encoded[i] for i in chunk], device=device)
            done = torch.zeros(len(chunk), dtype=torch.bool, device=device)
            for _ in range(min(max_new, context - length)):
                nxt = model(ids)[:, -1].argmax(-1)
                ids = torch.cat([ids, nxt[:, None]], dim=1)
                done |= nxt == EOS_ID
                if bool(done.all()):
                    break
            for row, i in enumerate(chunk):
                answers[i] = decode(ids[row, length:])
    model.train(was_training)
    return answers


@torch.no_grad()
def greedy_matches(model: nn.Module, prompts: list[str], targets: list[str], whole: bool = True,
                   batch_size: int = 512) -> torch.Tensor:
    """Bool per prompt: greedy decoding gives exactly `target` (whole=True) or starts with it (whole=False)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(prompts), batch_size):
        p, t = prompts[start:start + batch_size], targets[start:start + batch_size]
        ids, mask = encode_pairs(p, t, model.config.context)
        if not whole:  # drop the end token from what must match: any continuation after the prefix is fine
            ends = mask.long().cumsum(1).argmax(1)
            mask[torch.arange(len(mask)), ends] = False
        ids, mask = ids.to(device), mask.to(device)
        hit = model(ids[:, :-1]).argmax(-1) == ids[:, 1:]
        out.append((hit | ~mask).all(1).cpu())
    model.train(was_training)
    return torch.cat(out)
