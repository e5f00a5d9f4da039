# Two jobs from a fresh clone: `make atlas` builds the Essen atlas, `make test` runs every test.
# Both create (or reuse) the virtual environment .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: atlas test lint bench docs clean-venv

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

atlas: $(STAMP)
	$(BIN)/gis-planning atlas -o maps/essen_atlas.html --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check gis_planning tests benchmarks docs/conf.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks

docs: $(STAMP)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

clean-venv:
	rm -rf $(VENV)
