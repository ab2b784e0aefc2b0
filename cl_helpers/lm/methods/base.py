"""The hook interface of the language model's fine-tuning methods, declared like the MNIST strategies.

A method is a registered class, as a strategy is (cl_helpers/strategies/base.py): a `name`, a `label`, its
hyperparameters as `params` with the same `Param` (the same checks and messages, the same generated command-line
options --<method>-<key>), named as the MNIST strategy of the same idea names them (EWC's `lam`, LoRA's `rank` and
`alpha`, LwF's `alpha` for the weight of the KL term), and hooks. `finetune(stage0, config)` (finetune.py) runs:

    m = get_method(config.method, **config.hparams)    # the method's own settings, checked
    model = m.setup(copy.deepcopy(stage0.model), stage0, config)   # LoRA: adapters on the blocks' layers
    data = m.training_data(stage0.world.stage1)        # replay: + stage-0 examples (THE hook on sequences, below)
    extra = m.extra_loss(model)                        # EWC's penalty, the KL to the stage-0 model; None: nothing
    (freeze the bottom blocks if asked; train_lm(model, data, steps, lr, ..., extra_loss=extra))
    m.after_training(model)                            # LoRA: merge the adapters into the weights

Why this is not the Strategy class itself: the MNIST engine trains a stream of tasks on image tensors and calls a
strategy at every step (make_batch, loss, penalty, ...). Here there is one new task, and what a method changes
is known before the first step: the data are text sequences (`LMData`: prompts and answers, possibly written by
a model's own generation) that `train_lm` tokenizes and batches itself, so a method's data go through the one
hook `training_data` (LMData in, LMData out: the sequence counterpart of Strategy.training_data), and its loss
term through `extra_loss`, a function (model, ids, logits) -> tensor that train_lm adds at every step (the
counterpart of Strategy.penalty and of LwF's Strategy.loss).

To add a method: copy full.py (or the closest method) into this folder, give it a new `name`, its `params` and
the hooks it needs. Every module here registers itself on import; `FinetuneConfig(method=...)`, `run_methods`
and the `python -m cl_helpers llm` options (--<name>-<key>) pick it up.
"""
from __future__ import annotations

from typing import Any, ClassVar

from torch import nn

from ...strategies.base import Configurable, Param, registrar
from ..data import LMData
from ..train import ExtraLoss

REGISTRY: dict[str, type["Method"]] = {}
BASE_LR = 2e-3   # the default learning rate of every method but LoRA (its own: LoRA.default_lr)


# Class decorator: make a fine-tuning method available by its `name` (FinetuneConfig, CLI, `get_method`).
register = registrar(REGISTRY, "fine-tuning methods")


class Method(Configurable):
    """Full fine-tuning: every weight trained on the new data alone; subclasses override the hooks they need."""

    name: ClassVar[str] = "base"
    label: ClassVar[str] = "Base"
    params: ClassVar[dict[str, Param]] = {}
    # Earlier keyword names of FinetuneConfig, still accepted: old name -> key in `params` (e.g. ewc_lambda -> lam).
    aliases: ClassVar[dict[str, str]] = {}
    default_lr: ClassVar[float] = BASE_LR   # the learning rate when FinetuneConfig.lr is None

    def __init__(self, **hparams: Any):
        super().__init__(**{self.aliases.get(key, key): value for key, value in hparams.items()})
        self.stage0: Any = None

    def tag(self) -> str:
        """What a run's label adds to the method's name, e.g. " r4" for LoRA of rank 4 (FinetuneConfig.label)."""
        return ""

    # ---- hooks -------------------------------------------------------------------------------------
    def setup(self, model: nn.Module, stage0, config) -> nn.Module:
        """Called once on a copy of the stage-0 model; returns the model to train (LoRA wraps layers in place)."""
        self.stage0, self.config = stage0, config
        return model

    def training_data(self, data: LMData) -> LMData:
        """The sequences trained on, given the new task's (`data`): by default those alone.

        The language model's one data hook: replay methods append stage-0 prompts here, with their labels or
        with answers the stage-0 model generates itself.
        """
        return data

    def extra_loss(self, model: nn.Module) -> ExtraLoss | None:
        """A term train_lm adds to the answer loss at every step, as a function (model, ids, logits); None: none."""
        return None

    def after_training(self, model: nn.Module) -> None:
        """Called after the last step, before the weight change and the result are taken (LoRA merges here)."""
