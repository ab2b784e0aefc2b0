"""Shared by the PackNet and Progressive Networks tests: does an old task's output survive later tasks bit for bit?"""
from __future__ import annotations

import torch

from cl_helpers import train_stream


def outputs_after_each_task(stream, strategy_cls, **kwargs):
    """Run `strategy_cls` on the stream; return (each task's test logits right after it, and at the end), and the run."""
    class Recording(strategy_cls):
        def after_task(self, model, task, stream):
            super().after_task(model, task, stream)
            with torch.no_grad():
                model.eval()
                self.recorded.append(self.forward(model, task.x_test, task.id).clone())
                model.train()

    strategy = Recording(**kwargs)
    strategy.recorded = []
    run = train_stream(stream, strategy, progress=False, hidden=(48, 48), epochs=2, batch_size=32)
    with torch.no_grad():
        run.model.eval()
        final = [strategy.forward(run.model, task.x_test, task.id) for task in stream]
    return strategy.recorded, final, run
