"""Execute notebooks top to bottom in a fresh kernel and save them with their outputs (whole or not at all).

Usage: python tools/execute_notebooks.py notebooks/*.ipynb notebooks/instructor/*.ipynb
Runs in full mode unless CL_FAST=1 is set; prints each notebook's wall time (the numbers the chapters quote).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 3600) -> float:
    """Run one notebook in its own folder and write it back with outputs; returns the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        nbformat.write(nb, fh)
    os.replace(tmp, path)
    return seconds


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    os.environ.setdefault("TQDM_DISABLE", "1")
    # Saved outputs must agree with the prose: a course.expect claim that fails aborts the save.
    os.environ.setdefault("CL_CHECK_CLAIMS", "1")
    for p in paths:
        seconds = execute(Path(p))
        print(f"{p}: {seconds:.1f} s ({'fast' if os.environ.get('CL_FAST') == '1' else 'full'} mode)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
