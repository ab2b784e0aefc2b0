"""Drive JupyterLab in Debian's Chromium: start a private server, run a notebook, move a slider, check the result.

Used by tests/browser/conftest.py and the browser tests; every check raises AssertionError with one clear line.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]

# Console errors that say nothing about the notebooks or the widgets, each with why it is harmless.
HARMLESS_CONSOLE = [
    # (pattern, reason)
]

# Text a widget output shows when it was not rendered as a widget.
RAW_WIDGET_TEXT = re.compile(
    r"^\s*(interactive|IntSlider|FloatSlider|FloatLogSlider|IntProgress|VBox|HBox|Box|Output)\(|^\s*\[controls: ")

# JupyterLab user settings: every cell in the DOM (no windowing), a kernel without asking, nothing fetched.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none", "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False, "fetchNews": "false", "doNotDisturbMode": True},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def free_port() -> int:
    """A TCP port on localhost that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A JupyterLab server of this test session: its URL, token, root folder, log, and process."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen

    def api(self, path: str) -> object:
        """GET a JSON REST endpoint of the server."""
        req = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def notebook_url(self, relpath: str) -> str:
        """The address that opens `relpath` (under the root) in JupyterLab, with a fresh workspace."""
        return f"{self.url}/lab/tree/{relpath}?reset&token={self.token}"

    def log_tail(self, n: int = 30) -> str:
        """The last `n` lines of the server's log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def start_lab(root: Path, work: Path, env_extra: dict[str, str], timeout: float = 90.0) -> LabServer:
    """Start JupyterLab on a free localhost port with a random token, serving `root`; waits until it answers."""
    settings, workspaces, runtime, config, ipython, data = (work / d for d in
                                                      ("settings", "workspaces", "runtime", "config", "ipython", "data"))
    for d in (settings, workspaces, runtime, config, ipython, data):
        d.mkdir(parents=True, exist_ok=True)
    for rel, values in LAB_SETTINGS.items():
        f = settings / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    # The kernel must use the inline backend (plots in the page); the Makefile's MPLBACKEND=Agg would hide them.
    env.pop("MPLBACKEND", None)
    env.update({"JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_DATA_DIR": str(data),
                "IPYTHONDIR": str(ipython), "PYDEVD_DISABLE_FILE_VALIDATION": "1", **env_extra})
    log = work / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
           f"--LabApp.workspaces_dir={workspaces}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--ServerApp.allow_root=True",
           "--ServerApp.terminals_enabled=False"]
    with open(log, "wb") as fh:
        # A session of its own, so that stopping it reaches its kernels too.
        process = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=root,
                                   start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log, process)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("/api/status")
            return server
        except OSError:
            if time.monotonic() > deadline:
                stop_lab(server)
                raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{server.log_tail()}")
            time.sleep(0.3)


def stop_lab(server: LabServer) -> None:
    """Stop the server and its kernels: SIGTERM to its process group, SIGKILL if it lingers."""
    proc = server.process
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # kernels left in the group, if any
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def copy_tree(src: Path, dst: Path) -> None:
    """Copy notebooks (no checkpoints) so that running them leaves the repository untouched."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                    dirs_exist_ok=True)


# ---------------------------------------------------------------------------------------------------------------
# In the page. `window.jupyterapp` exists because the server runs with --LabApp.expose_app_in_browser.

_RUN_ALL_JS = """async (timeoutMs) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('run all took longer than ' + timeoutMs / 1000 + ' s')), timeoutMs));
  const ok = await Promise.race([app.commands.execute('notebook:run-all-cells'), timeout]);
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {ok: ok, kernel: kernel ? kernel.status : 'none'};
}"""

_CELL_ERRORS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const found = [];
  panel.content.widgets.forEach((cell, i) => {
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs.toJSON();
    for (const o of outputs) {
      if (o.output_type === 'error') found.push(`cell ${i}: ${o.ename}: ${String(o.evalue).split('\\n')[0]}`);
    }
    if (cell.model.executionCount === null) found.push(`cell ${i}: not executed`);
  });
  return found;
}"""


def open_notebook(page, server: LabServer, relpath: str, timeout_s: float = 90.0) -> None:
    """Open a notebook and wait until JupyterLab has loaded it and started its kernel."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(server.notebook_url(relpath))
    try:
        page.wait_for_function(
            """(name) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                           return !!(w && w.context && w.context.path.endsWith(name) && w.sessionContext
                                     && w.sessionContext.session && w.sessionContext.session.kernel); }""",
            arg=Path(relpath).name, timeout=timeout_s * 1000)
    except PlaywrightTimeout:
        dialogs = " | ".join(t.strip().replace("\n", " ")[:300] for t in page.locator(".jp-Dialog").all_inner_texts())
        raise AssertionError(f"{relpath} did not open with a running kernel within {timeout_s:.0f} s"
                             + (f"; dialog: {dialogs}" if dialogs else "")
                             + f"; server log: ...{server.log_tail(3)[-400:]}") from None
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # more room for the notebook in screenshots


