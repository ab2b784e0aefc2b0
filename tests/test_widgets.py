"""The slider explorer, driven from code: recompute on a move, cache, one-line errors, outputs a notebook keeps."""
from __future__ import annotations

import base64
import re

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import cl_helpers.teaching.widgets as widgets
from cl_helpers.errors import ConfigError
from cl_helpers.teaching.widgets import (Explorer, buffer_slider, epochs_slider, explore, float_slider, int_slider,
                                lambda_slider, log_slider, rank_slider)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def no_open_figures():
    """Start each test with no figures, so 'the explorer leaves none open' is about the explorer alone."""
    plt.close("all")
    yield


@pytest.fixture
def published(monkeypatch):
    """What the explorer sends to the front end: (kind, display_id, bundle), kind 'display' or 'update'."""
    log = []
    monkeypatch.setattr(widgets, "display",
                        lambda obj, raw=False, display_id=None: log.append(("display", display_id, obj)))
    monkeypatch.setattr(widgets, "update_display",
                        lambda obj, raw=False, display_id=None: log.append(("update", display_id, obj)))
    return log


def sine(frequency, amplitude=1.0):
    """A tiny real computation: a sampled sine and its zero crossings."""
    x = np.linspace(0.0, 1.0, 400)
    y = amplitude * np.sin(2 * np.pi * frequency * x)
    return {"frequency": frequency, "amplitude": amplitude, "y": y,
            "crossings": int(np.sum(np.diff(np.sign(y[1:-1])) != 0))}


def show_sine(r):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(r["y"])
    return fig, f"frequency = {r['frequency']:g} | zero crossings {r['crossings']}"


class Counting:
    """A run function that counts its calls and can be told to fail at one setting."""

    def __init__(self, fail_at=None):
        self.calls, self.fail_at = [], fail_at

    def __call__(self, frequency):
        self.calls.append(frequency)
        if frequency == self.fail_at:
            raise ValueError(f"no sine at {frequency}\nTraceback (most recent call last): a second line")
        return sine(frequency)


# ---- factories ------------------------------------------------------------------------------------------

def test_factories_update_on_release_only():
    sliders = [log_slider("lr", 1e-3, 1e-4, 1e-2), int_slider("n", 3, 1, 10), float_slider("p", 0.5, 0, 1),
               lambda_slider(), rank_slider(), epochs_slider(), buffer_slider()]
    assert all(s.continuous_update is False for s in sliders)
    assert [s.description for s in sliders[3:]] == ["lambda", "LoRA rank", "epochs", "buffer size"]


def test_log_slider_min_max_are_exponents_and_value_is_real():
    s = log_slider("EWC lambda", 1e4, 1e0, 1e8)
    assert (s.base, s.min, s.max, s.step) == (10, 0, 8, 0.5)
    assert s.value == pytest.approx(1e4)
    lr = log_slider("learning rate", 1e-3, 1e-4, 1e-2)
    assert (lr.min, lr.max) == (-4, -2) and lr.value == pytest.approx(1e-3)
    # Every half-decade position of 1e-4..1e-2 is reachable: -4, -3.5, ..., -2.
    assert round((lr.max - lr.min) / lr.step) == 4
    binary = log_slider("batch", 64, 8, 512, step=1, base=2)
    assert (binary.min, binary.max, binary.value) == (3, 9, 64)


@pytest.mark.parametrize("make, message", [
    (lambda: log_slider("lr", 1e-3, 0, 1e-2), "lr min 0 is out of range"),
    (lambda: log_slider("lr", 1e-1, 1e-4, 1e-2), "lr 0.1 is out of range; allowed: [0.0001, 0.01]"),
    (lambda: int_slider("epochs", 0, 1, 10), "epochs 0 is out of range; allowed: 1..10"),
    (lambda: float_slider("p", 0.5, 1, 0), "p max 0 is out of range"),
])
def test_factories_reject_bad_ranges_in_one_line(make, message):
    with pytest.raises(ConfigError) as err:
        make()
    assert message in str(err.value) and "\n" not in str(err.value)


