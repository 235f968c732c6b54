# Two commands on a fresh laptop:  make test   and   make demo
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo reproduce lab check-exercises clean

# (Re)install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/offload-lab demo

reproduce: $(STAMP)
	$(BIN)/offload-lab reproduce

# JupyterLab in the browser, file browser on notebooks/ (lessons/ and results/ reachable too);
# its kernel is the project's .venv. Root (e.g. in a container) needs --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# Your answers in exercises/ against their checks (tests/test_exercises.py checks the solutions).
check-exercises: $(STAMP)
	$(BIN)/python -m pytest exercises/checks -m exercise

clean:
	rm -rf $(VENV) var
