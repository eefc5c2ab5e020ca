# One command each. Python 3.12+ is picked explicitly (pyenv keeps it unselected here).
PYTHON ?= PYENV_VERSION=3.12.1 python3.12
VENV := .venv

.PHONY: install demo test test-postgres lint format messages ci screens

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

install: $(VENV)/bin/python
	$(VENV)/bin/pip install -e '.[test]'

demo: install
	$(VENV)/bin/civicgrid demo

test: install
	$(VENV)/bin/python -m pytest

test-postgres: install
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/civicgrid $(VENV)/bin/python -m pytest

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/civicgrid makemigrations --check --dry-run

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages:
	cd civicgrid && ../$(VENV)/bin/django-admin makemessages -l zh_Hans --settings=civicgrid.config.settings --ignore '*/tests/*'
	cd civicgrid && ../$(VENV)/bin/django-admin compilemessages --settings=civicgrid.config.settings

ci:
	bash .ci/run

# Each role's home page at 1440×900 and 390×844, zh-Hans and English, from a fresh demo
# (needs Chromium: CHROMIUM_PATH, and CJK fonts).
screens: install
	$(VENV)/bin/civicgrid screens --out docs/screens
