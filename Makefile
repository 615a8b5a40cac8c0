# presence: `make run` and `make test` set everything up from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit integration bench lint typecheck docs clean system-packages

$(BIN)/python:
	tools/bootstrap.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/presence run

system-packages:
	tests/system-packages.sh

test: $(STAMP) system-packages
	$(BIN)/python -m pytest tests

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP) system-packages
	$(BIN)/python -m pytest tests/integration

bench: $(STAMP) system-packages
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check presence tests benchmarks
	$(BIN)/ruff format --check presence tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

docs: $(STAMP)
	$(BIN)/python -m presence.settings.reference > docs/configuration.md
	$(BIN)/typer presence.cli.app utils docs --name presence --title "CLI reference" --output docs/cli.md
	$(BIN)/python -m presence.install.service_files systemd

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
