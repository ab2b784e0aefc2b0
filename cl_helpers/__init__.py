"""cl_helpers: the package behind the cl-course notebooks on catastrophic forgetting and continual learning."""
from __future__ import annotations

from . import metrics, plots
from .data import ImageData, load_dataset
from .device import get_device, set_seed
from .errors import ConfigError
from .experiments import format_table, run_methods
from .fisher import fisher_diagonal
from .models import MLP, build_model, count_parameters
from .results import RunResult
from .strategies import Strategy, available_strategies, get_strategy
from .tasks import Task, TaskStream, make_stream
from .teaching import course
from .train import TrainConfig, evaluate, evaluate_all, train_stream

__version__ = "0.1.0"

__all__ = [
    "ConfigError", "ImageData", "load_dataset", "get_device", "set_seed", "MLP", "build_model",
    "count_parameters", "RunResult", "Strategy", "available_strategies", "get_strategy", "Task", "TaskStream",
    "make_stream", "TrainConfig", "evaluate", "evaluate_all", "train_stream", "metrics", "plots",
    "run_methods", "format_table", "fisher_diagonal", "course",
]
