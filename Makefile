# thermesh: `make demo` and `make test` work on a fresh machine (python3, pip, venv, make).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,distributed]"
	touch $(STAMP)

install: $(STAMP)

## Solve the bundled HotSpot ev6 example under HotSpot's default package (out/ev6); the same
## on its equal-footprint variant at 0.1 %, checked against the exact series (out/ev6-exact);
## a two-die 3D stack from a HotSpot LCF (out/two-die); then compare every meshing method on the
## lumped die against its exact solution (out/ev6-compare/report.html). About a minute.
demo: install
	$(BIN)/thermesh solve examples/ev6.flp --power examples/gcc.ptrace --out out/ev6
	$(BIN)/thermesh solve examples/ev6.flp --power examples/gcc.ptrace --stack examples/package/equal_footprint.toml --tol 1e-3 --verify --out out/ev6-exact
	$(BIN)/thermesh solve examples/ev6.flp --power examples/gcc.ptrace --package examples/package/secondary.config --materials examples/package/hotspot.materials --out out/ev6-secondary
	$(BIN)/thermesh solve --lcf examples/package/two_die.lcf --power examples/package/two_die.ptrace --package examples/package/hotspot.config --materials examples/package/hotspot.materials --out out/two-die
	$(BIN)/thermesh transient examples/ev6.flp --power examples/gcc.ptrace --threshold 345 --out out/ev6-transient
	$(BIN)/thermesh compare examples/ev6.flp --power examples/gcc.ptrace --model lumped --out out/ev6-compare

## Run the test suite (the command CI runs).
test: install
	$(BIN)/python -m pytest

## Measure speed and accuracy (ratios in one run; about 35 minutes on 2 cores); tables printed
## and written under benchmarks/results/.
bench: install
	$(BIN)/python benchmarks/solver.py
	$(BIN)/python benchmarks/meshing.py
	$(BIN)/python benchmarks/meshing.py --conform
	$(BIN)/python benchmarks/sources.py
	$(BIN)/python benchmarks/meshing_held_out.py
	$(BIN)/python benchmarks/hotspots.py
	$(BIN)/python benchmarks/batch.py

clean:
	rm -rf out .pytest_cache build *.egg-info
