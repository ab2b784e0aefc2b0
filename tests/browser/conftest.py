"""Fixtures of the browser tests: Debian's Chromium through Playwright, and a private JupyterLab server.

The server serves a temporary copy of notebooks/ and tests/browser/fixtures/ (running cells never touches the
repository), runs kernels with CL_FAST=1, and is stopped with its kernels whatever happens. Screenshots go to
test-artifacts/browser/ (ignored by git).
"""
from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

import pytest

from browser_lab import CHROMIUM, CHROMIUM_ARGS, ConsoleErrors, copy_tree, start_lab, stop_lab

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
SHARED_DATA = ROOT.parent / "shared" / "data"
EMPTY_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'


def _unavailable(reason: str):
    # On a developer machine without Chromium the tests are skipped; in CI a missing browser is a failure.
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (/usr/bin/chromium, never a downloaded build) for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is missing: pip install -e '.[test]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, browser):
    """A JupyterLab server on a free localhost port with a random token, serving copies of the notebooks."""
    work = tmp_path_factory.mktemp("jupyterlab")
    root = work / "root"
    copy_tree(ROOT / "notebooks", root / "notebooks")
    copy_tree(FIXTURES, root / "fixtures")
    env = {"CL_FAST": "1", "TQDM_DISABLE": "1"}
    if "CL_HELPERS_DATA" not in os.environ and (SHARED_DATA / "MNIST" / "raw").is_dir():
        env["CL_HELPERS_DATA"] = str(SHARED_DATA)
    server = start_lab(root, work, env)
    try:
        yield server
    finally:
        stop_lab(server)
        print(f"\nJupyterLab log: {server.log}")


@pytest.fixture
def page(browser, lab):
    """A fresh page (own browser context) recording JavaScript errors in `page.js_errors`; kernels closed after."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    # The notebooks' Markdown shows remote images (the Open-in-Colab badge); answer them here with an empty
    # image, so that the test neither depends on the internet nor logs "Failed to load resource" offline.
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"),
                  lambda route: route.fulfill(status=200, content_type="image/svg+xml", body=EMPTY_SVG))
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.js_errors = ConsoleErrors(pg)
    try:
        yield pg
    finally:
        context.close()
        for kernel in lab.api("/api/kernels"):
            req = urllib.request.Request(f"{lab.url}/api/kernels/{kernel['id']}", method="DELETE",
                                         headers={"Authorization": f"token {lab.token}"})
            urllib.request.urlopen(req, timeout=30).close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (printed once, so a person can find them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {ARTIFACTS}")
    return ARTIFACTS


def pytest_terminal_summary(terminalreporter):
    """Name the screenshot folder at the end of the run, where a person will look for it."""
    if ARTIFACTS.is_dir() and any(ARTIFACTS.glob("*.png")):
        terminalreporter.write_line(f"browser screenshots: {ARTIFACTS}")
