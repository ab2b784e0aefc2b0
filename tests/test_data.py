"""Data loading: MNIST from the search path, normalisation, the offline digits fallback, corrupt files."""
import shutil

import numpy as np
import pytest
import torch

from cl_helpers import ConfigError, load_dataset
from cl_helpers import data as data_mod
from testdata import mnist_root


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(data_mod, "_cache", {})
    monkeypatch.setattr(data_mod, "_noticed", set())


needs_mnist = pytest.mark.skipif(mnist_root() is None, reason="MNIST subset not available (offline run)")


@needs_mnist
def test_mnist_is_normalised_once_and_named():
    d = load_dataset("mnist", root=mnist_root(), device="cpu", download=False)
    assert d.x_train.shape[1:] == (28, 28) and d.x_test.shape == (10000, 28, 28)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.long
    assert abs(float(d.x_train.mean())) < 0.05 and abs(float(d.x_train.std()) - 1.0) < 0.05
    assert float(d.x_train.min()) == pytest.approx(d.background)
    assert "MNIST from" in d.source and "10000 test images" in d.source
    assert sorted(d.y_test.unique().tolist()) == list(range(10))


@needs_mnist
def test_search_order_env_variable_then_root(monkeypatch, tmp_path):
    monkeypatch.setenv("CL_HELPERS_DATA", str(mnist_root()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    found = load_dataset("mnist", device="cpu", download=False)
    # the source names the variable, not this machine's path, so a saved notebook reads the same everywhere
    assert found.name == "mnist" and found.source.startswith("MNIST from $CL_HELPERS_DATA (")
    assert data_mod.data_dirs(tmp_path)[:2] == [tmp_path, mnist_root()]


def test_offline_fallback_is_the_real_digits_with_one_notice(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("CL_HELPERS_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    d = load_dataset("mnist", root=tmp_path, device="cpu", download=False)
    assert d.name == "digits" and d.is_fallback and "offline fallback for MNIST" in d.source
    from sklearn.datasets import load_digits

    real = torch.tensor(load_digits().images[:5], dtype=torch.float32) / 16.0
    torch.testing.assert_close(d.x_train[:5] * d.std + d.mean, real)
    assert d.x_train.shape == (1437, 8, 8) and d.x_test.shape == (360, 8, 8)
    err = capsys.readouterr().err
    assert err.count("NOTICE") == 1 and "scikit-learn" in err and "CL_HELPERS_DATA" in err
    data_mod._cache.clear()
    load_dataset("mnist", root=tmp_path, device="cpu", download=False)
    assert "NOTICE" not in capsys.readouterr().err  # said once per process


def test_failed_download_falls_back(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("CL_HELPERS_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def offline(name, folder):
        raise OSError("network unreachable")

    monkeypatch.setattr(data_mod, "_download", offline)
    d = load_dataset("fashion_mnist", root=tmp_path, device="cpu")
    assert d.name == "digits" and "Fashion-MNIST" in d.source
    assert "download into" in capsys.readouterr().err


@needs_mnist
@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_corrupt_file_is_one_clear_error(tmp_path, damage):
    raw = tmp_path / "MNIST" / "raw"
    shutil.copytree(mnist_root() / "MNIST" / "raw", raw)
    target = raw / "train-images-idx3-ubyte"
    target.chmod(0o644)
    content = target.read_bytes()
    target.write_bytes(content[: len(content) // 3] if damage == "truncate" else b"")
    with pytest.raises(ConfigError, match="corrupt or truncated") as info:
        load_dataset("mnist", root=tmp_path, device="cpu", download=False)
    assert "\n" not in str(info.value)


def test_unknown_dataset():
    with pytest.raises(ConfigError, match="unknown dataset 'cifar'; allowed: mnist, fashion_mnist, digits"):
        load_dataset("cifar")


def test_digits_by_name_has_no_notice(capsys):
    d = load_dataset("digits", device="cpu")
    assert d.name == "digits" and not d.is_fallback
    assert np.isclose(float(d.x_train.mean()), 0.0, atol=1e-5)
    assert "NOTICE" not in capsys.readouterr().err
