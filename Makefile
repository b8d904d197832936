# booksnap: `make help` lists the targets. Every target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

LOCK := requirements.lock

# The install compiles shared/walk.pyx (setup.py): say in one line what is missing for that.
define BUILD_CHECK
import os, shutil, sys, sysconfig
cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
headers = os.path.join(sysconfig.get_paths()["include"], "Python.h")
missing = [f"a C compiler ({cc})"] if shutil.which(cc) is None else []
missing += [] if os.path.exists(headers) else [f"the Python headers ({headers})"]
if missing:
    sys.exit("make install: booksnap compiles shared/walk.pyx and needs " + " and ".join(missing)
             + "; on Debian/Ubuntu: apt install build-essential python3-dev")
endef
export BUILD_CHECK

# Every dependency (runtime, test, dev, bench, the build backend and pip) comes from the lock,
# pinned exactly and checked against its sha256 hashes; booksnap itself is then installed
# without dependencies and without build isolation, so nothing unhashed is ever downloaded.
$(STAMP): $(LOCK) setup.cfg setup.py shared/walk.pyx Makefile
	@$(PYTHON) -c "$$BUILD_CHECK"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --only-binary=:all: -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

.PHONY: help install lock demo run test test-all lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install booksnap with its test, dev and benchmark tools

lock: $(STAMP) ## re-resolve setup.cfg's ranges (+ requirements.in) into requirements.lock with hashes
	$(BIN)/uv pip compile setup.cfg requirements.in --extra test --extra dev --extra bench \
		--generate-hashes --universal --python-version 3.11 --upgrade --quiet -o $(LOCK)

demo: $(STAMP) ## run simulator + collectors + writer + query on embedded defaults (Ctrl-C stops)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho -f Procfile.demo -e demo.env start

run: $(STAMP) ## run against live Binance (needs internet); settings from .env if present
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho -f Procfile start

test: $(STAMP) ## run the test suite (no network needed)
	$(BIN)/pytest -q

test-all: $(STAMP) ## the suite including the slow tests
	$(BIN)/pytest -q -m "not live"

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared booksnap collector writer query simulator benchmarks tests

format: $(STAMP) ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## measure everything and rewrite docs/benchmarks.md
	$(BIN)/python -m benchmarks

clean: ## remove the virtual environment and demo data
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
