"""Training throughput in floating-point operations per second, against a large matrix product on the same device.

FLOPs of one training epoch, counted from the layer sizes: a Linear layer of `in` inputs and `out` outputs
costs 2 * in * out per sample forward (a multiply and an add per weight) and twice that backward (the
gradient with respect to its input and to its weights), so one sample costs 6 * sum(in * out) over the
layers, 6 * (784*256 + 256*256 + 256*10) = 1,612,800 for the course MLP; biases, ReLU, the loss and Adam
are not counted (they are O(parameters) or O(activations), not O(weights * batch)). That is the stated
formula. A step does less: nothing needs the gradient with respect to the images, so autograd skips the
first layer's input gradient, and the products actually done are 4 * sum(in * out) + 2 * sum(in * out)
over the layers after the first = 1,211,392 per sample ("needed" below); the fraction of the peak by the
formula is therefore 1.33x the fraction of the work actually done, and both are reported. The floors of
the workload comparisons use the needed FLOPs, so that no implementation can go below them.

The achievable peak is the rate of a large float32 matrix product (2 * n^3 FLOPs for n x n times n x n) on
the same device with the same threads.
"""
from __future__ import annotations

import time

import torch

from benchlib import sync, timed
from cl_helpers import TrainConfig, make_stream, train_stream
from cl_helpers.models import build_model
from cl_helpers.train import make_optimizer

W = 784 * 256 + 256 * 256 + 256 * 10  # multiply-adds per sample of the course MLP's forward pass


W_FIRST = 784 * 256  # the first layer's share: its input gradient is never computed


def workload_flops(train_size: int, test_size: int, epochs: int, ft_epochs: int, fisher_samples: int,
                   tasks: int = 3, w: int = W, w_first: int = W_FIRST) -> dict[str, float]:
    """Matrix-product FLOPs each phase of the course workload needs, on cl_helpers' evaluation schedule.

    w: multiply-adds of one forward pass; w_first: those of the first layer. Per sample: evaluation 2w;
    training 4w + 2(w - w_first) (forward, weight gradients, input gradients of the later layers); LoRA
    training 2w + 2(w - w_first) (no weight gradients for the frozen base; the adapters are negligible);
    the Fisher's samples cost a training sample each.
    """
    train, lora_train, ev = 4 * w + 2 * (w - w_first), 2 * w + 2 * (w - w_first), 2 * w
    evals = 1 + tasks * epochs + tasks  # before the first task, after each epoch, after each task
    seq = tasks * epochs * train_size * train + evals * tasks * test_size * ev
    # pretraining and full fine-tuning, then LoRA; four evaluations of two tasks
    lora = ft_epochs * train_size * (2 * train + lora_train) + 8 * test_size * ev
    return {"data": 0.0, "naive": seq, "ewc": seq + tasks * fisher_samples * train, "lora": lora}


def linear_shapes(model: torch.nn.Module) -> list[tuple[int, int]]:
    """(in, out) of every nn.Linear of the model, in order."""
    return [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)]


def flops_per_sample(model: torch.nn.Module) -> int:
    """Training FLOPs per sample by the stated formula: 6 * sum(in * out) over the Linear layers."""
    return 6 * sum(i * o for i, o in linear_shapes(model))


def needed_flops_per_sample(model: torch.nn.Module) -> int:
    """Training FLOPs per sample a step actually does: no input gradient for the first layer."""
    shapes = linear_shapes(model)
    return 4 * sum(i * o for i, o in shapes) + 2 * sum(i * o for i, o in shapes[1:])


