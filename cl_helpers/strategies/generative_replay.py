"""Generative replay: a generator learns every task's inputs, and the previous classifier labels its samples."""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..vae import VAE
from .base import Param, Strategy, register


def mix_losses(current: torch.Tensor, replayed: torch.Tensor, tasks_seen: int) -> torch.Tensor:
    """(1/t) * current + (1 - 1/t) * replayed, with t the number of tasks seen so far, the current one included.

    The current task gets the weight of one task and the replayed data that of the t - 1 earlier ones
    (van de Ven & Tolias 2018), so every task counts the same however many have passed.
    """
    w = 1.0 / tasks_seen
    return w * current + (1.0 - w) * replayed


def generative_replay_loss(logits: torch.Tensor, y: torch.Tensor, replay_logits: torch.Tensor,
                           old_replay_logits: torch.Tensor, tasks_seen: int, distill: bool = False,
                           temperature: float = 2.0) -> torch.Tensor:
    """The classifier's loss: cross-entropy on the current batch mixed with a term on the replayed inputs.

    The replayed inputs' targets come from the PREVIOUS classifier (`old_replay_logits`, with -inf on the
    output units of classes not seen yet): its argmax as a hard label, or with `distill` its softmax at
    `temperature` as soft targets (T^2 * KL, Hinton et al. 2015). Never from the model being trained:
    its own labels would teach it nothing and let the old classes drift.
    """
    current = F.cross_entropy(logits, y)
    if distill:
        target = F.softmax(old_replay_logits / temperature, dim=1)   # exact zeros on the unseen units
        log_new = F.log_softmax(replay_logits / temperature, dim=1)
        replayed = temperature ** 2 * F.kl_div(log_new, target, reduction="batchmean")
    else:
        replayed = F.cross_entropy(replay_logits, old_replay_logits.argmax(1))
    return mix_losses(current, replayed, tasks_seen)


