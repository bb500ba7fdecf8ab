# make run: set up .venv, build the index if it is missing or out of date, start the page.
# make serve: the same, then serve the JSON HTTP API on http://127.0.0.1:8000 (docs at /docs).
# make test: set up .venv (and Debian's chromium when missing, as root), run the whole test
#   suite: real model and real browser included.
# Re-running any of them is fast: the virtualenv is rebuilt only when requirements.txt changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run serve test index bench chromium

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

# The browser tests drive Debian's Chromium (never a downloaded browser). As root, install it
# when missing; otherwise those tests skip and say how to install it.
chromium:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/medquad.py
