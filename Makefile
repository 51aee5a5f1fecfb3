# msr-cache: `make up` deploys (or, on the dev stack, renders) one cache; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
MOTO_VENV := .venv-moto
# The policy pack's own virtualenv, the one policy/PulumiPolicy.yaml names: the Pulumi CLI runs a
# local pack with <virtualenv>/bin/python and installs nothing into it.
POLICY_VENV := policy/venv
LOCK_VENV := .venv-lock
STACK ?= dev
# The Pulumi project `make render` renders: this one, or an example (PROJECT=examples/fleet).
PROJECT ?= .

.PHONY: up preview fleet test test-cluster registry-tools toolchain toolchain-probe cluster lint \
	actionlint shellcheck render render-diff bench bench-fleet docs lock clean

# Every virtualenv is installed from lock files: every package pinned, with its hashes
# (pip-compile output of the requirements*.txt beside them, which keep the ranges; `make lock`).
INSTALL = -m pip install --quiet --require-hashes

# The virtualenv is the one Pulumi.yaml names, so `pulumi up` and the tests share it: the
# program's and the component's lock, and the dev tools' (which holds the same pins and more).
$(VENV)/.installed: requirements.lock requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) $(INSTALL) -r requirements.lock -r requirements-dev.lock
	touch $@

$(POLICY_VENV)/.installed: policy/requirements.lock
	$(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python $(INSTALL) -r policy/requirements.lock
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.lock
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python $(INSTALL) -r requirements-checkov.lock
	touch $@

$(MOTO_VENV)/.installed: requirements-moto.lock
	$(PYTHON) -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/python $(INSTALL) -r requirements-moto.lock
	touch $@

# Regenerates the lock files from the requirements*.txt (their ranges): a package keeps its pin
# while its range allows it. Bump with UPGRADE: `make lock UPGRADE=--upgrade` (every package) or
# `make lock UPGRADE='--upgrade-package pulumi-kubernetes'`. The dev tools' lock is resolved
# first; the program's and the policy pack's take its versions, so every virtualenv agrees.
PIP_COMPILE = $(LOCK_VENV)/bin/pip-compile --quiet --allow-unsafe --generate-hashes --strip-extras \
	--no-emit-index-url --no-emit-find-links $(UPGRADE)
lock: $(LOCK_VENV)/.installed
	$(PIP_COMPILE) --output-file=requirements-dev.lock requirements-dev.txt
	$(PIP_COMPILE) --constraint=requirements-dev.lock --output-file=requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint=requirements-dev.lock --output-file=policy/requirements.lock \
	  policy/requirements.txt
	$(PIP_COMPILE) --output-file=requirements-checkov.lock requirements-checkov.txt
	$(PIP_COMPILE) --output-file=requirements-moto.lock requirements-moto.txt

$(LOCK_VENV)/.installed:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip-tools==7.6.2
	touch $@

# The real registry server and client that tests/registry/test_registry_server.py runs: Debian's
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

# The real Pulumi CLI, its language host and providers, and a Kubernetes control plane, built
# from their Go modules (toolchain/tools.toml) into a cache outside the work tree
# (~/.cache/msr-cache/toolchain, or $$MSR_CACHE_TOOLCHAIN); each tool is built once and stamped.
# Without Go the engine layer of the tests skips (fails under CI), saying what to install.
toolchain:
	@if command -v go >/dev/null; then $(PYTHON) -m toolchain build; else \
	  echo "go is missing: the engine layer of the tests (the real Pulumi CLI and API server) will skip."; \
	  echo "Install Go 1.26 (https://go.dev/doc/install), then run make toolchain."; \
	fi

# What the Go module proxy serves of each pinned tool: rewrites the table in docs/toolchain.md.
toolchain-probe:
	$(PYTHON) -m toolchain probe

# A real control plane on 127.0.0.1 (etcd, kube-apiserver, controller manager, scheduler and
# kwok's fake nodes, started by kwokctl) until Ctrl-C or SIGTERM, which stop it and remove its
# folder; it prints the KUBECONFIG to use.
cluster: $(VENV)/.installed toolchain
	PYTHONPATH=.:tests:tests/registry $(PY) tests/engine/cluster.py

# The engine layer's tests (tests/engine/test_pulumi_up.py) against the cluster of an existing
# kubeconfig instead of the one tests/engine/cluster.py starts: the e2e workflow runs them on kind, so
# the same assertions meet real kubelets and MSR's image. PYTEST_ARGS narrows them (-k ...).
test-cluster: $(VENV)/.installed $(POLICY_VENV)/.installed $(MOTO_VENV)/.installed registry-tools toolchain
	MSR_CACHE_KUBECONFIG=$${KUBECONFIG:-$$HOME/.kube/config} $(PY) -m pytest -n 0 \
	  tests/engine/test_pulumi_up.py $(PYTEST_ARGS)

# What make up, preview and render need, checked before they build anything (so their
# virtualenvs are made in the recipe, once the checks pass, not as prerequisites): the Pulumi
# CLI (not for render), and a Python the virtualenvs can be built with (pyproject.toml's
# requires-python; an older one fails deep in pip with no word of why).
#
# The CLI is the `pulumi` on PATH, else the one `make toolchain` built (python3 -m toolchain
# bin): make up and preview then run it with that bin/ first on PATH, so it finds the plugins
# built beside it (the language host, the providers), as the engine layer's tests run them.
# Each says which CLI it runs, its path and version, before running it. Recursive variables:
# only the recipes that use them look for the CLI.
TOOLCHAIN_BIN = $(shell $(PYTHON) -m toolchain bin 2>/dev/null)
PULUMI_ENV = $(if $(shell command -v pulumi 2>/dev/null),,$(if $(TOOLCHAIN_BIN),PATH='$(TOOLCHAIN_BIN)':"$$PATH"))
PULUMI = $(PULUMI_ENV) pulumi
NEED_PULUMI = cli=$$($(PULUMI_ENV) command -v pulumi) || { \
	  echo "make $@ needs the Pulumi CLI, which is not installed."; \
	  echo "Install it: curl -fsSL https://get.pulumi.com | sh   (or brew install pulumi/tap/pulumi)"; \
	  echo "See https://www.pulumi.com/docs/iac/download-install/ - then run make $@ again."; \
	  echo "Or build it from source with make toolchain (Go 1.26, docs/toolchain.md): make $@ uses it."; \
	  exit 1; }; \
	echo "make $@ runs the Pulumi CLI $$cli, $$($(PULUMI) version)$(if $(PULUMI_ENV), (built by make toolchain; none is on PATH))"
NEED_PYTHON = $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  found=$$($(PYTHON) --version 2>&1) || found=""; \
	  echo "make $@ needs Python 3.11 or later to build its virtualenvs; $(PYTHON) is $${found:-not installed}."; \
	  echo "Install one (e.g. sudo apt-get install python3.12, or https://www.python.org/downloads/),"; \
	  echo "then run make $@ PYTHON=python3.12 (or the name of yours)."; \
	  exit 1; }