def matmul_peak(device, n: int = 2048, iters: int = 3, repeats: int = 5) -> float:
    """FLOP/s of an n x n float32 matrix product (best of `repeats` runs of `iters` products)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    out = torch.empty(n, n, device=device)
    torch.mm(a, b, out=out)  # warm-up: library initialisation, thread pool start
    timing = timed(lambda _: [torch.mm(a, b, out=out) for _ in range(iters)], repeats, device)
    return 2 * n ** 3 * iters / timing.best


def engine_epoch_seconds(stream, batch_size: int, epochs: int, repeats: int) -> float:
    """Seconds per epoch of the real engine (train_stream, naive, training time only), best over repeats."""
    config = TrainConfig(epochs=epochs, batch_size=batch_size)
    train_stream(stream, "naive", config, epochs=1, progress=False)  # warm-up
    best = min(train_stream(stream, "naive", config, progress=False).train_seconds for _ in range(repeats))
    return best / epochs


def bare_epoch_seconds(stream, batch_size: int, epochs: int, repeats: int, variant: str) -> float:
    """Seconds per epoch of a minimal loop without the engine's hooks, to split the overheads.

    variant: "adam" (torch's default Adam: a for-loop over tensors on the CPU), "adam_fused" (fused=True),
    "adam_foreach" (foreach=True), "engine_optimizer" (what train_stream makes), "no_step" (forward and
    backward only).
    """
    task = stream[0]
    x_all, y_all = task.x_train, task.y_train
    n = len(y_all)
    model = build_model(stream).to(x_all.device)
    params = list(model.parameters())
    if variant == "engine_optimizer":
        opt = make_optimizer(params, TrainConfig())
    elif variant == "adam":
        opt = torch.optim.Adam(params, lr=1e-3)
    elif variant == "adam_fused":
        opt = torch.optim.Adam(params, lr=1e-3, fused=True)
    elif variant == "adam_foreach":
        opt = torch.optim.Adam(params, lr=1e-3, foreach=True)
    else:
        opt = None
    gen = torch.Generator(device=x_all.device).manual_seed(0)
    loss_fn = torch.nn.functional.cross_entropy

    def run_epochs(k: int) -> None:
        for _ in range(k):
            order = torch.randperm(n, device=x_all.device, generator=gen)
            for s in range(0, n, batch_size):
                idx = order[s:s + batch_size]
                for p in params:
                    p.grad = None
                loss_fn(model(x_all[idx]), y_all[idx]).backward()
                if opt is not None:
                    opt.step()

    run_epochs(1)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        sync(x_all.device)
        start = time.perf_counter()
        run_epochs(epochs)
        sync(x_all.device)
        best = min(best, (time.perf_counter() - start) / epochs)
    return best


def measure(data, device, peak: float, batch_sizes=(32, 64, 128, 256, 512, 1024), train_size: int = 5000,
            epochs: int = 3, repeats: int = 3, variants=("adam", "adam_fused", "no_step"),
            matmul_n: int = 2048) -> dict:
    """Per batch size, the engine's and the bare loops' FLOP/s and their fraction of `peak` (matmul FLOP/s)."""
    stream = make_stream("permuted", n_tasks=1, dataset=data, train_size=train_size, test_size=100, device=device)
    n = len(stream[0].y_train)
    model = build_model(stream)
    per_sample, needed = flops_per_sample(model), needed_flops_per_sample(model)
    rows = []
    for bs in batch_sizes:
        row = {"batch": bs, "engine_s": engine_epoch_seconds(stream, bs, epochs, repeats)}
        for v in variants:
            row[f"{v}_s"] = bare_epoch_seconds(stream, bs, epochs, repeats, v)
        for key in [k for k in row if k.endswith("_s")]:
            rate = per_sample * n / row[key]
            row[key[:-2] + "_gflops"] = rate / 1e9
            row[key[:-2] + "_frac"] = rate / peak
        rows.append(row)
    return {"peak_gflops": peak / 1e9, "matmul_n": matmul_n, "flops_per_sample": per_sample,
            "needed_per_sample": needed,
            "samples_per_epoch": n, "rows": rows}


def report(m: dict, device) -> tuple[str, dict]:
    """Markdown for the section and its headline numbers."""
    from benchlib import table, verdict

    variants = [k[:-5] for k in m["rows"][0] if k.endswith("_frac")]
    names = {"engine": "train_stream", "adam": "bare loop, Adam (torch default)",
             "adam_fused": "bare loop, Adam(fused=True)", "engine_optimizer": "bare loop, the engine's optimizer",
             "adam_foreach": "bare loop, Adam(foreach)", "no_step": "bare loop, no optimizer step"}
    rows = []
    for r in m["rows"]:
        rows.append([r["batch"]] + [f"{r[v + '_gflops']:.1f} ({r[v + '_frac']:.0%})" for v in variants])
    at128 = next((r for r in m["rows"] if r["batch"] == 128), m["rows"][0])
    frac = at128["engine_frac"]
    needed = frac * m["needed_per_sample"] / m["flops_per_sample"]
    md = [
        f"FLOPs per training sample = 6 x sum(in x out) over the Linear layers = {m['flops_per_sample']:,} "
        "(forward 2 x in x out per layer, backward twice that; biases, ReLU, loss and optimizer not counted). "
        f"The products a step actually does number {m['needed_per_sample']:,} per sample (no input gradient "
        "for the first layer; see `benchmarks/throughput.py`). One epoch = "
        f"{m['samples_per_epoch']} samples. Peak = a {m['matmul_n']}x{m['matmul_n']} float32 matrix product on "
        f"{device} with {torch.get_num_threads()} thread(s): **{m['peak_gflops']:.1f} GFLOP/s**. "
        "Each cell: GFLOP/s (fraction of the peak) by the formula; time per epoch is the best of the repeats, "
        "training only. A fraction above 100% is possible: the formula counts "
        f"{m['flops_per_sample'] / m['needed_per_sample']:.2f}x the products done, and a 2048 x 2048 product "
        "is a practical, not a theoretical, peak.",
        "",
        table(["batch"] + [names.get(v, v) for v in variants], rows),
        "",
        f"**Engine at batch {at128['batch']}: {at128['engine_gflops']:.1f} GFLOP/s by the formula = {frac:.0%} "
        f"of the matmul peak** (target >= 50%: {verdict(frac, 0.5)}"
        + (f", short by {0.5 - frac:.0%} of the peak" if frac < 0.5 else "") + "); counting only the "
        f"products actually done, {needed:.0%} of the peak.",
    ]
    return "\n".join(md), {"throughput_frac_128": frac, "throughput_needed_frac_128": needed,
                           "throughput_gflops_128": at128["engine_gflops"], "peak_gflops": m["peak_gflops"]}
