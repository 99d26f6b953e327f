#!/usr/bin/env bash
# Writes, in one run: an authenticated PATCH /api/groups/1/ with the token pair (wrk, 32 connections, as bench/run.sh's
# write scenario) on one Postern instance, on
#   1. SQLite with group commit (the default: the writes waiting at once share one durable commit),
#   2. SQLite with each write committed alone (Postern:Storage:SqliteWritesPerCommit=1, as before group commit),
#   3. PostgreSQL alone (fsync and synchronous_commit on, its defaults),
#   4. PostgreSQL with Redis for the change counter, when redis-server is installed.
# Every store keeps SQLite's and PostgreSQL's durable defaults: a write is on disk when its answer leaves.
# Rounds alternate the stores, so that the machine's drift falls on all alike; prints the median req/s, p50 and p99.
# As root (the private PostgreSQL cluster belongs to the postgres OS user), on loopback only.
#   bench/writes.sh [SECONDS] [ROUNDS]    each measurement's length (default 10) after a 2 s warm-up; rounds (default 3)
set -euo pipefail
# shellcheck source=bench/lib/loopback-postern.sh
source "$(dirname "$0")/lib/loopback-postern.sh"
seconds="${1:-10}"
rounds="${2:-3}"
loopback_setup writes-bench
create_database writes
create_database writes_redis
redis_port=""
if command -v redis-server >/dev/null; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$work/redis.pid" --logfile "$work/redis.log"
  trap 'kill "$(cat "$work/redis.pid" 2>/dev/null)" 2>/dev/null || true; loopback_clean_up' EXIT
fi

# measure LABEL DATABASE [SETTING=VALUE...]: one line "LABEL req/s p50_ms p99_ms errors".
measure() {
  local label=$1 database=$2; shift 2
  echo staff-password | env "$@" Postern__Accounts__PasswordIterations=1000 \
    dotnet "$dll" createuser staff --staff --password-stdin --db "$database" >/dev/null 2>&1 || true
  serve_env=("$@" Postern__Accounts__PasswordIterations=1000)
  postern_up --db "$database"
  sign_in staff staff-password
  # The group the PATCH renames to the name it already has, as bench/run.sh's write scenario does.
  curl -sf -H "$session_cookie" -H "X-CSRFToken: $csrf_token" -H 'Content-Type: application/json' \
    -d '{"name": "staff"}' "$base/api/groups/" >/dev/null || true
  printf '%s\t%s\n' "${session_cookie#Cookie: }" "$csrf_token" >"$work/sessions"
  local run=(env BENCH_SESSIONS="$work/sessions" BENCH_METHOD=PATCH BENCH_BODY='{"name": "staff"}'
    wrk -t2 -c32 -s "$here/bench/wrk/unsafe.lua")
  "${run[@]}" -d2s "$base/api/groups/1/" >/dev/null
  "${run[@]}" -d"${seconds}s" "$base/api/groups/1/" | awk -v l="$label" '/^BENCH-RESULT/ {
    sub(/^BENCH-RESULT /, ""); gsub(/[{}"]/, ""); n = split($0, kv, ",")
    for (i = 1; i <= n; i++) { split(kv[i], p, ":"); v[p[1]] = p[2] }
    errors = v["status_errors"] + v["connect_errors"] + v["read_errors"] + v["write_errors"] + v["timeouts"]
    printf "%s %.0f %.2f %.2f %d\n", l, v["requests"] / (v["duration_us"] / 1e6), v["p50_us"] / 1000, v["p99_us"] / 1000, errors }'
  postern_down
}

stores=(sqlite sqlite_alone postgres)
[ -n "$redis_port" ] && stores+=(postgres_redis)
results="$work/results"
for _ in $(seq "$rounds"); do
  for store in "${stores[@]}"; do
    case $store in
      sqlite) measure "$store" "$work/grouped.sqlite3" ;;
      sqlite_alone) measure "$store" "$work/alone.sqlite3" Postern__Storage__SqliteWritesPerCommit=1 ;;
      postgres) measure "$store" "$postgres_url/writes" ;;
      postgres_redis) measure "$store" "$postgres_url/writes_redis" Postern__Redis__Configuration="127.0.0.1:$redis_port" ;;
    esac
  done >>"$results"
done

echo "authenticated PATCH /api/groups/1/ with the token pair, wrk -t2 -c32 -d${seconds}s, median of $rounds alternating rounds"
echo "| store | req/s | p50 | p99 | errors | req/s vs SQLite, one write per commit |"
echo "|---|---:|---:|---:|---:|---:|"
alone=$(awk '$1 == "sqlite_alone" { print $2 }' "$results" | median)
for store in "${stores[@]}"; do
  label=$(case $store in
    sqlite) echo "SQLite, group commit (default)" ;; sqlite_alone) echo "SQLite, one write per commit" ;;
    postgres) echo "PostgreSQL alone" ;; postgres_redis) echo "PostgreSQL + Redis" ;; esac)
  rps=$(awk -v s="$store" '$1 == s { print $2 }' "$results" | median)
  p50=$(awk -v s="$store" '$1 == s { print $3 }' "$results" | median)
  p99=$(awk -v s="$store" '$1 == s { print $4 }' "$results" | median)
  errors=$(awk -v s="$store" '$1 == s { e += $5 } END { print e + 0 }' "$results")
  awk -v l="$label" -v r="$rps" -v a="$p50" -v b="$p99" -v e="$errors" -v base="$alone" \
    'BEGIN { printf "| %s | %.0f | %.2f ms | %.2f ms | %d | %.2fx |\n", l, r, a, b, e, r / base }'
done
