# paindiary — `make run` serves the API on SQLite; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes for make test (pytest-xdist); each has its own SQLite file and PostgreSQL database.
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install run serve migrate demo test lint fmt typecheck pytest audit openapi bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP) ## create .venv and install the project with its dev tools

migrate: $(STAMP) ## upgrade the database (PAINDIARY_DATABASE_URL, default ./var/paindiary.db)
	$(BIN)/paindiary migrate

run: migrate ## install, migrate and serve on http://127.0.0.1:8000 (docs at /docs)
	$(BIN)/paindiary serve --host $(HOST) --port $(PORT)

serve: run

demo: $(STAMP) ## migrate and seed a demo patient, clinician and ketamine series; prints logins
	$(BIN)/paindiary seed-demo

lint: $(STAMP) ## ruff check, ruff format --check and the import-layering contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP) ## format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP) ## mypy --strict
	$(BIN)/mypy

pytest: $(STAMP) ## the test suite on PYTEST_WORKERS processes (PostgreSQL too when TEST_DATABASE_URL is set)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

audit: $(STAMP) ## known vulnerabilities in the dependencies (pip-audit; allow-list in tools/audit_deps.py)
	$(BIN)/python tools/audit_deps.py

openapi: $(STAMP) ## rewrite the committed openapi.json from the app (after any API change)
	$(BIN)/python tools/openapi_snapshot.py

test: lint typecheck pytest audit ## everything CI runs: lint, types, tests, dependency audit

bench: $(STAMP) ## benchmarks, writes bench/RESULTS.md
	$(BIN)/python -m bench

clean: ## remove the virtualenv and caches (keeps ./var)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage .import_linter_cache
