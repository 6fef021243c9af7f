# Quickstart targets: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install clean help screenshots lint

$(BIN)/esc: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "esc needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "error: could not create a virtualenv (on Debian: apt install python3-venv)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# bytecode up front: every esc run then starts from .pyc, as a wheel install would
	$(BIN)/python -m compileall -q src >/dev/null
	@touch $(BIN)/esc

install: $(BIN)/esc ## .venv with esc (editable) and the test tools

demo: $(BIN)/esc ## install, then load the sample desk into a throwaway store and show it
	$(BIN)/esc demo

test: $(BIN)/esc ## install, then run the whole suite (what CI runs: .ci/run)
	@sh .ci/browser
	@sh .ci/postgres
	$(BIN)/python -m pytest -n 2 --timeout=300

lint: $(BIN)/esc ## ruff (check, format --check) and mypy on src/ (tests/test_lint.py runs them in make test)
	$(BIN)/python -m ruff check src
	$(BIN)/python -m ruff format --check src
	$(BIN)/python -m mypy src/esc_cli

clean: ## remove .venv and build leftovers
	rm -rf $(VENV) build *.egg-info

screenshots: $(BIN)/esc ## redraw docs/img/*.svg from the demo (after a view changed)
	$(BIN)/python scripts/screenshots.py

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-12s %s\n", $$1, $$2}'
