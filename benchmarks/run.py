"""Speed of cl_helpers against the course notebook's approach, Avalanche, and the machine's matmul peak.

Usage: .venv/bin/python benchmarks/run.py [--quick] [--only course,avalanche,...] [--device cuda]

Sections: course (course-style reference vs cl_helpers on the course workload), avalanche (naive and EWC
in Avalanche), fisher (fisher_diagonal vs the per-sample loop), throughput (training FLOP/s vs a large
matmul), sliders (each notebook slider update at fast settings), notebooks (each chapter's wall time, fast
and full: slow, so only with --only notebooks or --all). Results go to benchmarks/RESULTS.md (written
atomically); sections not run this time keep what the file already holds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchlib import machine, table, verdict, write_atomic  # noqa: E402

SECTIONS = ("course", "avalanche", "fisher", "throughput", "sliders", "notebooks")
DEFAULT = ("course", "avalanche", "fisher", "throughput", "sliders")
TITLES = {
    "course": "1. The course workload: course-notebook style vs cl_helpers",
    "avalanche": "2. cl_helpers vs Avalanche (naive and EWC)",
    "fisher": "3. fisher_diagonal vs the per-sample loop",
    "throughput": "4. Training throughput vs the matrix-product peak",
    "sliders": "5. Slider updates at the notebooks' fast settings",
    "notebooks": "6. Notebook wall times",
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, one repeat: minutes, not for the record")
    p.add_argument("--only", default=None, help=f"comma-separated sections: {', '.join(SECTIONS)}")
    p.add_argument("--all", action="store_true", help="every section, notebooks included")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N")
    p.add_argument("--repeats", type=int, default=None, help="repeats per timing (default 3, quick 1)")
    p.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: cl_helpers' search)")
    p.add_argument("--no-download", action="store_true", help="never download MNIST")
    p.add_argument("--train-size", type=int, default=None, help="training images per task (default 5000)")
    p.add_argument("--test-size", type=int, default=None, help="test images per task (default 1000)")
    p.add_argument("--out", default=str(HERE / "RESULTS.md"), help="the results file (default benchmarks/RESULTS.md)")
    args = p.parse_args(argv)
    from cl_helpers.errors import ConfigError, check_int

    try:
        if args.only and args.all:
            raise ConfigError("give --only or --all, not both")
        if args.only:
            args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
            for s in args.sections:
                if s not in SECTIONS:
                    raise ConfigError(f"unknown section {s!r}; allowed: {', '.join(SECTIONS)}")
        else:
            args.sections = list(SECTIONS if args.all else DEFAULT)
        args.repeats = check_int("repeats", args.repeats if args.repeats is not None else (1 if args.quick else 3),
                                 1, 100)
        args.train_size = check_int("train-size", args.train_size or (1000 if args.quick else 5000), 10)
        args.test_size = check_int("test-size", args.test_size or (500 if args.quick else 1000), 10)
        from cl_helpers import get_device

        args.device = get_device(args.device)
    except ConfigError as exc:
        p.exit(2, f"run.py: error: {exc}\n")
    return args


def find_data(args) -> tuple[object, str | None]:
    """The data set (MNIST, or the digits when MNIST cannot be had) and the folder that holds MNIST/raw."""
    from cl_helpers import load_dataset
    from cl_helpers.data import _has_files, data_dirs

    data = load_dataset("mnist", root=args.data_dir, device=args.device, download=not args.no_download)
    root = next((str(d) for d in data_dirs(args.data_dir) if _has_files("mnist", d)), None)
    return data, (root if data.name == "mnist" else None)


def matmul_n(args) -> int:
    """Side of the square matrices of the peak measurement: 2048, or 1024 in quick mode."""
    return 1024 if args.quick else 2048


def peak(args) -> float:
    """The float32 matmul FLOP/s of this device, measured once per run."""
    if getattr(args, "peak", None) is None:
        import throughput

        args.peak = throughput.matmul_peak(args.device, matmul_n(args))
    return args.peak


# ---- the sections -----------------------------------------------------------------------------------------
def run_course(args, data, root):
    import course_compare

    if root is None:
        return "Skipped: MNIST is not available (the course-style reference reads it through torchvision).", {}
    quick = args.quick
    m = course_compare.measure(root, not args.no_download, args.device, args.repeats, peak(args),
                               train_size=args.train_size, test_size=args.test_size, epochs=1 if quick else 3,
                               ft_epochs=1 if quick else 5)
    return course_compare.report(m)


def run_avalanche(args, data, root):
    import avalanche_bench
    from cl_helpers import make_stream

    why = avalanche_bench.import_avalanche()
    if why is not None:
        return (f"Skipped: Avalanche cannot be imported here ({why}). Install it with `.venv/bin/pip install "
                "--no-deps avalanche-lib` plus its light imports (see benchmarks/README.md)."), {}
    stream = make_stream("permuted", n_tasks=3, dataset=data, train_size=min(args.train_size, len(data.y_train)),
                         test_size=min(args.test_size, len(data.y_test)), seed=0, device=args.device)
    m = avalanche_bench.measure(stream, args.repeats, peak(args), epochs=1 if args.quick else 3, device=args.device)
    return avalanche_bench.report(m)


def run_fisher(args, data, root):
    import fisher_bench
    from cl_helpers import make_stream

    available = min(args.train_size, len(data.y_train))
    sizes = sorted({min(n, available) for n in ((200,) if args.quick else (200, 1000))})
    stream = make_stream("permuted", n_tasks=1, dataset=data, train_size=max(sizes), test_size=10,
                         device=args.device)
    rows = fisher_bench.measure(stream, sizes, repeats=args.repeats, loop_repeats=1 if args.quick else 2,
                                device=args.device)
    return fisher_bench.report(rows, args.repeats)


def run_throughput(args, data, root):
    import throughput

    batches = (128,) if args.quick else (32, 64, 128, 256, 512, 1024)
    m = throughput.measure(data, args.device, peak(args), batch_sizes=batches, matmul_n=matmul_n(args),
                           train_size=min(args.train_size, len(data.y_train)), epochs=1 if args.quick else 3,
                           repeats=args.repeats)
    md, d = throughput.report(m, args.device)
    return md + "\n\n" + throughput_notes(m), d


def throughput_notes(m: dict) -> str:
    """Where the time goes at batch 128, from the variants measured."""
    r = next((r for r in m["rows"] if r["batch"] == 128), None)
    if r is None or not {"adam_s", "adam_fused_s", "no_step_s"} <= set(r):
        return ""
    ms = {k: r[f"{k}_s"] * 1e3 for k in ("engine", "adam", "adam_fused", "no_step")}
    return (
        f"At batch 128 one epoch takes {ms['engine']:.0f} ms in the engine (which makes Adam with "
        f"fused=True where torch supports it), {ms['adam_fused']:.0f} ms in a bare loop with the fused Adam, "
        f"{ms['adam']:.0f} ms with torch's default Adam (a loop over tensors of ~10 element-wise passes each) "
        f"and {ms['no_step']:.0f} ms with no optimizer step at all. So the optimizer step costs "
        f"{(ms['adam_fused'] - ms['no_step']) / ms['adam_fused']:.0%} of a step (fused; "
        f"{(ms['adam'] - ms['no_step']) / ms['adam']:.0%} with the default Adam), the engine's hooks and "
        f"bookkeeping {(ms['engine'] - ms['adam_fused']) / ms['engine']:+.0%}, and the rest is forward and "
        "backward, whose 128-row matrix products are far smaller than the peak's and pay a fixed cost per "
        "call (autograd, allocation, waking the threads). Larger batches approach the peak (table above); "
        "compiling the step (torch.compile) or, on a GPU, CUDA graphs attack the per-call costs (not measured "
        "here).")


def run_sliders(args, data, root):
    import notebooks_bench
    from cl_helpers import get_strategy, make_stream, train_stream

    per_nb = {}
    for path in notebooks_bench.chapters():
        per_nb[path.name] = notebooks_bench.slider_updates(path, root, device=args.device, repeats=args.repeats)
    # The fast sizes CL_FAST uses, measured directly: the floor of any slider that trains the course stream.
    stream = make_stream("permuted", n_tasks=3, dataset=data, train_size=min(1000, len(data.y_train)),
                         test_size=min(500, len(data.y_test)), device=args.device)
    fallback = {"train_size": len(stream[0].y_train), "test_size": len(stream[0].y_test)}
    for name, method in (("naive", "naive"), ("ewc", get_strategy("ewc", lam=5000, fisher_kind="argmax"))):
        start = time.perf_counter()
        train_stream(stream, method, epochs=1, progress=False)
        fallback[name] = time.perf_counter() - start
    return notebooks_bench.report_sliders(per_nb, fallback)


def run_notebooks(args, data, root):
    import notebooks_bench

    times = {}
    for path in notebooks_bench.chapters():
        times[path.name] = {}
        for mode in (("fast",) if args.quick else ("fast", "full")):
            times[path.name][mode] = notebooks_bench.wall_time(path, mode == "fast", root, device=args.device)
            print(f"  {path.name} {mode}: {times[path.name][mode]:.1f} s", flush=True)
    if not times:
        return "No notebooks found in notebooks/.", {}
    return notebooks_bench.report_wall_times(times)


RUNNERS = {"course": run_course, "avalanche": run_avalanche, "fisher": run_fisher, "throughput": run_throughput,
           "sliders": run_sliders, "notebooks": run_notebooks}


# ---- the results file ------------------------------------------------------------------------------------
_SECTION = re.compile(r"<!-- section:(?P<name>\w+) -->\n(?P<body>.*?)<!-- /section:(?P=name) -->\n", re.S)
_DATA = re.compile(r"<!-- data (?P<json>\{.*?\}) -->")


def read_sections(path: Path) -> dict[str, str]:
    """The sections an existing results file holds, by name (body text between the markers)."""
    if not path.exists():
        return {}
    return {m["name"]: m["body"] for m in _SECTION.finditer(path.read_text(encoding="utf-8"))}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, e.g. '0.42 0.80 1.10' ('?' where unknown)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def section_text(name: str, body: str, data: dict, command: str, seconds: float, info: dict,
                 load: str) -> str:
    """One section with its heading, when and how it was measured, and its numbers for the summary."""
    when = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    head = (f"## {TITLES[name]}\n\n_Measured {when} on {info['device']} ({info['torch threads']} torch "
            f"threads), load average {load} when the section started, in {seconds:.0f} s, "
            f"with `{command}`._\n\n")
    return f"{head}{body.strip()}\n\n<!-- data {json.dumps(data, default=float)} -->\n"


def summary(sections: dict[str, str]) -> str:
    """The targets table from the numbers every present section recorded."""
    d = {}
    for body in sections.values():
        m = _DATA.search(body)
        if m:
            d.update(json.loads(m["json"]))
    rows = []
    if "course_ratio" in d:
        rows.append(["course workload, cl_helpers vs course style (2 CPU cores)", ">= 10x",
                     f"{d['course_ratio']:.1f}x (accuracies agree: {'yes' if d.get('course_agree') else 'NO'})",
                     verdict(d["course_ratio"], 10)])
    if "throughput_frac_128" in d:
        needed = d.get("throughput_needed_frac_128")
        rows.append(["training at batch 128, fraction of the matmul peak (CPU)", ">= 50%",
                     f"{d['throughput_frac_128']:.0%} ({d['throughput_gflops_128']:.1f} of {d['peak_gflops']:.1f} "
                     "GFLOP/s by the 6 x in x out formula" + (f"; {needed:.0%} counting only the products done"
                                                            if needed is not None else "") + ")",
                     verdict(d["throughput_frac_128"], 0.5)])
    for m in ("naive", "ewc"):
        if f"avalanche_{m}_ratio" in d:
            rows.append([f"{m}, cl_helpers vs Avalanche", ">= 2x", f"{d[f'avalanche_{m}_ratio']:.1f}x",
                         verdict(d[f"avalanche_{m}_ratio"], 2)])
    if "fisher_min_speedup" in d:
        rows.append([f"fisher_diagonal vs loop, {d['fisher_samples']} samples (slowest kind)", ">= 20x",
                     f"{d['fisher_min_speedup']:.0f}x", verdict(d["fisher_min_speedup"], 20)])
    if d.get("slider_worst_step_s") is not None:
        rows.append(["slowest slider update, fast settings", "< 2 s", f"{d['slider_worst_step_s']:.2f} s",
                     verdict(d["slider_worst_step_s"], 2, higher_is_better=False)])
    if not rows:
        return ""
    return table(["target", "wanted", "measured", "verdict"], rows)


def render(sections: dict[str, str], info: dict, command: str) -> str:
    """The whole results file."""
    parts = [
        "# Benchmarks",
        "",
        "Written by `benchmarks/run.py`; do not edit by hand. Each section says when and with which command "
        f"it was measured. Latest run: `{command}`.",
        "",
        table(["machine", ""], [[k, v] for k, v in info.items()]),
        "",
        "## Targets",
        "",
        summary(sections) or "No section measured yet.",
        "",
        "## GPU",
        "",
        "No GPU was available in this session: every number below was measured on the CPU. "
        "`.venv/bin/python benchmarks/run.py --device cuda` runs every section on a GPU (the course-style "
        "reference then moves each batch to the GPU, as the course notebook does); that path has not been run "
        "yet.",
        "",
    ]
    for name in SECTIONS:
        if name in sections:
            parts += [f"<!-- section:{name} -->", sections[name].rstrip("\n"), f"<!-- /section:{name} -->", ""]
    return "\n".join(parts)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    given = sys.argv[1:] if argv is None else argv
    env = f"CL_HELPERS_DATA={shlex.quote(os.environ['CL_HELPERS_DATA'])} " if os.environ.get("CL_HELPERS_DATA") else ""
    try:  # .venv/bin/python when run from the project's environment
        python = str(Path(sys.executable).relative_to(HERE.parent))
    except ValueError:
        python = "python"
    command = (f"{env}{python} benchmarks/run.py " + " ".join(shlex.quote(a) for a in given)).strip()
    info = machine(args.device)
    out = Path(args.out)
    sections = read_sections(out)
    data, root = find_data(args)
    info["data"] = data.source
    for name in args.sections:
        print(f"[{name}] running...", flush=True)
        load, start = load_average(), time.perf_counter()
        body, numbers = RUNNERS[name](args, data, root)
        seconds = time.perf_counter() - start
        sections[name] = section_text(name, body, numbers, command, seconds, info, load)
        write_atomic(out, render(sections, info, command))  # after each section: a crash keeps what was done
        print(f"[{name}] done in {seconds:.0f} s", flush=True)
    print(summary(sections))
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
