# Civic311 — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app webapp
VENDOR := webapp/static/vendor
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?= -n 2 --durations=15
PORT ?= 5000
# Links in e-mail need the public address; for `make run` (and its migrate and seed) it is
# this machine unless PUBLIC_URL says otherwise. The tests set their own.
LOCAL_URL := PUBLIC_URL=$${PUBLIC_URL:-http://127.0.0.1:$(PORT)}

.PHONY: run run-city test install lighthouse-tool assets translations messages check-catalogs migrate seed lint test-sqlite test-postgres bench chaos chaos-postgres clean

run: install assets translations migrate seed  ## install, migrate, seed the demo city, serve on :$(PORT) (default 5000)
	$(LOCAL_URL) $(FLASK) run --host 127.0.0.1 --port $(PORT)

CITY ?= examples/evanston
CITY_INSTANCE = $(CURDIR)/instance/$(notdir $(CITY))

CITY_ENV = $(LOCAL_URL) INSTANCE_DIR=$(CITY_INSTANCE) DATABASE_URL=sqlite:///$(CITY_INSTANCE)/civic311.db

run-city: install assets translations  ## another city from its pack (CITY=path), in its own database, on :$(PORT)
	mkdir -p $(CITY_INSTANCE)
	$(CITY_ENV) $(FLASK) db upgrade
	$(CITY_ENV) $(FLASK) city apply $(CITY)
	$(CITY_ENV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install assets translations lighthouse-tool lint  ## the whole suite: SQLite, then PostgreSQL when it answers
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ] || $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ "$$CIVIC311_STRICT" = "1" ]; then \
		echo "PostgreSQL is required in CI but does not answer"; exit 1; \
	else \
		echo "SKIPPED: PostgreSQL tests (no server on 127.0.0.1:5432 and no TEST_DATABASE_URL)"; \
	fi

test-sqlite:
	$(PY) -m pytest --database=sqlite $(PYTEST_ARGS)

test-postgres:  ## unit and API tests again on PostgreSQL (browser tests run once, on SQLite)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$(PG_URL)} $(PY) -m pytest --database=postgres -m "not browser" $(PYTEST_ARGS)

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres,redis,s3]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lighthouse-tool: tools/lighthouse/node_modules/.installed  ## the pinned Lighthouse the accessibility audit runs

tools/lighthouse/node_modules/.installed: tools/lighthouse/package.json tools/lighthouse/package-lock.json
	cd tools/lighthouse && npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed  ## copy front-end libraries from node_modules into static/vendor
	@mkdir -p $(VENDOR)/leaflet
	@cp -R node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images $(VENDOR)/leaflet/

translations: $(VENV)/.installed  ## compile the message catalogs (.po -> .mo)
	$(VENV)/bin/pybabel compile --use-fuzzy -d webapp/translations

messages: $(VENV)/.installed  ## re-extract translatable strings into the catalogs (developers)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o webapp/translations/messages.pot webapp
	$(VENV)/bin/pybabel update -i webapp/translations/messages.pot -d webapp/translations
	$(PY) tools/check_catalogs.py --quiet || true

check-catalogs: $(VENV)/.installed  ## list missing and fuzzy messages per catalog (fails when any)
	$(PY) tools/check_catalogs.py

migrate: $(VENV)/.installed
	$(LOCAL_URL) $(FLASK) db upgrade

seed: $(VENV)/.installed
	$(LOCAL_URL) $(FLASK) seed-demo --if-empty

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check webapp tests bench tools/import_contracts.py tools/check_import_names.py tools/private_postgres.py tools/chaos_notifications.py
	$(VENV)/bin/lint-imports

CHAOS_ARGS ?=
chaos: install translations  ## kill the notification worker mid-send (not in `make test`; minutes): CHAOS_ARGS="--closures 100"
	$(PY) tools/chaos_notifications.py $(CHAOS_ARGS)

chaos-postgres: install translations  ## the same on a private PostgreSQL cluster (initdb, free port), restarted mid-run
	$(PY) tools/chaos_notifications.py --database postgres --restart-database $(CHAOS_ARGS)

bench: install assets  ## benchmarks print figures beside a baseline from the same run
	@for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules $(VENDOR) test-artifacts .pytest_cache
