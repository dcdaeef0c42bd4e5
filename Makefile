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

# The CDK CLI pinned in package-lock.json, with the venv's python first on PATH; extra arguments through
# CDK_ARGS, e.g. `make deploy CDK_ARGS="-c alarm_email=ops@example.com"`.
CDK := PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install cdk
CDK_ARGS ?=

.PHONY: help install test unit integration infra chaos lint format typecheck synth diff deploy destroy demo validate schema bench bench-burst clean

help:
	@echo "make demo          run the example triggers.yaml end to end on an embedded AWS emulator"
	@echo "make test          install, lint, type-check, unit + integration + infra tests, cdk synth"
	@echo "make unit          unit tests (tests/unit)"
	@echo "make integration   integration tests against moto's server over HTTP (tests/integration)"
	@echo "make infra         infrastructure tests: synthesized template, cfn-lint, cdk-nag (tests/infra)"
	@echo "make lint          ruff check and ruff format --check"
	@echo "make format        ruff: apply lint fixes and format, then show what is left to fix by hand"
	@echo "make typecheck     mypy --strict"
	@echo "make validate      gluetrigger validate --config triggers.yaml"
	@echo "make schema        regenerate schema/triggers.schema.json (the JSON Schema editors check triggers.yaml with)"
	@echo "make synth         synthesize the CDK stack into cdk.out/"
	@echo "make diff          cdk diff against the deployed stack (AWS credentials; CDK_ARGS=...)"
	@echo "make deploy        cdk deploy (AWS credentials; CDK_ARGS=\"-c alarm_email=...\")"
	@echo "make destroy       cdk destroy (AWS credentials; CDK_ARGS=--force skips the question)"
	@echo "make chaos         2,000 events through faults and killed workers, then 10,000+ fuzzed inputs per target"
	@echo "make bench         cold start, CPU, memory, matching, synth and asset figures: bench/results.json"
	@echo "make bench-burst   a burst of 2,000 files through batching on and off (about 20 minutes)"
	@echo "make install       create .venv/ and node_modules/ from the pinned requirements"
	@echo "make clean         remove cdk.out/ and tool caches"

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

# Fixes first (silently: what cannot be fixed is reported at the end), so that the formatter has
# the last word on layout, and `make lint` passes after `make format` unless something needs a human.
format: $(STAMP)
	$(BIN)/ruff check --fix --silent --exit-zero .
	$(BIN)/ruff format .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile tests/integration

infra: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile tests/infra

test: install lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadfile
	$(MAKE) --no-print-directory synth

validate: $(STAMP)
	$(BIN)/gluetrigger validate --config triggers.yaml

schema: $(STAMP)
	$(BIN)/gluetrigger schema --output schema/triggers.schema.json

synth: install
	$(CDK) synth --quiet >/dev/null
	@echo "cdk synth OK: $$(ls cdk.out/*.template.json | wc -l) template(s) in cdk.out/"

diff: install
	$(CDK) diff $(CDK_ARGS)

deploy: install
	$(CDK) deploy $(CDK_ARGS)

destroy: install
	$(CDK) destroy $(CDK_ARGS)

demo: $(STAMP)
	$(BIN)/gluetrigger local --config triggers.yaml --once

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache .hypothesis

# The long versions of what `make test` runs short: the chaos suite at 2,000 events (about 6 minutes on
# 2 cores), the fuzz tests with at least 10,000 examples each, and 100 files for a job with one run
# slot (about 7 minutes).
CHAOS_ARGS ?= --events 2000 --fault-rate 0.2 --workers 6 --seed 7
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)
	HYPOTHESIS_PROFILE=chaos $(BIN)/pytest -q -n 2 -k fuzz tests/unit tests/integration
	GLUETRIGGER_BURST_FILES=100 $(BIN)/pytest -q -n 0 -k burst_for tests/integration/test_backpressure.py
	GLUETRIGGER_BATCH_FILES=2000 $(BIN)/pytest -q -n 0 -k burst tests/integration/test_batching.py
	GLUETRIGGER_BURST_FILES=100 GLUETRIGGER_BATCH_FILES=2000 $(BIN)/pytest -q -n 0 -k "burst" tests/integration/test_local_mode.py

# Every figure but the burst (about 10 minutes on 2 cores): writes bench/results.json and prints the
# table the README quotes. The burst takes about 20 minutes more: `make bench-burst`
# (BENCH_BURST_FILES=2000 by default).
bench: $(STAMP) node_modules/.package-lock.json
	$(BIN)/python bench/run.py

bench-burst: $(STAMP)
	$(BIN)/python bench/run.py --burst
