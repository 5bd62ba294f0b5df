# Meridian — `make run` to try it, `make test` to check it. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
# Training spins OpenMP threads (ACTIVE: 1.7x faster on an idle 2-core box); web and workers
# wait passively (the settings' default), which is what a shared CPU needs. Export
# OMP_WAIT_POLICY=PASSIVE to train politely beside other work.

.DEFAULT_GOAL := help
.PHONY: help install install-dev run serve migrate seed test test-full lint fmt worker worker-ml worker-chat beat schema clean bench frontend test-frontend e2e api-types check-api-types backtest-tlh bench-batch bench-batch-workers bench-chat-batch evaluate

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime ## Create .venv and install the runtime requirements

install-dev: $(VENV)/.dev ## …and the development/test requirements

migrate: install ## Apply database migrations
	$(PY) manage.py migrate --noinput

seed: migrate ## Market data, demo people and funded accounts, models (trains what is missing), news
	@# The allocation build runs here, in-process (no broker for this step), before the demo
	@# accounts are funded: queued to a worker that is not running yet, it left them all cash.
	CELERY_BROKER_URL= $(PY) manage.py load_market_data --no-progress
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_portfolios
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-ACTIVE} $(PY) manage.py train_models --missing
	$(PY) manage.py build_knowledge_index --missing
	$(PY) manage.py ingest_news

FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package.json -type f 2>/dev/null)
E2E_PORT ?= 8799

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

frontend: frontend/dist/index.html ## Build the browser client into frontend/dist/ (npm from the registry)

test-frontend: frontend/node_modules/.package-lock.json ## The browser client's unit tests (Vitest)
	cd frontend && npm test

