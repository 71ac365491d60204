# Two commands do everything: `make demo` and `make test`. Each sets up what it needs on first use
# (virtual environment, pinned Python packages, npm packages from the lockfile, the solc wrapper)
# and nothing on the second.

PYTHON        ?= python3
VENV          := .venv
SOLC_VERSION  := 0.8.30
# file targets are relative (make cannot name a target whose path has a space); what leaves make is absolute
SOLCX_DIR     := .toolchain/solcx
SOLC_SHIM     := $(SOLCX_DIR)/solc-v$(SOLC_VERSION)
PY_STAMP      := $(VENV)/.installed
NODE_STAMP    := node_modules/.installed

export SOLCX_BINARY_PATH := $(CURDIR)/$(SOLCX_DIR)
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

# brownie keeps its data folder under $$HOME/.brownie: give it one inside the project, seeded with
# the project's own network list, so that nothing is read from or left in the user's home folder.
BROWNIE_HOME  := .toolchain/brownie-home
NETWORKS      := $(BROWNIE_HOME)/.brownie/network-config.yaml

BROWNIE := HOME="$(CURDIR)/$(BROWNIE_HOME)" "$(CURDIR)/$(VENV)/bin/brownie"
SETUP   := $(PY_STAMP) $(NODE_STAMP) $(SOLC_SHIM) $(NETWORKS)

.PHONY: setup test coverage coverage-report lint layouts upgrade demo plan story scenarios bench deploy ops trace audit surveil watch compile clean help

help:
	@echo "make demo   the ten-year planning study: 50 enterprises, every scenario, 20 seeds; report in out/planning"
	@echo "make plan [N=50] [YEARS=10] [SEEDS=20] [SCENARIOS='baseline,credit incentives off'] [OUT=folder]  a study, chosen (resumes)"
	@echo "make scenarios [N=50] [SCENARIOS='baseline,continuous only'] [OUT=folder]  one compliance year under each scenario"
	@echo "make story  the pilot year of operations/pilot-2026 run by the operations runner, then told from the chain and audited"
	@echo "make test   run the test suite against anvil"
	@echo "make audit [BLOCK=n] [OUT=folder] NETWORK=name  audit report at a block: JSON, CSV, HTML"
	@echo "make coverage  statement and branch coverage per contract (reports/coverage.md); fails under 95% of branches"
	@echo "make lint   ruff, mypy, Slither (their own virtual environment) and the storage-layout gate of upgradeable parts"
	@echo "make layouts  record the storage layouts that make lint holds the upgradeable parts to (contracts/layouts/)"
	@echo "make bench [PLANNING=3000]  measure gas and throughput into benchmarks/results.json (PLANNING: the ten-year run's enterprises)"
	@echo "make deploy [NETWORK=name] [REDEPLOY=1] [UPGRADEABLE=1] [GOVERNANCE_APPROVERS=a,b,c]  deploy the suite and write deployments/<network>-<chain id>.json"
	@echo "make upgrade PARTS='market desk' NETWORK=name  replace parts' code keeping their state (governed: print the approvers' step)"
	@echo "make ops FILE=file.yaml [DRY_RUN=1] [NETWORK=name]  run an operations file (checked on a fork first)"
	@echo "make trace WHAT=order|unit|account|report ID=... [FROM=block] NETWORK=name  history from events alone"
	@echo "make surveil [FROM=block] [TO=block] [POLICY=file] [OUT=folder] NETWORK=name  surveillance alerts and case files"
	@echo "make watch [CONFIRMATIONS=n] [POLICY=file] NETWORK=name  follow new blocks and give each alert once"

setup: $(SETUP)

$(PY_STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip==24.3.1
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SOLC_SHIM): toolchain/solc.js $(NODE_STAMP)
	@mkdir -p $(SOLCX_DIR)
	printf '#!/bin/sh\nexec node "%s" "$$@"\n' "$(CURDIR)/toolchain/solc.js" > $@
	chmod +x $@
	@$@ --version | grep -q "Version: $(SOLC_VERSION)+" || { echo "solc-js in node_modules is not $(SOLC_VERSION)"; rm -f $@; exit 1; }

$(NETWORKS): network-config.yaml
	@mkdir -p $(dir $@)
	cp network-config.yaml $@

LINT_VENV  := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed

$(LINT_STAMP): requirements-lint.txt
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --upgrade pip==24.3.1
	$(LINT_VENV)/bin/python -m pip install --quiet -r requirements-lint.txt
	touch $@

lint: $(LINT_STAMP) $(SOLC_SHIM)
	$(LINT_VENV)/bin/python toolchain/lint.py

compile: $(SETUP)
	$(BROWNIE) compile

# Record the storage layout of the suite's upgradeable parts (contracts/layouts/), which `make lint` holds the code
# to: only with a change of layout that no deployed suite holds state under (toolchain/storage_layout.py).
layouts: $(SETUP)
	$(VENV)/bin/python toolchain/storage_layout.py --record

# Without TESTS, the suite runs as groups at once, each against a chain of its own (a port of its own), which
# brings the whole run down to about the time of the longest group on two cores; TESTS=... runs what it names.
# Group 2 is the integration tests and the stateful machines named here; group 1 is the unit and harness tests and
# every other stateful machine (so that a new file there is never left out), about as long. A new folder of tests
# joins a group here.
STATEFUL_2  := tests/stateful/test_market_stateful.py tests/stateful/test_credit_stateful.py \
	tests/stateful/test_settlement_stateful.py
