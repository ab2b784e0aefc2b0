"""A small decoder-only transformer (GPT-style) with rotary positions, built from nn.Linear layers.

Every matrix that learns is an nn.Linear (queries/keys/values, the attention output, the two MLP layers,
the output head), so `cl_helpers.lora.add_lora(model, rank)` wraps it without any change. Positions are
rotary (RoPE, Su et al. 2021): a query and a key are rotated by angles proportional to their positions,
so attention sees only the distance between tokens. Absolute position embeddings failed here on
held-out phrasings of a length never seen in training; relative positions do not care about length.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import check_int
from .tokenizer import VOCAB_SIZE


@dataclass(frozen=True)
class GPTConfig:
    """Sizes of the model: vocabulary, context length, width, layers and attention heads."""

    vocab_size: int = VOCAB_SIZE
    context: int = 64
    width: int = 128
    layers: int = 2
    heads: int = 4

    def to_dict(self) -> dict:
        """The sizes as a plain dict (for saving next to the weights)."""
        return asdict(self)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate consecutive pairs of features of x (B, H, T, D) by the per-position angles in cos/sin (T, D/2)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)


class Attention(nn.Module):
    """Causal multi-head self-attention with rotary positions."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """x (B, T, width) -> (B, T, width); position t attends to positions <= t only."""
        b, t, w = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out(y.transpose(1, 2).reshape(b, t, w))


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then x + MLP(norm(x))."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.up, self.down = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """One block on x (B, T, width)."""
        x = x + self.attn(self.norm1(x), cos, sin)
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class TinyGPT(nn.Module):
    """Token embedding, `layers` blocks, a final norm and a Linear head giving next-token logits."""

    def __init__(self, config: GPTConfig = GPTConfig()):
        super().__init__()
        check_int("width", config.width, 8)
        check_int("heads", config.heads, 1, config.width)
        if config.width % (2 * config.heads):
            raise ValueError(f"width {config.width} must be a multiple of 2 * heads ({2 * config.heads})")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.width)
        self.blocks = nn.ModuleList(Block(config.width, config.heads) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.vocab_size)
        half = config.width // config.heads // 2
        inv_freq = 1.0 / (10000 ** (torch.arange(half, dtype=torch.float32) / half))
        angles = torch.outer(torch.arange(config.context, dtype=torch.float32), inv_freq)
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) -> logits (B, T, vocab) for the token after each position."""
        t = ids.shape[1]
        if t > self.config.context:
            raise ValueError(f"sequence of {t} tokens is longer than the context ({self.config.context})")
        cos, sin = self.cos[:t], self.sin[:t]
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, cos, sin)
        return self.head(self.norm(x))
