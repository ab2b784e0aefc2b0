"""Each chapter's wall time (fast and full mode), and how long every slider update takes at fast settings.

Notebooks run on temporary copies through tools/execute_notebooks.py's `execute()`, in a fresh kernel;
the committed notebooks are never written. Slider updates: a first cell is added to a copy that records
every `cl_helpers.teaching.widgets.Explorer` the chapter creates, and a last cell moves each slider as a user
would (`Explorer.set`, which trains and draws: the full update a reader waits for), one step from its
default (best of `repeats`, the explorer's cache emptied before each) and once to its far end, and prints
the numbers as one JSON line.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MARK = "BENCH_SLIDERS "

RECORD = """\
from cl_helpers.teaching import widgets as _bench_widgets
_BENCH_EXPLORERS = []
_bench_init = _bench_widgets.Explorer.__init__
def _bench_record(self, *args, **kwargs):
    _bench_init(self, *args, **kwargs)
    _BENCH_EXPLORERS.append(self)
_bench_widgets.Explorer.__init__ = _bench_record
"""

MEASURE = """\
import json as _json, time as _time
import ipywidgets as _W
def _bench_moves(s):
    if isinstance(s, _W.FloatLogSlider):
        up, end = s.value * s.base ** s.step, s.base ** s.max
        if up > end * (1 + 1e-9):
            up = s.value / s.base ** s.step
        return [("one step", up), ("far end", end)]
    up = s.value + s.step if s.value + s.step <= s.max else s.value - s.step
    return [("one step", up), ("far end", s.max)]
_bench_rows = []
for _i, _e in enumerate(_BENCH_EXPLORERS):
    _default = dict(_e.values)
    for _name, _slider in _e.sliders.items():
        for _what, _value in _bench_moves(_slider):
            if _value == _default[_name]:
                continue
            _secs = []
            for _r in range(REPEATS if _what == "one step" else 1):
                _e.cache.clear()  # a real update computes; a cached one would take no time
                _t = _time.perf_counter()
                _e.set(**{_name: _value})
                _secs.append(_time.perf_counter() - _t)
                _e.set(**_default)  # back to the default (computed again: the cache was emptied)
            _e.set(**{_name: _value})  # cached now: only to read the result line
            _bench_rows.append({"explorer": _i, "slider": _name, "move": _what, "from": _default[_name],
                                "to": _value, "seconds": min(_secs), "median": sorted(_secs)[len(_secs) // 2],
                                "error": _e.error, "text": _e.text})
            _e.set(**_default)
print(%r + _json.dumps(_bench_rows))
""" % MARK


def _execute():
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "tools" / "execute_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.execute


@contextmanager
def _env(fast: bool, data_dir: str | None, device=None):
    """The kernel inherits these: fast or full mode, no progress bars, where MNIST is, the device."""
    saved = dict(os.environ)
    os.environ["TQDM_DISABLE"] = "1"
    if device is not None:
        os.environ["CL_DEVICE"] = str(device)
    if fast:
        os.environ["CL_FAST"] = "1"
    else:
        os.environ.pop("CL_FAST", None)
    if data_dir:
        os.environ["CL_HELPERS_DATA"] = str(data_dir)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def chapters(folder: Path | None = None) -> list[Path]:
    """The student edition of every chapter, in order."""
    return sorted((folder or ROOT / "notebooks").glob("[0-9]*.ipynb"))


def wall_time(path: Path, fast: bool, data_dir: str | None = None, device=None, timeout: int = 3600) -> float:
    """Seconds to run a copy of the notebook top to bottom in a fresh kernel."""
    with tempfile.TemporaryDirectory(prefix="clbench-") as tmp, _env(fast, data_dir, device):
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        return _execute()(copy, timeout=timeout)


def slider_updates(path: Path, data_dir: str | None = None, device=None, repeats: int = 1,
                   timeout: int = 3600) -> list[dict]:
    """Every slider of the chapter moved one step and to its far end at fast settings; seconds per update."""
    nb = nbformat.read(path, as_version=4)
    if not any("explore(" in c.source or "Explorer(" in c.source for c in nb.cells if c.cell_type == "code"):
        return []
    nb.cells.insert(0, nbformat.v4.new_code_cell(RECORD))
    nb.cells.append(nbformat.v4.new_code_cell(f"REPEATS = {int(repeats)}\n" + MEASURE))
    with tempfile.TemporaryDirectory(prefix="clbench-") as tmp, _env(True, data_dir, device):
        copy = Path(tmp) / path.name
        nbformat.write(nb, copy)
        _execute()(copy, timeout=timeout)
        done = nbformat.read(copy, as_version=4)
    for out in done.cells[-1].get("outputs", []):
        text = out.get("text", "")
        for line in text.splitlines():
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
    raise RuntimeError(f"{path.name}: the slider measurement printed nothing")


def report_sliders(per_notebook: dict[str, list[dict]], fallback: dict | None = None) -> tuple[str, dict]:
    """Markdown for the slider section and its headline numbers."""
    from benchlib import table, verdict

    rows, steps, ends = [], [], []
    for name, updates in per_notebook.items():
        if not updates:
            rows.append([name, "-", "-", "-", "no sliders"])
            continue
        for u in updates:
            (steps if u["move"] == "one step" else ends).append(u["seconds"])
            secs = f"{u['seconds']:.2f}" + (f" ({u['median']:.2f})" if u["move"] == "one step" else "")
            rows.append([name, u["slider"], f"{u['from']:.3g} -> {u['to']:.3g} ({u['move']})", secs,
                         "error: " + u["error"] if u["error"] else u["text"]])
    md = ["Each notebook copy runs in fast mode (CL_FAST=1); then every slider is moved as a user would "
          "(`Explorer.set`: train, draw, publish), one step from its default (best (median) of the repeats, "
          "the explorer's cache emptied before each) and once to its far end. Seconds per update:", ""]
    md.append(table(["notebook", "slider", "move", "seconds", "result line"], rows))
    data = {}
    if steps:
        worst_step = max(steps)
        data = {"slider_worst_step_s": worst_step, "slider_worst_end_s": max(ends) if ends else None}
        md += ["", f"**Slowest one-step update: {worst_step:.2f} s** (target < 2 s: "
               f"{verdict(worst_step, 2, higher_is_better=False)}); slowest far-end update "
               f"{max(ends):.2f} s." if ends else ""]
    if fallback:
        md += ["", f"`train_stream` at the fast sizes (3 permuted tasks, {fallback['train_size']} train / "
               f"{fallback['test_size']} test, 1 epoch): naive {fallback['naive']:.2f} s, EWC {fallback['ewc']:.2f} s."]
        data.setdefault("slider_worst_step_s", max(fallback["naive"], fallback["ewc"]))
    return "\n".join(md), data


def report_wall_times(times: dict[str, dict[str, float]]) -> tuple[str, dict]:
    """Markdown for the notebook wall-time section."""
    from benchlib import table

    rows = [[name, f"{t['fast']:.1f}" if "fast" in t else "-", f"{t['full']:.1f}" if "full" in t else "-"]
            for name, t in times.items()]
    md = ["Each chapter (student edition) run top to bottom on a temporary copy in a fresh kernel through "
          "`tools/execute_notebooks.py`'s `execute()`; seconds, including kernel start-up.", "",
          table(["notebook", "fast (CL_FAST=1), s", "full, s"], rows)]
    return "\n".join(md), {"notebooks_full_s": {k: v.get("full") for k, v in times.items()}}