# The live-network tests (`local-live`: anvil and Hardhat's node at a block a second) spend most of their time waiting
# for blocks: a group of their own, beside the others, on a third chain. The RPC fault tests (on `local-faults`, ports
# of their own) stay with the other integration tests.
LIVE := tests/integration/test_deploy_live.py tests/integration/test_operations_live.py \
	tests/integration/test_consortium_recipe.py tests/integration/test_cli_paths.py
LIVE_GROUP := "development-3=$(LIVE)"
PARALLEL := HOME="$(CURDIR)/$(BROWNIE_HOME)" "$(CURDIR)/$(VENV)/bin/python" toolchain/parallel_tests.py \
	--brownie "$(CURDIR)/$(VENV)/bin/brownie"

# Coverage traces every transaction and call step by step (toolchain/coverage.py) on the `coverage` networks (anvils
# with --steps-tracing, ports 8547 and 8549): a group runs traced when its network is one of them. The unit,
# harness and stateful tests measure it; the gas-ceiling tests are left out because they send transactions of millions of steps
# (1,000-enterprise batches, a 2,000-order clearing) that only measure gas, and the integration tests because they
# replay the same contract paths at scale through raw batches brownie does not trace.
# The auction's unit tests run beside the stateful tests, so that the two traced groups end about together.
COVERAGE_GROUPS := "coverage=tests/unit tests/harness --ignore=tests/unit/test_gas_ceilings.py --ignore=tests/unit/auction" \
	"coverage-2=tests/stateful tests/unit/auction"

ifeq ($(COVERAGE),)
TEST_GROUPS ?= "development=tests/unit tests/harness tests/stateful $(addprefix --ignore=,$(STATEFUL_2))" \
	"development-2=$(STATEFUL_2) tests/integration $(addprefix --ignore=,$(LIVE))" $(LIVE_GROUP)
else
# `make test COVERAGE=1` (what CI runs): one run is both the tests and the coverage, for `make coverage-report`
TEST_GROUPS ?= $(COVERAGE_GROUPS) "development=tests/integration tests/unit/test_gas_ceilings.py $(addprefix --ignore=,$(LIVE))" \
	$(LIVE_GROUP)
endif

# The planning report's test opens it in Debian's Chromium (headless): installed once from Debian's packages (as root,
# which a new CI machine is); elsewhere the line says what to install.
CHROMIUM_STAMP := .toolchain/chromium.installed

$(CHROMIUM_STAMP):
	@mkdir -p $(dir $@)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] || { echo "make test needs Debian's chromium: apt-get install chromium (as root)"; exit 1; }; \
		apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }
	chromium --version
	touch $@

test: $(SETUP) $(CHROMIUM_STAMP)
ifeq ($(TESTS),)
	rm -f reports/coverage-evaluation*.json
	$(BROWNIE) compile
	$(PARALLEL) $(TEST_GROUPS)
else
	$(BROWNIE) test $(TESTS)
endif

coverage: $(SETUP)
	rm -f reports/coverage-evaluation*.json
	$(BROWNIE) compile
	$(PARALLEL) $(COVERAGE_GROUPS)
	$(VENV)/bin/python toolchain/coverage.py

# the report and the gate alone, from the evaluation a traced run wrote (`make test COVERAGE=1` or `make coverage`)
coverage-report: $(SETUP)
	$(VENV)/bin/python toolchain/coverage.py

# Every application is a command of `carbon-market` (carbon_market/cli.py; `carbon-market --help`), which loads the
# project by its path and gives brownie the project's own data folder: it works from any folder name.
CLI := "$(CURDIR)/$(VENV)/bin/carbon-market"
NETWORK ?= development

demo: $(SETUP)
	$(CLI) demo

plan: $(SETUP)
	$(CLI) plan --enterprises $(or $(N),50) --years $(or $(YEARS),10) --seeds $(or $(SEEDS),20) --scenarios "$(SCENARIOS)" $(if $(OUT),--out "$(OUT)")

story: $(SETUP)
	$(CLI) story

scenarios: $(SETUP)
	$(CLI) scenarios --enterprises $(or $(N),50) --scenarios "$(SCENARIOS)" $(if $(OUT),--out "$(OUT)")

deploy: $(SETUP)
	$(CLI) deploy --network $(NETWORK) $(if $(filter-out 0,$(REDEPLOY)),--redeploy)

upgrade: $(SETUP)
	@[ -n "$(PARTS)" ] || { echo "make upgrade PARTS='market desk' NETWORK=name"; exit 2; }
	$(CLI) upgrade $(PARTS) --network $(NETWORK)

ops: $(SETUP)
	$(CLI) ops "$(FILE)" $(if $(DRY_RUN),--dry-run) --network $(NETWORK)

trace: $(SETUP)
	$(CLI) trace $(WHAT) $(ID) --from-block $(or $(FROM),0) --network $(NETWORK)

audit: $(SETUP)
	$(CLI) audit --block $(or $(BLOCK),latest) $(if $(OUT),--out "$(OUT)") --network $(NETWORK)

surveil: $(SETUP)
	$(CLI) surveil --from-block $(or $(FROM),0) $(if $(TO),--to-block $(TO)) $(if $(POLICY),--policy "$(POLICY)") $(if $(OUT),--out "$(OUT)") --network $(NETWORK)

watch: $(SETUP)
	$(CLI) watch --confirmations $(or $(CONFIRMATIONS),1) $(if $(POLICY),--policy "$(POLICY)") --network $(NETWORK)

bench: $(SETUP)
	$(CLI) bench $(if $(PLANNING),--planning $(PLANNING))

clean:
	rm -rf build reports .hypothesis .toolchain $(LINT_VENV)
