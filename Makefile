# Two commands for a newcomer: `make lab` opens the course, `make test` runs every test.
# Both create .venv when it is missing and install into it; nothing is installed outside it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LAB_STAMP := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test
# Fast mode for notebooks under test; tqdm bars add nothing to a log.
TEST_ENV := CL_FAST=1 TQDM_DISABLE=1 MPLBACKEND=Agg

.PHONY: lab test test-fast test-colab notebooks bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(LAB_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[lab]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[lab,test]'
	touch $@

lab: $(LAB_STAMP)
	$(PY) -m jupyter lab notebooks/

test: $(TEST_STAMP)
	$(TEST_ENV) $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env \
		--ignore=tests/browser/fixtures -p no:cacheprovider

# Unit tests only (no notebooks, no browser): the quick loop while editing the package.
test-fast: $(TEST_STAMP)
	$(TEST_ENV) $(PY) -m pytest tests --ignore=tests/browser -p no:cacheprovider

# Every chapter in fast mode with Google Colab's package versions (tools/colab/constraints.txt), a stand-in
# google.colab, and cl_helpers installed by the chapters' own Colab cell from a clone of HEAD. Not in `make test`:
# the first run builds .venv-colab (torch with its CUDA wheels, a few GB); see the README for the times.
test-colab:
	tools/colab/run.sh

# Re-run every notebook in full mode and save it with its outputs (what readers see on GitHub).
notebooks: $(TEST_STAMP)
	$(PY) tools/build_notebooks.py
	$(PY) tools/execute_notebooks.py notebooks/*.ipynb notebooks/instructor/*.ipynb

bench: $(TEST_STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .venv-colab .pytest_cache test-artifacts
