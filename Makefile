# Quickstart targets: `make demo` and `make test` work on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install clean

$(BIN)/esc: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "esc needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "error: could not create a virtualenv (on Debian: apt install python3-venv)" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# bytecode up front: every esc run then starts from .pyc, as a wheel install would
	$(BIN)/python -m compileall -q src >/dev/null
	@touch $(BIN)/esc

install: $(BIN)/esc

demo: $(BIN)/esc
	$(BIN)/esc demo

test: $(BIN)/esc
	@sh .ci/browser
	@sh .ci/postgres
	$(BIN)/python -m pytest -n 2 --timeout=300

clean:
	rm -rf $(VENV) build *.egg-info
