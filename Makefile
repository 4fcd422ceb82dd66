# Two commands do everything (see README "Quick start"):
#   make all    set up .venv, clean the sample, forecast, execute notebooks, export the briefing
#   make test   set up test tools, then unit tests + nbval over every notebook
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TIANXIN := $(VENV)/bin/tianxin
STAMP := $(VENV)/.installed-runtime
DEVSTAMP := $(VENV)/.installed-dev
# apt-get needs root; use sudo when we are not root and sudo exists.
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)

.PHONY: all setup setup-dev fonts browser office scale data forecast notebooks report test lint notebooks-commit clean-outputs

all: setup fonts
	$(TIANXIN) all --raw data/raw --processed data/processed --reports reports

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(STAMP)

$(DEVSTAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup-dev: $(DEVSTAMP)

# A CJK font for chart labels. Matplotlib finds one of the preferred fonts or we install
# Debian's WenQuanYi Micro Hei (4 MB); tests fail on any missing glyph.
fonts: $(STAMP)
	@$(PY) -m tianxin_analysis.fonts --check >/dev/null 2>&1 || { \
	  echo "installing a CJK font (fonts-wqy-microhei)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-wqy-microhei >/dev/null && \
	  rm -rf $$HOME/.cache/matplotlib; }
	$(PY) -m tianxin_analysis.fonts --check

# Headless Chromium for the briefing's browser test (skipped with a reason when unavailable).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the HTML briefing test"; \
	  ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null ) \
	  || echo "chromium not installed: the browser test will be skipped"; }

# LibreOffice (Writer, headless) and poppler for the tests that open briefing.docx and render
# the PDF's pages (skipped with a reason when they cannot be installed).
office:
	@{ command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; } || { \
	  echo "installing LibreOffice Writer and poppler-utils for the briefing tests"; \
	  ( $(SUDO) apt-get update -qq && \
	    $(SUDO) apt-get install -y -qq libreoffice-writer-nogui poppler-utils >/dev/null ) \
	  || echo "LibreOffice/poppler not installed: the DOCX and PDF page tests will be skipped"; }

# The engines of docs/scale.md for the engine tests: the [scale] extra (pyspark, dask, duckdb)
# and a headless Java for Spark (the tests skip with a reason when these cannot be installed).
SCALESTAMP := $(VENV)/.installed-scale
$(SCALESTAMP): $(DEVSTAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev,scale]' && touch $@ \
	  || echo "[scale] extra not installed: the engine tests will be skipped"

scale: $(SCALESTAMP)
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing a headless Java for the Spark tests"; \
	  ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq default-jre-headless >/dev/null ) \
	  || echo "Java not installed: the Spark tests will be skipped"; }

data: setup
	$(TIANXIN) clean --raw data/raw --out data/processed

test: setup-dev fonts browser office scale data
	$(PY) -m pytest tests notebooks --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/interrogate tianxin_analysis

# Re-execute the committed notebooks in place (developers, after a change that alters outputs).
notebooks-commit: setup data
	$(TIANXIN) notebooks --in-place

clean-outputs:
	rm -rf reports/* data/processed/*
	touch reports/.gitkeep