e2e: install frontend ## End to end in headless Chromium (desktop, then 375 px; axe WCAG A/AA and CSP watched): fresh demo database, chat model, a server; then the PWA checks
	command -v chromium >/dev/null || (apt-get install -y -q chromium >/dev/null)
	mkdir -p var/e2e && rm -f var/e2e/db.sqlite3
	export DATABASE_URL=sqlite:///$(CURDIR)/var/e2e/db.sqlite3 CELERY_BROKER_URL= \
	       NLP_MODEL_DIR=$(CURDIR)/var/e2e/models ; \
	$(PY) manage.py migrate --noinput -v0 && $(PY) manage.py collectstatic --noinput -v0 && \
	$(PY) manage.py load_market_data --no-progress && \
	$(PY) manage.py seed_demo && $(PY) manage.py seed_demo_portfolios && \
	OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-ACTIVE} $(PY) manage.py train_models chat_intent --no-progress && \
	$(PY) manage.py build_knowledge_index && \
	{ $(PY) manage.py runserver 127.0.0.1:$(E2E_PORT) --noreload >var/e2e/server.log 2>&1 & server=$$!; \
	  trap 'kill $$server' EXIT; \
	  for i in $$(seq 60); do curl -sf -o /dev/null http://127.0.0.1:$(E2E_PORT)/healthz && break; sleep 1; done; \
	  cd frontend && BASE_URL=http://127.0.0.1:$(E2E_PORT) npm run e2e && \
	  BASE_URL=http://127.0.0.1:$(E2E_PORT) VIEWPORT=375x812 SCREENSHOT_DIR=$(CURDIR)/screenshots/phone npm run e2e && \
	  BASE_URL=http://127.0.0.1:$(E2E_PORT) node e2e/pwa.mjs; }

run: frontend seed ## Set up everything and serve the app with demo data on http://127.0.0.1:8000
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Meridian on http://$(HOST):$(PORT)/ — demo logins are in README.md; the admin's password was printed above when it was created"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Workers and beat run production's settings where DJANGO_ENV=production (config/environment.py
# refuses any other there), else the local ones. A deployment's lanes (CELERY_TASK_ROUTES):
#   make worker       default + batch: emails, purges, the sweeper; daily jobs, goal projections,
#                     news scoring, the allocation build
#   make worker-ml    ml: the risk model's opinions (and any other nlp.* task)
#   make worker-chat  chat: client questions only, so no batch can delay a reply
# With no CELERY_BROKER_URL (the embedded default) every task runs in-process: no worker at all.
CELERY_ENV = $(if $(filter production,$(DJANGO_ENV)),DJANGO_SETTINGS_MODULE=config.settings.production)
WORKER_QUEUES ?= default,batch
WORKER_CONCURRENCY ?= 2
CHAT_CONCURRENCY ?= 1
# The default/batch worker runs at a lower CPU priority than the web and the chat worker, so a
# night's batch does not slow the answers clients wait for on a shared machine.
WORKER_NICE ?= 10

serve: install frontend ## Production-style server: build the browser client, collect static files, then gunicorn (needs the production environment variables)
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=config.settings.production $(VENV)/bin/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 3

worker: install ## Celery worker for the default and batch queues, below the web and chat in CPU priority (WORKER_NICE=10; needs CELERY_BROKER_URL)
	$(CELERY_ENV) nice -n $(WORKER_NICE) $(VENV)/bin/celery -A config worker --queues $(WORKER_QUEUES) --concurrency $(WORKER_CONCURRENCY) --loglevel INFO -n default@%h

worker-ml: install ## Celery worker for the ml queue: one task at a time (needs CELERY_BROKER_URL)
	$(CELERY_ENV) $(VENV)/bin/celery -A config worker --queues ml --concurrency 1 --prefetch-multiplier 1 --loglevel INFO -n ml@%h

worker-chat: install ## Celery worker for the chat queue only: client questions (needs CELERY_BROKER_URL)
	$(CELERY_ENV) $(VENV)/bin/celery -A config worker --queues chat --concurrency $(CHAT_CONCURRENCY) --prefetch-multiplier 1 -O fair --loglevel INFO -n chat@%h

beat: install ## Celery beat, the periodic-job scheduler, with the sweeper every minute (needs CELERY_BROKER_URL)
	mkdir -p var && $(CELERY_ENV) $(VENV)/bin/celery -A config beat --loglevel INFO

test: install-dev ## The whole suite: pytest, the browser client's unit tests, end to end in Chromium
	$(PY) -m pytest -q
	$(MAKE) test-frontend
	$(MAKE) e2e

test-full: install-dev ## The suite with slow tests and a deeper API fuzz run
	SCHEMATHESIS_COVERAGE=1 SCHEMATHESIS_MAX_EXAMPLES=100 $(PY) -m pytest -q -m ''

bench: install ## Benchmarks: summary rps, Monte Carlo, model portfolios, sentiment task, chat latency
	$(PY) -m benchmarks.portfolio_summary
	$(PY) -m benchmarks.account_performance
	$(PY) -m benchmarks.projection
	$(PY) -m benchmarks.model_portfolios
	$(PY) -m benchmarks.sentiment_throughput
	$(PY) -m benchmarks.chat_latency
	$(PY) -m benchmarks.risk_figures
	$(PY) -m benchmarks.walkforward

evaluate: install ## Every served model's evaluation report against its baselines, with its model card (trains what is missing first: make seed)
	$(PY) manage.py models_evaluate

backtest-tlh: install ## Tax-loss harvesting backtest on the shipped history, 2008–2023 (--json for JSON)
	$(PY) manage.py backtest_tlh

bench-batch: install ## The daily batch in chunks on a synthetic book of 1,000 accounts: s/100 accounts and queries/account per job (--accounts 1000,10000; --serial: whole-book jobs)
	$(PY) -m benchmarks.daily_batch --accounts 1000

bench-batch-workers: install ## The fanned-out daily batch through 1 then 2 Celery worker processes on a settled book of 1,000 accounts (needs DATABASE_URL=postgres://… and Redis; uses Redis db 13 and a scratch database)
	$(PY) -m benchmarks.daily_batch_workers --accounts 1000 --chunk 500 --workers 1,2 --settled

bench-chat-batch: install ## Chat p95 through the API (real chat worker, Redis db 12, the SQLite database `make seed` filled) while the daily batch runs on 2 worker processes (needs DATABASE_URL=postgres://… for the batch's scratch database)
	rm -f .bench-batch-running
	$(PY) -m benchmarks.daily_batch_workers --accounts 1000 --chunk 250 --workers 2 --running-file .bench-batch-running & \
	batch=$$!; \
	env -u DATABASE_URL CELERY_BROKER_URL=redis://127.0.0.1:6379/12 CELERY_RESULT_BACKEND=redis://127.0.0.1:6379/12 \
	  $(PY) -m benchmarks.chat_latency --during .bench-batch-running; chat=$$?; \
	wait $$batch; exit $$chat

lint: install-dev ## ruff check, ruff format --check, mypy, check-api-types
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(MAKE) check-api-types

fmt: install-dev ## Format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schema: install ## Write the versioned OpenAPI schema, openapi/meridian-api-v1.json (validated; committed for native apps)
	mkdir -p openapi && $(API_SCHEMA_JSON) --file $(API_SCHEMA_FILE)

# The browser client's types, generated from the schema and committed (frontend/scripts/api-types.mjs).
# The schema is built as production serves it, whatever the local environment says: PostgreSQL
# (its integer ranges differ from SQLite's and show in the schema; nothing connects to it).
API_TYPES := schema.d.ts choices.gen.ts
# The schema as a versioned artifact (SPECTACULAR_SETTINGS VERSION 1.x): native apps build on it.
API_SCHEMA_FILE := openapi/meridian-api-v1.json
API_SCHEMA_JSON := DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL=postgres://schema@localhost/schema \
	$(PY) manage.py spectacular --validate --fail-on-warn --format openapi-json

api-types: install frontend/node_modules/.package-lock.json ## Regenerate the schema artifact and frontend/src/api/{schema.d.ts,choices.gen.ts} from it
	mkdir -p openapi && $(API_SCHEMA_JSON) --file $(API_SCHEMA_FILE)
	node frontend/scripts/api-types.mjs $(API_SCHEMA_FILE) frontend/src/api

check-api-types: install frontend/node_modules/.package-lock.json ## Fail if the committed API types differ from what the schema produces
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(API_SCHEMA_JSON) --file "$$tmp/openapi.json" && \
	node frontend/scripts/api-types.mjs "$$tmp/openapi.json" "$$tmp" && \
	for f in $(API_TYPES); do diff -u "frontend/src/api/$$f" "$$tmp/$$f" || { \
	  echo "frontend/src/api/$$f is out of date: run make api-types and commit it." >&2; exit 1; }; done && \
	diff -q $(API_SCHEMA_FILE) "$$tmp/openapi.json" >/dev/null || { \
	  echo "$(API_SCHEMA_FILE) is out of date: run make api-types and commit it." >&2; exit 1; }

clean: ## Remove the virtualenv, the SQLite database and generated files
	rm -rf $(VENV) db.sqlite3 var frontend/node_modules frontend/dist
