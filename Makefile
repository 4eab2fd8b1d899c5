# intercom-zendesk-bridge: developer and CI entry points.
#
#   make demo    the scripted story, locally (moto + vendor simulators + `bridge serve`)
#   make test    everything CI checks: fmt, clippy, unused dependencies, module cycles, cargo tests (moto started by the tests), infra lint
#   make build   Lambda zips with cargo-lambda (arm64, or x86_64 when the arm64 std is unavailable)
#   make deploy  sam deploy of infra/template.yaml with the zips from `make build`
#
# No target calls a system package manager: the prerequisites (Rust via rustup, Python 3.11+ with
# its venv module, Node for `make test`; README.md, "Prerequisites") are the user's. Each target
# installs the pinned tools it needs, and only those: `make demo` needs moto in .venv and the
# pinned Rust toolchain; cfn-lint, the SAM translator, SAM CLI, npm packages, cargo-machete, cargo-lambda and the
# aarch64 std come with the targets that use them. Stamp files under .venv/.stamps make re-runs
# instant.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# ---- pinned tools (the versions verified on the build machines) ---------------------------------
PYTHON               ?= python3
MOTO_VERSION         := 5.2.5
WAITRESS_VERSION     := 3.0.2
CFN_LINT_VERSION     := 1.58.0
CARGO_LAMBDA_VERSION := 1.9.2
CARGO_MACHETE_VERSION := 0.9.2
SAM_TRANSLATOR_VERSION := 1.115.0
SAM_CLI_VERSION      := 1.170.0
RUST_CHANNEL         := $(shell sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
ARM64_TRIPLE         := aarch64-unknown-linux-gnu

VENV     := .venv
SAM_VENV := .venv-sam
STAMPS   := $(VENV)/.stamps
# moto's server (waitress serves its keep-alive variant): the demo, the cargo tests, the benchmarks.
MOTO_PINS  := 'moto[server]==$(MOTO_VERSION)' 'waitress==$(WAITRESS_VERSION)'
MOTO_STAMP := $(STAMPS)/pip-moto$(MOTO_VERSION)-waitress$(WAITRESS_VERSION)
# cfn-lint (lint-infra) and the SAM translator (rehearse), resolved together with moto's pins so
# that neither install moves the other's dependencies.
TOOLS_STAMP := $(STAMPS)/pip-tools-moto$(MOTO_VERSION)-waitress$(WAITRESS_VERSION)-cfnlint$(CFN_LINT_VERSION)-samtranslator$(SAM_TRANSLATOR_VERSION)
# cargo-lambda (with its zig): `make build` only.
LAMBDA_STAMP := $(STAMPS)/pip-cargolambda$(CARGO_LAMBDA_VERSION)
RUST_STAMP   := $(STAMPS)/rust-$(RUST_CHANNEL)
LINT_STAMP   := $(STAMPS)/rust-$(RUST_CHANNEL)-rustfmt-clippy
ARM64_STAMP  := $(STAMPS)/rust-$(RUST_CHANNEL)-$(ARM64_TRIPLE)
# cargo-machete (unused dependencies): built with `cargo install --locked` into cargo's bin
# folder ($CARGO_HOME/bin, where rustup puts cargo itself), so `cargo machete` finds it.
MACHETE_STAMP := $(STAMPS)/cargo-machete$(CARGO_MACHETE_VERSION)
SAM_STAMP  := $(SAM_VENV)/.stamp-sam$(SAM_CLI_VERSION)
SAM        := $(SAM_VENV)/bin/sam
# Printed when Python 3.11+ or its venv module is missing (Debian and Ubuntu ship venv apart).
PY_HELP := Debian/Ubuntu: sudo apt-get install python3-venv (with a python3 older than 3.11: \
  sudo apt-get install python3.11-venv, then make PYTHON=python3.11 ...); macOS: brew install python@3.12 \
  or the installer from python.org; any OS: PYTHON=/path/to/python3.11+ picks the interpreter.

# ---- project ------------------------------------------------------------------------------------
# Lambda functions that exist today (folder = package = binary = log group suffix).
FUNCTIONS  := intercom-webhook zendesk-webhook escalate ticket-intake ticket-status tag-sync csat-report profile-sync
TEMPLATE   := infra/template.yaml
# The YAML config baked into the zips as /var/task/bridge.yaml (used when ConfigBucket is empty).
CONFIG     ?= infra/config/escalate-conversation-to-zendesk.yaml
# Cargo's target directory (CARGO_TARGET_DIR, .cargo/config.toml, else ./target) as cargo reports
# it; asked once, and only by the recipes that use it.
TARGET_DIR = $(eval TARGET_DIR := $(or $(shell cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null),$(CURDIR)/target))$(TARGET_DIR)
# Where `make build` stages the zips: fixed, not under TARGET_DIR, because the template's CodeUris
# point there (../target/lambda-deploy/<function>/bootstrap.zip, checked by infra/check_template.py).
DEPLOY_DIR := target/lambda-deploy
SAMCONFIG  := $(CURDIR)/infra/samconfig.toml
# ARCH=auto picks arm64 when the aarch64 std is installed, else x86_64. Force with ARCH=x86_64.
ARCH       ?= auto
TIMINGS     = $(TARGET_DIR)/make-test-timings.txt
TEST_PHASES := setup fmt-check clippy unused-deps module-cycles test-rust lint-infra rehearse
# The stack rehearsal's IAM evaluator (npm, pinned by tests/rehearsal/iam/package-lock.json).
IAM_DIR    := tests/rehearsal/iam
IAM_STAMP  := $(IAM_DIR)/node_modules/.stamp

# ---- environment for every recipe ---------------------------------------------------------------
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_EC2_METADATA_DISABLED := true
export CARGO_TERM_COLOR ?= never
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup setup-demo setup-build setup-sam specs fmt-check clippy unused-deps module-cycles test-rust lint-infra rehearse test build demo \
        bench deploy chaos fuzz \
        clean distclean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

# ---- setup --------------------------------------------------------------------------------------
setup-demo: $(MOTO_STAMP) $(RUST_STAMP) ## what `make demo` needs: .venv with moto; the pinned Rust toolchain

setup: setup-demo $(TOOLS_STAMP) $(LINT_STAMP) ## what `make test` needs (+ cfn-lint, SAM translator, rustfmt, clippy; .venv-sam and npm come with their phases)

setup-build: $(LAMBDA_STAMP) $(ARM64_STAMP) ## what `make build` needs: cargo-lambda in .venv; the aarch64 std (optional)

setup-sam: $(SAM_STAMP) ## install SAM CLI into its own venv (.venv-sam; only lint-infra/deploy need it)

# The official OpenAPI files of the fidelity tests (tests/fidelity): downloaded, pinned by sha256,
# into $(TARGET_DIR)/openapi-specs unless found locally; offline, a note (the tests then skip).
specs: ## fetch the fidelity tests' OpenAPI files (scripts/fetch-specs.py, after its own tests)
	@$(PYTHON) scripts/test_fetch_specs.py -q
	@$(PYTHON) scripts/fetch-specs.py

# A venv (.venv, .venv-sam). Says what to install when Python 3.11+ or its venv module is missing
# (a failed `python3 -m venv` leaves a half-made folder: removed).
$(VENV)/bin/python $(SAM_VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: Python 3.11 or newer is needed as '$(PYTHON)' (found: $$($(PYTHON) --version 2>&1 || true))." >&2; \
	  echo "  $(PY_HELP)" >&2; exit 1; }
	@$(PYTHON) -m venv $(@:/bin/python=) || { rm -rf $(@:/bin/python=); \
	  echo "error: '$(PYTHON) -m venv' failed: this Python lacks the venv module (or its ensurepip)." >&2; \
	  echo "  $(PY_HELP)" >&2; exit 1; }
	$@ -m pip install -q --upgrade pip

$(MOTO_STAMP): | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q $(MOTO_PINS)
	@mkdir -p $(STAMPS) && rm -f $(STAMPS)/pip-moto* && touch $@

$(TOOLS_STAMP): $(MOTO_STAMP)
	$(VENV)/bin/python -m pip install -q $(MOTO_PINS) 'cfn-lint==$(CFN_LINT_VERSION)' \
	  'aws-sam-translator==$(SAM_TRANSLATOR_VERSION)'
	@rm -f $(STAMPS)/pip-tools-* && touch $@

$(LAMBDA_STAMP): | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q 'cargo-lambda==$(CARGO_LAMBDA_VERSION)'
	@mkdir -p $(STAMPS) && rm -f $(STAMPS)/pip-cargolambda* && touch $@

$(RUST_STAMP): | $(VENV)/bin/python
	@command -v rustup >/dev/null 2>&1 || { \
	  echo "error: rustup not found: install Rust with rustup (https://rustup.rs), then run make again." >&2; exit 1; }
	@# install the pinned toolchain only when missing: re-running `toolchain install` re-syncs it
	rustup run $(RUST_CHANNEL) rustc --version >/dev/null 2>&1 \
	  || rustup toolchain install $(RUST_CHANNEL) --profile minimal --component rustfmt,clippy
	@mkdir -p $(STAMPS) && touch $@

$(LINT_STAMP): $(RUST_STAMP)
	rustup component add rustfmt clippy
	@touch $@

$(MACHETE_STAMP): $(RUST_STAMP)
	@# reinstalls only when the installed version differs from the pin
	cargo machete --version 2>/dev/null | grep -qx '$(CARGO_MACHETE_VERSION)' \
	  || cargo install --locked --quiet 'cargo-machete@$(CARGO_MACHETE_VERSION)'
	@rm -f $(STAMPS)/cargo-machete* && touch $@

$(ARM64_STAMP): $(RUST_STAMP)
	@rustup target add $(ARM64_TRIPLE) \
	  || echo "warning: could not install the $(ARM64_TRIPLE) std; 'make build' will build x86_64" >&2
	@touch $@

# SAM pins its own boto3/aws-sam-translator; a separate venv keeps moto's versions intact.
$(SAM_STAMP): | $(SAM_VENV)/bin/python
	$(SAM_VENV)/bin/python -m pip install -q 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@rm -f $(SAM_VENV)/.stamp-sam* && touch $@

# ---- checks -------------------------------------------------------------------------------------
fmt-check: $(LINT_STAMP) ## cargo fmt --check
	cargo fmt --all -- --check

clippy: $(LINT_STAMP) ## clippy on every target, warnings denied
	cargo clippy --workspace --all-targets -- -D warnings

unused-deps: $(MACHETE_STAMP) ## cargo machete: no dependency declared and unused
	cargo machete

module-cycles: ## no module cycles inside any crate (scripts/module_cycles.py, after its own tests)
	$(PYTHON) scripts/test_module_cycles.py && $(PYTHON) scripts/module_cycles.py

test-rust: $(MOTO_STAMP) $(RUST_STAMP) specs ## cargo test --workspace but the rehearsal (dev profile; tests start .venv/bin/moto_server)
	cargo test --workspace --exclude bridge-rehearsal

$(IAM_STAMP): $(IAM_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm not found: install Node.js 20+ with npm" \
	  "(Debian/Ubuntu: sudo apt-get install nodejs npm; macOS: brew install node)." >&2; exit 1; }
	npm ci --prefix $(IAM_DIR) --no-audit --no-fund --loglevel=error
	@touch $@

# The deployed stack run locally: infra/template.yaml deployed on moto (IAM enforced), each
# function's binary as its own process with its template environment and role, every AWS call
# checked against that role (tests/rehearsal). REHEARSAL_RECORD=1 adds new calls to
# infra/iam-calls.json instead of failing on them.
# The functions run with release semantics: the `rehearse` cargo profile (Cargo.toml) is
# `release` (panic = "abort", no debug assertions, no overflow checks) without LTO or
# optimisation, into <target>/rehearse. REHEARSE_PROFILE=release runs the deployed optimised
# build (slower to build); REHEARSE_PROFILE=dev the debug build.
REHEARSE_PROFILE ?= rehearse
rehearse: $(TOOLS_STAMP) $(RUST_STAMP) $(IAM_STAMP) ## the stack rehearsal (~1 min warm)
	cargo build --quiet --profile $(REHEARSE_PROFILE) $(addprefix -p ,$(FUNCTIONS)) -p bridge-cli
	target=$$(cargo metadata --format-version 1 --no-deps | $(VENV)/bin/python -c \
	  'import json,sys; print(json.load(sys.stdin)["target_directory"])'); \
	profile_dir=$$([ '$(REHEARSE_PROFILE)' = dev ] && echo debug || echo '$(REHEARSE_PROFILE)'); \
	BRIDGE_REHEARSAL_PREBUILT=1 BRIDGE_REHEARSAL_BIN_DIR="$$target/$$profile_dir" \
	  cargo test -p bridge-rehearsal -- --test-threads=2

lint-infra: $(TOOLS_STAMP) $(SAM_STAMP) ## cfn-lint + sam validate --lint + infra/check_template.py (and its tests)
	cfn-lint $(TEMPLATE)
	$(SAM) validate --lint --template-file $(TEMPLATE)
	$(VENV)/bin/python infra/check_template.py $(TEMPLATE)
	cd infra && ../$(VENV)/bin/python -m unittest -q test_check_template

test: ## setup, fmt-check, clippy, unused-deps, module-cycles, cargo test, lint-infra, rehearse (timed per phase)
	@mkdir -p $(dir $(TIMINGS)) && : > $(TIMINGS)
	@for phase in $(TEST_PHASES); do \
	  start=$$(date +%s); echo "==> $$phase"; \
	  if ! $(MAKE) --no-print-directory $$phase; then \
	    echo "$$phase FAILED $$(( $$(date +%s) - start ))" >> $(TIMINGS); \
	    echo "<== $$phase FAILED after $$(( $$(date +%s) - start ))s" >&2; exit 1; \
	  fi; \
	  echo "$$phase ok $$(( $$(date +%s) - start ))" >> $(TIMINGS); \
	  echo "<== $$phase ok in $$(( $$(date +%s) - start ))s"; \
	done

# ---- build and deploy ---------------------------------------------------------------------------
build: $(LAMBDA_STAMP) $(ARM64_STAMP) ## Lambda zips -> <cargo target dir>/lambda-<arch>, staged in target/lambda-deploy
	@arch='$(ARCH)'; \
	if [ "$$arch" = auto ]; then \
	  if rustup target list --installed | grep -qx '$(ARM64_TRIPLE)'; then arch=arm64; \
	  else arch=x86_64; echo "warning: no $(ARM64_TRIPLE) std installed; building x86_64" >&2; fi; \
	fi; \
	case "$$arch" in arm64) flag=--arm64;; x86_64) flag=--x86-64;; \
	  *) echo "ARCH must be auto, arm64 or x86_64 (got $$arch)" >&2; exit 2;; esac; \
	set -x; \
	cargo lambda build --profile lambda $$flag --output-format zip --lambda-dir '$(TARGET_DIR)'/lambda-$$arch \
	  $(addprefix -p ,$(FUNCTIONS)); \
	$(VENV)/bin/python scripts/stage-lambdas.py --arch $$arch --from '$(TARGET_DIR)'/lambda-$$arch \
	  --to $(DEPLOY_DIR) --config $(CONFIG) $(FUNCTIONS)

