# Two commands do everything on a fresh machine with Python 3.11 and Node/npm: `make synth` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
EMULATOR := .venv-emulator
NODE_BIN := $(CURDIR)/node_modules/.bin
# jsii (the CDK's Python bridge) and the CDK CLI run on the pinned Node 22 from package.json, not the system's.
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
ENV ?=
CDK_ENV := $(if $(ENV),-c env=$(ENV),)

.PHONY: install synth check test test-fast rehearse plan deploy diff destroy clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-emulator.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-emulator.txt
	@# The `tailor` command runs this checkout's code (no package build, so nothing goes stale).
	printf '#!/bin/sh\nPYTHONPATH="%s$${PYTHONPATH:+:$$PYTHONPATH}" exec "%s" -m tailor.cli "$$@"\n' "$(CURDIR)" "$(CURDIR)/$(VENV)/bin/python" > $(VENV)/bin/tailor
	chmod +x $(VENV)/bin/tailor
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install
	rm -rf cdk.out
	@# The CLI's own progress lines go to stderr with its errors: only those two are dropped.
	cdk synth -q $(CDK_ENV) 2> >(grep -v -e '^Successfully synthesized to' -e '^Supply a stack id' -e '^$$' >&2)
	cfn-lint --non-zero-exit-code error -- cdk.out/*.template.json
	tailor plan --from-dir cdk.out

plan: install
	tailor plan $(ENV)

# Format, lint and types first: they take seconds and a violation fails the whole run.
check: install
	ruff format --check --quiet .
	ruff check --quiet .
	mypy

# The rehearsal tier's runs start with the session and go on while the other tiers run (tests/rehearsal/runs.py).
test: check $(EMULATOR)/.installed
	$(VENV)/bin/python -m pytest -n 2

# Everything but the rehearsal tier (which deploys into the emulator and takes minutes): for local iteration.
test-fast: check
	$(VENV)/bin/python -m pytest -n 2 -m "not rehearsal"

# The whole lifecycle on a local AWS emulator with the pinned CDK CLI: see README "The rehearsal".
rehearse: install $(EMULATOR)/.installed
	@test -n "$(ENV)" || { echo "usage: make rehearse ENV=<environment>"; exit 2; }
	$(VENV)/bin/python -m rehearsal $(ENV)

# The emulator pins an older botocore than Tailor's, so it lives in a virtual environment of its own.
$(EMULATOR)/.installed: requirements-emulator.txt
	$(PYTHON) -m venv $(EMULATOR)
	$(EMULATOR)/bin/pip install --quiet --disable-pip-version-check -r requirements-emulator.txt
	touch $@

# deploy and destroy check ENV before anything else runs: no install or synth for a usage error.
deploy:
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=<environment>, one of: $(basename $(notdir $(wildcard config/*.yaml)))" >&2; exit 2; }
	@$(MAKE) --no-print-directory synth ENV=$(ENV)
	@# What this deploy starts, stops, buys and deletes, against what is deployed; asks unless YES=1 or CI is set.
	tailor preview $(ENV) --confirm $(if $(YES),--yes,)
	cdk deploy $(CDK_ENV) --app cdk.out --all --require-approval broadening
	@tailor status $(ENV) || true

diff: install
	cdk diff $(CDK_ENV)

destroy:
	@test -n "$(ENV)" || { echo "usage: make destroy ENV=<environment>, one of: $(basename $(notdir $(wildcard config/*.yaml)))" >&2; exit 2; }
	@$(MAKE) --no-print-directory install
	cdk destroy $(CDK_ENV) --all

clean:
	rm -rf cdk.out .pytest_cache .hypothesis .build .rehearsal
