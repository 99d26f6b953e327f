#!/usr/bin/env bash
# Runs the Postern backend on http://127.0.0.1:8000 with an embedded SQLite database (./postern.sqlite3
# unless POSTERN_DB or --db says otherwise). Extra arguments go to `Postern.Server serve`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec dotnet run --project "$here/src/Postern.Server" -c Release -- serve --urls "${POSTERN_URLS:-http://127.0.0.1:8000}" "$@"