deploy: build $(SAM_STAMP) ## sam deploy (guided the first time, when infra/samconfig.toml is missing)
	@arch=$$(cat $(DEPLOY_DIR)/ARCH); \
	if [ ! -f '$(SAMCONFIG)' ]; then \
	  $(SAM) deploy --guided --template-file $(TEMPLATE) --config-file '$(SAMCONFIG)' \
	    --capabilities CAPABILITY_IAM --parameter-overrides Architecture=$$arch; \
	else \
	  stored=$$(grep -o 'Architecture=[^ ]*' '$(SAMCONFIG)' | head -n1 | tr -d '\\"' | cut -d= -f2 || true); \
	  if [ -n "$$stored" ] && [ "$$stored" != "$$arch" ]; then \
	    echo "error: built $$arch but $(SAMCONFIG) deploys Architecture=$$stored;" \
	         "rebuild with ARCH=$$stored or edit the parameter" >&2; exit 1; \
	  fi; \
	  $(SAM) deploy --template-file $(TEMPLATE) --config-file '$(SAMCONFIG)'; \
	fi

# ---- demo, bench, clean -------------------------------------------------------------------------
demo: setup-demo ## the scripted local story (see scripts/demo.sh); needs Rust and Python only
	bash scripts/demo.sh

bench: setup-demo ## benchmarks (see scripts/bench.sh and docs/BENCHMARKS.md)
	bash scripts/bench.sh

chaos: $(MOTO_STAMP) $(RUST_STAMP) ## chaos suite: crashes at every job step, replays, 429/5xx storms, outages (~1-2 min)
	cargo test -p bridge-e2e --test e2e chaos:: -- --test-threads=2

fuzz: ## cargo fuzz, each target for FUZZ_SECONDS (default 45; nightly + pinned cargo-fuzz, see scripts/fuzz.sh)
	bash scripts/fuzz.sh

clean: ## cargo clean and build leftovers (keeps the venvs)
	cargo clean
	rm -rf .aws-sam .demo

distclean: clean ## clean, and remove .venv and .venv-sam
	rm -rf $(VENV) $(SAM_VENV)
