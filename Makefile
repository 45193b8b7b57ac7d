# scfpga: every target sets itself up on a fresh Debian/Ubuntu machine.
#   make demo   the main job (generate, co-simulate, summarise)
#   make test   the whole test suite (pytest, co-simulation under Icarus Verilog)

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.scfpga-installed
JOBS    ?= 2
SUDO    := $(shell [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo)

.PHONY: demo demo-full test setup iverilog cost studies clean help

help:
	@echo "make demo   - generate every block, co-simulate against the golden model (the digits layer's RTL on all 540 test images), print a summary"
	@echo "make test   - run the test suite (needs ~10 minutes on 2 cores)"
	@echo "make demo-full - the demo with the spiking MLP's per-cycle RTL proof on all 540 test images too (slow)"
	@echo "make cost   - measure iCE40 cost of the primitives (yowasp), writes results/"
	@echo "make studies - regenerate every study in results/ and the README tables (~40 minutes)"

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

demo-full: setup
	$(PY) scripts/demo.py --rtl-images 540 --mlp-images 540

test: setup
	$(VENV)/bin/pytest -n $(JOBS) -q --durations=15

cost: setup
	$(PY) scripts/ice40_cost.py

studies: setup
	$(PY) scripts/ice40_cost.py
	$(PY) scripts/ice40_cost.py --device hx8k
	$(PY) scripts/cost_vs_width.py
	$(PY) scripts/accuracy_vs_length.py
	$(PY) scripts/dense_cost.py
	$(PY) scripts/bench_dense_model.py
	$(PY) scripts/board_builds.py
	$(PY) scripts/speed.py
	$(PY) scripts/link_speed.py
	$(PY) scripts/stdp_cost.py
	$(PY) scripts/stdp_board.py
	$(PY) scripts/update_readme.py

clean:
	rm -rf build .pytest_cache
