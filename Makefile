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

.PHONY: env demo test lint data run notebooks bench clean chromium

env: $(STAMP) $(ASSETS)/leaflet/dist/leaflet.js

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Leaflet for offline maps, taken from the npm registry at build time (not kept in git):
# with npm when it is installed, else by netplan itself (`netplan data assets`, sha512 checked).
$(ASSETS)/leaflet/dist/leaflet.js: | $(STAMP)
	@mkdir -p $(ASSETS)
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(ASSETS) && npm pack --silent leaflet@$(LEAFLET_VERSION) >/dev/null && \
	  rm -rf leaflet && mkdir leaflet && tar xzf leaflet-$(LEAFLET_VERSION).tgz -C leaflet --strip-components=1 && \
	  rm -f leaflet-$(LEAFLET_VERSION).tgz; \
	else $(BIN)/python -m netplan data assets --dest $(ASSETS) \
	  || echo "could not fetch Leaflet: maps will load it from its CDN (needs internet)"; fi

# The browser tests need Chromium: found on PATH, else installed with apt-get when we are
# root (as CI is), else make stops at once and says what to run.
CHROMIUM_NAMES := chromium chromium-browser google-chrome
chromium:
	@for c in $(CHROMIUM_NAMES); do command -v $$c >/dev/null 2>&1 && exit 0; done; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Chromium for the browser tests (apt-get install chromium)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	    && command -v chromium >/dev/null 2>&1; } \
	    || { echo "error: could not install Chromium; run: sudo apt-get install -y chromium" >&2; exit 1; }; \
	else \
	  echo "error: Chromium not found (the browser tests need it); run: sudo apt-get install -y chromium" >&2; \
	  exit 1; \
	fi

data: env
	$(BIN)/python cli.py data fetch
	$(BIN)/python cli.py data list

run: env
	$(BIN)/python cli.py run $(SCENARIO) --out $(OUT)

demo: data run

test: env chromium
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
	rm -rf $(VENV) .pytest_cache .ruff_cache outputs build dist netplan.egg-info
