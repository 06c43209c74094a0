# labelops: `make demo` serves a seeded demo; `make test` runs every gate.
# Both set everything up on a fresh machine (virtualenv, packages, browser assets, and
# Debian's chromium for the browser tests when run as root; otherwise one line says how).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit install clean bench chromium

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

# The browser tests drive a chromium: LABELOPS_CHROMIUM, else chromium / chromium-browser
# on the PATH (tests/web/web_support.py looks in the same order).
chromium:
	@if [ -n "$$LABELOPS_CHROMIUM" ]; then \
	  [ -x "$$LABELOPS_CHROMIUM" ] || { echo "make: LABELOPS_CHROMIUM=$$LABELOPS_CHROMIUM is not executable" >&2; exit 1; }; \
	elif command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make: installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "make: the browser tests need chromium: run 'sudo apt-get install chromium' (Debian) or set LABELOPS_CHROMIUM=/path/to/chromium" >&2; \
	  exit 1; \
	fi

demo: $(STAMP)
	$(BIN)/labelops demo --host '$(DEMO_HOST)' --port '$(PORT)'

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) node_modules/.installed chromium
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/queue.py --quick
	$(BIN)/python bench/aggregation.py

clean:
	rm -rf $(VENV) node_modules .labelops test-output