@register
class GenerativeReplay(Strategy):
    """Deep generative replay (Shin et al. 2017), as van de Ven & Tolias (2018) run it, with a VAE generator.

    While training task t > 0, every mini-batch of the current task is joined by `replay_batch_size` inputs
    sampled from the generator as it was at the end of task t-1, labelled by the classifier as it was then
    (hard labels, or soft targets with `distill`); the loss mixes the two parts 1/t : (t-1)/t
    (`generative_replay_loss`). Replayed inputs carry a past task id drawn at random, so a multi-head
    model labels each through one past head.

    At the end of each task the generator (`cl_helpers.vae.VAE`) trains for `generator_steps` steps on
    the task's inputs mixed, in the same proportion, with its own earlier samples: without that replay the
    generator forgets too, and so would everything it replays. Then frozen copies of both are kept.

    Memory: no stored images; the generator, plus a frozen copy of it and of the classifier while training.
    Cost: per step one generator decode and one old-classifier forward of the replay batch; per task
    `generator_steps` generator steps (about twice as long from the second task on, with its replay).
    """

    name = "generative_replay"
    label = "Generative replay"
    params = {
        "distill": Param(False, type=bool,
                         help="soft targets (distillation) instead of the old model's hard labels"),
        "temperature": Param(2.0, 0.0, 100.0, low_open=True, help="softmax temperature of the soft targets"),
        "replay_batch_size": Param(0, 0, 100_000, type=int,
                                   help="replayed inputs per step (0: the current batch's size)"),
        "generator_steps": Param(200, 1, 1_000_000, type=int, log=True, help="generator training steps per task"),
        "generator_hidden": Param(128, 1, 100_000, type=int, help="hidden units of the VAE's encoder and decoder"),
        "generator_latent": Param(32, 1, 10_000, type=int, help="latent dimensions of the VAE"),
        "generator_lr": Param(3e-3, 0.0, 1.0, low_open=True, log=True, help="Adam learning rate of the VAE"),
    }
    n_dreams = 20   # samples from fixed latent codes kept after each task, to look at

    def setup(self, model, stream, config):
        """A fresh generator sized for the inputs, its own random streams, no old models yet."""
        super().setup(model, stream, config)
        device = stream[0].x_train.device
        self.device = device
        self.lo = float(stream[0].x_train.min())
        self.hi = float(stream[0].x_train.max())
        self.replay_gen = torch.Generator(device=device).manual_seed(config.seed * 7919 + 1)
        self.generator_gen = torch.Generator(device=device).manual_seed(config.seed * 7919 + 2)
        self.old_model: nn.Module | None = None
        self.tasks_seen = 0
        self.seen_units = torch.zeros(stream.n_outputs, dtype=torch.bool, device=device)
        self.dreams: list[torch.Tensor] = []
        self.build_generator(stream)
        return model

    def build_generator(self, stream) -> None:
        """The VAE and the fixed latent codes whose decodings are kept as `dreams` after each task."""
        self.generator = VAE(stream.input_size, self.generator_hidden, self.generator_latent,
                             self.lo, self.hi).to(self.device)
        self.old_generator: VAE | None = None
        self.dream_z = torch.randn(self.n_dreams, self.generator_latent, device=self.device,
                                   generator=torch.Generator(device=self.device).manual_seed(12345))

    def before_task(self, model, task, stream) -> None:
        """Count the task: it is number t = task.id + 1 in the mixing weights."""
        self.tasks_seen = task.id + 1

    def dream(self, n: int) -> torch.Tensor:
        """`n` replayed inputs: samples of the generator frozen at the end of the previous task."""
        return self.old_generator.sample(n, self.replay_gen)

    def make_batch(self, x: torch.Tensor, y: torch.Tensor, tids: torch.Tensor, t: int):
        """The current batch followed by replayed inputs, labelled by the previous classifier."""
        self.n_current = len(y)
        if self.old_model is None:
            return x, y, tids
        n = self.replay_batch_size or len(y)
        xr = self.dream(n).to(x.dtype)
        tr = torch.randint(0, t, (n,), generator=self.replay_gen, device=x.device)
        with torch.no_grad():
            old = self.forward(self.old_model, xr, tr)
        self.old_replay_logits = old.masked_fill(~self.seen_units, float("-inf"))
        return torch.cat([x, xr]), torch.cat([y, self.old_replay_logits.argmax(1)]), torch.cat([tids, tr])

    def loss(self, model, x, y, tids, logits):
        """Cross-entropy alone on the first task; afterwards current and replayed parts mixed 1/t : (t-1)/t."""
        if self.old_model is None:
            return F.cross_entropy(logits, y)
        n = self.n_current
        return generative_replay_loss(logits[:n], y[:n], logits[n:], self.old_replay_logits, self.tasks_seen,
                                      self.distill, self.temperature)

    def train_generator(self, task) -> None:
        """`generator_steps` VAE steps on the task's inputs, mixed 1/t : (t-1)/t with the old generator's samples."""
        vae, x = self.generator, task.x_train
        vae.train()
        optimizer = torch.optim.Adam(vae.parameters(), lr=self.generator_lr)
        bs = self.config.batch_size
        for _ in range(self.generator_steps):
            idx = torch.randint(0, len(x), (min(bs, len(x)),), generator=self.generator_gen, device=x.device)
            loss = vae.loss(x[idx], self.generator_gen)
            if self.old_generator is not None:
                replayed = self.old_generator.sample(bs, self.generator_gen)
                loss = mix_losses(loss, vae.loss(replayed, self.generator_gen), self.tasks_seen)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        vae.eval()

    def after_task(self, model, task, stream) -> None:
        """Train the generator on this task (with its own replay), then freeze copies of it and the classifier.

        After the stream's last task nothing would replay the generator's samples, so it is not trained.
        """
        self.seen_units[list(task.classes)] = True
        self.old_model = copy.deepcopy(model).eval().requires_grad_(False)
        if self.generator is None or task.id == len(stream) - 1:
            return
        self.train_generator(task)
        self.old_generator = copy.deepcopy(self.generator).eval().requires_grad_(False)
        self.dreams.append(self.generator.decode(self.dream_z).cpu())

    def generator_parameters(self) -> int:
        """Scalars in the generator (what generative replay stores instead of images); 0 without one."""
        return 0 if self.generator is None else sum(p.numel() for p in self.generator.parameters())
