# make lab | test | notebooks | navigation | student | html | lite | test-browser | bench | clean
# Everything runs in .venv; a stamp file per extras set re-installs only
# when pyproject.toml changes.
#
# The oldest dependencies allowed, in a venv of their own (as CI's matrix runs them):
#   make test VENV=.venv-oldest CONSTRAINTS=constraints/oldest.txt PYTHON=python3.11

PYTHON ?= python3
VENV ?= .venv
CONSTRAINTS ?=
PIP_INSTALL = $(BIN)/python -m pip install $(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
BIN := $(VENV)/bin

.PHONY: lab test notebooks navigation student html lite test-browser bench clean

# The server's root is the repository, so the notebooks' links to README.md work; the file
# browser opens on notebooks/. --allow-root only for root, as in a container.
lab: $(VENV)/.stamp-lab
	$(BIN)/jupyter lab --ContentsManager.preferred_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

notebooks: navigation
	$(BIN)/python tools/run_notebooks.py

navigation: $(VENV)/.stamp-test
	$(BIN)/python tools/navigation.py

student: $(VENV)/.stamp-test
	$(BIN)/python tools/student.py

html: $(VENV)/.stamp-test
	$(BIN)/python tools/site.py

# The JupyterLite site in build/lite (downloads cached in build/cache; see tools/lite.py).
lite: $(VENV)/.stamp-lite
	$(BIN)/python tools/lite.py

# Both sites in Debian's headless Chromium (apt-get install chromium chromium-driver).
test-browser: $(VENV)/.stamp-browser lite html
	D2LMINI_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# Prints every benchmark and rewrites README.md's benchmark table from the run.
bench: $(VENV)/.stamp-bench
	MPLBACKEND=Agg $(BIN)/python -m benchmarks --readme

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-lab: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e '.[notebooks,test]'
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e '.[test]'
	touch $@

$(VENV)/.stamp-lite: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e '.[test,lite]'
	touch $@

$(VENV)/.stamp-browser: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e '.[test,lite,browser]'
	touch $@

$(VENV)/.stamp-bench: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e '.[bench]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
