#!/usr/bin/env bash
# Starts the local PostgreSQL cluster if it is not accepting connections (the tests create and drop
# their own databases in it). Set COLLECTIONS_TEST_PG to use another server.
set -euo pipefail
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done
echo "PostgreSQL is not reachable at 127.0.0.1:5432; the test suite needs it." >&2
exit 1
