# Proofsheet: `make run` starts the whole site on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test lint install install-dev system-test-deps clean lock messages catalogues compile-catalogues

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

install: $(VENV)/.runtime-installed compile-catalogues
install-dev: $(VENV)/.dev-installed compile-catalogues

## Translations (issue 18): app/translations/messages.pot and one messages.po a language are
## committed; the compiled messages.mo are built here (install, run and test depend on it) and
## never committed. Without them the site is in English.
LOCALES := sv fr de ru
TRANSLATIONS := app/translations
POT := $(TRANSLATIONS)/messages.pot
# What extraction reads (tests/test_translations.py extracts with the same options).
EXTRACT_OPTIONS := -F babel.cfg --no-location --add-comments=Translators: \
	-k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
	-k ngettext:1,2 -k pgettext:1c,2 -k npgettext:1c,2,3
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

## Extract every translatable string of app/ (babel.cfg) into the template catalogue.
messages: $(VENV)/.runtime-installed
	mkdir -p $(TRANSLATIONS)
	$(BIN)/pybabel --quiet extract $(EXTRACT_OPTIONS) --project=Proofsheet \
	  --copyright-holder=Proofsheet -o $(POT) .

## Bring each language's catalogue up to date with the template (creating it the first time).
catalogues: $(VENV)/.runtime-installed
	@for locale in $(LOCALES); do \
	  if [ -f $(TRANSLATIONS)/$$locale/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel --quiet update --ignore-obsolete -i $(POT) -d $(TRANSLATIONS) -l $$locale; \
	  else \
	    $(BIN)/pybabel --quiet init -i $(POT) -d $(TRANSLATIONS) -l $$locale; \
	  fi; \
	done

compile-catalogues: $(MO_FILES)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.runtime-installed
	$(BIN)/pybabel compile --statistics -i $< -o $@ -l $*

## Start the site on http://127.0.0.1:5000 with SQLite, uploads and a mail sink under instance/.
run: install
	$(BIN)/flask serve

## Install what the tests need (Chromium and PostgreSQL from Debian when possible), check the
## code (ruff's lint and format, mypy over app/) and run every test.
test: install-dev
	bash scripts/install-test-system-deps.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/mypy
	$(BIN)/pytest -n 2

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache
