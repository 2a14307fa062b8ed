# Wenyuan 文渊 — the two commands are `make demo` and `make test`.
# Everything is installed by deploy/local/stack.py into .cache/ and .venv/ (git-ignored);
# the running stack keeps its data, logs and pid files under .run/.

PYTHON ?= python3
STACK  := $(PYTHON) deploy/local/stack.py
VENV   := .venv/bin
PYTEST_ARGS ?=

.PHONY: help install up down status demo test unit lint bench logs

help:
	@echo "make demo    install, start the stack, ingest the sample batch, print the URLs"
	@echo "make test    install what is missing, start the stack, run the whole test suite"
	@echo "make bench   run the benchmarks (results: docs/BENCHMARKS.md)"
	@echo "make up | down | status    start, stop (only what up started), show each service"
	@echo "make unit    the unit tests alone (no stack)   make lint   ruff and mypy"

install:
	$(STACK) install --tools

up:
	$(STACK) up

down:
	$(STACK) down

status:
	@$(STACK) status

demo: up
	@$(VENV)/wenyuan demo

test: install up
	$(VENV)/python -m pytest $(PYTEST_ARGS)

unit: install
	$(VENV)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: install
	$(VENV)/ruff check services indexing schemas dags tests deploy/local
	$(VENV)/mypy

bench: install up
	$(VENV)/python -m tests.bench
