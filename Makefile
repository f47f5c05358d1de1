# Proofsheet: `make run` starts the whole site on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test lint install install-dev system-test-deps clean lock

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt requirements.lock | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c requirements.lock
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt requirements.lock | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock
	touch $@ $(VENV)/.runtime-installed

## Pin every package, transitive ones included, from a fresh environment of the requirements.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	{ echo "# Every package, transitive ones included, at the version CI and 'make run' install (constraints)."; \
	  echo "# Regenerate with 'make lock' after changing requirements.txt or requirements-dev.txt."; \
	  .lock-venv/bin/pip freeze --disable-pip-version-check; } > requirements.lock
	rm -rf .lock-venv

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

## Start the site on http://127.0.0.1:5000 with SQLite, uploads and a mail sink under instance/.
run: install
	$(BIN)/flask serve

## Install what the tests need (Chromium and PostgreSQL from Debian when possible) and run them all.
test: install-dev
	bash scripts/install-test-system-deps.sh
	$(BIN)/pytest -n 2

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
