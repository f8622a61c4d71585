# Two commands for a new user (see README.md):
#   make run    execute the whole notebook series headlessly on its default preset
#   make test   the whole test suite: unit tests + the committed notebooks under nbval
# Both create .venv and install what they need on first use.

VENV       ?= .venv
PYTHON     ?= python3
PY         := $(VENV)/bin/python
# Pinned first so that the installed build satisfies pyproject's torch range. On the public index a plain
# `torch` is the multi-GB CUDA build; a CPU-only machine can ask PyTorch's CPU index instead:
#   make install TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# On a CUDA machine, e.g. `make install TORCH_SPEC=torch`.
TORCH_SPEC      ?= torch==2.13.0
TORCH_INDEX_URL ?=
# The versions the committed outputs were made with (`make install CONSTRAINTS=` for the newest allowed).
CONSTRAINTS     ?= constraints.txt
PRESET     ?=
# Local copies of the datasets, when this checkout sits beside them; otherwise the hub is used.
export GAMLIB_DATA_DIR ?= $(abspath $(wildcard ../shared/data))
export PYTHONUNBUFFERED = 1

.PHONY: install install-cuda constraints run test test-fast lint lab browser-check gpu-check gpu-session offline-bundle study clean

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PY) -m pip install --quiet -e ".[dev,lab]" $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	touch $@

# The official Mamba kernels (CUDA machines only), built against the torch already installed: without build
# isolation, or pip builds them against another torch and they fail to import ("undefined symbol").
install-cuda: install
	$(PY) -m pip install --quiet packaging ninja wheel
	$(PY) -m pip install --no-build-isolation "mamba-ssm>=2" "causal-conv1d>=1.2"

# Write constraints.txt again from this environment (after an upgrade, once the notebooks are re-executed).
constraints: install
	{ sed -n '/^#/p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^#' | grep -iv '^torch=='; } \
		> constraints.txt.new && mv constraints.txt.new constraints.txt

install: $(VENV)/.installed

run: install
	$(PY) -m gamlib.series $(if $(PRESET),--preset $(PRESET))

test: install
	HF_HUB_OFFLINE=1 GAMLIB_FIGURES_DIR=$(abspath runs/test-figures) $(PY) -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=1800 -p no:cacheprovider

test-fast: install
	HF_HUB_OFFLINE=1 $(PY) -m pytest tests -p no:cacheprovider

# pyflakes, pycodestyle, isort and a complexity limit, as configured in pyproject.toml [tool.ruff] (.ci/run runs it)
lint: install
	$(VENV)/bin/ruff check .

lab: install
	$(VENV)/bin/jupyter lab notebooks

browser-check: install
	$(PY) -m pip install --quiet -e ".[browser]"
	$(PY) scripts/browser_check.py notebooks/10_gate_explorer.ipynb

# On a CUDA machine (a few minutes; exits 2 with a message where no GPU is visible): the tests in
# tests/cuda, a few training steps of every model at the paper configuration, a one-screen report.
gpu-check: install
	$(PY) scripts/gpu_check.py

# On a CUDA machine: what is still missing, in the order of value, within BUDGET seconds (gamlib.experiments.gpu_session);
#   make gpu-session BUDGET=540 OUT=/tmp/session     OUT: also pack the new records into one tar.gz there
#   make gpu-session BUDGET=540 DRY_RUN=1 GPU=H200   the queue and its estimates, on any machine
BUDGET  ?= 540
gpu-session: install
	$(PY) -m gamlib.experiments.gpu_session --budget $(BUDGET) $(if $(PRESET),--preset $(PRESET)) \
		$(if $(OUT),--out $(OUT)) $(if $(DRY_RUN),--dry-run) $(if $(GPU),--gpu $(GPU))

# Wheels, the Mamba kernels' source releases and the data, for a GPU machine without internet -> offline/ (ignored)
PYTHON_VERSION ?= 3.12
PLATFORM       ?= manylinux_2_28_x86_64
offline-bundle: install
	$(PY) -m gamlib.experiments.offline_bundle --python-version $(PYTHON_VERSION) --platform $(PLATFORM) \
		$(if $(PRESET),--preset $(PRESET))

# Tables 1 and 3 (and 2 on CUDA) with seeds, one command, resumable; prints a time estimate first.
#   make study PRESET=cpu     the CPU study (hours on 2 cores)     make study PRESET=paper   on one CUDA GPU
study: install
	$(PY) scripts/study.py $(if $(PRESET),--preset $(PRESET))

clean:
	rm -rf runs data/cache
