#!/usr/bin/env bash
# The read cache on PostgreSQL without Redis, measured beside SQLite in one run: authenticated GET /api/users/1/ with wrk
# (32 connections) on one Postern instance, on
#   1. SQLite (the cache kept exact by data_version),
#   2. PostgreSQL alone with the cache off (Postern:Cache:Enabled=false: every request queries PostgreSQL, as before the
#      counter existed),
#   3. PostgreSQL alone with the cache kept exact by the change counter in the database (docs/scale-out.md).
# Prints req/s of each and the ratios. As root (the private cluster belongs to the postgres OS user), on loopback only.
#   bench/postgres-signal.sh [SECONDS]      each measurement's length (default 10), after a 2 s warm-up
set -euo pipefail
# shellcheck source=bench/lib/loopback-postern.sh
source "$(dirname "$0")/lib/loopback-postern.sh"
seconds="${1:-10}"
loopback_setup pg-bench
create_database bench
postgres="$postgres_url/bench"

# measure DATABASE [SETTING=VALUE...]: req/s of an authenticated GET /api/users/1/ (alice signed in once).
measure() {
  local database=$1; shift
  echo alice-password | env "$@" Postern__Accounts__PasswordIterations=1000 \
    dotnet "$dll" createuser alice --staff --password-stdin --db "$database" >/dev/null 2>&1 || true
  serve_env=("$@" Postern__Accounts__PasswordIterations=1000)
  postern_up --db "$database"
  sign_in alice alice-password
  wrk -t2 -c32 -d2s -H "$session_cookie" "$base/api/users/1/" >/dev/null
  wrk -t2 -c32 -d"${seconds}s" -H "$session_cookie" "$base/api/users/1/" | awk '/Requests\/sec/{print $2}'
  postern_down
}

sqlite=$(measure "$work/postern.sqlite3")
uncached=$(measure "$postgres" Postern__Cache__Enabled=false)
counted=$(measure "$postgres")
awk -v s="$sqlite" -v u="$uncached" -v c="$counted" 'BEGIN {
  print "| store | req/s | vs SQLite |"; print "|---|---:|---:|"
  printf "| SQLite | %.0f | 1.00 |\n", s
  printf "| PostgreSQL alone, cache off | %.0f | %.2f |\n", u, u / s
  printf "| PostgreSQL alone, change counter | %.0f | %.2f |\n", c, c / s
  printf "\nchange counter vs cache off: %.1fx\n", c / u
}'
