# Two commands on a fresh machine: `make demo` and `make test`. Only python3 is needed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_DB   ?= demo/ccstats.duckdb
DEMO_HTML ?= demo/report.html

.PHONY: demo test check lint typecheck bench lab clean fixtures

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m compileall -q analyzer
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@mkdir -p demo
	@rm -f $(DEMO_DB) $(DEMO_DB).wal
	$(VENV)/bin/ccstats ingest --db $(DEMO_DB) --log-tz UTC --litellm-config scripts/capture/litellm_config.yaml sample_logs/
	$(VENV)/bin/ccstats report --db $(DEMO_DB) --tz UTC
	$(VENV)/bin/ccstats report --db $(DEMO_DB) --tz UTC --html $(DEMO_HTML)
	@echo ""
	@echo "Database: $(abspath $(DEMO_DB))"
	@echo "Report:   $(abspath $(DEMO_HTML))  (open it in a browser; works offline)"

# pytest exit code 5 ("no tests collected") is a failure here too.
test: $(STAMP)
	TZ=UTC $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff format --check analyzer tests
	$(VENV)/bin/ruff check analyzer tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy analyzer

check: lint typecheck test

# Byte-compiled first, as `pip install` leaves an installed package: an editable install has no .pyc files, and
# with PYTHONDONTWRITEBYTECODE set every run would compile the package again (about 20 ms a command).
bench: $(STAMP)
	$(PY) -m compileall -q analyzer
	$(PY) -m analyzer.bench

lab: $(STAMP) demo
	CCSTATS_DB=$(abspath $(DEMO_DB)) $(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
