"""The training loop for the tiny language model: AdamW on the answer tokens only, with warm-up.

Examples are drawn with replacement from an `LMData` (optionally weighted, e.g. so that each family is a
third of stage 0), all tokens live on the device from the start, and a batch is cut into at most two length buckets
(`two_buckets`) so that short sums do not pay for the padding of long requests. An optional `extra_loss(model, ids,
logits)` is added to the answer loss: EWC's quadratic penalty, or the KL divergence to the base model.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import check_float, check_int
from .data import LMData
from .tokenizer import PAD, encode_pairs

ExtraLoss = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def family_weights(data: LMData, shares: dict[str, float] | None = None) -> torch.Tensor:
    """Sampling weights giving each family its share of the draws (default: equal shares), whatever its size."""
    counts = {f: data.families.count(f) for f in set(data.families)}
    shares = shares or {}
    return torch.tensor([shares.get(f, 1.0) / counts[f] for f in data.families])


def two_buckets(idx: torch.Tensor, lengths: torch.Tensor) -> list[torch.Tensor]:
    """Split a batch into its shorter and its longer examples where that saves the most padded tokens.

    A batch is cut to its longest sequence; a few long requests among short sums would make every row
    long. Sorting by length and cutting at the k that minimises k * len_k + (B - k) * len_max costs at
    most two forward passes and wastes little (the gradient is the same: the loss is summed per token).
    """
    order = idx[torch.argsort(lengths[idx])]
    sorted_len = lengths[order]
    b = len(order)
    k = torch.arange(1, b + 1, device=idx.device)
    cost = k * sorted_len + (b - k) * sorted_len[-1]
    cut = b - int(cost.flip(0).argmin())  # on ties the fewest buckets
    return [order[:cut], order[cut:]] if cut < b else [order]


def lr_at(step: int, steps: int, lr: float, warmup: int, cosine: bool) -> float:
    """Linear warm-up over `warmup` steps, then constant (cosine=False) or a cosine decay to 10% of lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if not cosine:
        return lr
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_lm(model: nn.Module, data: LMData, steps: int, lr: float, batch_size: int = 64, seed: int = 0,
             weights: torch.Tensor | None = None, warmup: int = 0, cosine: bool = False,
             weight_decay: float = 0.0, extra_loss: ExtraLoss | None = None,
             callback: Callable[[int], bool | None] | None = None, every: int = 0) -> list[float]:
    """Train `model`'s trainable parameters for `steps` steps on `data`; returns the loss of every step.

    `callback(step)` is called after every `every` steps (and never when every = 0), e.g. to evaluate;
    training stops early when it returns True.
    """
    steps = check_int("steps", steps, 0)
    check_float("learning rate", lr, 0.0, low_open=True)
    batch_size = check_int("batch size", batch_size, 1)
    device = next(model.parameters()).device
    ids, mask = encode_pairs(data.prompts, data.answers, model.config.context)
    lengths = (ids != PAD).sum(1)
    ids, mask, lengths = ids.to(device), mask.to(device), lengths.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=(0.9, 0.98))
    g = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for step in range(steps):
        if weights is None:
            idx = torch.randint(len(data), (batch_size,), generator=g)
        else:
            idx = torch.multinomial(weights, batch_size, replacement=True, generator=g)
        idx = idx.to(device)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup, cosine)
        opt.zero_grad(set_to_none=True)
        n_targets = mask[idx].sum()
        loss = 0.0
        for part in two_buckets(idx, lengths):
            width = int(lengths[part].max())
            batch_ids, batch_mask = ids[part, :width], mask[part, :width - 1]
            logits = model(batch_ids[:, :-1])
            part_loss = F.cross_entropy(logits[batch_mask], batch_ids[:, 1:][batch_mask], reduction="sum") / n_targets
            total = part_loss
            if extra_loss is not None:
                total = total + extra_loss(model, batch_ids, logits) * (len(part) / len(idx))
            total.backward()
            loss += float(part_loss.detach())
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss)
        if callback is not None and every and (step + 1) % every == 0:
            if callback(step + 1):
                break
    model.eval()
    return losses
