"""Where the tests find real MNIST: one function, imported by conftest.py and by tests that need the path.

(A module of its own because tests/ and tests/browser/ both have a conftest.py, so `from conftest import`
would be ambiguous.)
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
OFFLINE = os.environ.get("CL_TEST_OFFLINE") == "1"


def mnist_root() -> Path | None:
    """The folder holding MNIST/raw for tests, or None when the suite runs offline on digits."""
    if OFFLINE:
        return None
    for cand in (os.environ.get("CL_HELPERS_DATA"), SHARED_DATA):
        if cand and (Path(cand) / "MNIST" / "raw").is_dir():
            return Path(cand)
    return None
