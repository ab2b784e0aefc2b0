"""In a notebook a ConfigError is one readable line, not a 40-frame traceback; other errors keep theirs."""
import subprocess
import sys
import textwrap

from cl_helpers.errors import show_config_errors


def test_outside_ipython_nothing_is_registered():
    assert show_config_errors() is False


def test_ipython_shows_a_config_error_as_one_line():
    # A fresh process: an IPython shell made inside the test session would change display() for other tests.
    script = textwrap.dedent("""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance(colors="NoColor")
        shell.run_cell("from cl_helpers import course; course.setup(quiet=True)")
        print("---config")
        shell.run_cell("import cl_helpers as cl; cl.TrainConfig(epochs=0)")
        print("---other")
        shell.run_cell("1 / 0")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120).stdout
    config, other = out.split("---config")[1].split("---other")
    lines = [line for line in config.splitlines() if line.strip()]
    assert lines == ["\x1b[0;31mConfigError\x1b[0m: epochs 0 is out of range; allowed: 1..1000"], config
    assert "Traceback" in other and "ZeroDivisionError" in other
