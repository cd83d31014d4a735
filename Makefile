# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run   - venv, install, migrate, load the demo estate, serve on :5000
#   make test  - install what tests need (chromium, CJK fonts), run unit and browser tests
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run test unit e2e bench translations messages install install-test system-deps clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(MAKE) -s translations

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(MAKE) -s translations

translations:
	$(BIN)/pybabel compile -d webapp/translations -f

# After adding user-facing strings: refresh the catalogs, then translate the new
# entries in webapp/translations/zh/LC_MESSAGES/messages.po.
messages: $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --no-wrap --sort-output -o webapp/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --no-wrap -i webapp/translations/messages.pot -d webapp/translations

# Debian's Chromium (Playwright cannot download its own) and CJK fonts for PDFs.
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

run: install
	$(BIN)/flask demo
	$(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - 'webapp:create_app()'

unit: install-test
	$(BIN)/python -m pytest -q tests

# Browser tests share two cores with the server and the browser: a timing failure is
# retried once, and the rerun is reported (pytest prints "rerun").
E2E_ARGS ?= --reruns 1

e2e: install-test system-deps
	$(BIN)/python -m pytest -q e2e $(E2E_ARGS)

test: install-test system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q e2e $(E2E_ARGS)

bench: install-test system-deps
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.floor
	$(BIN)/python -m bench.sync
	$(BIN)/python -m bench.routine
	$(BIN)/python -m bench.places
	$(BIN)/python -m bench.phone_data

clean:
	rm -rf $(VENV) instance .pytest_cache
