# Two commands on a fresh machine: `make demo` (the pipeline, live) and `make test` (every test).
# Each installs what it needs first; nothing here needs a hand install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test test-unit lint stack-up stack-down clean

# PYTHONWARNINGS filters out, by name, setuptools' note that an editable install prefers
# same-named folders in the working directory: informational, nothing to fix.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/fleetwatch demo $(ARGS)

test: install lint
	bash deploy/local/stack.sh fetch
	FLEETWATCH_KAFKA_VERSION=4.4.0 bash deploy/local/kafka.sh fetch  # tests/integration/test_kafka4.py
	bash deploy/local/browser.sh >/dev/null
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest -m "not integration"

lint: install
	$(BIN)/ruff check pipeline tests
	$(BIN)/mypy --strict pipeline
	$(BIN)/lint-imports
	$(BIN)/fleetwatch schemas export --check

stack-up: install
	$(BIN)/fleetwatch local up

stack-down: install
	$(BIN)/fleetwatch local down

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
