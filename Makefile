# tinyvision: `make demo` and `make test` each set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of PyTorch (found on this project's machines' local wheel cache);
# override, e.g. `make test TORCH_SPEC='torch>=2.4'`, to let pip choose.
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test lint bench bench-run venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/tinyvision demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# `make bench`: every benchmark script but the GPU ones (those run on a CUDA machine:
# scripts/gpu_checks.sh). A script that fails (an agreement check, a missing reference
# library) does not stop the others; the target fails at the end naming them. torchvision
# lives in a separate venv: the scripts in TV_BENCH run with TV_PYTHON (see BENCHMARKS.md).
TV_PYTHON     ?= /work/tvref/bin/python
TV_BENCH      := benchmarks/ops.py benchmarks/rotated.py
BENCH_SCRIPTS ?= $(filter-out benchmarks/gpu_% benchmarks/_%,$(wildcard benchmarks/*.py))

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@$(MAKE) --no-print-directory bench-run

# The scripts alone, without the install step (e.g. `make bench-run BENCH_SCRIPTS=...`).
bench-run:
	@failed=""; \
	for f in $(BENCH_SCRIPTS); do \
	  case " $(TV_BENCH) " in *" $$f "*) py="$(TV_PYTHON)";; *) py="$(BIN)/python";; esac; \
	  echo "== $$f ($$py)"; \
	  if [ ! -x "$$py" ]; then \
	    echo "$$f: no python at $$py (TV_PYTHON: a venv with torch 2.14.1 + torchvision 0.29.1 + numba)"; \
	    failed="$$failed $$f"; continue; \
	  fi; \
	  PYTHONPATH=src "$$py" "$$f" || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "make bench: FAILED:$$failed"; exit 1; fi; \
	echo "make bench: every script ran and every agreement check passed"

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache runs
