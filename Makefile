# netplan: two commands on a fresh machine (Python 3.11 + pip, no conda needed)
#   make demo   set up .venv, fetch the data, run the England scenario, print the outputs
#   make test   set up .venv, run the whole test suite (no network)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.netplan-installed
ASSETS := $(VENV)/share/netplan/assets
LEAFLET_VERSION := 1.9.4

# The offline data mirror: ../shared/data when it exists, else whatever the caller exports.
ifneq ($(wildcard ../shared/data/README.md),)
export NETPLAN_DATA_MIRROR ?= $(abspath ../shared/data)
endif
export NETPLAN_ASSETS ?= $(abspath $(ASSETS))
export MPLBACKEND = Agg

SCENARIO ?= scenarios/england.yaml
OUT      ?= outputs/england

.PHONY: env demo test lint data run notebooks bench clean

env: $(STAMP) $(ASSETS)/leaflet/dist/leaflet.js

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Leaflet for offline maps, taken from the npm registry at build time (not kept in git).
$(ASSETS)/leaflet/dist/leaflet.js:
	@mkdir -p $(ASSETS)
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(ASSETS) && npm pack --silent leaflet@$(LEAFLET_VERSION) >/dev/null && \
	  rm -rf leaflet && mkdir leaflet && tar xzf leaflet-$(LEAFLET_VERSION).tgz -C leaflet --strip-components=1 && \
	  rm -f leaflet-$(LEAFLET_VERSION).tgz; \
	else echo "npm not found: maps will load Leaflet from its CDN (needs internet)"; fi

data: env
	$(BIN)/python cli.py data fetch
	$(BIN)/python cli.py data list

run: env
	$(BIN)/python cli.py run $(SCENARIO) --out $(OUT)

demo: data run

test: env
	$(BIN)/python -m pytest -q

lint: env
	$(BIN)/ruff check netplan cli.py tests benchmarks
	$(BIN)/ruff format --check netplan cli.py tests benchmarks

notebooks: env
	$(BIN)/python -m pytest -q tests/test_notebooks.py

bench: env
	$(BIN)/python benchmarks/bench_traveltime.py
	$(BIN)/python benchmarks/bench_optimise.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache outputs
