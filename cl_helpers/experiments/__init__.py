"""Multi-run experiments: methods compared on one stream, full vs LoRA fine-tuning, sweeps, Fisher kinds."""
from __future__ import annotations

from .compare import format_table, run_methods

__all__ = ["format_table", "run_methods"]
