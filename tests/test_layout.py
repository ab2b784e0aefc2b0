"""The package layout shows the architecture: core modules at the top, the rest in subpackages by concept.

Production code never imports test references or benchmarks, and drawing never reaches back into the
experiments that produce what it draws (plots stay usable on saved results).
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cl_helpers"
CORE = {"__init__", "__main__", "cli", "data", "tasks", "models", "train", "results", "metrics", "fisher",
        "penalties", "lora", "buffer", "device", "errors", "io"}
SUBPACKAGES = {"strategies", "plots", "experiments", "teaching", "lm"}
NOT_PRODUCTION = {"tests", "benchmarks", "testdata", "conftest", "reference_fisher", "benchlib"}


def imported_modules(path: Path) -> set[str]:
    """Every module name `path` imports, absolute or relative (relative ones resolved inside cl_helpers)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[:len(parts) - node.level]
                names.add(".".join(base + ([node.module] if node.module else [])))
            else:
                names.add(node.module or "")
    return names


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


def test_the_checker_itself_sees_a_planted_import():
    # The import scan must find a relative import of a test module, or the test above proves nothing.
    fake = PACKAGE / "plots" / "_planted_for_test.py"
    fake.write_text("import os\nfrom testdata import mnist_root\nimport benchmarks.benchlib\n", encoding="utf-8")
    try:
        found = offending_imports(fake)
    finally:
        fake.unlink()
    assert found == {"testdata", "benchmarks.benchlib"}
