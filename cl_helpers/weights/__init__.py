"""Weight-space edits after training: interpolation (WiSE-FT), task vectors and their merging (TIES), Safe LoRA.

They work on state dicts (name -> tensor), so they apply alike to the MNIST models and the language models.
"""
from .interpolate import interpolate, merged_model, merged_state
from .safe_lora import SafeLoRAReport, alignment_projection, safe_lora, update_similarity
from .task_vectors import add_vectors, task_vector, ties_merge

__all__ = ["interpolate", "merged_model", "merged_state", "task_vector", "add_vectors", "ties_merge", "alignment_projection",
           "update_similarity", "safe_lora", "SafeLoRAReport"]
