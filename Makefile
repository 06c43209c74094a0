# labelops: `make demo` serves a seeded demo; `make test` runs every gate.
# Both set everything up on a fresh machine (virtualenv, packages, browser assets).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit install clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

node_modules/.installed: package.json
	@if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; \
	elif [ -f package.json ]; then npm install --silent --no-audit --no-fund; fi
	@mkdir -p node_modules && touch node_modules/.installed

# `make demo PORT=8080 HOST=0.0.0.0`. HOST is taken from the command line only: many
# shells export HOST as the machine's name, which must not decide what the demo binds to.
PORT ?= 8000
DEMO_HOST := $(if $(filter command line,$(origin HOST)),$(HOST),127.0.0.1)

demo: $(STAMP)
	$(BIN)/labelops demo --host '$(DEMO_HOST)' --port '$(PORT)'

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) node_modules/.installed
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/queue.py --quick
	$(BIN)/python bench/aggregation.py

clean:
	rm -rf $(VENV) node_modules .labelops test-output
