#!/usr/bin/env bash
# While nothing has shipped, the schema lives in one initial migration: regenerate it from the
# models. Once a release is out, use `flask db migrate` for a new revision instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# Several people (or helpers) may regenerate at once: one at a time.
exec 9>/tmp/proofsheet-migration.lock
flock 9
tmp=$(mktemp -d)
rm -f migrations/versions/*.py
PROOFSHEET_SECRET_KEY=x DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/flask --app wsgi db migrate \
  -m "initial schema" >/dev/null 2>&1
rm -rf "$tmp"
ls migrations/versions/*.py
