# The two Quick start commands (see README.md). Each installs what it needs first.
.PHONY: demo test lint

demo:
	./scripts/bootstrap.sh
	.venv/bin/collections-svc demo

test:
	./scripts/bootstrap.sh --with-browser
	./scripts/ensure-postgres.sh
	.venv/bin/pytest

lint:
	.venv/bin/ruff check src tests bench
