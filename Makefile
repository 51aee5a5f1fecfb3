# msr-cache: `make up` deploys (or, on the dev stack, renders) one cache; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
MOTO_VENV := .venv-moto
STACK ?= dev

.PHONY: up preview test registry-tools lint render render-diff bench docs clean

# The virtualenv is the one Pulumi.yaml names, so `pulumi up` and the tests share it.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

$(MOTO_VENV)/.installed: requirements-moto.txt
	$(PYTHON) -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install --quiet -r requirements-moto.txt
	touch $@

# The real registry server and client that tests/test_registry_server.py runs: Debian's
# docker-registry (distribution 2.8.2) and skopeo, installed when missing and `make test` runs as
# root with apt-get (as CI does). Elsewhere those tests skip, saying what to install.
registry-tools:
	@if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing docker-registry and skopeo (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends docker-registry skopeo >/dev/null; \
	  else \
	    echo "docker-registry or skopeo is missing: the registry server tests will skip."; \
	    echo "Install them: sudo apt-get install docker-registry skopeo"; \
	  fi; \
	fi

NEED_PULUMI = command -v pulumi >/dev/null || { \
	  echo "make $@ needs the Pulumi CLI, which is not installed."; \
	  echo "Install it: curl -fsSL https://get.pulumi.com | sh   (or brew install pulumi/tap/pulumi)"; \
	  echo "See https://www.pulumi.com/docs/iac/download-install/ - then run make $@ again."; \
	  exit 1; }

up: $(VENV)/.installed
	@$(NEED_PULUMI)
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK)

# What `pulumi up` would do to the stack, checked by the policy pack in policy/.
preview: $(VENV)/.installed
	@$(NEED_PULUMI)
	pulumi stack select --create $(STACK)
	pulumi preview --stack $(STACK) --policy-pack policy

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(MOTO_VENV)/.installed registry-tools lint
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(PY) -m pyright

# The manifests a stack would deploy, without the Pulumi CLI or a cluster: rendered/$(STACK)/.
render: $(VENV)/.installed
	$(PY) -m render $(STACK)

# The manifest diff between a git ref and the working tree, as Markdown: make render-diff BASE=main
render-diff: $(VENV)/.installed
	@test -n "$(BASE)" || { echo "usage: make render-diff BASE=<git ref>" >&2; exit 2; }
	@$(PY) -m render.diff $(BASE)

# The config reference (Pulumi.yaml's config block, the README's option tables) from the registry
# of inputs in components/settings.py and MsrCacheArgs' docstrings; a test fails when it is stale.
docs: $(VENV)/.installed
	$(PY) -m reference

# Time per cache of MsrCache against registering the same resources bare (not a test).
bench: $(VENV)/.installed
	$(PY) bench/bench.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(MOTO_VENV) components/venv examples/fleet/venv .pytest_cache .ruff_cache .hypothesis manifests rendered