# ---- the explorer driven from code ---------------------------------------------------------------------

def test_default_is_computed_and_displayed_once_with_text_and_png(published):
    ex = explore(sine, show_sine, frequency=float_slider("frequency", 1.0, 0.5, 5.0, step=0.5))
    kinds = [(kind, bundle_kind(bundle)) for kind, _, bundle in published]
    assert kinds == [("display", "widget"), ("display", "text"), ("display", "png")]
    panel = published[0][2]
    assert panel["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.panel.model_id
    assert panel["text/plain"].startswith("[controls: frequency = 1")  # what GitHub shows for the panel
    assert published[1][2]["text/plain"] == ex.text == "frequency = 1 | zero crossings 1"
    assert base64.b64decode(published[2][2]["image/png"]) == ex.png and ex.png.startswith(PNG_MAGIC)
    assert ex.result["crossings"] == 1 and ex.status.value.count("done in") == 1
    assert plt.get_fignums() == []  # the figure was closed: no second copy at the end of the cell


def test_moving_a_slider_recomputes_and_updates_the_same_outputs(published):
    ex = explore(sine, show_sine, frequency=float_slider("frequency", 1.0, 0.5, 5.0, step=0.5))
    first_png = ex.png
    ids = {published[1][1], published[2][1]}
    ex.sliders["frequency"].value = 3.0  # what a front end does when the slider is released
    updates = published[3:]
    assert [(kind, bundle_kind(b)) for kind, _, b in updates] == [("update", "text"), ("update", "png")]
    assert {display_id for _, display_id, _ in updates} == ids
    assert updates[0][2]["text/plain"] == "frequency = 3 | zero crossings 5"  # 3 periods: 5 interior crossings
    assert ex.result["crossings"] == 5 and ex.png != first_png
    assert "done in" in ex.status.value and "frequency = 3" in ex.status.value
    assert plt.get_fignums() == []


def test_returning_to_a_setting_uses_the_cache(published):
    run = Counting()
    ex = explore(run, show_sine, frequency=float_slider("frequency", 1.0, 0.5, 5.0, step=0.5))
    text_1, png_1 = ex.text, ex.png
    ex.set(frequency=2.0)
    assert run.calls == [1.0, 2.0] and ex.text.startswith("frequency = 2")
    ex.set(frequency=1.0)
    assert run.calls == [1.0, 2.0], "going back to 1.0 must not call run again"
    assert (ex.text, ex.png) == (text_1, png_1) and ex.result["frequency"] == 1.0
    assert "cached" in ex.status.value and published[-2][2]["text/plain"] == text_1


def test_log_slider_values_from_a_browser_hit_the_cache():
    run = Counting()
    ex = Explorer(lambda lam: run(lam), lambda r: f"lam = {r['frequency']:.3g}",
                  {"lam": log_slider("lambda", 1e4, 1, 1e8)})
    ex._displayed = True  # as after display, without a front end
    ex.set(lam=1e4)
    ex.sliders["lam"].value = 10 ** 4.000000000000001  # a JavaScript Math.pow round trip
    assert len(run.calls) == 1 and "cached" in ex.status.value


def test_an_error_is_one_line_and_the_explorer_recovers(published):
    run = Counting(fail_at=2.0)
    ex = explore(run, show_sine, frequency=float_slider("frequency", 1.0, 0.5, 5.0, step=0.5))
    assert ex.set(frequency=2.0) is None
    assert ex.error == "ValueError: no sine at 2.0"
    assert "error: ValueError: no sine at 2.0" in ex.status.value and "Traceback" not in ex.status.value
    text, plot = published[-2][2], published[-1][2]
    assert text["text/plain"] == "error at frequency = 2: ValueError: no sine at 2.0"
    assert plot == {"text/plain": ""}, "the old plot must not stay under an error line"
    assert ex.progress.bar_style == "danger"
    ex.set(frequency=3.0)
    assert ex.error is None and ex.text.startswith("frequency = 3") and ex.progress.bar_style == "success"
    ex.set(frequency=2.0)  # errors are not cached: a second try runs again
    assert run.calls == [1.0, 2.0, 3.0, 2.0]


def test_an_error_in_show_closes_its_figure_and_is_one_line(published):
    def bad_show(r):
        plt.subplots()
        raise KeyError("acc")

    ex = explore(sine, bad_show, strict=False, frequency=float_slider("frequency", 1.0, 0.5, 5.0))
    assert ex.error == "KeyError: 'acc'" and plt.get_fignums() == []


def test_a_failing_default_raises_only_in_strict_mode(published, monkeypatch):
    run = Counting(fail_at=1.0)
    with pytest.raises(ValueError, match="no sine at 1.0"):
        explore(run, show_sine, strict=True, frequency=float_slider("frequency", 1.0, 0.5, 5.0))
    ex = explore(run, show_sine, strict=False, frequency=float_slider("frequency", 1.0, 0.5, 5.0))
    assert ex.error == "ValueError: no sine at 1.0"
    monkeypatch.setenv("CL_FAST", "1")  # CI and the browser test: a broken chapter must fail loudly
    with pytest.raises(ValueError):
        explore(run, show_sine, frequency=float_slider("frequency", 1.0, 0.5, 5.0))


def test_set_checks_names_and_ranges_before_computing(published):
    run = Counting()
    ex = explore(run, show_sine, frequency=float_slider("frequency", 1.0, 0.5, 5.0, step=0.5))
    with pytest.raises(ConfigError, match=r"unknown slider 'freq'; allowed: frequency"):
        ex.set(freq=2.0)
    with pytest.raises(ConfigError, match=r"frequency 9 is out of range; allowed: \[0.5, 5\]"):
        ex.set(frequency=9.0)
    assert run.calls == [1.0] and ex.values == {"frequency": 1.0}


def test_set_moves_several_sliders_with_one_computation(published):
    calls = []

    def run(frequency, amplitude):
        calls.append((frequency, amplitude))
        return sine(frequency, amplitude)

    ex = explore(run, lambda r: f"frequency = {r['frequency']:g} | amplitude = {r['amplitude']:g}",
                 frequency=float_slider("frequency", 1.0, 0.5, 5.0, step=0.5),
                 amplitude=log_slider("amplitude", 1.0, 0.01, 100))
    ex.set(frequency=2.0, amplitude=10.0)
    assert calls == [(1.0, 1.0), (2.0, 10.0)] and ex.text == "frequency = 2 | amplitude = 10"
    assert ex.png is None and published[-1][2] == {"text/plain": ""}  # show gave no figure


def test_text_names_the_slider_values_when_show_gives_none(published):
    ex = explore(sine, lambda r: plt.subplots()[0], frequency=float_slider("frequency", 1.5, 0.5, 5.0),
                 amplitude=log_slider("amplitude", 1e-2, 1e-2, 1e2))
    assert ex.text == "frequency = 1.5, amplitude = 0.01" and ex.png.startswith(PNG_MAGIC)


def test_run_can_drive_the_progress_bar(published):
    seen = []

    def run(frequency, report):
        for i in range(4):
            report(i + 1, 4)
            seen.append((ex_ref[0].progress.value, ex_ref[0].progress.max) if ex_ref else None)
        return sine(frequency)

    ex_ref = []
    ex = Explorer(run, show_sine, {"frequency": float_slider("frequency", 1.0, 0.5, 5.0)})
    ex_ref.append(ex)
    ex.display()
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert (ex.progress.value, ex.progress.max) == (4, 4)


def test_explore_rejects_what_is_not_a_slider(published):
    with pytest.raises(ConfigError, match="lam=0.5 is not a slider"):
        explore(sine, show_sine, lam=0.5)
    with pytest.raises(ConfigError, match="at least one slider"):
        explore(sine, show_sine)


def test_explorer_over_real_training_reports_the_new_epochs(published, make_stream):
    from cl_helpers import plots, train_stream

    stream = make_stream("permuted", n_tasks=2, train_size=300, test_size=200, seed=0)

    def run(epochs, lr):
        return train_stream(stream, "naive", epochs=epochs, lr=lr, progress=False)

    def show(r):
        s = r.summary()
        return plots.plot_run(r), f"epochs = {r.config['epochs']} | lr = {r.config['lr']:.0e} | ACC {s['acc']:.3f}"

    ex = explore(run, show, epochs=epochs_slider(1, 1, 3), lr=log_slider("learning rate", 1e-3, 1e-4, 1e-2))
    one = ex.result
    ex.set(epochs=2)
    two = ex.result
    assert two.config["epochs"] == 2 and len(two.epoch_loss) == 4 and len(one.epoch_loss) == 2
    assert ex.text == f"epochs = 2 | lr = 1e-03 | ACC {two.summary()['acc']:.3f}"
    # Two epochs per task learn the last task better than one on these 300 images (0.1 is chance).
    assert two.acc_matrix[-1, -1] > 0.3 and two.acc_matrix[-1, -1] >= one.acc_matrix[-1, -1] - 0.05
    assert plt.get_fignums() == []


def bundle_kind(bundle: dict) -> str:
    if "application/vnd.jupyter.widget-view+json" in bundle:
        return "widget"
    return "png" if "image/png" in bundle else "text"


# ---- a real kernel, no front end (what nbval and tools/execute_notebooks.py see) ------------------------

NOTEBOOK_CELLS = [
    """import numpy as np, matplotlib.pyplot as plt
from cl_helpers.teaching.widgets import explore, float_slider

def run(frequency):
    x = np.linspace(0.0, 1.0, 400)
    return frequency, np.sin(2 * np.pi * frequency * x)

def show(r):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(r[1])
    return fig, f"frequency = {r[0]:g}"

explore(run, show, frequency=float_slider("frequency", 1.0, 0.5, 5.0, step=0.5))""",
    "ex = explore(run, show, frequency=float_slider('frequency', 2.0, 0.5, 5.0, step=0.5))",
    "ex.set(frequency=4.0)\nex.set(frequency=2.0)\nprint(len(ex.cache), ex.calls)",
    "ex",
]


def test_headless_kernel_keeps_the_result_in_cell_outputs(monkeypatch, tmp_path):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend, as in a notebook
    monkeypatch.delenv("CL_FAST", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    first, second, moves, again = (cell.outputs for cell in nb.cells)

    # The default setting's text and one PNG are ordinary outputs of the cell; the panel is a widget view.
    assert [kind_of(o) for o in first] == ["widget", "text", "png"], first
    assert first[1]["data"]["text/plain"] == "frequency = 1"
    assert base64.b64decode(first[2]["data"]["image/png"]).startswith(PNG_MAGIC)

    # Moves made later (as slider callbacks do) replace the outputs of the cell that showed them.
    assert [kind_of(o) for o in second] == ["widget", "text", "png"]
    assert second[1]["data"]["text/plain"] == "frequency = 2"
    assert [o.get("text") for o in moves] == ["2 2\n"], "cached return: run called twice, not three times"
    # Showing the explorer again in a later cell shows its current result there too.
    assert [kind_of(o) for o in again] == ["widget", "text", "png"] and again[1]["data"]["text/plain"] == "frequency = 2"
    assert not any(o.get("output_type") == "error" for cell in nb.cells for o in cell.outputs)


def kind_of(output) -> str:
    data = output.get("data", {})
    if "application/vnd.jupyter.widget-view+json" in data:
        return "widget"
    if "image/png" in data:
        return "png"
    if output["output_type"] == "stream":
        return "stream"
    return "text" if re.match(r"display_data|execute_result", output["output_type"]) else output["output_type"]
