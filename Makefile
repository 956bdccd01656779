# Course package: one virtual environment, pinned by requirements-lock.txt.
# `make demo` and `make test` each set the environment up first.

PYTHON ?= python3
VENV ?= .venv
VENV_ABS := $(abspath $(VENV))
BIN := $(VENV_ABS)/bin
LOCK := requirements-lock.txt
STAMP := $(VENV_ABS)/.evalib-lock-$(shell cat $(LOCK) pyproject.toml | sha256sum | cut -c1-16)
PYTEST_ARGS ?=
SUBMISSIONS ?= autograders/samples/submissions
FEEDBACK ?= graded
WORKERS ?=

# nbgrader runs helper programs (alembic, jupyter) from the environment's bin.
export PATH := $(BIN):$(PATH)
export MPLBACKEND := Agg
export PYTHONUNBUFFERED := 1

.PHONY: setup chromium demo test lab release grade bench lock clean

setup: $(STAMP)
	@$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e . >/dev/null

$(STAMP): $(LOCK) pyproject.toml
	@echo "==> creating the virtual environment in $(VENV) (first run: about 3 minutes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV_ABS)
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 or newer is needed"'
	$(BIN)/python -m pip install -q --upgrade "pip>=23" "setuptools>=61" wheel
	$(BIN)/python -m pip install -q -r $(LOCK)
	@rm -f $(VENV_ABS)/.evalib-lock-*
	@touch $(STAMP)

demo: setup
	$(BIN)/python -m evalib.demo
	$(BIN)/python -m autograders lessons
	$(BIN)/python -m autograders demo

# The browser tests drive Debian's chromium; as root, install it when it is missing.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> installing Debian's chromium for the browser tests (apt-get, about a minute)"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
	        || echo "    could not install chromium: the browser tests will skip (run: sudo apt-get install chromium)"; \
	else echo "==> chromium is missing and this is not root: the browser tests will skip (run: sudo apt-get install chromium)"; fi

test: setup chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=.

# FEEDBACK=graded (default): checks never confirm a closed answer; FEEDBACK=practice: right or wrong, hints, solutions.
release: setup
	$(BIN)/python -m autograders release --feedback $(FEEDBACK)

grade: setup
	$(BIN)/python -m autograders grade $(SUBMISSIONS) $(if $(WORKERS),--workers $(WORKERS))

# bench_grading.py takes 20 to 30 minutes on 2 cores; run again after an interruption, it goes on where it stopped.
bench: setup
	$(BIN)/python benchmarks/bench_warm_start.py
	$(BIN)/python benchmarks/bench_grading.py
	$(BIN)/python benchmarks/bench_notebooks.py
	$(BIN)/python benchmarks/bench_mnist_one_epoch.py

lock: setup
	$(BIN)/python -m pip install -q -r requirements-dev.in
	$(BIN)/python -m pip freeze --exclude-editable | grep -v "^evalib" > $(LOCK)

clean:
	rm -rf build .pytest_cache .hypothesis
