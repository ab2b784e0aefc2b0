"""Full fine-tuning: every weight trained on the new data alone (the reference the other methods are measured by)."""
from __future__ import annotations

from .base import Method, register


@register
class Full(Method):
    """Every weight trained on the new data alone, at the base learning rate; no extra data, no extra loss."""

    name = "full"
    label = "Full fine-tuning"