# Deploys with the policy pack in policy/: a mandatory policy's violation stops `pulumi up` too.
up:
	@$(NEED_PULUMI)
	@$(NEED_PYTHON)
	@$(MAKE) --no-print-directory $(VENV)/.installed $(POLICY_VENV)/.installed
	$(PULUMI) stack select --create $(STACK)
	$(PULUMI) up --stack $(STACK) --policy-pack policy

# What `pulumi up` would do to the stack, checked by the policy pack in policy/.
preview:
	@$(NEED_PULUMI)
	@$(NEED_PYTHON)
	@$(MAKE) --no-print-directory $(VENV)/.installed $(POLICY_VENV)/.installed
	$(PULUMI) stack select --create $(STACK)
	$(PULUMI) preview --stack $(STACK) --policy-pack policy

# A fleet file's command over every cache's stack (docs/fleet.md), through the Automation API:
# make fleet ARGS="up fleet.yaml --concurrency 4" (check, preview, up, drift, destroy, status;
# --canary NAME, --json). Its CLI is found as make up's is; preview and up run the policy pack.
fleet: $(VENV)/.installed $(POLICY_VENV)/.installed
	$(PULUMI_ENV) $(PY) -m fleet $(ARGS)

# The policy pack's virtualenv too: a test starts the pack from it, as the Pulumi CLI does.
test: $(VENV)/.installed $(POLICY_VENV)/.installed $(CHECKOV_VENV)/.installed \
	$(MOTO_VENV)/.installed registry-tools toolchain lint
	$(PY) -m pytest

