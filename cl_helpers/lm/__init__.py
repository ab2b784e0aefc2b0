"""Chapter 8: a tiny language model that forgets its refusals when fine-tuned (Track A), and the real thing (hf.py)."""
