"""Shared fixtures: real data for every test, the MNIST subset in ../shared/data when present, else digits.

Set CL_TEST_OFFLINE=1 to run the whole suite on scikit-learn's offline digits, as a machine without
MNIST and without internet would.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from testdata import mnist_root

# One thread: these small MLPs gain little from two, and two threads spinning against other processes
# (a notebook kernel, the browser) can run 20x slower. Speed is measured by benchmarks/, not by tests.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """Where tests load data from: the MNIST folder, or an empty folder (so the digits fallback is used)."""
    return mnist_root() or tmp_path_factory.mktemp("no-mnist")


@pytest.fixture(scope="session")
def dataset(data_root):
    """The real data set of this test session (MNIST subset, or digits offline), on the CPU."""
    from cl_helpers.data import load_dataset

    return load_dataset("mnist", root=data_root, device="cpu", download=False)


@pytest.fixture(scope="session")
def on_mnist(dataset) -> bool:
    """True when the tests run on MNIST, False on the offline digits."""
    return dataset.name == "mnist"


@pytest.fixture(scope="session")
def make_stream(dataset):
    """Factory: a small task stream of this session's data, make_stream(benchmark, **kwargs)."""
    from cl_helpers.tasks import make_stream as _make

    def factory(benchmark: str = "permuted", **kwargs):
        if dataset.name == "digits":
            # The digits have 1,437 training and 360 test images in all: cap sizes to what exists.
            if benchmark != "split":
                kwargs["train_size"] = min(kwargs.get("train_size") or 1437, 1437)
                kwargs["test_size"] = min(kwargs.get("test_size") or 360, 360)
            else:
                kwargs["train_size"] = kwargs["test_size"] = None
        return _make(benchmark, dataset=dataset, **kwargs)

    return factory
