# slashops — the front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.13 that actually runs (a pyenv shim can exist without working).
PYTHON ?= $(shell for p in python3.13 $$(ls -d /root/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null) /usr/local/bin/python3.13 /usr/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
LOCALSTACK_VENV := .venv-localstack
CHECKOV_VENV := .venv-checkov
REQUIREMENTS := requirements/runtime.txt requirements/dev.txt ingress/requirements.txt \
	services/deploy/requirements.txt services/backup/requirements.txt services/notifier/requirements.txt

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F ':.*?## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: $(REQUIREMENTS) pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required (set PYTHON=/path/to/python3.13)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .  # .venv/bin/slashops, the operator CLI
	touch $@

$(LOCALSTACK_VENV)/.installed: requirements/localstack.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required (set PYTHON=/path/to/python3.13)"; exit 1; }
	$(PYTHON) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/python -m pip install -q -r requirements/localstack.txt
	touch $@

# checkov in its own environment: its dependency tree would otherwise fight the project's pins.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required (set PYTHON=/path/to/python3.13)"; exit 1; }
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements/checkov.txt
	touch $@

.PHONY: install
install: $(VENV)/.installed $(LOCALSTACK_VENV)/.installed $(CHECKOV_VENV)/.installed ## Create the virtual environments (project, LocalStack, checkov), with the operator CLI .venv/bin/slashops

.PHONY: lint
lint: $(VENV)/.installed docs checkov ## ruff, mypy, the docs (make docs) and the security scan of infra/ (make checkov)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared ingress services tools

# Offline and deterministic: no API key, no guideline download or mapping fetch, no update check on PyPI.
.PHONY: checkov
checkov: $(CHECKOV_VENV)/.installed ## checkov over infra/ (templates and the Dockerfile): every check passes or is skipped inline with a reason
	env -u BC_API_KEY -u PRISMA_API_URL BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE \
		$(CHECKOV_VENV)/bin/checkov -d infra --framework cloudformation,dockerfile --quiet --compact --skip-download

.PHONY: docs
docs: $(VENV)/.installed ## The docs site into build/docs (mkdocs --strict), after checking docs/users.md's command reference against the catalog (WRITE=1 rewrites it)
	$(PY) -m tools.release.docs_pages $(if $(WRITE),--write)
	$(VENV)/bin/mkdocs build --strict --quiet --site-dir build/docs

.PHONY: cfn-lint
cfn-lint: $(VENV)/.installed ## Lint the CloudFormation templates
	$(VENV)/bin/cfn-lint infra/*.yaml

.PHONY: routes
routes: $(VENV)/.installed ## Write the catalog's routing (CommandSpec.consumer) into infra/bus.yaml's consumer rules
	$(PY) -m tools.release.routes --write

.PHONY: manifest
manifest: $(VENV)/.installed ## Write infra/slack-app-manifest.yaml from the catalog (URL=https://<api>... prints one with real URLs)
	$(PY) -m tools.release.manifest $(if $(URL),--url $(URL),--write)

.PHONY: unit
unit: $(VENV)/.installed ## Unit tests only (no network)
	$(PY) -m pytest tests/unit -q

.PHONY: integration
integration: install ## Integration tests (starts LocalStack, moto server, local Slack/Jenkins servers)
	SLASHOPS_LOCALSTACK_PYTHON=$(CURDIR)/$(LOCALSTACK_VENV)/bin/python $(PY) -m pytest tests/integration -q

.PHONY: test
test: install lint cfn-lint ## Everything CI runs: lint, unit, integration and reliability tests (not the slow ones)
	SLASHOPS_LOCALSTACK_PYTHON=$(CURDIR)/$(LOCALSTACK_VENV)/bin/python $(PY) -m pytest -q -m "not slow"

.PHONY: reliability
reliability: install ## The whole reliability suite (faults, hostile input), slow cases included
	SLASHOPS_LOCALSTACK_PYTHON=$(CURDIR)/$(LOCALSTACK_VENV)/bin/python $(PY) -m pytest tests/reliability -q

.PHONY: run
run: install ## Run everything locally (local AWS, fake Slack/Jenkins unless configured); Ctrl-C stops it; FRESH=1 forgets the saved state
	SLASHOPS_LOCALSTACK_PYTHON=$(CURDIR)/$(LOCALSTACK_VENV)/bin/python $(PY) -m tools.local.run $(if $(FRESH),--fresh)

.PHONY: package
package: $(VENV)/.installed ## Build one unit's artifact into dist/: make package SERVICE=<ingress|deploy|notifier|backup>
	@test -n "$(SERVICE)" || { echo "usage: make package SERVICE=<ingress|deploy|notifier|backup>"; exit 2; }
	$(PY) -m tools.release.package $(SERVICE)

.PHONY: deploy
deploy: $(VENV)/.installed ## Package and deploy one stack: make deploy SERVICE=<bus|ingress|deploy|backup|notifier|observability>
	@test -n "$(SERVICE)" || { echo "usage: make deploy SERVICE=<bus|ingress|deploy|backup|notifier|observability> (see infra/README.md)"; exit 2; }
	$(PY) -m tools.release.deploy $(SERVICE) $(if $(DRY_RUN),--dry-run)

.PHONY: deploy-local
deploy-local: $(VENV)/.installed ## Package and deploy all six stacks, in order, onto moto's CloudFormation (KEEP=1 keeps it running)
	$(PY) -m tools.release.deploy_local $(if $(KEEP),--keep) $(if $(ENDPOINT),--endpoint $(ENDPOINT))

BENCHES := ingress e2e burst backup

$(VENV)/.bench-installed: requirements/bench.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements/bench.txt
	touch $@

.PHONY: bench
bench: install $(VENV)/.bench-installed ## Benchmarks into BENCHMARKS.md (ratios against baselines measured in the same run; exits non-zero on a missed target)
	rm -rf build/bench
	status=0; for name in $(BENCHES); do \
		SLASHOPS_LOCALSTACK_PYTHON=$(CURDIR)/$(LOCALSTACK_VENV)/bin/python $(PY) bench/$${name}_bench.py || status=1; \
	done; \
	$(PY) bench/report.py $(BENCHES) || status=1; \
	exit $$status

.PHONY: format
format: $(VENV)/.installed ## Apply ruff's formatting and import order
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: clean
clean: ## Remove virtual environments and caches
	rm -rf $(VENV) $(LOCALSTACK_VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
