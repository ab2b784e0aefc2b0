"""Naive sequential fine-tuning: the lower reference that shows catastrophic forgetting."""
from __future__ import annotations

from .base import Strategy, register


@register
class Naive(Strategy):
    """Train on each task in turn with nothing to protect earlier tasks."""

    name = "naive"
    label = "Naive (fine-tuning)"
