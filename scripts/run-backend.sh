#!/usr/bin/env bash
# Runs the Postern backend on http://127.0.0.1:8000 (POSTERN_URLS overrides) with an embedded SQLite
# database, ./postern.sqlite3 in the folder you run this from (POSTERN_DB or --db name another file or a
# postgres:// URL). Builds Release first. Ctrl+C (or SIGTERM) stops it.
#   scripts/run-backend.sh                 the backend; its first start creates 'admin' and prints the password
#   scripts/run-backend.sh --demo-data     also, on a first start, the walkthrough's users alice and bob
# Other options go to `Postern.Server serve` (--help lists them).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
command -v dotnet >/dev/null || { echo "run-backend.sh: the .NET 10 SDK is required (dotnet is not on PATH)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
echo "building Postern.Server (Release)..." >&2
dotnet build "$here/src/Postern.Server/Postern.Server.csproj" -c Release -nologo -v quiet >/dev/null \
  || dotnet build "$here/src/Postern.Server/Postern.Server.csproj" -c Release -nologo -v quiet
# The built server itself, not `dotnet run`: it runs in the caller's folder (so ./postern.sqlite3 is where
# you are), as Production (no launch profile), and Ctrl+C reaches it directly.
exec dotnet "$here/src/Postern.Server/bin/Release/net10.0/Postern.Server.dll" serve \
  --urls "${POSTERN_URLS:-http://127.0.0.1:8000}" "$@"
