# msr-cache: `make up` deploys (or, on the dev stack, renders) one cache; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: up test lint clean

# The virtualenv is the one Pulumi.yaml names, so `pulumi up` and the tests share it.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

up: $(VENV)/.installed
	@command -v pulumi >/dev/null || { \
	  echo "make up needs the Pulumi CLI, which is not installed."; \
	  echo "Install it: curl -fsSL https://get.pulumi.com | sh   (or brew install pulumi/tap/pulumi)"; \
	  echo "See https://www.pulumi.com/docs/iac/download-install/ - then run make up again."; \
	  exit 1; }
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK)

test: $(VENV)/.installed lint
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis manifests
