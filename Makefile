# oncall-copilot: `make demo` and `make test` do everything on a fresh Debian machine.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps system-deps python-deps demo test bench lock clean

deps: system-deps python-deps

# Real Prometheus (promtool) and Alertmanager from Debian, only if missing.
system-deps:
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || \
	    ! { command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null; }; then \
	  echo "installing prometheus and prometheus-alertmanager (Debian packages)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    prometheus prometheus-alertmanager >/dev/null; \
	fi
	@prometheus --version 2>&1 | head -1

$(VENV)/.stamp-deps: requirements.lock pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements.lock
	$(PIP) install -q --disable-pip-version-check --no-deps -e .
	@touch $@

python-deps: $(VENV)/.stamp-deps

demo: deps
	$(VENV)/bin/oncall demo

test: deps
	$(VENV)/bin/pytest -q -p no:cacheprovider

bench: deps
	$(PY) bench/webhook_ack.py
	$(PY) bench/page_to_post.py

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock:
	$(PIP) install -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra bench -o requirements.lock

clean:
	rm -rf $(VENV) build *.egg-info
