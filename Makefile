# Rolodex: `make run` to try it, `make test` to test it. Everything lives in ./.venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.run-installed

## run: install, migrate, seed the demo workspace and serve on http://127.0.0.1:8000
# The demo's CRM is the reference CRM (examples/reference_crm) on 127.0.0.1:8010, and its
# WhatsApp, Messenger, Instagram, SMS (Twilio), X and email channels talk to the platform
# simulator (examples/platform_simulator) on 127.0.0.1:8020, whose SMTP sink (port 8025) is
# the email channel's mail server; Rolodex takes the customers' mail on SMTP port 2525. The
# web chat's bot, "Shop assistant", is the reference bot (examples/reference_bot) on
# 127.0.0.1:8030, reading the secret `rolodex demo` left in var/demo-bot-secret. The CRM,
# the simulator and the bot start beside Rolodex and stop with it; loopback targets are
# allowed for that, and retries wait minutes instead of hours.
run: $(VENV)/.run-installed
	$(BIN)/rolodex demo
	@$(BIN)/python examples/reference_crm/server.py --port 8010 --db var/reference-crm.db \
		--secret "$$(cat var/demo-crm-secret)" --seed & crm=$$!; \
	$(BIN)/python examples/platform_simulator/server.py --port 8020 --smtp-port 8025 \
		--rolodex-smtp 127.0.0.1:2525 --accounts var/demo-simulator.json & sim=$$!; \
	$(BIN)/python examples/reference_bot/server.py --port 8030 \
		--secret-file var/demo-bot-secret & bot=$$!; \
	trap 'kill $$crm $$sim $$bot 2>/dev/null' EXIT INT TERM; \
	ROLODEX_ALLOW_PRIVATE_WEBHOOK_TARGETS=1 ROLODEX_WRITE_BACK_RETRY_UNIT_SECONDS=60 \
		ROLODEX_SMTP_PORT=2525 \
		$(BIN)/rolodex serve --host 127.0.0.1 --port 8000

## test: install with test extras and run the whole test suite, in two processes (pytest-xdist:
## a file's tests stay together; each process gets its own PostgreSQL database, <name>_gw0, …)
test: $(VENV)/.test-installed
	$(BIN)/pytest -n 2 --dist loadfile

## lint: ruff (lint + format check), mypy strict and the import contracts (.importlinter)
lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/domain_imports.py

## check: lint, then the tests
check: lint test

## i18n: extract every message, update the Spanish catalog, list what lacks Spanish
i18n: $(VENV)/.test-installed
	$(BIN)/python scripts/i18n.py

format: $(VENV)/.test-installed
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

## bench: run every benchmark in bench/ (figures go to docs/benchmarks.md)
bench: $(VENV)/.test-installed
	@for script in bench/*.py; do \
		case $$script in */_*) continue;; esac; \
		echo "== $$script"; $(BIN)/python $$script || exit 1; \
	done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
