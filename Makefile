# ClientPlus — two commands: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8501
ADDR   ?= localhost

.PHONY: install run test bench lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/clientplus init --demo-if-new
	$(VENV)/bin/streamlit run serve.py --server.address $(ADDR) --server.port $(PORT)

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/bench.py

lint: install
	$(VENV)/bin/ruff check clientplus_core clientplus_cli clientplus_ui pages app.py serve.py tests bench
	$(VENV)/bin/mypy clientplus_core clientplus_cli

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
