# The two commands a newcomer needs (both set everything up on a fresh machine):
#   make run    - run Learnbot (the console chat when no Slack/Teams credentials are set)
#   make test   - lint, type-check, architecture contracts, tests on SQLite and PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test install bench catalogues extract-messages
PO_FILES := $(wildcard bot/locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Learnbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
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
