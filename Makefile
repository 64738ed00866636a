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

.PHONY: help venv lock build test test-unit test-system demo demo-edge bench lint clean

help:
	@echo "make test   - create .venv, build the workspace with colcon, run every test"
	@echo "make demo   - the flywheel end to end: 2 simulated robots, 2 iterations (out/demo/<time>/)"
	@echo "make demo-edge - the edge loop alone on one simulated robot, with its report"
	@echo "make bench  - run the benchmarks in bench/ (see docs/BENCHMARKS.md)"
	@echo "make lint   - ruff, mypy and the import contracts (import-linter)"

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

# `flywheel run` on its embedded defaults: a folder store inside the run folder, 2 robots,
# 2 iterations, a faulty release rolled back; `make demo` again writes a new run folder.
demo: build
	$(ROS_ENV) && python -m cloud_bridge run --run-dir out/demo/$$(date -u +%Y%m%dT%H%M%SZ)

bench: build
	$(ROS_ENV) && for b in bench/bench_*.py; do echo "== $$b"; python $$b; done

# `make lint`: ruff, mypy, then the import contracts (import-linter).
# - The contracts (.importlinter) are the architecture: cores never import rclpy, even
#   transitively; only the listed ROS adapters import it; fw_sim imports no robot package.
#   lint-imports needs the packages importable, so every ros2_ws/src/fw_* folder goes on
#   PYTHONPATH. The cloud's contract (.importlinter-cloud: cloud_bridge imports cores only) runs
#   once cloud_bridge/cloud_bridge exists, since import-linter refuses a missing root package.
# - mypy (strict, see pyproject.toml) checks the cores: exactly the `cores` contract's modules
#   (.ci/core_modules.py reads them from .importlinter, so one list defines a core for both
#   checks; fw_bringup's robot loop, headless runner and recorded-input feeder are among them),
#   plus cloud_bridge once it exists. The nodes, fw_common's ROS helpers and the bringup's
#   ROS side are thin rclpy wrappers, left to ruff and the system tests.
PACKAGE_DIRS := $(wildcard $(CURDIR)/$(WS)/src/fw_*)
MYPYPATH := $(subst $(eval) ,:,$(PACKAGE_DIRS))
CLOUD_PACKAGE := $(wildcard cloud_bridge/cloud_bridge)
CLOUD_MYPY := $(if $(CLOUD_PACKAGE),-p cloud_bridge)

lint: venv
	source $(VENV)/bin/activate && ruff check . && ruff format --check . && \
	  cores="$$(python .ci/core_modules.py)" && \
	  MYPYPATH=$(MYPYPATH):$(CURDIR)/cloud_bridge mypy $$cores $(CLOUD_MYPY) && \
	  PYTHONPATH=$(MYPYPATH) lint-imports --config .importlinter
ifneq ($(CLOUD_PACKAGE),)
	source $(VENV)/bin/activate && \
	  PYTHONPATH=$(MYPYPATH):$(CURDIR)/cloud_bridge lint-imports --config .importlinter-cloud
endif

clean:
	rm -rf $(WS)/build $(WS)/install $(WS)/log

bags: build
	$(ROS_ENV) && python bags/record_golden.py

# The edge loop alone (the demo before `flywheel run`): one robot, a few goals, a report.
demo-edge: build
	$(ROS_ENV) && python -m fw_bringup.demo
