# Two commands: `make demo` and `make test`. Both install what they need into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
export AETH_DATA_DIR ?= $(CURDIR)/.aeth
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
PACKAGES := aetherius knowledge collectors tasks bot prompts

.PHONY: install demo test lint unit bench clean peers

$(STAMP): pyproject.toml
	scripts/install.sh $(PYTHON) $(VENV)
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/aeth demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/lint-imports

peers:
	scripts/install-peers.sh

test: lint peers
	$(BIN)/python -m pytest

unit: install
	$(BIN)/python -m pytest tests/unit -q

bench: install
	$(BIN)/python benchmarks/diagnose.py
	$(BIN)/python benchmarks/similarity.py
	$(BIN)/python benchmarks/casestore.py
	$(BIN)/python benchmarks/inputs.py

clean:
	rm -rf $(VENV) .aeth build *.egg-info
