# make run: set up .venv, build the index if it is missing or out of date, start the page.
# make serve: the same, then serve the JSON HTTP API on http://127.0.0.1:8000 (docs at /docs).
# make test: set up .venv, run the whole test suite (real model included).
# Re-running any of them is fast: the virtualenv is rebuilt only when requirements.txt changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run serve test index bench

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

index: $(STAMP)
	$(PY) build_index.py --check >/dev/null 2>&1 || $(PY) build_index.py

run: index
	$(VENV)/bin/streamlit run app.py

serve: index
	$(PY) -m guidesearch serve

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/medquad.py