def run_all(page, timeout_s: float = 600.0) -> None:
    """Run every cell (Run > Run All Cells) and wait until the last one has finished and the kernel is idle."""
    state = page.evaluate(_RUN_ALL_JS, timeout_s * 1000)
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                           " === 'idle'", timeout=60_000)
    assert_no_cell_errors(page, note="" if state["ok"] else " (Run All stopped early)")


def assert_no_cell_errors(page, note: str = "") -> None:
    """Fail if a code cell shows an error output or did not run."""
    errors = page.evaluate(_CELL_ERRORS_JS)
    assert not errors, f"error outputs after Run All{note}: " + " | ".join(errors)


_WIDGET_PROBLEMS_JS = """(rawPattern) => {
  const raw = new RegExp(rawPattern);
  const found = [];
  let pending = 0;
  document.querySelectorAll('.jp-OutputArea-output').forEach(out => {
    const mime = out.getAttribute('data-mime-type') || '';
    const text = out.innerText || '';
    if (text.includes('Error displaying widget')) found.push('"' + text.trim().split('\\n')[0] + '"');
    if ((mime === 'text/plain' || mime === 'application/vnd.jupyter.stdout') && raw.test(text))
      found.push('raw widget text instead of a widget: "' + text.trim().slice(0, 80) + '"');
    // Widget views carry no data-mime-type; until drawn (or failed) they say "Loading widget...". Views of
    // closed widgets are hidden and empty.
    const hidden = out.classList.contains('lm-mod-hidden');
    if (!mime && !hidden && (text.includes('Loading widget') || (out.childElementCount === 0 && !text.trim())))
      pending += 1;
  });
  return {problems: found, pending: pending};
}"""

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def assert_widgets_rendered(page, timeout_s: float = 20.0) -> None:
    """Fail if a widget output shows "Error displaying widget", raw text such as IntSlider(...), or nothing."""
    # A widget view is drawn (or its error shown) asynchronously, after its output arrived.
    deadline = time.monotonic() + timeout_s
    while True:
        state = page.evaluate(_WIDGET_PROBLEMS_JS, RAW_WIDGET_TEXT.pattern)
        if not state["pending"] or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    problems = state["problems"] + [f"{state['pending']} widget output(s) still empty after {timeout_s:.0f} s"
                                    ] * bool(state["pending"])
    assert not problems, "widgets not rendered: " + " | ".join(problems)


def names_value(text: str, value: float) -> bool:
    """True if `text` states `value` after an equals sign ("lambda = 1e+05", "epochs = 2"), to 3 digits."""
    for m in re.finditer(rf"=\s*({_NUMBER})", text):
        got = float(m.group(1))
        if abs(got - value) <= 5e-3 * max(abs(value), 1e-12):
            return True
    return False


@dataclass
class Shown:
    """What an explorer cell shows: its status line, its result text, and its plot (data URL)."""

    status: str
    text: str
    image: str


