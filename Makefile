# Flywheel developer entry points. `make test` and `make demo` work on a fresh Debian/Ubuntu host
# with Python 3.11 and no ROS install: ROS 2 Kilted comes from PyPI as ros-* wheels.

SHELL := /bin/bash
# No -u: colcon's setup scripts read unset variables (COLCON_TRACE).
.SHELLFLAGS := -e -o pipefail -c
PYTHON ?= python3
VENV := .venv
WS := ros2_ws
INSTALL := $(CURDIR)/$(WS)/install
# Every recipe that touches ROS runs inside the venv with the colcon workspace sourced.
# colcon's setup scripts do not set AMENT_PREFIX_PATH for ament_python packages installed this
# way, and ament_index_python needs it.
# cloud_bridge is not installed into the venv: PYTHONPATH finds it (and `python -m cloud_bridge`
# is the `flywheel` command).
ROS_ENV := source $(VENV)/bin/activate && source $(WS)/install/setup.bash && \
	export AMENT_PREFIX_PATH=$(INSTALL) && export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST && \
	export PYTHONPATH=$(CURDIR)/cloud_bridge:$$PYTHONPATH
PYTEST_ARGS ?=

.PHONY: help venv lock build test test-unit test-system demo bench lint clean

help:
	@echo "make test   - create .venv, build the workspace with colcon, run every test"
	@echo "make demo   - run the simulated robot headless through the edge loop and report"
	@echo "make bench  - run the benchmarks in bench/ (see docs/BENCHMARKS.md)"
	@echo "make lint   - ruff and mypy"

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

# Re-resolve requirements.in into the lock file (needs the package index).
lock: venv
	$(VENV)/bin/python .ci/lock_requirements.py

build: venv
	source $(VENV)/bin/activate && cd $(WS) && \
	  colcon build --symlink-install --merge-install --event-handlers console_direct- \
	    console_cohesion- status- summary+

test-unit: build
	$(ROS_ENV) && python -m pytest $(WS)/src/*/test $(PYTEST_ARGS)

test-system: build
	$(ROS_ENV) && python -m pytest tests $(PYTEST_ARGS)

test: build
	$(ROS_ENV) && python -m pytest $(WS)/src/*/test tests $(PYTEST_ARGS)

demo: build
	$(ROS_ENV) && python -m fw_bringup.demo

bench: build
	$(ROS_ENV) && for b in bench/bench_*.py; do echo "== $$b"; python $$b; done

# mypy (strict, see pyproject.toml) checks the cores: every module of the fw_ packages that does
# not import rclpy, plus cloud_bridge once it exists.
CORE_MODULES = $(shell grep -L -E "^(import rclpy|from rclpy)" $(WS)/src/*/fw_*/*.py \
	$(WS)/src/*/fw_*/*/*.py | grep -v __init__)
MYPYPATH := $(subst $(eval) ,:,$(wildcard $(WS)/src/*))

lint: venv
	source $(VENV)/bin/activate && ruff check . && ruff format --check . && \
	  MYPYPATH=$(MYPYPATH):cloud_bridge mypy $(CORE_MODULES) $(wildcard cloud_bridge/cloud_bridge)

clean:
	rm -rf $(WS)/build $(WS)/install $(WS)/log

bags: build
	$(ROS_ENV) && python bags/record_golden.py
