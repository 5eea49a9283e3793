# The two commands of the quick start: `make run` and `make test`.
# Everything they need is installed into .venv from requirements*.txt.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: train-kinds run test lint typecheck pytest bench soak soak-scale clean-data stop-db install screenshots

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) scripts/run.py

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DEBUG=true $(PY) -m mypy .
	$(VENV)/bin/lint-imports --no-logo
	$(PY) scripts/ensure_chromium.py
	$(PY) scripts/ensure_promtool.py
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

typecheck: $(STAMP)
	DEBUG=true $(PY) -m mypy .

pytest: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Retrain extraction/kinds.py's model from tests/data's labelled sets (deterministic; commit the JSON it writes).
train-kinds: $(STAMP)
	$(PY) bench/train_kinds.py

# docs/dashboard.md's pictures (docs/img/): the demo in a database of its own, at 1366 and 390 px.
screenshots: $(STAMP)
	$(PY) scripts/ensure_chromium.py
	$(PY) scripts/screenshots.py

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH)

# Fault-injection soak (loopback, < 13 min): results go to RELIABILITY.md "## Soak". Then the
# scale-out run (two web and two worker nodes on the machine's PostgreSQL and a Redis of its own,
# ~10 min): "## Scale-out soak". Both always run; either failing fails the target.
soak: $(STAMP)
	status=0; $(PY) soak/run.py || status=1; $(PY) soak/scale_out.py || status=1; exit $$status

soak-scale: $(STAMP)
	$(PY) soak/scale_out.py

stop-db: $(STAMP)
	$(PY) -m config.embedded_pg stop

clean-data: stop-db
	rm -rf .data
