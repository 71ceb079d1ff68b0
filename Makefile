# GFNCP Explorer: the two set-up commands.
#   make run    create .venv (once), install the pinned requirements (when they change), start the app
#   make test   same, plus the test tools and Chromium, then the whole pytest suite
#   make bench  run the speed benchmark (python -m gfncp.bench)
#   make clean  remove .venv and caches
#
# Installs are keyed by a hash of the files that define them: a second run with unchanged
# requirements installs nothing; editing requirements*.txt or pyproject.toml reinstalls.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
PIP      := $(PY) -m pip -q --disable-pip-version-check
# This machine's pip config lists file:// indexes that hold only some packages; pip warns
# once per other package. Drop just that line (pipefail keeps pip's exit status).
QUIET_PIP := 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
PORT     ?= 8501
ADDRESS  ?= localhost
CHROMIUM ?= /usr/bin/chromium

# Tiny sequential tensor work: one intra-op thread is fastest, and the machine is shared.
export OMP_NUM_THREADS ?= 1

# The hash also covers whether gfncp/__init__.py exists: an editable install made before it
# existed maps gfncp as a namespace package and must be redone.
hash_of = $(firstword $(shell { cat $(1); echo "$(wildcard gfncp/__init__.py)"; } 2>/dev/null | sha256sum))
RUN_HASH := $(call hash_of,requirements.txt pyproject.toml)
DEV_HASH := $(call hash_of,requirements.txt pyproject.toml requirements-dev.txt)
RUN_STAMP := $(VENV)/.installed-run-$(shell echo $(RUN_HASH) | cut -c1-16)
DEV_STAMP := $(VENV)/.installed-dev-$(shell echo $(DEV_HASH) | cut -c1-16)

# Root installs system packages directly; anyone else goes through sudo if there is one.
SUDO := $(shell [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null && echo sudo; })

.PHONY: help venv install install-dev run test bench clean

help:
	@echo "make run    start the app on http://$(ADDRESS):$(PORT) (PORT=... to change)"
	@echo "make test   run the whole test suite (library, pages, headless-browser)"
	@echo "make bench  run the speed benchmark (python -m gfncp.bench)"
	@echo "make clean  remove .venv and caches"

# A venv whose interpreter does not start (e.g. the base Python moved) is rebuilt.
$(PY):
	@if [ -d $(VENV) ] && ! $(PY) -c '' 2>/dev/null; then echo "Rebuilding broken $(VENV)"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)

venv: $(PY)

$(RUN_STAMP): | $(PY)
	@echo "Installing runtime requirements into $(VENV) ..."
	@$(PIP) install -r requirements.txt $(QUIET_PIP)
	@$(PIP) install --no-deps -e . $(QUIET_PIP)
	@rm -f $(VENV)/.installed-run-*
	@touch $@

$(DEV_STAMP): $(RUN_STAMP)
	@echo "Installing test requirements into $(VENV) ..."
	@$(PIP) install -r requirements-dev.txt $(QUIET_PIP)
	@rm -f $(VENV)/.installed-dev-*
	@touch $@

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

# Browser tests drive the Debian Chromium through playwright (`playwright install` cannot
# download browsers here). They are part of the suite: no Chromium is an error.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "ERROR: $(CHROMIUM) is missing and apt-get is unavailable: install Chromium so that $(CHROMIUM) exists, then rerun make test." >&2; exit 1; }
	@echo "Installing Chromium with apt-get ..."
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null
	@test -x $(CHROMIUM) || { echo "ERROR: apt-get installed chromium but $(CHROMIUM) does not exist." >&2; exit 1; }

run: $(RUN_STAMP)
	$(PY) -m gfncp.ui.launch --server.port $(PORT) --server.address $(ADDRESS)

test: $(DEV_STAMP) $(CHROMIUM)
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(RUN_STAMP)
	$(PY) -m gfncp.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info tests/artifacts
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
