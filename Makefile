# Two commands do all set-up on a fresh machine (Python 3.11, no GPU); each creates the virtual environment first.
#   make smoke   run the book's smoke profile (every notebook, headless) and build its HTML
#   make test    run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROFILE ?= smoke

.PHONY: smoke test book html setup clean

smoke: book html

setup: $(STAMP)

# torch's CPU wheel first: a bare `torch` requirement could pull a multi-GB CUDA build.
$(STAMP): pyproject.toml setup.py $(wildcard pyflow/*.pyx pyflow/*.pxd pyflow/*.pxi)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $@

book: $(STAMP)
	$(BIN)/iseebetter book run --profile $(PROFILE)

html: $(STAMP)
	$(BIN)/iseebetter book build --profile $(PROFILE)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15 -q

clean:
	rm -rf _build .cache runs build pyflow/*.c pyflow/*.so
