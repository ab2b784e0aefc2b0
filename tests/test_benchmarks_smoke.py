"""benchmarks/run.py at tiny sizes: it runs, writes every section it was asked for, and the Fisher paths agree.

No timing is asserted (the machine is shared); only that the script works and what it computes is right.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
SECTIONS = ["course", "avalanche", "fisher", "throughput"]


def _run(*args, cwd=ROOT):
    # No cache folder: an MNIST download in ~/.cache must not turn an offline run into an MNIST one.
    env = {"TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
           "XDG_CACHE_HOME": "/nonexistent/cl-bench-cache"}
    return subprocess.run([sys.executable, str(RUN), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def results(data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    proc = _run("--quick", "--only", ",".join(SECTIONS), "--train-size", 150, "--test-size", 100,
                "--data-dir", data_root, "--no-download", "--out", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    data = {}
    for m in re.finditer(r"<!-- data (\{.*?\}) -->", text):
        data.update(json.loads(m.group(1)))
    return text, data


def test_every_section_is_written_with_the_machine_and_command(results):
    text, _ = results
    for name in SECTIONS:
        assert f"<!-- section:{name} -->" in text and f"<!-- /section:{name} -->" in text
    assert "| cpu |" in text and "| torch |" in text
    assert "benchmarks/run.py --quick --only course,avalanche,fisher,throughput" in text
    assert "## GPU" in text and "## Targets" in text


def test_fisher_fast_paths_match_the_loop(results):
    _, data = results
    # The closed form and vmap give the per-sample loop's Fisher up to float32 rounding, for every kind.
    assert data["fisher_max_diff"] < 1e-4


def test_throughput_counts_the_course_mlp(results, on_mnist):
    text, data = results
    per_sample = 6 * ((784 if on_mnist else 64) * 256 + 256 * 256 + 256 * 10)
    assert f"{per_sample:,}" in text
    assert data["peak_gflops"] > 0 and 0 < data["throughput_frac_128"]


def test_course_section_compares_both_sides_or_says_why_not(results, on_mnist):
    text, data = results
    body = text.split("<!-- section:course -->")[1].split("<!-- /section:course -->")[0]
    if on_mnist:
        assert "| total |" in body and "| naive ACC |" in body and data["course_ratio"] > 0
        accs = [float(x) for x in re.findall(r"\| naive ACC \| ([0-9.]+) ± [0-9.]+ \| ([0-9.]+) ±", body)[0]]
        assert all(0.1 < a <= 1 for a in accs)  # both sides learnt something on real data
    else:
        assert "Skipped: MNIST is not available" in body


def test_bad_section_is_one_line_and_exit_2(tmp_path):
    proc = _run("--only", "nonsense", "--out", tmp_path / "R.md")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "run.py: error: unknown section 'nonsense'; allowed: course, avalanche, fisher, throughput, sliders, notebooks")
    assert not (tmp_path / "R.md").exists()
