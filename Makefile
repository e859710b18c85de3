# radmine: two commands on a fresh machine with Python 3.11 and pip.
#   make demo   install into .venv and run the whole pipeline on a phantom export
#   make test   install into .venv and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench browser

# The review-page test renders HTML in headless Chromium (Debian's package).
CHROMIUM ?= /usr/bin/chromium

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH bash scripts/demo.sh

browser:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null) ; } \
	  || echo "note: chromium not installed; the review-page browser test will be skipped"

# One pytest worker a core (pytest-xdist); a module with costly module-scoped fixtures, and the Prefect
# tests, stay on one worker each (their xdist_group marks).
test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n auto --dist loadgroup

bench: $(STAMP)
	$(BIN)/python -m bench.mining_speed --reports 300
	$(BIN)/python bench/index_bench.py --files 20000 --memory-files 20000
	$(BIN)/python bench/flow_e2e.py --sizes 20
	$(BIN)/python bench/load_matching.py --studies 20 --copies 1 5
	$(BIN)/python bench/model_throughput.py --cpu-small

clean:
	rm -rf $(VENV) demo .pytest_cache .hypothesis
