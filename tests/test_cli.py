"""`python -m cl_helpers compare`: the table, JSON and PNG, and bad input as one line with exit code 2."""
import json
import os
import subprocess
import sys

import pytest

from testdata import mnist_root


def run_cli(*args, data_root=None):
    env = dict(os.environ, TQDM_DISABLE="1")
    base = ["--data-dir", str(data_root), "--no-download"] if data_root else []
    return subprocess.run([sys.executable, "-m", "cl_helpers", "compare", *base, *args],
                          capture_output=True, text=True, env=env, timeout=300)


def run_main(capsys, *args, data_root=None) -> tuple[int, str]:
    """The CLI's main() in this process: the same parsing and checks without a new interpreter (3 s a case)."""
    from cl_helpers.cli import main

    base = ["--data-dir", str(data_root), "--no-download"] if data_root else []
    try:
        code = main(["compare", *base, *args])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    return code, capsys.readouterr().err


def small(on_mnist):
    return ["--train-size", "600" if on_mnist else "400", "--test-size", "200"]


def test_compare_prints_table_and_writes_json_and_png(tmp_path, data_root, on_mnist):
    out_json, out_png = tmp_path / "r.json", tmp_path / "r.png"
    p = run_cli("--tasks", "2", "--epochs", "1", *small(on_mnist), "--methods", "naive,joint",
                "--json", str(out_json), "--plot", str(out_png), data_root=data_root)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("data: ") and ("MNIST" if on_mnist else "digits") in lines[0]
    header = next(i for i, l in enumerate(lines) if l.startswith("method"))
    assert lines[header].split() == ["method", "ACC", "forgetting", "BWT", "FWT", "seconds"]
    assert [l.split()[0] for l in lines[header + 1:header + 3]] == ["naive", "joint"]
    report = json.loads(out_json.read_text())
    assert report["config"]["tasks"] == 2 and report["config"]["methods"] == ["naive", "joint"]
    assert report["source"] == lines[0][len("data: "):]
    naive = report["results"][0]
    assert len(naive["acc_matrix"]) == 2 and {"acc", "forgetting", "bwt", "fwt", "seconds"} <= set(naive)
    assert out_png.read_bytes()[:4] == b"\x89PNG"
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_same_seed_same_table(tmp_path, data_root, on_mnist):
    args = ("--tasks", "2", "--epochs", "1", *small(on_mnist), "--methods", "naive", "--seed", "3")
    a, b = run_cli(*args, data_root=data_root), run_cli(*args, data_root=data_root)
    strip = lambda s: [l.rsplit(None, 1)[0] for l in s.splitlines() if l.startswith("naive")]  # noqa: E731
    assert strip(a.stdout) == strip(b.stdout) != []


@pytest.mark.parametrize("args,message", [
    (["--methods", "naive,foo"], "unknown method 'foo'; allowed: naive, joint"),
    (["--methods", ","], "names no method"),
    (["--epochs", "0"], "epochs 0 is out of range; allowed: 1..1000"),
    (["--tasks", "0"], "tasks 0 is out of range"),
    (["--benchmark", "split", "--tasks", "7"], "tasks 7 is out of range; allowed: 1..5"),
    (["--train-size", "99999999"], "train_size 99999999 is larger than the"),
    (["--lr", "0"], "lr 0 is out of range; allowed: (0, 10]"),
    (["--batch-size", "-5"], "batch_size -5 is out of range"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--benchmark", "shuffled"], "invalid choice: 'shuffled'"),
    (["--json", "/no/such/folder/r.json"], "folder /no/such/folder does not exist"),
])
def test_bad_input_exits_2_with_one_line(args, message, data_root, on_mnist, capsys, monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")
    if not on_mnist:  # offline: name the digits, so sizes are checked rather than capped as for a fallback
        args = [*args, "--dataset", "digits"]
    lead = ["--epochs", "1"] if "--tasks" in args else ["--tasks", "2", "--epochs", "1"]
    code, err = run_main(capsys, *lead, *args, data_root=data_root)  # an uncaught exception would fail here
    assert code == 2, err
    assert message in err
    assert err.strip().splitlines()[-1].startswith("python -m cl_helpers")


def test_bad_input_from_the_command_line_is_one_line_without_traceback(data_root):
    p = run_cli("--tasks", "2", "--epochs", "0", data_root=data_root)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [
        "python -m cl_helpers: error: epochs 0 is out of range; allowed: 1..1000"], p.stderr


@pytest.mark.skipif(mnist_root() is None, reason="MNIST subset not available (offline run)")
def test_corrupt_data_exits_2_and_writes_no_json(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in (mnist_root() / "MNIST" / "raw").iterdir():
        if not f.name.endswith(".gz"):
            (raw / f.name).write_bytes(f.read_bytes()[:100])
    p = run_cli("--json", str(tmp_path / "r.json"), data_root=tmp_path)
    assert p.returncode == 2 and "corrupt or truncated" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "r.json").exists()
