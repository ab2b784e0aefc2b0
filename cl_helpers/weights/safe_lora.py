"""Safe LoRA (Hsu et al., NeurIPS 2024): keep a fine-tuning update only where it stays near the alignment
direction, without data or training.

Per layer, the alignment matrix V = W_aligned - W_unaligned (the change that alignment made) gives
C = V V^T / ||V||_F, the paper's (approximate) projection onto V's column space. A layer's LoRA update dW is
compared with its projection by the cosine similarity <dW, C dW>_F / (||dW||_F ||C dW||_F); a layer whose
similarity is below `threshold` gets C dW instead of dW, the others keep dW. An update along V therefore stays
as it is (similarity 1), and one orthogonal to V is removed (C dW = 0, similarity 0).

C is not an exact projection: its eigenvalues are s_i^2 / ||V||_F (s_i: V's singular values), so C dW is also
rescaled; the report keeps ||C dW||_F / ||dW||_F per layer (`norm_ratio`) to show by how much.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import torch

from ..errors import ConfigError, check_float


def alignment_projection(aligned: torch.Tensor, unaligned: torch.Tensor) -> torch.Tensor:
    """C = V V^T / ||V||_F with V = aligned - unaligned, shape (out, out); zero when the two are equal."""
    if aligned.shape != unaligned.shape or aligned.dim() != 2:
        raise ConfigError(f"aligned and unaligned weights must be two matrices of one shape, got "
                          f"{tuple(aligned.shape)} and {tuple(unaligned.shape)}")
    v = (aligned.detach() - unaligned.detach()).double()
    norm = torch.linalg.matrix_norm(v)
    if norm == 0:
        return torch.zeros(v.shape[0], v.shape[0], dtype=aligned.dtype, device=aligned.device)
    return (v @ v.T / norm).to(aligned.dtype)


def update_similarity(update: torch.Tensor, projection: torch.Tensor) -> float:
    """Cosine similarity between an update dW and its projection C dW (0 when either is zero)."""
    update, projection = update.double(), projection.double()
    projected = projection @ update
    size = torch.linalg.matrix_norm(update)
    # C dW at float32 rounding level (an update orthogonal to V) has no direction: its cosine would be noise
    if size == 0 or torch.linalg.matrix_norm(projected) <= 1e-5 * torch.linalg.matrix_norm(projection) * size:
        return 0.0
    return float((update * projected).sum() / (size * torch.linalg.matrix_norm(projected)))


@dataclass
class SafeLoRAReport:
    """Per layer: the similarity of its update to the projection, whether it was projected, and the size of
    the projection relative to the update, ||C dW||_F / ||dW||_F (0 for a zero update)."""

    similarity: dict[str, float] = field(default_factory=dict)
    projected: dict[str, bool] = field(default_factory=dict)
    norm_ratio: dict[str, float] = field(default_factory=dict)

    @property
    def n_projected(self) -> int:
        """How many layers got the projected update."""
        return sum(self.projected.values())


def safe_lora(updates: Mapping[str, torch.Tensor], aligned: Mapping[str, torch.Tensor],
              unaligned: Mapping[str, torch.Tensor], threshold: float = 0.5
              ) -> tuple[dict[str, torch.Tensor], SafeLoRAReport]:
    """The updates after Safe LoRA, and the report; `updates`, `aligned`, `unaligned` map a layer name to its
    dW (out x in) and its weight matrices; `threshold` in [0, 1]."""
    threshold = check_float("threshold", threshold, 0.0, 1.0)
    missing = [k for k in updates if k not in aligned or k not in unaligned]
    if missing:
        raise ConfigError(f"no aligned/unaligned weight for layer {missing[0]!r}; allowed: layers of both models")
    out, report = {}, SafeLoRAReport()
    for name, dw in updates.items():
        c = alignment_projection(aligned[name], unaligned[name])
        sim = update_similarity(dw.detach(), c)
        report.similarity[name] = sim
        report.projected[name] = sim < threshold
        cdw = c @ dw.detach()
        size = float(torch.linalg.matrix_norm(dw.detach().double()))
        report.norm_ratio[name] = float(torch.linalg.matrix_norm(cdw.double())) / size if size > 0 else 0.0
        out[name] = cdw if sim < threshold else dw.detach().clone()
    return out, report
