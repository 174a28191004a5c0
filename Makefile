# The two set-up-and-run commands of the Quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean setup system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Debian packages the real-part tests start: redis-server and chromium (root or sudo).
system-deps:
	bash scripts/install-system-deps.sh

demo: $(STAMP)
	$(BIN)/quality demo

test: $(STAMP)
	bash scripts/install-system-deps.sh
	$(BIN)/python -m pytest -n 2 tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache quality-demo

## Benchmarks (scripts that print medians and ratios; not part of the test suite).
bench: $(STAMP)
	$(BIN)/python benchmarks/handlers_bench.py --messages 20000 --repeat 3
	$(BIN)/python benchmarks/simulate_bench.py
	$(BIN)/python benchmarks/audit_bench.py --events 1000000 --repeat 3
	$(BIN)/python benchmarks/lint_bench.py --files 2000 --runs 3
