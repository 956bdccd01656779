# Course package: one virtual environment, pinned by requirements-lock.txt.
# `make demo` and `make test` each set the environment up first.

PYTHON ?= python3
VENV ?= .venv
VENV_ABS := $(abspath $(VENV))
BIN := $(VENV_ABS)/bin
LOCK := requirements-lock.txt
# The pinned packages are installed again only when the lock changes; evalib itself
# (an editable install) only when pyproject.toml or the checkout's folder changes.
STAMP := $(VENV_ABS)/.evalib-lock-$(shell cat $(LOCK) | sha256sum | cut -c1-16)
EDITABLE := $(VENV_ABS)/.evalib-editable-$(shell { cat pyproject.toml; echo "$(CURDIR)"; } | sha256sum | cut -c1-16)
# What pip and the other set-up steps print goes here; it is shown only when a step fails.
SETUP_LOG := $(VENV_ABS)/setup.log
PYTEST_ARGS ?=
SUBMISSIONS ?= autograders/samples/submissions
FEEDBACK ?= graded
WORKERS ?=
SCHEDULER ?=
COURSE_URL ?=

# nbgrader runs helper programs (alembic, jupyter) from the environment's bin.
export PATH := $(BIN):$(PATH)
export MPLBACKEND := Agg
export PYTHONUNBUFFERED := 1

# $(call quietly,what it does,command): one line on the terminal, the output in the log.
quietly = echo "==> $(1)"; { $(2); } >>$(SETUP_LOG) 2>&1 || { \
    echo "    failed: the last lines of $(SETUP_LOG) follow"; grep -v "is ignored" $(SETUP_LOG) | tail -n 30; exit 1; }

.PHONY: setup web-assets chromium demo test lab release grade site bench lock clean

setup: $(STAMP) $(EDITABLE) web-assets

$(STAMP): $(LOCK)
	@test -x $(BIN)/python || { echo "==> creating the virtual environment in $(VENV)"; $(PYTHON) -m venv $(VENV_ABS); }
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 or newer is needed"'
	@: > $(SETUP_LOG)
	@$(call quietly,upgrading pip and setuptools,$(BIN)/python -m pip install --upgrade "pip>=23" "setuptools>=77" wheel)
	@$(call quietly,installing the pinned packages of $(LOCK) (first run: about 3 minutes),$(BIN)/python -m pip install -r $(LOCK))
	@rm -f $(VENV_ABS)/.evalib-lock-*
	@touch $(STAMP)

$(EDITABLE): pyproject.toml $(STAMP)
	@$(call quietly,installing evalib from this checkout (editable),$(BIN)/python -m pip install --no-deps --no-build-isolation -e .)
	@rm -f $(VENV_ABS)/.evalib-editable-*
	@touch $(EDITABLE)

# The widget manager's script for the lesson pages, fetched once from the npm registry
# (pinned versions, checked by sha256) into a cache outside the clone.
web-assets: $(STAMP)
	@$(BIN)/python -m autograders.release.assets

demo: setup
	@echo "==> the lecture's arithmetic and the lecture network (evalib.demo)"
	@$(BIN)/python -m evalib.demo
	@$(BIN)/python -m autograders lessons
	@echo "==> releasing the assignments and grading the sample hand-ins"
	@$(BIN)/python -m autograders demo
	@echo ""
	@echo "Done. Look at:"
	@echo "  build/lessons/index.html   the five lessons with their figures and widgets (open it in a browser)"
	@echo "  build/grading/             grades.csv, report.txt and feedback/<student>.html for the sample hand-ins"
	@echo "Next: make lab               work through the lessons and assignments in JupyterLab"
	@echo "      make site COURSE_URL=https://...   the students' course site, in build/site/"

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

# The course site for students (build/site/): lessons, release notebooks, the evalib wheel.
site: setup
	@$(BIN)/python -m autograders site $(if $(COURSE_URL),--url "$(COURSE_URL)")

grade: setup
	$(BIN)/python -m autograders grade $(SUBMISSIONS) $(if $(WORKERS),--workers $(WORKERS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

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