class Explorer:
    """The explorer panel in the page whose slider has the description `label`, and its cell."""

    def __init__(self, page, label: str):
        self.page, self.label = page, label
        exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
        count = page.locator(".widget-slider .widget-label").filter(has_text=exact).count()
        if count == 0:
            shown = page.locator(".widget-slider .widget-label").all_inner_texts()
            raise AssertionError(f"no slider labelled {label!r}; sliders in the notebook: {shown}")
        assert count == 1, f"{count} sliders are labelled {label!r}; make the label unique"
        self.slider = page.locator(".widget-slider").filter(has=page.locator(".widget-label").filter(has_text=exact))
        self.cell = page.locator(".jp-CodeCell").filter(has=self.slider)
        self.panel = self.slider.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")

    def shown(self) -> Shown:
        """The current status line, result text and plot of the explorer."""
        status = self.panel.locator(".widget-html-content").last.inner_text().strip()
        texts = self.cell.locator('.jp-OutputArea-output[data-mime-type="text/plain"]')
        text = texts.first.inner_text().strip() if texts.count() else ""
        imgs = self.cell.locator('.jp-OutputArea-output[data-mime-type="image/png"] img')
        image = (imgs.first.get_attribute("src") or "") if imgs.count() else ""
        return Shown(status, text, image)

    def show_whole_cell(self) -> None:
        """Scroll so that the explorer's cell (code, sliders, result) is in view, from its top if it fits."""
        self.cell.evaluate("""(cell, slider) => {
            const fits = cell.getBoundingClientRect().height < window.innerHeight - 80;
            (fits ? cell : slider).scrollIntoView({block: 'start'});
        }""", self.slider.element_handle())

    def wait_settled(self, timeout_s: float) -> Shown:
        """Wait until the explorer has finished a computation and its result text is drawn; return what it shows."""
        deadline = time.monotonic() + timeout_s
        now = self.shown()
        while not (re.match(r"(done|cached|error)", now.status) and now.text):
            assert time.monotonic() < deadline, f"{self.label}: the explorer never settled; status {now.status!r}"
            self.page.wait_for_timeout(250)
            now = self.shown()
        return now

    def readout(self) -> str:
        """The value the slider's readout shows."""
        return self.slider.locator(".widget-readout").inner_text().strip()

    def type_value(self, value) -> None:
        """Click the slider's readout, replace its text with `value` and press Enter, as a user would."""
        readout = self.slider.locator(".widget-readout")
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(f"{value:g}" if isinstance(value, float) else str(value))
        self.page.keyboard.press("Enter")

    def press(self, key: str, times: int = 1) -> None:
        """Focus the slider's handle and press `key` (e.g. ArrowRight) `times` times."""
        self.slider.locator(".noUi-handle").focus()
        for _ in range(times):
            self.page.keyboard.press(key)


def assert_slider_moves_result(page, label: str, value=None, keys: tuple[str, int] | None = None,
                               timeout_s: float = 180.0, screenshot: Path | None = None) -> tuple[Shown, Shown]:
    """Move the slider `label` (type `value` into its readout, or press `keys`), wait, check the result follows.

    Passes when the explorer's status reports the new value done (or cached), the result text differs from
    before and names the new value, and the plot differs. Returns what was shown before and after.
    """
    ex = Explorer(page, label)
    ex.slider.evaluate("e => e.scrollIntoView({block: 'start'})")
    before = ex.wait_settled(timeout_s)
    assert not before.status.startswith("error"), f"{label}: the explorer shows an error before moving: {before.status}"
    if keys is not None:
        ex.press(*keys)
    else:
        ex.type_value(value)
    page.wait_for_timeout(300)
    new_value = float(ex.readout()) if keys is not None else float(value)
    assert keys is None or not names_value(before.status, new_value), \
        f"{label}: pressing {keys[0]} x{keys[1]} did not move the slider (readout {ex.readout()})"

    deadline = time.monotonic() + timeout_s
    now = ex.shown()
    while not (re.match(r"(done|cached|error)", now.status) and names_value(now.status, new_value)):
        assert time.monotonic() < deadline, (
            f"{label}: no finished computation for {new_value:g} within {timeout_s:.0f} s; status: {now.status!r}")
        page.wait_for_timeout(250)
        now = ex.shown()
    assert not now.status.startswith("error"), f"{label} = {new_value:g}: {now.status}"
    # The result is sent before the status; give the page a moment to draw it.
    grace = time.monotonic() + 5
    while not names_value(now.text, new_value) and time.monotonic() < grace:
        page.wait_for_timeout(250)
        now = ex.shown()
    if screenshot is not None:
        ex.show_whole_cell()
        page.screenshot(path=str(screenshot))
    assert now.text != before.text, f"{label}: the result text did not change after moving to {new_value:g}: {now.text!r}"
    assert names_value(now.text, new_value), \
        f"{label}: the result text does not name the new value {new_value:g}: {now.text!r} (status {now.status!r})"
    if before.image and now.image:
        assert now.image != before.image, f"{label}: the plot did not change after moving to {new_value:g}"
    else:
        assert bool(before.image) == bool(now.image), f"{label}: the plot appeared or vanished after the move"
    return before, now


class ConsoleErrors:
    """JavaScript errors of a page: console.error messages and uncaught exceptions, minus HARMLESS_CONSOLE."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.messages.append(f"console.error: {msg.text}"))
        page.on("pageerror", lambda exc: self.messages.append(f"uncaught: {exc}"))

    def unexpected(self) -> list[str]:
        """The messages that match none of the known harmless ones."""
        return [m for m in self.messages if not any(re.search(p, m) for p, _ in HARMLESS_CONSOLE)]

    def assert_clean(self) -> None:
        """Fail if the page logged a JavaScript error that is not known to be harmless."""
        bad = self.unexpected()
        assert not bad, f"{len(bad)} JavaScript error(s) in the page: " + " | ".join(m[:300] for m in bad)
