"""Sliders that re-run an experiment: `explore(run, show, lam=log_slider(...))` with progress, status and a cache.

How it works, and why (checked with JupyterLab 4 / ipywidgets 8, nbclient and nbval; core widgets only, so
Colab with ipywidgets 7 or 8 works too):

- The panel (sliders, an IntProgress bar, a status line) is a widget. The result is NOT in an Output widget:
  it is two ordinary display outputs (a text line and a PNG) created with a display_id. Headless runs
  (nbclient, nbval) therefore keep the default setting's text and plot in the cell's outputs, which GitHub
  shows; a slider callback replaces them with `update_display_data`, which JupyterLab, Colab and nbclient
  route to the cell that first displayed them.
- Anything printed from a slider callback has no cell to go to in JupyterLab, so progress is reported by
  the IntProgress bar (pass a `report(done, total)` parameter in `run` to drive it) and the status line.
- Results are cached by slider values: going back to a setting shows its stored text and PNG at once.
- An exception in `run` or `show` becomes one line in the status and the result text, never a traceback.
  Only the computation of the default setting when the cell runs may raise, and only in strict mode (on
  by default under CL_FAST=1, i.e. in CI and the browser test) so that a broken chapter fails its tests.
"""
from __future__ import annotations

import base64
import html
import inspect
import io
import math
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display, update_display

from ..errors import ConfigError, check_float, check_int

_STYLE = {"description_width": "initial"}
_WIDTH = "500px"
_CACHE_SIZE = 64  # settings remembered per explorer; a result (model included) is small for these MLPs


def log_slider(description: str, value: float, min: float, max: float, step: float = 0.5,
               base: float = 10.0) -> W.FloatLogSlider:
    """A slider over powers of `base` between `min` and `max` (real values, not exponents), updating on release."""
    description = _check_description(description)
    min = check_float(f"{description} min", min, 0.0, low_open=True)
    max = check_float(f"{description} max", max, min, low_open=True)
    value = check_float(description, value, min, max)
    step = check_float(f"{description} step", step, 0.0, low_open=True)
    base = check_float(f"{description} base", base, 1.0, low_open=True)
    # FloatLogSlider's min/max/step are exponents of `base`.
    lo, hi = _exponent(min, base), _exponent(max, base)
    return W.FloatLogSlider(value=value, base=base, min=lo, max=hi, step=step, description=description,
                            continuous_update=False, readout_format=".3", style=_STYLE,
                            layout=W.Layout(width=_WIDTH))


def int_slider(description: str, value: int, min: int, max: int, step: int = 1) -> W.IntSlider:
    """An integer slider from `min` to `max`, updating on release."""
    description = _check_description(description)
    min = check_int(f"{description} min", min, low=-(2 ** 31), high=2 ** 31 - 2)
    max = check_int(f"{description} max", max, low=min + 1, high=2 ** 31 - 1)
    value = check_int(description, value, low=min, high=max)
    step = check_int(f"{description} step", step, low=1, high=max - min)
    return W.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, style=_STYLE, layout=W.Layout(width=_WIDTH))


def float_slider(description: str, value: float, min: float, max: float,
                 step: float | None = None) -> W.FloatSlider:
    """A linear slider from `min` to `max` (20 steps unless `step` is given), updating on release."""
    description = _check_description(description)
    min = check_float(f"{description} min", min)
    max = check_float(f"{description} max", max, min, low_open=True)
    value = check_float(description, value, min, max)
    step = (max - min) / 20 if step is None else check_float(f"{description} step", step, 0.0, low_open=True)
    return W.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, readout_format=".3", style=_STYLE,
                         layout=W.Layout(width=_WIDTH))


def lambda_slider(value: float = 1e3, min: float = 1e0, max: float = 1e8,
                  description: str = "lambda") -> W.FloatLogSlider:
    """Penalty strength on a log scale (EWC, MAS, SI...), half-decade steps."""
    return log_slider(description, value, min, max)


def rank_slider(value: int = 8, min: int = 1, max: int = 64, description: str = "LoRA rank") -> W.IntSlider:
    """Adapter rank r of LoRA."""
    return int_slider(description, value, min, max)


def epochs_slider(value: int = 3, min: int = 1, max: int = 10, description: str = "epochs") -> W.IntSlider:
    """Training epochs per task."""
    return int_slider(description, value, min, max)


def buffer_slider(value: int = 500, min: int = 50, max: int = 5000, step: int = 50,
                  description: str = "buffer size") -> W.IntSlider:
    """Examples held by a replay memory."""
    return int_slider(description, value, min, max, step)


