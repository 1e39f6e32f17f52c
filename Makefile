# Placewise: `make run` sets up and serves the demo; `make test` sets up and runs the checks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck worker migrate demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

migrate: $(STAMP)
	DEBUG=true $(BIN)/placewise migrate --no-input -v 0

demo: migrate
	DEBUG=true $(BIN)/placewise load_demo

# Serves on 127.0.0.1:$(PORT) with a background worker for imports; Ctrl-C stops both.
run: demo
	@echo "Placewise on http://127.0.0.1:$(PORT)/ (worker started for background imports)"
	@DEBUG=true $(BIN)/placewise db_worker --no-reload --interval 0.5 -v 0 & WORKER=$$!; \
	trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	DEBUG=true $(BIN)/placewise runserver 127.0.0.1:$(PORT) --noreload

worker: $(STAMP)
	DEBUG=true $(BIN)/placewise db_worker

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

format: $(STAMP)
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

typecheck: $(STAMP)
	DEBUG=true $(BIN)/mypy src/placewise

# The browser journeys run when Debian's chromium is installed and skip otherwise.
test: $(STAMP) lint typecheck
	DEBUG=true $(BIN)/placewise makemigrations --check --dry-run -v 0
	$(BIN)/pytest

bench: demo
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_pages.py

clean:
	rm -rf $(VENV) var .pytest_cache
