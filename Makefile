# The two commands a newcomer needs (both set everything up on a fresh machine):
#   make run    - run Learnbot (the console chat when no Slack/Teams credentials are set)
#   make test   - lint, type-check, architecture contracts, tests on SQLite and PostgreSQL
# After changing dependencies in pyproject.toml:
#   make lock   - resolve requirements.lock (runtime, used by the Dockerfile) and
#                 requirements-dev.lock (runtime + dev, used here), with hashes, keeping the
#                 versions already pinned; commit both. `make lock UPGRADE=1` moves every
#                 package to its newest allowed version.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
LOCK_VENV := .venv-lock
UV_VERSION ?= 0.13.9
UPGRADE ?=
# One resolution for every supported Python (3.11-3.13) and platform, hashes for every file.
UV_COMPILE = $(LOCK_VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet

.PHONY: run test install bench lock catalogues extract-messages
PO_FILES := $(wildcard bot/locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(BIN)/.installed: pyproject.toml $(LOCK) $(DEV_LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Learnbot needs Python 3.11 or newer")'
	@$(PYTHON) tools/check_lock.py $(LOCK) $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

install: $(BIN)/.installed catalogues

# Compiled catalogues (.mo) are built from the committed .po files, never committed.
catalogues: $(MO_FILES)

bot/locale/%/LC_MESSAGES/messages.mo: bot/locale/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing user-facing text: refresh the template and the catalogues, then translate
# the new entries (docs/translations.md).
extract-messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header --no-wrap -o bot/locale/messages.pot .
	$(BIN)/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --ignore-obsolete --no-fuzzy-matching --no-wrap

run: $(BIN)/.installed catalogues
	$(BIN)/learnbot start

test: $(BIN)/.installed catalogues
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q
	DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -q

bench: $(BIN)/.installed catalogues
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

$(LOCK_VENV)/bin/uv:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)

# The dev lock is resolved with the runtime lock as constraints, so the Docker image and
# `make test` run the same versions of every package they share.
lock: $(LOCK_VENV)/bin/uv
	$(UV_COMPILE) $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(UV_COMPILE) --extra dev --constraint $(LOCK) -o $(DEV_LOCK)
	$(PYTHON) tools/check_lock.py $(LOCK) $(DEV_LOCK)