def explore(run: Callable[..., Any], show: Callable[[Any], Any], *, title: str | None = None,
            strict: bool | None = None, **sliders: W.ValueWidget) -> "Explorer":
    """Show sliders and the result of `show(run(**values))`; moving a slider recomputes (cached by values).

    `run` gets one keyword per slider (plus `report(done, total)` if it has such a parameter, to drive the
    progress bar). `show(result)` returns a matplotlib Figure, a text line, both as (figure, text), or None.
    Name the values in the text as the result saw them (e.g. "lambda = 1e+04 | ACC 0.853"), so the line
    proves which setting the result belongs to; without a text line the slider values are shown instead.
    `strict` (default: on under CL_FAST=1) lets an error in the default setting raise when the cell runs.
    The keywords `title` and `strict` cannot be slider names.
    """
    explorer = Explorer(run, show, sliders, title=title, strict=strict)
    explorer.display()
    return explorer


class Explorer:
    """Sliders, a progress bar and a status line, above a result text and plot that follow the sliders."""

    def __init__(self, run: Callable[..., Any], show: Callable[[Any], Any], sliders: dict[str, W.ValueWidget],
                 title: str | None = None, strict: bool | None = None):
        if not sliders:
            raise ConfigError("explore needs at least one slider, e.g. lam=log_slider('lambda', 1e3, 1, 1e8)")
        for name, slider in sliders.items():
            if not isinstance(slider, W.ValueWidget):
                raise ConfigError(f"{name}={slider!r} is not a slider; allowed: an ipywidgets value widget "
                                  "such as log_slider(...) or int_slider(...)")
        if strict is None:
            from .course import fast_mode
            strict = fast_mode()
        self.run, self.show, self.sliders, self.strict = run, show, dict(sliders), strict
        self._wants_report = _accepts(run, "report")
        self.cache: OrderedDict[tuple, tuple[Any, str, bytes | None]] = OrderedDict()
        self.calls = 0
        self.result: Any = None
        self.text = ""
        self.png: bytes | None = None
        self.error: str | None = None
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="160px"))
        self.status = W.HTML(value="")
        header = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        self.panel = W.VBox(header + list(self.sliders.values()) + [W.HBox([self.progress, self.status])])
        self._ids = {"text": f"cl-explore-text-{uuid.uuid4().hex}", "plot": f"cl-explore-plot-{uuid.uuid4().hex}"}
        self._shown_at: int | None = None
        self._displayed = False
        self._holding = False
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")

    @property
    def values(self) -> dict[str, Any]:
        """The current slider values, by `run` parameter name."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def values_text(self) -> str:
        """The slider values as one line, e.g. "lam = 1e+04, epochs = 3"."""
        return ", ".join(f"{name} = {_fmt(v)}" for name, v in self.values.items())

    def set(self, **values: Any) -> Any:
        """Move sliders from code (as a user would, range-checked), recompute once, and return the result."""
        for name, value in values.items():
            if name not in self.sliders:
                raise ConfigError(f"unknown slider {name!r}; allowed: {', '.join(self.sliders)}")
            values[name] = _check_in_range(self.sliders[name], value)
        self._holding = True
        try:
            for name, value in values.items():
                self.sliders[name].value = value
        finally:
            self._holding = False
        self.update()
        return self.result

    def update(self) -> None:
        """Show the result for the current slider values: from the cache, or computed now."""
        key = self._key()
        if key in self.cache:
            self.cache.move_to_end(key)
            self.result, text, png = self.cache[key]
            self.error = None
            self._publish(text, png)
            self._set_status("cached", bar_style="", done=True)
            return
        self._compute(key)

    def display(self) -> None:
        """Display the panel and the result text and plot; the first time, compute the current setting."""
        display(self._panel_bundle(), raw=True)
        if self._displayed:
            self._publish(self.text, self.png, new_outputs=True)
        else:
            self._displayed = True
            self._compute(self._key(), new_outputs=True, may_raise=self.strict)
        self._shown_at = _execution_count()

    def _ipython_display_(self) -> None:
        # `explore(...)` as a cell's last line has already displayed itself during that cell; show it
        # again only when asked to in a later cell.
        if not self._displayed or self._shown_at != _execution_count():
            self.display()

    def _on_change(self, change) -> None:
        if not self._holding and self._displayed:
            self.update()

    def _compute(self, key: tuple, new_outputs: bool = False, may_raise: bool = False) -> None:
        values = self.values
        self._set_status("training…", bar_style="info", done=False)
        kwargs = dict(values, report=self._report) if self._wants_report else values
        start = time.perf_counter()
        figures_before = set(plt.get_fignums())
        self.calls += 1
        try:
            result = self.run(**kwargs)
            text, png = self._render(result)
        except Exception as exc:  # one readable line in the panel; a traceback would land nowhere visible
            self.result, self.error = None, _one_line(exc)
            self._publish(f"error at {self.values_text()}: {self.error}", None, new_outputs)
            self._set_status(f"error: {self.error}", bar_style="danger", done=True, error=True)
            if may_raise:
                raise
            return
        finally:
            # Figures made by `run` or `show` are closed, so none is shown again at the end of the cell.
            for num in set(plt.get_fignums()) - figures_before:
                plt.close(num)
        seconds = time.perf_counter() - start
        self.result, self.error = result, None
        self.cache[key] = (result, text, png)
        while len(self.cache) > _CACHE_SIZE:
            self.cache.popitem(last=False)
        # The result goes out before the final status: whoever sees "done" already has the new result.
        self._publish(text, png, new_outputs)
        self._set_status(f"done in {seconds:.1f} s", bar_style="success", done=True)

    def _render(self, result: Any) -> tuple[str, bytes | None]:
        figure, text = _split_shown(self.show(result))
        if figure is not None:
            try:
                png = _png(figure)
            finally:
                plt.close(figure)
        else:
            png = None
        return (text if text else self.values_text()), png

    def _publish(self, text: str, png: bytes | None, new_outputs: bool = False) -> None:
        self.text, self.png = text, png
        text_bundle = {"text/plain": text}
        if png is None:
            plot_bundle = {"text/plain": ""}
        else:
            plot_bundle = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": f"<plot: {text}>"}
        show_or_update = display if new_outputs else update_display
        show_or_update(text_bundle, raw=True, display_id=self._ids["text"])
        show_or_update(plot_bundle, raw=True, display_id=self._ids["plot"])

    def _set_status(self, what: str, bar_style: str, done: bool, error: bool = False) -> None:
        line = f"{what} · {self.values_text()}"
        color = "#b00020" if error else "#555"
        self.status.value = f'<span style="color:{color}">{html.escape(line)}</span>'
        self.progress.bar_style = bar_style
        if done:
            self.progress.value = self.progress.max
        else:
            self.progress.max, self.progress.value = 1, 0

    def _report(self, done: int, total: int) -> None:
        self.progress.max = max(1, int(total))
        self.progress.value = min(int(done), self.progress.max)

    def _key(self) -> tuple:
        return tuple((name, _normalise(v)) for name, v in self.values.items())

    def _panel_bundle(self) -> dict[str, Any]:
        # The plain-text fallback is what a reader without a live kernel (GitHub) sees instead of sliders.
        return {
            "text/plain": f"[controls: {self.values_text()}; change them in JupyterLab or Colab]",
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.panel.model_id},
        }


def _exponent(x: float, base: float) -> float:
    e = math.log10(x) if base == 10 else math.log(x, base)
    return round(e, 9)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _normalise(value: Any) -> Any:
    # Log sliders report e.g. 10000.000000000002 after a round trip through the browser.
    if isinstance(value, float):
        return float(f"{value:.6g}")
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _check_in_range(slider: W.ValueWidget, value: Any) -> Any:
    """`value` converted and checked against the slider's range (as a user moving it could set it)."""
    name = slider.description or "slider"
    if isinstance(slider, W.FloatLogSlider):
        return check_float(name, value, slider.base ** slider.min * (1 - 1e-9),
                           slider.base ** slider.max * (1 + 1e-9))
    if isinstance(slider, (W.IntSlider, W.BoundedIntText)):
        return check_int(name, value, slider.min, slider.max)
    if hasattr(slider, "min") and hasattr(slider, "max"):
        return check_float(name, value, slider.min, slider.max)
    return value


def _check_description(description: Any) -> str:
    if not isinstance(description, str):
        raise ConfigError(f"a slider's description must be a string such as 'lambda', got {description!r}")
    return description


def _split_shown(shown: Any) -> tuple[Any, str | None]:
    parts = shown if isinstance(shown, tuple) else (shown,)
    figure, text = None, None
    for part in parts:
        if part is None:
            continue
        if isinstance(part, str):
            text = part
        elif hasattr(part, "savefig"):
            figure = part
        elif hasattr(getattr(part, "figure", None), "savefig"):  # an Axes
            figure = part.figure
        else:
            raise TypeError(f"show returned {type(part).__name__}; expected a Figure, a str or (Figure, str)")
    return figure, text


def _png(figure) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=figure.dpi, bbox_inches="tight")
    return buf.getvalue()


def _one_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def _accepts(fn: Callable, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else shell.execution_count
