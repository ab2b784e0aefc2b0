"""The package layout shows the architecture: core modules at the top, the rest in subpackages by concept.

One dependency order, checked on every import (those inside functions too; `if TYPE_CHECKING:` ones are for
annotations and do not count):

    core  <-  strategies  <-  train  <-  experiments  <-  {plots, teaching, lm}  <-  cli

A module imports only from its own layer or below; plots, teaching and lm do not import one another (a
command-line module, `*/cli.py`, is in the cli layer). Production code never imports test references or
benchmarks, and drawing never reaches back into the experiments that produce what it draws (plots stay usable
on saved results).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cl_helpers"
CORE = {"__init__", "__main__", "cli", "data", "tasks", "models", "train", "results", "metrics", "fisher", "vae",
        "penalties", "lora", "buffer", "device", "errors", "io", "optim", "playground"}
LAYERS = {"strategies": 1, "train": 2, "experiments": 3, "plots": 4, "teaching": 4, "lm": 4, "cli": 5,
          "__main__": 5}   # every other top-level module is core (0); the package itself (__init__) is above all
SUBPACKAGES = {"strategies", "plots", "experiments", "teaching", "lm", "weights"}
NOT_PRODUCTION = {"tests", "benchmarks", "testdata", "conftest", "reference_fisher", "benchlib"}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` (annotations only, never run)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def imported_modules(path: Path, module: str | None = None) -> set[str]:
    """Every module `path` imports at run time, at any depth, absolute or relative (relative ones resolved as if
    the file were `module`, by default its own dotted name inside cl_helpers); `from . import x` names `x`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = (module or ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)).split(".")
    if path.name == "__init__.py" and module is None:
        parts.append("__init__")   # `from . import x` in a package's __init__ is relative to the package
    skip, names = _type_checking_nodes(tree), set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = parts[:len(parts) - node.level] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:   # from . import plots: the submodules themselves
                names |= {f"{target}.{a.name}" for a in node.names}
            else:
                names.add(target)
    return names


def layer(module: str) -> tuple[int, str] | None:
    """(layer, subpackage) of a cl_helpers module, None for other packages and for cl_helpers itself."""
    parts = module.split(".")
    if parts[0] != "cl_helpers" or len(parts) == 1 or parts[1] == "__init__":
        return None
    if parts[-1] == "cli":
        return 5, "cli"
    return LAYERS.get(parts[1], 0), parts[1]


def layering_violations(path: Path, module: str | None = None) -> list[str]:
    """The imports of `path` that break the dependency order (module docstring)."""
    me = module or ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    mine = layer(me)
    if mine is None:
        return []
    bad = []
    for target in sorted(imported_modules(path, module)):
        theirs = layer(target)
        if theirs is None:
            continue
        if theirs[0] > mine[0] or (theirs[0] == mine[0] == 4 and theirs[1] != mine[1]):
            bad.append(f"{me} imports {target}")
    return bad


def production_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def offending_imports(path: Path) -> set[str]:
    """The modules `path` imports that are test or benchmark code."""
    return {m for m in imported_modules(path) if NOT_PRODUCTION & set(m.split("."))}


def test_top_level_holds_the_core_and_the_subpackages_only():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules - CORE == set(), "new top-level modules belong in a subpackage (or in CORE, with a reason)"
    assert packages - SUBPACKAGES == set()


def test_no_production_module_imports_tests_or_benchmarks():
    offenders = {}
    for path in production_files():
        bad = offending_imports(path)
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offenders == {}


def test_plots_never_import_experiments_at_run_time():
    for path in (PACKAGE / "plots").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # imports under `if TYPE_CHECKING:` are for annotations only
        runtime = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        for node in runtime:
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            assert "experiments" not in (module or ""), f"{path.name} imports {module}"


def test_the_checker_itself_sees_a_planted_import(tmp_path):
    # The import scan must find a relative import of a test module, or the test above proves nothing.
    fake = tmp_path / "planted.py"
    fake.write_text("import os\nfrom testdata import mnist_root\nimport benchmarks.benchlib\n", encoding="utf-8")
    found = {m for m in imported_modules(fake, "cl_helpers.plots.planted") if NOT_PRODUCTION & set(m.split("."))}
    assert found == {"testdata", "benchmarks.benchlib"}


def test_every_import_follows_the_dependency_order():
    bad = [v for path in production_files() for v in layering_violations(path)]
    assert bad == [], "imports against core <- strategies <- train <- experiments <- {plots, teaching, lm} <- cli"


def test_the_order_check_sees_imports_inside_functions(tmp_path):
    fake = tmp_path / "planted.py"
    fake.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..lm.model import TinyGPT\n"
                    "def f():\n    from ..train import train_stream\n    from .. import plots\n", encoding="utf-8")
    assert layering_violations(fake, "cl_helpers.strategies.planted") == [
        "cl_helpers.strategies.planted imports cl_helpers.plots", "cl_helpers.strategies.planted imports cl_helpers.train"]
    assert layering_violations(fake, "cl_helpers.experiments.planted") == [
        "cl_helpers.experiments.planted imports cl_helpers.plots"]
