# make reproduce : every notebook of the paper in the `quick` profile -> figures/
# make test      : the full suite, what CI runs: ruff + lint-imports + pytest (unit tests, doctests
#                  and nbval over every notebook in the `smoke` profile), ~5 min on 2 cores
# make test-fast : ruff + lint-imports + unit tests and doctests, without the notebooks and without
#                  the tests marked `slow` (training runs, notebook kernels), under 3 min on 2 cores
# make lab / tutorials / check-lab : the teaching notebooks in JupyterLab, as HTML pages, and
#                  tutorial 1 driven in headless Chromium (see README, Teaching)
# Both bootstrap .venv with pip on first use; nothing else needs to be installed.
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= quick
BIN := $(VENV)/bin
STAMP := $(VENV)/.rrampaper-installed

.PHONY: venv reproduce check-html test test-fast lint lab tutorials check-lab benchmarks clean-figures

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/rrampaper reproduce --profile $(PROFILE)

# the HTML pages of `make reproduce` in headless Chromium (apt-get install chromium)
check-html: $(STAMP)
	$(BIN)/rrampaper check-html

lint: $(STAMP)
	$(BIN)/ruff check rrampaper tests benchmarks notebooks
	$(BIN)/lint-imports

test: lint
	MPLBACKEND=Agg $(BIN)/python -m pytest

# naming the folders replaces pyproject's testpaths, so nbval collects no notebook
test-fast: lint
	MPLBACKEND=Agg $(BIN)/python -m pytest -m "not slow" tests rrampaper

# JupyterLab on the tutorials (notebooks/tutorials; the paper notebooks are one folder up)
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet "jupyterlab>=4.0" "ipywidgets>=8.0"
	$(BIN)/jupyter lab notebooks/tutorials/

# the tutorials executed (static figures) and as HTML pages: figures/tutorials/{notebooks,html}
tutorials: $(STAMP)
	$(BIN)/rrampaper reproduce --profile smoke --notebooks-dir notebooks/tutorials \
		--output-dir figures/tutorials

# tutorial 1 in JupyterLab in headless Chromium: run all cells, move the forming-voltage slider,
# check the formed fraction changes; screenshot figures/lab_tutorial_01.png. Skipped with a
# message without Chromium (apt-get install chromium); no browser is downloaded.
check-lab: $(STAMP)
	$(BIN)/python -m pip install --quiet "jupyterlab>=4.0" "playwright>=1.40"
	$(BIN)/python tests/browser/check_lab.py

benchmarks: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-figures:
	rm -rf figures/*.png figures/*.pdf figures/notebooks figures/html
