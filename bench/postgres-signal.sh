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
here="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
command -v wrk >/dev/null || { echo "postgres-signal.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/initdb" ] || { echo "postgres-signal.sh: PostgreSQL's server binaries are required (apt-get install postgresql)" >&2; exit 1; }
dotnet build "$here/src/Postern.Server/Postern.Server.csproj" -c Release -nologo -v quiet >/dev/null
dll="$here/src/Postern.Server/bin/Release/net10.0/Postern.Server.dll"

work="$(mktemp -d /tmp/postern-pg-bench-XXXXXX)"
chmod 755 "$work" && chown postgres: "$work"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
runuser -u postgres -- "$bin/initdb" -D "$work/data" -U postgres --auth=trust --no-sync -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$bin/pg_ctl" start -w -D "$work/data" -l "$work/postgres.log" \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $work -c max_connections=200" >/dev/null
server=""
clean_up() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  runuser -u postgres -- "$bin/pg_ctl" stop -D "$work/data" -m fast >/dev/null || true
  rm -rf "$work"
}
trap clean_up EXIT
runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres bench
postgres="postgres://postgres@127.0.0.1:$pg_port/bench"
base="http://127.0.0.1:$http_port"

# measure DATABASE [SETTING=VALUE...]: req/s of an authenticated GET /api/users/1/ (alice signed in once).
measure() {
  local database=$1; shift
  echo alice-password | env "$@" Postern__Accounts__PasswordIterations=1000 \
    dotnet "$dll" createuser alice --staff --password-stdin --db "$database" >/dev/null 2>&1 || true
  env "$@" Postern__Accounts__PasswordIterations=1000 Logging__LogLevel__Default=Warning \
    dotnet "$dll" serve --db "$database" --urls "$base" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 150); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
  local jar="$work/cookies"
  rm -f "$jar"
  curl -s -c "$jar" -b "$jar" "$base/auth/csrf" >/dev/null
  curl -s -c "$jar" -b "$jar" -H "X-CSRFToken: $(awk '$6=="csrftoken"{print $7}' "$jar")" -H 'Content-Type: application/json' \
    -d '{"username": "alice", "password": "alice-password"}' "$base/auth/login" >/dev/null
  local cookie="Cookie: sessionid=$(awk '$6=="sessionid"{print $7}' "$jar")"
  wrk -t2 -c32 -d2s -H "$cookie" "$base/api/users/1/" >/dev/null
  wrk -t2 -c32 -d"${seconds}s" -H "$cookie" "$base/api/users/1/" | awk '/Requests\/sec/{print $2}'
  kill "$server" && wait "$server" 2>/dev/null || true
  server=""
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
