# Everything a user or CI needs, from a fresh clone: `make demo`, `make test`.
# The virtualenv lives in .venv/ and is (re)built whenever pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DIR ?= endpoints

.PHONY: venv test lint unit unit-fast goldens mutation acceptance demo validate plan apply emulator bench bench-quick clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "provisioner needs Python >= 3.11 (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check provisioner tests bench
	$(BIN)/ruff format --check provisioner tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# ARGS passes pytest options through, e.g. `make unit ARGS="-k plan -x"`.
unit: $(STAMP)
	$(BIN)/pytest -q $(ARGS)

# The quick loop while editing: everything but the tests marked `slow` (see tests/README.md).
unit-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow" $(ARGS)

# Regenerate the golden files (captured live.json, plan.json, plan.txt, plan.md, diagnostics); review the diff.
goldens: $(STAMP)
	$(BIN)/pytest -q --update-goldens tests/plan tests/spec/test_invalid_cases.py

test: lint unit

# Mutation testing, never part of `make test` (it takes long): mutmut mutates provisioner/plan/,
# provisioner/apply/ and provisioner/hub/normalise.py and runs the tests not marked slow against
# each mutant ([tool.mutmut] in pyproject.toml; tests/README.md). MUTANTS narrows the run to
# mutant names (globs), e.g. `make mutation MUTANTS='provisioner.apply.guard*'`; JOBS, the
# processes (default 2). Re-running continues where it stopped; `.venv/bin/mutmut browse` or
# `mutmut show NAME` to read a survivor.
JOBS ?= 2
mutation: $(STAMP)
	$(BIN)/mutmut run --max-children $(JOBS) $(MUTANTS)
	$(BIN)/mutmut results

# The contract tests against the emulator and, opted in, the real service (README: "Before your
# first real apply"). Needs PROVISIONER_LIVE=1, HF_TOKEN and PROVISIONER_LIVE_NAMESPACE for the
# real half, else skips it and says why; budget: PROVISIONER_LIVE_MAX_ENDPOINTS (3 at a time),
# PROVISIONER_LIVE_MAX_MINUTES (20), PROVISIONER_LIVE_MAX_COST (worst case in USD, 2.00; said
# with the hardware and price before the first create). --confcutdir: tests/conftest.py keeps
# tests offline.
# Prints the table of assumptions and writes it to acceptance-report.md.
acceptance: $(STAMP)
	PROVISIONER_ACCEPTANCE=1 $(BIN)/pytest -q -rfE -p no:cacheprovider --confcutdir=tests/acceptance \
		tests/acceptance $(ARGS)

# The benchmark (README "Performance"): provisioner against a per-endpoint reader (Terraform's way),
# over the emulator with injected latency, as whole processes; prints the table and writes
# bench/results.json and bench/results.md. BENCH_LATENCY_MS (50), BENCH_RUNS (3), BENCH_SPEED (5).
# Under 10 minutes on 2 cores; `make bench-quick` (or BENCH_QUICK=1) is a 1-2 minute subset.
bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	BENCH_QUICK=1 $(BIN)/python -m bench

validate: $(STAMP)
	$(BIN)/provisioner validate --dir $(DIR)

demo: $(STAMP)
	DIR=$(DIR) scripts/demo.sh

# Against the real service by default; set PROVISIONER_API_URL for the emulator.
plan: $(STAMP)
	$(BIN)/provisioner plan --dir $(DIR)

apply: $(STAMP)
	$(BIN)/provisioner apply --dir $(DIR)

emulator: $(STAMP)
	$(BIN)/provisioner emulator

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info mutants
