"""Task streams: permuted, split (task-, domain-, class-incremental) and rotated MNIST.

Each task's transform (permutation, rotation, class subset) is applied once to the whole tensor when the
stream is built, never per batch, so training only indexes tensors that already sit on the device.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F

from .data import DATASETS, ImageData, load_dataset
from .device import get_device
from .errors import ConfigError, check_bool, check_choice, check_int, check_seed

BENCHMARKS = ("permuted", "split", "rotated")
SCENARIOS = ("task", "domain", "class")
DEFAULT_SCENARIO = {"permuted": "domain", "rotated": "domain", "split": "class"}
DEFAULT_TASKS = {"permuted": 3, "rotated": 5, "split": 5}
COURSE_TRAIN_SIZE, COURSE_TEST_SIZE = 5000, 1000  # the course notebook's first 5000 / 1000 images
MAX_ANGLE = 80.0  # rotated tasks span 0..80 degrees as in the NTU 2022 lifelong-learning homework


@dataclass
class Task:
    """One task: flattened inputs as the model sees them (already transformed) and labels, on the device."""

    id: int
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: tuple[int, ...] = tuple(range(10))
    perm: torch.Tensor | None = None  # the pixel permutation of a permuted task, applied once at build time

    def __repr__(self) -> str:
        return f"Task({self.id}, {self.name!r}, train={len(self.y_train)}, test={len(self.y_test)})"


@dataclass
class TaskStream:
    """A sequence of tasks plus what a model needs to know: outputs per head and number of heads."""

    benchmark: str
    scenario: str
    tasks: list[Task]
    n_outputs: int
    n_heads: int
    image_shape: tuple[int, int]
    source: str
    config: dict = field(default_factory=dict)

    @property
    def input_size(self) -> int:
        """Number of input features of one example (flattened image)."""
        return self.image_shape[0] * self.image_shape[1]

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)

    def __getitem__(self, i: int) -> Task:
        return self.tasks[i]

    def __repr__(self) -> str:
        return (f"TaskStream({self.benchmark}, {self.scenario}-incremental, {len(self)} tasks, "
                f"outputs={self.n_outputs}x{self.n_heads} head(s), source={self.source!r})")


def make_stream(benchmark: str = "permuted", n_tasks: int | None = None, scenario: str | None = None,
                dataset: str | ImageData = "mnist", train_size: int | None = None, test_size: int | None = None,
                seed: int = 0, device: str | torch.device | None = None, root: str | os.PathLike | None = None,
                download: bool = True) -> TaskStream:
    """Build a task stream; sizes are per task (None: the course's 5000/1000, or all of a split's classes)."""
    check_choice("benchmark", benchmark, BENCHMARKS)
    scenario = DEFAULT_SCENARIO[benchmark] if scenario is None else check_choice("scenario", scenario, SCENARIOS)
    max_tasks = 5 if benchmark == "split" else 100
    n_tasks = DEFAULT_TASKS[benchmark] if n_tasks is None else check_int("tasks", n_tasks, 1, max_tasks)
    if benchmark == "split" and n_tasks < 2:
        raise ConfigError(f"tasks {n_tasks} is out of range for split; allowed: 2..5")
    seed = check_seed("seed", seed)
    download = check_bool("download", download)
    if isinstance(dataset, ImageData):
        data = dataset if device is None else _moved(dataset, get_device(device))
    elif isinstance(dataset, str):
        data = load_dataset(dataset, root=root, device=device, download=download)
    else:
        raise ConfigError(f"dataset must be a name or an ImageData, got {type(dataset).__name__}; "
                          f"allowed: {', '.join(DATASETS)}, or load_dataset(...)")
    if benchmark == "split":
        tasks = _split_tasks(data, n_tasks, scenario, train_size, test_size)
        per_task = 2
    else:
        tasks = _transformed_tasks(data, benchmark, n_tasks, scenario, train_size, test_size, seed)
        per_task = 10
    n_heads = n_tasks if scenario == "task" else 1
    n_outputs = per_task * n_tasks if scenario == "class" else per_task
    config = dict(benchmark=benchmark, scenario=scenario, tasks=n_tasks, dataset=data.name,
                  train_size=len(tasks[0].y_train), test_size=len(tasks[0].y_test), seed=seed)
    return TaskStream(benchmark, scenario, tasks, n_outputs, n_heads, data.image_shape, data.source, config)


def _moved(data: ImageData, device: torch.device) -> ImageData:
    """The data set on `device` (itself when it is already there)."""
    if data.x_train.device == device:
        return data
    tensors = {k: getattr(data, k).to(device) for k in ("x_train", "y_train", "x_test", "y_test")}
    return replace(data, **tensors)


def _size(kind: str, wanted: int | None, default: int | None, available: int, what: str,
          fallback: bool = False) -> int:
    if wanted is None:
        return available if default is None else min(default, available)
    wanted = check_int(f"{kind}_size", wanted, 1)
    if fallback:
        # Sizes meant for MNIST, met by the offline digits (the notice said so): use what there is.
        return min(wanted, available)
    if wanted > available:
        raise ConfigError(f"{kind}_size {wanted} is larger than the {available} {kind} images {what}; "
                          f"allowed: 1..{available}")
    return wanted


def _transformed_tasks(data: ImageData, benchmark, n_tasks, scenario, train_size, test_size, seed) -> list[Task]:
    fb = data.is_fallback
    n_tr = _size("train", train_size, COURSE_TRAIN_SIZE, len(data.y_train), f"of {data.name}", fb)
    n_te = _size("test", test_size, COURSE_TEST_SIZE, len(data.y_test), f"of {data.name}", fb)
    x_tr, y_tr = data.x_train[:n_tr].flatten(1), data.y_train[:n_tr]
    x_te, y_te = data.x_test[:n_te].flatten(1), data.y_test[:n_te]
    tasks = []
    if benchmark == "permuted":
        gen = torch.Generator().manual_seed(seed)
        d = x_tr.shape[1]
        for t in range(n_tasks):
            # Task 0 is the original images, as in the course notebook; the rest are drawn once here.
            perm = torch.arange(d) if t == 0 else torch.randperm(d, generator=gen)
            perm = perm.to(x_tr.device)
            task = _labelled(t, f"permutation {t}", x_tr[:, perm], y_tr, x_te[:, perm], y_te, scenario)
            task.perm = perm
            tasks.append(task)
    else:
        angles = [MAX_ANGLE * t / (n_tasks - 1) if n_tasks > 1 else 0.0 for t in range(n_tasks)]
        for t, angle in enumerate(angles):
            rot = lambda x: rotate(x.view(-1, *data.image_shape), angle, data.background).flatten(1)  # noqa: E731
            tasks.append(_labelled(t, f"rotation {angle:g} deg", rot(x_tr), y_tr, rot(x_te), y_te, scenario))
    return tasks


def _labelled(t, name, x_tr, y_tr, x_te, y_te, scenario) -> Task:
    # Class-incremental permuted/rotated MNIST gives each task its own 10 output units.
    offset = 10 * t if scenario == "class" else 0
    return Task(t, name, x_tr.contiguous(), y_tr + offset, x_te.contiguous(), y_te + offset,
                tuple(range(offset, offset + 10)))


def _split_tasks(data: ImageData, n_tasks, scenario, train_size, test_size) -> list[Task]:
    tasks = []
    for t in range(n_tasks):
        pair = (2 * t, 2 * t + 1)
        parts = []
        for kind, x, y, wanted in (("train", data.x_train, data.y_train, train_size),
                                   ("test", data.x_test, data.y_test, test_size)):
            idx = torch.nonzero((y == pair[0]) | (y == pair[1])).squeeze(1)
            n = _size(kind, wanted, None, len(idx), f"of digits {pair[0]}/{pair[1]} in {data.name}",
                      data.is_fallback)
            idx = idx[:n]
            labels = y[idx] if scenario == "class" else y[idx] % 2
            parts += [x[idx].flatten(1).contiguous(), labels]
        classes = pair if scenario == "class" else (0, 1)
        tasks.append(Task(t, f"digits {pair[0]}/{pair[1]}", *parts, classes=classes))
    return tasks


def rotate(images: torch.Tensor, degrees: float, background: float = 0.0) -> torch.Tensor:
    """Rotate a batch of (N, H, W) images counter-clockwise by `degrees`, filling corners with `background`."""
    if degrees == 0:
        return images.clone()
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    mat = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=images.dtype, device=images.device)
    x = (images - background).unsqueeze(1)
    grid = F.affine_grid(mat.expand(len(images), 2, 3), list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.squeeze(1) + background
