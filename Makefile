# Two commands do all set-up on a fresh machine (Python 3.11, no GPU); each creates the virtual environment first.
#   make smoke   run the book's smoke profile (every notebook, headless) and build its HTML
#   make test    run the test suite
#   make lab     JupyterLab on this repository (project kernel; .py chapters open as notebooks)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROFILE ?= smoke
TORCH  := torch==2.13.0
# the versions CI tested (pip constraints: pins only, never the project itself)
PIN    := -c constraints.txt

.PHONY: smoke test book html lab setup clean

smoke: book html

setup: $(STAMP)

# torch's CPU wheel first: a bare `torch` requirement could pull a multi-GB CUDA build.
$(STAMP): pyproject.toml setup.py constraints.txt jupyter/labconfig/default_setting_overrides.d/iseebetter.json $(wildcard pyflow/*.pyx pyflow/*.pxd pyflow/*.pxi)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIN) $(TORCH)
	$(BIN)/python -m pip install --quiet $(PIN) -e ".[book,test]"
	# an editable install skips pyproject's data-files: put the JupyterLab setting into the environment here
	install -D -m 644 jupyter/labconfig/default_setting_overrides.d/iseebetter.json \
		$(VENV)/etc/jupyter/labconfig/default_setting_overrides.d/iseebetter.json
	# the project kernel, "Python (iseebetter)": this environment's Python, named in every chapter's header
	$(BIN)/python -m ipykernel install --sys-prefix --name iseebetter --display-name "Python (iseebetter)"
	touch $@

book: $(STAMP)
	$(BIN)/iseebetter book run --profile $(PROFILE)

html: $(STAMP)
	$(BIN)/iseebetter book build --profile $(PROFILE)

# JupyterLab's setting that opens .py files with the Jupytext Notebook viewer ships in jupyter/labconfig and is
# installed into the environment's etc/jupyter; JUPYTER_CONFIG_PATH also covers an environment set up without it, and
# JUPYTER_PATH the project kernel (jupyter/kernels/iseebetter).
lab: $(STAMP)
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter JUPYTER_PATH=$(CURDIR)/jupyter $(BIN)/jupyter lab --notebook-dir=$(CURDIR) \
		--MultiKernelManager.default_kernel_name=iseebetter $(if $(filter 0,$(shell id -u)),--allow-root) \
		notebooks/00_overview.py

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15 -q

clean:
	rm -rf _build .cache runs build pyflow/*.c pyflow/*.so
