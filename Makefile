# The project's front door: `make demo` and `make test` work on a fresh clone with only python3, node and npm.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_DEPRECATED := quiet
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install test unit integration infra lint typecheck synth demo validate bench clean

help:
	@echo "make demo       run the example triggers.yaml end to end"
	@echo "make test       lint, type-check, unit + integration + infra tests, cdk synth"
	@echo "make synth      synthesize the CDK stack into cdk.out/"
	@echo "make bench      cold-start and throughput figures"

install: $(STAMP) node_modules/.package-lock.json

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

test: install lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadfile
	$(MAKE) --no-print-directory synth

validate: $(STAMP)
	$(BIN)/gluetrigger validate --config triggers.yaml

synth: install
	PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install cdk synth --quiet >/dev/null
	@echo "cdk synth OK: $$(ls cdk.out/*.template.json | wc -l) template(s) in cdk.out/"

demo: $(STAMP)
	$(BIN)/gluetrigger local --config triggers.yaml --once

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache .hypothesis

bench: $(STAMP)
	$(BIN)/python bench/run.py
