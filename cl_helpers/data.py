"""Image data sets as normalized tensors on the device: MNIST, Fashion-MNIST, and scikit-learn's digits offline.

Where MNIST is looked for, in order: an explicit `root`, the `CL_HELPERS_DATA` environment variable, then
the default cache folder (`$XDG_CACHE_HOME/cl_helpers` or `~/.cache/cl_helpers`). If none holds it, it is
downloaded into the first of those. If that fails (no internet), scikit-learn's bundled digits are used
(1,797 real 8x8 handwritten digits) and one notice says so. Never random data.
"""
from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from .device import get_device
from .errors import ConfigError, check_choice

DATASETS = ("mnist", "fashion_mnist", "digits")
# Per-pixel statistics of the training sets, the usual constants of the field.
_STATS = {"mnist": (0.1307, 0.3081), "fashion_mnist": (0.2860, 0.3530)}
_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "digits": "scikit-learn digits"}
_DIGITS_TRAIN = 1437  # the first 80% of sklearn's 1,797 digits train, the rest test
_cache: dict[tuple, "ImageData"] = {}
_noticed: set[str] = set()


@dataclass
class ImageData:
    """A whole data set as tensors on one device: images normalized once, shape (N, H, W)."""

    name: str
    source: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: float
    std: float
    num_classes: int = 10

    @property
    def image_shape(self) -> tuple[int, int]:
        """Height and width of one image."""
        return tuple(self.x_train.shape[1:])

    @property
    def background(self) -> float:
        """The value a blank (black) pixel has after normalization."""
        return -self.mean / self.std

    @property
    def is_fallback(self) -> bool:
        """True when MNIST was asked for but the offline digits were used."""
        return self.name == "digits" and "fallback" in self.source


def default_data_dir() -> Path:
    """The cache folder MNIST is downloaded into when no root is given."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cl_helpers"


def data_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data, in order: root, $CL_HELPERS_DATA, the default cache."""
    dirs = [Path(p).expanduser() for p in (root, os.environ.get("CL_HELPERS_DATA")) if p]
    dirs.append(default_data_dir())
    return list(dict.fromkeys(dirs))


def load_dataset(name: str = "mnist", root: str | os.PathLike | None = None,
                 device: str | torch.device | None = None, download: bool = True) -> ImageData:
    """Load a data set as normalized tensors on `device`, falling back to the offline digits with a notice."""
    check_choice("dataset", name, DATASETS)
    device = get_device(device)
    key = (name, str(root), os.environ.get("CL_HELPERS_DATA"), str(device), download)
    if key not in _cache:
        if name == "digits":
            data = _load_digits(device, fallback_for=None)
        else:
            data = _load_torchvision(name, root, device, download)
        _cache[key] = data
    return _cache[key]


def _load_torchvision(name: str, root, device: torch.device, download: bool) -> ImageData:
    dirs = data_dirs(root)
    for folder in dirs:
        if _has_files(name, folder):
            return _read_torchvision(name, folder, device)
    if download:
        target = dirs[0]
        try:
            target.mkdir(parents=True, exist_ok=True)
            _download(name, target)
            return _read_torchvision(name, target, device)
        except ConfigError:
            raise
        except Exception as exc:  # no network, proxy, read-only folder: all mean "offline"
            reason = f"download into {target} failed ({type(exc).__name__})"
    else:
        reason = "downloads are switched off"
    return _load_digits(device, fallback_for=(name, dirs, reason))


def _dataset_class(name: str):
    import torchvision.datasets as tvd

    return tvd.MNIST if name == "mnist" else tvd.FashionMNIST


def _has_files(name: str, folder: Path) -> bool:
    raw = folder / _dataset_class(name).__name__ / "raw"
    return all((raw / f"{split}-{kind}-idx{dim}-ubyte").exists()
               for split in ("train", "t10k") for kind, dim in (("images", 3), ("labels", 1)))


def _download(name: str, folder: Path) -> None:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)  # an offline machine should fall back in seconds, not hang
    try:
        for train in (True, False):
            _dataset_class(name)(root=str(folder), train=train, download=True)
    finally:
        socket.setdefaulttimeout(old)


def _shown(folder: Path) -> str:
    """The data folder as a reader can find it on their own machine: the variable that named it, or ~ for home."""
    named = os.environ.get("CL_HELPERS_DATA")
    if named and Path(named).expanduser().resolve() == folder.resolve():
        return "$CL_HELPERS_DATA"
    home = Path.home()
    return f"~/{folder.relative_to(home)}" if folder.is_relative_to(home) else str(folder)


def _read_torchvision(name: str, folder: Path, device: torch.device) -> ImageData:
    cls = _dataset_class(name)
    try:
        train = cls(root=str(folder), train=True, download=False)
        test = cls(root=str(folder), train=False, download=False)
        parts = [train.data, train.targets, test.data, test.targets]
    except Exception as exc:
        raise ConfigError(f"{_TITLES[name]} files in {folder / cls.__name__ / 'raw'} are corrupt or truncated "
                          f"({type(exc).__name__}); delete them to download again") from None
    for images, labels in (parts[:2], parts[2:]):
        if images.ndim != 3 or len(images) != len(labels) or len(images) == 0 or int(labels.max()) > 9:
            raise ConfigError(f"{_TITLES[name]} files in {folder / cls.__name__ / 'raw'} are corrupt or "
                              f"truncated (images {tuple(images.shape)}, labels {tuple(labels.shape)}); "
                              "delete them to download again")
    mean, std = _STATS[name]
    source = f"{_TITLES[name]} from {_shown(folder)} ({len(parts[0])} train / {len(parts[2])} test images)"
    return _to_device(name, source, parts, mean, std, device)


def _load_digits(device: torch.device, fallback_for) -> ImageData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32) / 16.0
    labels = torch.tensor(bunch.target, dtype=torch.long)
    parts = [images[:_DIGITS_TRAIN], labels[:_DIGITS_TRAIN], images[_DIGITS_TRAIN:], labels[_DIGITS_TRAIN:]]
    mean, std = float(parts[0].mean()), float(parts[0].std())
    if fallback_for is None:
        source = f"scikit-learn digits (8x8, {len(parts[0])} train / {len(parts[2])} test images)"
    else:
        wanted, dirs, reason = fallback_for
        source = (f"scikit-learn digits, offline fallback for {_TITLES[wanted]} "
                  f"(8x8, {len(parts[0])} train / {len(parts[2])} test images)")
        if wanted not in _noticed:
            _noticed.add(wanted)
            print(f"NOTICE: {_TITLES[wanted]} not found in {', '.join(map(str, dirs))} and {reason}; using "
                  f"scikit-learn's bundled 8x8 digits instead (real handwritten digits, smaller and easier). "
                  f"To use {_TITLES[wanted]}, connect to the internet once or set CL_HELPERS_DATA to a folder "
                  f"holding {_dataset_class(wanted).__name__}/raw/.", file=sys.stderr)
    return _to_device("digits", source, parts, mean, std, device, scale=1.0)


def _to_device(name, source, parts, mean, std, device, scale=255.0) -> ImageData:
    x_train, y_train, x_test, y_test = parts
    norm = lambda x: ((x.to(device=device, dtype=torch.float32) / scale) - mean) / std  # noqa: E731
    return ImageData(name=name, source=source, x_train=norm(x_train), y_train=y_train.to(device).long(),
                     x_test=norm(x_test), y_test=y_test.to(device).long(), mean=mean, std=std)
