# The two commands: `make run` (install, migrate, seed the demo district, serve) and `make test`.
VENV ?= .venv
# the audit tools' own virtualenv (requirements-audit.txt)
AUDIT_VENV ?= .venv-audit
PY := $(VENV)/bin/python
PORT ?= 5000
WORKERS ?= 2
SYSTEM_PACKAGES := fonts-noto-cjk fonts-arphic-ukai libharfbuzz-subset0 poppler-utils
TEST_SYSTEM_PACKAGES := $(SYSTEM_PACKAGES) chromium libreoffice-writer-nogui
export TRACKER_DEMO_PASSWORD ?= demo-2026
# The suite runs in TEST_WORKERS processes (pytest-xdist; each has its own database), then the tests marked serial
# (they restart the database server) alone.
TEST_WORKERS ?= 2
PYTEST = $(VENV)/bin/pytest -q -p no:cacheprovider --durations=15

.PHONY: run test install install-test system-deps migrate seed lint audit screenshots

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test $(AUDIT_VENV)/.installed

$(AUDIT_VENV)/.installed: requirements-audit.txt
	test -x $(AUDIT_VENV)/bin/python || python3 -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install -q -r requirements-audit.txt
	touch $@

system-deps:
	@scripts/system-deps.sh $(SYSTEM_PACKAGES)

migrate: install
	$(VENV)/bin/alembic upgrade head

seed: migrate
	$(VENV)/bin/flask --app tracker seed --demo

run: system-deps seed
	@echo ""
	@echo "反诈督办台账: http://127.0.0.1:$(PORT)/"
	@echo "Demo accounts (password: $(TRACKER_DEMO_PASSWORD)):"
	@echo "  admin     系统管理员"
	@echo "  reviewer  政法委审核员"
	@echo "  police    公安分局填报员"
	@echo "  town1     青石镇填报员   (town2..town6: 柳溪镇、云岭镇、白沙镇、东湖街道、南山街道)"
	@echo "  zfw office court procuratorate finance econ market urban construction: the other departments' officers"
	@echo ""
	VENV=$(VENV) WORKERS=$(WORKERS) PORT=$(PORT) scripts/serve.sh

test: install-test
	@scripts/system-deps.sh $(TEST_SYSTEM_PACKAGES)
	$(VENV)/bin/ruff check tracker tests migrations
	VENV=$(AUDIT_VENV) scripts/audit.sh
	$(PYTEST) -n $(TEST_WORKERS) --dist worksteal -m "not serial"
	$(PYTEST) -m serial
	@if [ -n "$$TRACKER_TEST_DATABASE_URL" ]; then \
		echo "== the suite again on $$TRACKER_TEST_DATABASE_URL =="; \
		TRACKER_TEST_DB="$$TRACKER_TEST_DATABASE_URL" $(PYTEST) -n $(TEST_WORKERS) --dist worksteal -m "not serial" && \
		TRACKER_TEST_DB="$$TRACKER_TEST_DATABASE_URL" $(PYTEST) -m serial; \
	fi

# Refresh the README's pictures in docs/screenshots from the browser tests (a plain test run writes them to /tmp).
screenshots: install-test
	@scripts/system-deps.sh $(TEST_SYSTEM_PACKAGES)
	TRACKER_SCREENSHOTS=$(CURDIR)/docs/screenshots $(VENV)/bin/pytest -q -p no:cacheprovider tests/e2e

lint: install-test
	$(VENV)/bin/ruff check tracker tests migrations
	$(VENV)/bin/ruff format --check tracker tests

audit: install-test
	VENV=$(AUDIT_VENV) scripts/audit.sh
