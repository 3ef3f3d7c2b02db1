# Reelboard — the README's commands. Everything installs into .venv from the project's files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
PG_TEST_URL ?= $(TEST_DATABASE_URL)

.PHONY: run worker test test-sqlite test-postgres bench contact-sheets lint install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## run: set up everything and serve on http://127.0.0.1:5000 with the background worker embedded
## (which renders the template previews in the background)
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty --no-previews
	EMBEDDED_WORKER=1 PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) run --host 127.0.0.1 --port $(PORT)

## worker: the background jobs alone (production runs one or more of these)
worker: install
	$(FLASK) worker

## test: the whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set
test: install-dev test-sqlite test-postgres

test-sqlite: install-dev
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -q -p no:cacheprovider

test-postgres: install-dev
	@if [ -n "$(PG_TEST_URL)" ]; then \
		echo "== again on PostgreSQL: $(PG_TEST_URL)"; \
		TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/python -m pytest -q -p no:cacheprovider -m "not sqlite_only and not browser and not render"; \
	else echo "== TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

## bench: benchmarks; results written to BENCHMARKS.md
bench: install-dev
	$(BIN)/python -m bench --markdown BENCHMARKS.md

## contact-sheets: every template in every aspect ratio, rendered and laid out in docs/contact-*.png
contact-sheets: install-dev
	$(BIN)/python -m bench.contact_sheets --out docs

lint: install-dev
	$(BIN)/ruff check webapp tests bench
