#!/usr/bin/env bash
# make test-colab: every chapter, both editions, in fast mode, in an environment with Google Colab's package
# versions (tools/colab/constraints.txt, dated there), with a stand-in google.colab module imported at kernel
# start, and cl_helpers installed by the chapters' own Colab cell (pip --no-deps from a git clone of HEAD).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/tools/colab
VENV=${COLAB_VENV:-$ROOT/.venv-colab}
PYTHON=${PYTHON:-python3}
STAMP=$VENV/.installed

if [ ! -f "$STAMP" ] || [ "$HERE/constraints.txt" -nt "$STAMP" ] || [ "$HERE/packages.txt" -nt "$STAMP" ]; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    # What Colab has preinstalled and the chapters use, at Colab's versions (and their dependencies at Colab's too).
    "$VENV/bin/python" -m pip install -q -c "$HERE/constraints.txt" -r "$HERE/packages.txt"
    # The test runner, which Colab lacks; whatever it pulls in that Colab has keeps Colab's version.
    "$VENV/bin/python" -m pip install -q -c "$HERE/constraints.txt" nbval
    SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    cp -r "$HERE/google" "$SITE/"
    mkdir -p "$VENV/ipython/profile_default/startup"
    echo "import google.colab  # as Colab's kernel does at start-up" > "$VENV/ipython/profile_default/startup/00-colab.py"
    touch "$STAMP"
fi

# The chapters' first cell installs cl_helpers, as on Colab: nothing of it may be there before.
"$VENV/bin/python" -m pip uninstall -q -y cl-helpers >/dev/null 2>&1 || true
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
git clone -q "$ROOT" "$WORK/cl-course"
# The Colab cell runs `pip install --no-deps git+https://github.com/<repo>`; git fetches that from the local clone.
export GIT_CONFIG_GLOBAL=$WORK/gitconfig
git config --file "$GIT_CONFIG_GLOBAL" url."file://$WORK/cl-course".insteadOf \
    "https://github.com/${CL_COURSE_REPO:-cl-course/cl-course}"
if [ -z "${CL_HELPERS_DATA:-}" ] && [ -d "$ROOT/../shared/data/MNIST/raw" ]; then
    export CL_HELPERS_DATA="$(cd "$ROOT/../shared/data" && pwd)"
fi
# (PYDEVD_...: Colab's ipykernel 6.17 starts debugpy, which warns about frozen modules on every kernel start)
export IPYTHONDIR=$VENV/ipython CL_FAST=1 TQDM_DISABLE=1 PYDEVD_DISABLE_FILE_VALIDATION=1
"$VENV/bin/python" -c 'import torch, numpy, ipywidgets, ipykernel, IPython, matplotlib, sklearn, sys; print(
    f"Colab-like: Python {sys.version.split()[0]} torch {torch.__version__} numpy {numpy.__version__} "
    f"ipywidgets {ipywidgets.__version__} ipykernel {ipykernel.__version__} IPython {IPython.__version__} "
    f"matplotlib {matplotlib.__version__} scikit-learn {sklearn.__version__}")'
cd "$WORK/cl-course"
"$VENV/bin/python" -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider "$@" \
    notebooks/*.ipynb notebooks/instructor/*.ipynb
