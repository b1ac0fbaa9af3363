# make reproduce : every notebook of the paper in the `quick` profile -> figures/
# make test      : ruff + pytest (unit tests and nbval over the notebooks in the `smoke` profile)
# Both bootstrap .venv with pip on first use; nothing else needs to be installed.
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= quick
BIN := $(VENV)/bin
STAMP := $(VENV)/.rrampaper-installed

.PHONY: venv reproduce check-html test lint lab benchmarks clean-figures

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

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet "jupyterlab>=4.0" "ipywidgets>=8.0"
	$(BIN)/jupyter lab notebooks/

benchmarks: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-figures:
	rm -rf figures/*.png figures/*.pdf figures/notebooks figures/html
