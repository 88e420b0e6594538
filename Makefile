# minternet — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
# Debian packages the tests use: real peers and tools that judge our bytes.
DEBS   := tshark dnsutils nginx-light curl openssl iputils-ping iproute2 nftables chromium chromium-driver libnss3-tools traceroute dnsmasq-base isc-dhcp-client udhcpc
TOOLS  := tshark dig nginx curl openssl ping ip nft chromium chromedriver certutil traceroute dnsmasq dhclient udhcpc

.PHONY: install debs demo test lint typecheck pytest bench figures report-screenshot browser-screenshot clean

install: $(VENV)/.installed debs

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# apt-get update only when something is missing (and only as root, as CI runs).
debs:
	@missing=""; for t in $(TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq $(DEBS) >/dev/null; \
	fi

demo: install
	$(BIN)/minternet demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -n 4 --dist worksteal -q

test: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n 4 --dist worksteal -q

bench: install
	$(PY) -m bench

# The README's sweep figures: 200 page loads (seeds 1-20, five loss rates, RSA and ECDHE)
# on the local Dask cluster, plotted into docs/figures/sweep/; and 200 more over the extra
# latency (docs/figures/sweep-rtt/, for handshake time against RTT). Reruns only replot.
figures: install
	$(BIN)/minternet sweep --what fetch --seed 1..20 --loss 0,0.05,0.1,0.2,0.3 \
	  --kex rsa,ecdhe --out build/sweep-readme --no-plot
	$(BIN)/minternet sweep plot build/sweep-readme --out docs/figures/sweep
	$(BIN)/minternet sweep --what fetch --seed 1..10 --latency 0,25,50,100,200 \
	  --loss 0,0.1 --kex rsa,ecdhe --out build/sweep-rtt --no-plot
	$(BIN)/minternet sweep plot build/sweep-rtt --out docs/figures/sweep-rtt

# The README's picture of the HTML report: the default run's page in headless Chromium.
report-screenshot: install
	$(PY) docs/report_screenshot.py

# The README's screenshot: headless Chromium in a namespace, loading the page through the
# whole world in real time (`minternet tap world`); the test checks the DOM and saves it.
browser-screenshot: install
	MINTERNET_SCREENSHOT_OUT=$(CURDIR)/docs/figures/realworld/chromium.png \
	  $(BIN)/pytest -q tests/drivers/test_tap_world.py -k chromium

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
