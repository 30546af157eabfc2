# Everything runs from the project's own virtualenv (.venv), created from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export CHECKPOINT_DISABLE := 1

.PHONY: generate test lint check-generated clean

# Set up, then run the main job: render the module for the built-in example config.
generate: $(VENV)/.base
	$(BIN)/quilt-cross-account generate

# Set up with the test, CDKTF and import extras, then run every check CI runs.
test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/quilt-cross-account generate --check
	$(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[cdktf,import,test]'
	touch $@ $(VENV)/.base

clean:
	rm -rf $(VENV) cdktf.out node_modules .pytest_cache .ruff_cache