# ruff and pyright over the Python; then the workflows' linters: actionlint, which runs each
# `run:` script through shellcheck (as make runs the scripts in .github/); zizmor's audit, offline
# (with GH_TOKEN set, `make lint ZIZMOR_FLAGS=` adds its online audits); renovate.json against
# Renovate's schema; and the Markdown files' links: every relative link and #anchor resolves
# (md-dead-link-check, offline: [tool.md_dead_link_check] in pyproject.toml; --untrack checks
# pages not yet added to git too). Without Go or shellcheck, make says what to install and lints
# without it; under CI=true (.ci/run, test.yml) it fails instead.
ZIZMOR_FLAGS ?= --offline
lint: $(VENV)/.installed actionlint shellcheck
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(PY) -m pyright
	@if command -v go >/dev/null; then set -x; "$$($(PYTHON) -m toolchain bin)/actionlint"; fi
	@if command -v shellcheck >/dev/null; then set -x; shellcheck .github/*.sh; fi
	$(VENV)/bin/zizmor --quiet $(ZIZMOR_FLAGS) .github
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.renovate .github/renovate.json
	$(VENV)/bin/md-dead-link-check --untrack --no-color

# actionlint, built from its Go module as every Go-built tool is (toolchain/tools.toml).
actionlint:
	@if command -v go >/dev/null; then $(PYTHON) -m toolchain build actionlint; else \
	  echo "go is missing: make lint checks no workflow with actionlint."; \
	  echo "Install Go 1.26 (https://go.dev/doc/install), then run make lint."; \
	  test -z "$$CI"; \
	fi

# Debian bookworm's shellcheck, which actionlint runs: installed when it is not that version and
# make runs as root with apt-get (as CI does).
SHELLCHECK := 0.9.0
shellcheck:
	@if [ "$$(shellcheck --version 2>/dev/null | sed -n 's/^version: //p')" != "$(SHELLCHECK)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing shellcheck $(SHELLCHECK) (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends shellcheck=$(SHELLCHECK)-1 >/dev/null; \
	  else \
	    echo "shellcheck $(SHELLCHECK) is missing: make lint checks the shell scripts without it"; \
	    echo "(or with the shellcheck you have). Install it: sudo apt-get install shellcheck=$(SHELLCHECK)-1"; \
	    test -z "$$CI"; \
	  fi; \
	fi

# The manifests a stack would deploy, without the Pulumi CLI or a cluster: $(PROJECT)/rendered/$(STACK)/
# (the fleet's: make render PROJECT=examples/fleet STACK=example, a folder per cache).
render:
	@$(NEED_PYTHON)
	@$(MAKE) --no-print-directory $(VENV)/.installed
	$(PY) -m render $(STACK) --project-dir $(PROJECT)

# The manifest diff between a git ref and the working tree, as Markdown, of every stack of this
# project and of the Python examples: make render-diff BASE=main
render-diff: $(VENV)/.installed
	@test -n "$(BASE)" || { echo "usage: make render-diff BASE=<git ref>" >&2; exit 2; }
	@$(PY) -m render.diff $(BASE)

# The config reference (Pulumi.yaml's config block, the option tables of docs/configuration.md)
# from the registry of inputs in components/inputs/settings.py and MsrCacheArgs' docstrings; a test
# fails when it is stale.
docs: $(VENV)/.installed
	$(PY) -m reference

# Time per cache of MsrCache against registering the same resources bare (not a test).
bench: $(VENV)/.installed
	$(PY) bench/bench.py

# What a fleet's up and preview (fleet/run.py) cost at concurrency 1 and at N, under the real
# engine on a control plane of its own: N caches (CACHES, default 4; not a test).
bench-fleet: $(VENV)/.installed $(POLICY_VENV)/.installed toolchain
	$(PY) bench/fleet.py $(if $(CACHES),--caches $(CACHES))

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(MOTO_VENV) $(POLICY_VENV) $(LOCK_VENV) components/venv \
	  examples/fleet/venv .pytest_cache .ruff_cache .hypothesis manifests rendered examples/*/rendered
