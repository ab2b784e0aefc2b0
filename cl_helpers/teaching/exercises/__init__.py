"""Exercises with automatic feedback, one module per chapter; `Exercise.check` says what is right or wrong."""
from .core import Case, Exercise, Report

__all__ = ["Case", "Exercise", "Report"]
