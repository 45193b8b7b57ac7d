# scfpga: every target sets itself up on a fresh Debian/Ubuntu machine.
#   make demo   the main job (generate, co-simulate, summarise)
#   make test   the whole test suite (pytest, co-simulation under Icarus Verilog)

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.scfpga-installed
JOBS    ?= 2
SUDO    := $(shell [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo)

.PHONY: demo test setup iverilog cost clean help

help:
	@echo "make demo   - generate every block, co-simulate against the golden model, print a summary"
	@echo "make test   - run the test suite (needs ~10 minutes on 2 cores)"
	@echo "make cost   - measure iCE40 cost of the primitives (yowasp), writes results/"

setup: $(STAMP) iverilog

# The venv is rebuilt when pyproject.toml changes; python3-venv comes from apt when missing.
$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "installing python3-venv with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

iverilog:
	@command -v iverilog >/dev/null && command -v vvp >/dev/null || { \
	  echo "installing Icarus Verilog with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq iverilog; }

demo: setup
	$(PY) scripts/demo.py

test: setup
	$(VENV)/bin/pytest -n $(JOBS) -q

cost: setup
	$(PY) scripts/ice40_cost.py

clean:
	rm -rf build .pytest_cache
