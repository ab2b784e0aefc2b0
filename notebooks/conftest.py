"""nbval runs an instructor edition only where its code differs from the student edition's.

A chapter without exercises (chapter 8) has the same code cells in both editions; running it twice would
double its time in `make test` and test nothing new. tests/test_editions.py checks that both editions exist.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def _code(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


collect_ignore = [f"instructor/{p.name}" for p in sorted((HERE / "instructor").glob("[0-9][0-9]_*.ipynb"))
                  if (HERE / p.name).exists() and _code(p) == _code(HERE / p.name)]
