# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run   - venv, install, migrate, load the demo estate, serve on :5000 (and the worker)
#   make test  - install what tests need (chromium, CJK fonts), run unit and browser tests
# Production: make serve - install, migrate, then gunicorn behind Caddy (HTTPS), no demo
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run serve test unit e2e bench translations messages install install-test system-deps \
	caddy-deps clean

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

# Debian's Caddy for `make serve` and the HTTPS browser test. Installing the package also
# starts its own service on ports 80 and 443 (/etc/caddy/Caddyfile): that one is switched
# off, since deploy/serve.sh runs Caddy with deploy/Caddyfile.
caddy-deps:
	@if ! command -v caddy >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq caddy; \
	  $$SUDO systemctl disable --now caddy.service >/dev/null 2>&1 || true; \
	fi

# Debian's Chromium (Playwright cannot download its own), CJK fonts for PDFs, Caddy and
# NSS's certutil (the browser trusts Caddy's test CA) for the HTTPS test.
system-deps: caddy-deps
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	command -v certutil >/dev/null || missing="$$missing libnss3-tools"; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# The delivery worker (webapp/worker.py) runs beside gunicorn and stops with it.
run: install
	$(BIN)/flask demo
	$(BIN)/flask worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - 'webapp:create_app()'

# Production (docs/DEPLOY.md): no demo data; configured by instance/config.py and WUYE_*.
serve: install caddy-deps
	$(BIN)/flask migrate
	deploy/serve.sh

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

# Every benchmark runs and writes its section; a missed target fails the whole at the end.
BENCHES := run floor sync routine places phone_data notify notify_scan figures_home report_pdf figures_repairs figures_service

bench: install-test system-deps
	@status=0; for b in $(BENCHES); do \
	  echo "$(BIN)/python -m bench.$$b"; $(BIN)/python -m bench.$$b || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) instance .pytest_cache
