# The course's commands. `make help` lists them. Everything runs inside .venv, created on demand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PY := $(BIN)/python
export PATH := $(BIN):$(PATH)

# Reinstall only when the pins change: the stamp's name is a hash of what defines the environment.
REQ_HASH := $(shell cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(REQ_HASH)

# Offline MNIST: a folder holding the four original .gz archives. A seed folder at
# ../shared/datasets/MNIST/raw (how CI and workshop machines are laid out) is used by default.
MNIST_FROM ?= $(wildcard $(abspath ..)/shared/datasets/MNIST/raw)

MASTERS := $(wildcard solutions/*/*.ipynb)
RELEASED := $(patsubst solutions/%,course/%,$(MASTERS))

LAB_ARGS ?=
TEST_ARGS ?=
WORKERS ?= $(shell nproc)
SUBMISSIONS ?=
SCHEDULER ?=
NB ?=

.PHONY: help setup lab formgrader browser test data release check feedback answers autograde grade-worker clean sandbox system-packages bench mutants

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  variables: MNIST_FROM=<folder> COURSE_DEVICE=cpu|cuda|auto WORKERS=<n> SUBMISSIONS=<dir> SCHEDULER=<tcp://host:8786> NB=<notebook>"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade-strategy only-if-needed -r requirements.txt
	$(PY) -m pip install --no-build-isolation --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) data $(RELEASED) ## Install what is missing, prepare MNIST, rebuild course/ if stale

data: $(STAMP) ## Make sure MNIST is present and verified (MNIST_FROM=<folder> seeds it offline)
	$(PY) -m coursekit.data $(if $(MNIST_FROM),--from "$(MNIST_FROM)")

release: $(STAMP) ## Regenerate all of course/ from solutions/ (deterministic: twice gives no diff)
	$(PY) -m autograder.authoring.release

course/%.ipynb: solutions/%.ipynb $(STAMP)
	$(PY) -m autograder.authoring.release $(notdir $(patsubst %/,%,$(dir $*)))

sandbox: ## Install bubblewrap, the grader's sandbox, when missing (needs root and apt; else explains)
	@command -v bwrap >/dev/null && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq bubblewrap; }; \
	else \
	  echo "warning: bubblewrap is not installed, so grading runs student code without filesystem and network"; \
	  echo "isolation (see docs/SECURITY.md). Install it with: sudo apt-get install bubblewrap"; \
	fi

# The system packages of sandbox, browser and hub-deps in one apt transaction that needs no Python:
# .ci/run starts it beside `make setup`'s pip install. Each of those targets still installs its own
# package when it is missing, so this target is only a head start (it says nothing when it cannot help).
SYSTEM_PACKAGES ?= bubblewrap:bwrap chromium:chromium nodejs:node npm:npm
system-packages:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do command -v "$${pair#*:}" >/dev/null || missing="$$missing $${pair%%:*}"; done; \
	[ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null || exit 0; \
	echo "installing$$missing"; \
	apt-get install -y -qq $$missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; }

# The student's lab serves work/, a git-ignored copy of course/ made once and then only merged into
# (answers kept, old file backed up) when the course changes; the lab's two faces live in lab/.
lab: setup ## Open your workspace work/ in JupyterLab (LAB_ARGS="--ip=0.0.0.0" to serve a room)
	$(PY) -m autograder.lab.faces student $(LAB_ARGS)

formgrader: setup ## The instructor's lab: Formgrader and Create Assignment on grading/'s gradebook
	$(PY) -m autograder.lab.faces instructor $(LAB_ARGS)

browser: setup ## Install what the browser tests need when missing: Debian's chromium (root and apt; else explains)
	@test -x /usr/bin/chromium && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }; \
	else \
	  echo "warning: /usr/bin/chromium is missing, so tests/lab/test_browser.py is skipped."; \
	  echo "Install it with: sudo apt-get install chromium"; \
	fi

test: setup sandbox browser hub-deps ## Run the whole test suite (TEST_ARGS="-k tensors" to narrow it)
	$(PY) -m pytest -n 2 --dist worksteal --durations=10 $(TEST_ARGS)

check: $(STAMP) ## Run a notebook of your workspace as grading will: make check NB=01_tensors (or a path)
	@test -n "$(NB)" || { echo "usage: make check NB=01_tensors (a notebook of your workspace work/) or NB=<path>.ipynb"; exit 2; }
	@# failed checks are the report itself (status 1): make's "Error 1" line would add only noise
	@notebook="$$($(PY) -m autograder.lab.workspace --which '$(NB)')" && \
	  { $(PY) -m autograder.lab.check --progress "$$notebook" || { status=$$?; [ $$status -eq 1 ] || exit $$status; }; }

# Learners working alone (autograder/lab/selfpaced.py): the class grader itself on a copy of one notebook of work/,
# graded into work/.grading/; the page opens in a browser where there is one (BROWSER=none: only its path).
feedback: $(STAMP) ## Grade your notebook as your instructor's grader does, hidden checks too: make feedback NB=01_tensors
	@test -n "$(NB)" || { echo "usage: make feedback NB=01_tensors (a notebook of your workspace work/) or NB=<path>.ipynb"; exit 2; }
	@$(PY) -m autograder.lab.selfpaced feedback '$(NB)'

answers: $(STAMP) ## Model answers of a notebook into work/answers/, best read after trying: make answers NB=01_tensors
	@test -n "$(NB)" || { echo "usage: make answers NB=01_tensors (after make feedback NB=01_tensors)"; exit 2; }
	@$(PY) -m autograder.lab.selfpaced answers '$(NB)'

autograde: setup sandbox ## Grade a class: make autograde SUBMISSIONS=<dir> [WORKERS=n] [FORCE=1] [PATTERN=regex] [SCHEDULER=tcp://host:8786]
	@test -n "$(SUBMISSIONS)" || { echo "usage: make autograde SUBMISSIONS=<folder of submissions>"; exit 2; }
	$(PY) -m autograder.grading.cli "$(SUBMISSIONS)" --workers $(WORKERS) $(if $(FORCE),--force) \
	  $(if $(PATTERN),--pattern '$(PATTERN)') $(if $(SCHEDULER),--scheduler "$(SCHEDULER)")

# One worker process per grading slot (WORKERS, default one per core) with one thread each: the grader is
# not thread-safe (the judge is per process, nbclient runs event loops), and each kernel gets one BLAS thread.
grade-worker: setup sandbox ## Lend this machine's cores to a grading cluster: make grade-worker SCHEDULER=tcp://host:8786
	@test -n "$(SCHEDULER)" || { echo "usage: make grade-worker SCHEDULER=tcp://<scheduler host>:8786"; exit 2; }
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/dask worker "$(SCHEDULER)" --nworkers $(WORKERS) --nthreads 1 \
	  --name "$$(hostname)"

bench: setup sandbox ## Benchmarks side by side, written to docs/BENCHMARKS.md (QUICK=1: the reduced CI version)
	$(PY) -m autograder.bench $(if $(QUICK),--quick)

mutants: $(STAMP) ## How many one-change mutants of a master's answers its tests reject: make mutants NB=01_tensors
	@test -n "$(NB)" || { echo "usage: make mutants NB=01_tensors (a notebook of solutions/)"; exit 2; }
	$(PY) -m autograder.judging.mutants '$(NB)'

# The workshop hub (hub/, README "For workshop hosts"): JupyterHub with a server and a system user per
# attendee, nbgrader's exchange, Formgrader for the instructor. The proxy comes from npm, pinned by the lock file.
HUB_PROXY := hub/node_modules/.bin/configurable-http-proxy
.PHONY: hub hub-deps hub-grade hub-secrets

# A password given as `make hub HUB_PASSWORD=...` sits in make's command line, which `ps` shows every
# attendee for as long as the hub runs: refuse it before anything starts.
ifneq ($(filter command line,$(origin HUB_PASSWORD) $(origin HUB_ADMIN_PASSWORD)),)
$(error the hub's passwords do not go on the command line, where every attendee can read them with ps. Run `make hub-secrets` (it asks for them and keeps them in hub/state/secrets, readable by root only), then `sudo make hub`)
endif

hub-deps: $(STAMP) $(HUB_PROXY) ## Install the workshop hub's proxy (configurable-http-proxy from npm into hub/node_modules)

$(HUB_PROXY): hub/package.json hub/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -qq nodejs npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs npm; }; }; } || \
	  { echo "error: the hub's proxy installs with npm, which is missing: sudo apt-get install nodejs npm"; exit 2; }
	cd hub && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

hub-secrets: ## Ask for the room's and the instructor's passwords; keep them in hub/state/secrets (mode 600)
	@file="$${COURSE_HUB_STATE:-hub/state}/secrets"; mkdir -p "$$(dirname "$$file")"; \
	read -rsp "Room password for the attendees (8+ characters): " room; echo; \
	read -rsp "Instructor's password (32+ characters; Enter: make one): " admin; echo; \
	if [ -z "$$admin" ]; then admin="$$(openssl rand -hex 16 2>/dev/null || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"; \
	  echo "Instructor's password: $$admin (write it down; it is also in $$file)"; fi; \
	(umask 077 && printf 'HUB_PASSWORD=%s\nHUB_ADMIN_PASSWORD=%s\n' "$$room" "$$admin" > "$$file.new") && \
	chmod 600 "$$file.new" && mv "$$file.new" "$$file" && echo "Saved in $$file (readable by $$(id -un) only). Now: sudo make hub"

hub: setup hub-deps ## Serve a workshop room (as root; passwords from `make hub-secrets`)
	COURSE_HUB_AUTH="$${HUB_AUTH:-$${COURSE_HUB_AUTH:-shared}}" \
	COURSE_HUB_PASSWORD="$${HUB_PASSWORD:-$$COURSE_HUB_PASSWORD}" \
	COURSE_HUB_ADMIN_PASSWORD="$${HUB_ADMIN_PASSWORD:-$$COURSE_HUB_ADMIN_PASSWORD}" \
	COURSE_HUB_INSTRUCTOR="$${HUB_INSTRUCTOR:-$$COURSE_HUB_INSTRUCTOR}" \
	COURSE_HUB_MAX_USERS="$${HUB_MAX_USERS:-$$COURSE_HUB_MAX_USERS}" \
	COURSE_HUB_IDLE_TIMEOUT="$${HUB_IDLE_TIMEOUT:-$$COURSE_HUB_IDLE_TIMEOUT}" \
	COURSE_HUB_PORT="$${HUB_PORT:-$$COURSE_HUB_PORT}" \
	  $(BIN)/jupyterhub -f hub/jupyterhub_config.py

# Run by the instructor in a hub terminal, after Formgrader's Collect: grades ~/grading/submitted into ~/grading,
# the folder Formgrader shows. Installs nothing (the instructor's account cannot write the checkout). The hub says
# which Python its servers run (COURSE_HUB_PYTHON: .venv's, or its copy where .venv's sits in a private home).
hub-grade: ## On the hub, as the instructor: grade what Formgrader collected (make -C <checkout> hub-grade)
	$${COURSE_HUB_PYTHON:-$(PY)} -m autograder.grading.cli "$$HOME/grading/submitted" --out "$$HOME/grading" --workers $(WORKERS) $(if $(FORCE),--force)

clean: ## Remove generated grading output (keeps .venv, data/ and course/)
	rm -rf grading .pytest_cache
