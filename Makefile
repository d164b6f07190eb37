# HazardFlow. `make run` and `make test` are the quick start; both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test soak lint format bench conformance interop clean translations migration

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

CATALOGS := $(patsubst %.po,%.mo,$(wildcard webui/translations/*/LC_MESSAGES/messages.po))

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

install: $(STAMP) $(CATALOGS)

# A new database gets the demo organisation and a year of demo cases (the figures, the map).
run: install
	$(BIN)/hazardflow setup --demo-cases 1500
	$(BIN)/hazardflow serve

# The whole suite on SQLite, and on PostgreSQL too when HAZARDFLOW_TEST_PG_URL is set.
test: install
	$(BIN)/pytest -n 2 --dist loadgroup --durations=25

# The long reliability runs of docs/reliability.md, on SQLite and PostgreSQL (the local test
# server unless HAZARDFLOW_TEST_PG_URL names another): RACE_ROUNDS (1,000) of each race and
# SOAK_LIFECYCLES (200) hazard lifecycles under random SIGKILLs. Figures: test-output/reliability/.
SOAK_PG_URL := postgresql+psycopg://postgres@127.0.0.1:5432/test
soak: install
	HAZARDFLOW_TEST_PG_URL="$${HAZARDFLOW_TEST_PG_URL:-$(SOAK_PG_URL)}" \
		$(BIN)/pytest -n 2 --dist loadgroup -m soak tests/reliability

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m benchmarks

# Every corpus process, plain SpiffWorkflow vs the engine (docs/conformance.md).
conformance: install
	$(BIN)/python -m tests.conformance $(if $(CORPUS),--corpus $(CORPUS))

# The interop corpus (files made with other modelers) through the engine: docs/interop.md.
interop: install
	$(BIN)/python -m tests.conformance.interop $(if $(CORPUS),--corpus $(CORPUS)) --write docs/interop.md

# After changing UI strings (or the engine's worded findings, engine/wording.py): extract,
# merge into the catalogs, translate the new entries.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k wording -o webui/translations/messages.pot webui engine
	$(BIN)/pybabel update -i webui/translations/messages.pot -d webui/translations

# After changing engine/models.py: a new Alembic revision, compared against a database at
# the newest revision (make migration MESSAGE="what changed"); read it before committing.
migration: install
	$(BIN)/hazardflow --config config.yaml db revision -m "$(or $(MESSAGE),schema change)"

clean:
	rm -rf var/hazardflow.db* var/data .pytest_cache
