# Two commands do all set-up on a fresh machine (Python 3.11+, Node.js 20 with npm, make):
#   make run   - server + worker (+ the Stripe test double) on the embedded default (SQLite)
#   make test  - lint, type-check and the whole test suite (SQLite and PostgreSQL, browser)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed
SPA := web/dist/index.html
PROMTOOL := $(VENV)/tools/promtool

.PHONY: run test lint check web clean contract

# The Stripe test double is a package of its own (stripe-double/): development and tests
# install it beside the ledger; the ledger's wheel and image do not (docs/stripe-double.md).
$(STAMP): pyproject.toml stripe-double/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e ./stripe-double
	touch $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

$(SPA): $(WEB_STAMP) $(shell find web/src web/index.html web/public web/vite.config.ts -type f 2>/dev/null)
	cd web && npm run build

web: $(SPA)

# Browser tests drive Debian's Chromium (a test tool's own browser download can't work here).
/usr/bin/chromium:
	apt-get update -qq && apt-get install -y -qq chromium

run: $(STAMP) $(SPA)
	$(BIN)/ledger dev up --host 127.0.0.1 --port 8000

# The SPA's API types come from the contract: the OpenAPI document built in-process (no
# server) → web/openapi.json → openapi-typescript → web/src/lib/api.gen.ts (both committed).
# $(call write_contract,JSON,TS) writes the two files to those paths.
write_contract = $(BIN)/python -m app.entrypoints.http.document $(1) && \
	cd web && npx --no-install openapi-typescript $(abspath $(1)) --default-non-nullable false \
	-o $(abspath $(2)) >/dev/null
CONTRACT_TMP := $(VENV)/contract-check

contract: $(STAMP) $(WEB_STAMP)
	$(call write_contract,web/openapi.json,web/src/lib/api.gen.ts)

lint: $(STAMP) $(WEB_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	rm -rf $(CONTRACT_TMP) && mkdir -p $(CONTRACT_TMP)
	$(call write_contract,$(CONTRACT_TMP)/openapi.json,$(CONTRACT_TMP)/api.gen.ts)
	diff -u web/openapi.json $(CONTRACT_TMP)/openapi.json && \
	diff -u web/src/lib/api.gen.ts $(CONTRACT_TMP)/api.gen.ts || \
	{ echo "web/openapi.json or web/src/lib/api.gen.ts differs from the API: run make contract"; exit 1; }
	cd web && npm run typecheck && npm run format:check

# Alert rules are checked by Prometheus' own promtool, from Debian's prometheus package:
# unpacked, not installed, so no Prometheus server is set up or started on this machine.
$(PROMTOOL):
	rm -rf $(VENV)/tools/deb && mkdir -p $(VENV)/tools/deb
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq; fi
	cd $(VENV)/tools/deb && apt-get download -qq prometheus
	dpkg-deb -x $(VENV)/tools/deb/prometheus_*.deb $(VENV)/tools/deb
	mv $(VENV)/tools/deb/usr/bin/promtool $(PROMTOOL)
	rm -rf $(VENV)/tools/deb

test: lint $(SPA) /usr/bin/chromium $(PROMTOOL)
	cd web && npm test
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis web/node_modules web/dist
