#!/usr/bin/env bash
# Postern beside a Django project (--schema django: Django's auth_user and django_session as its tables) against Postern
# on its own schema, in one run: authenticated GET /api/users/1/ with wrk (32 connections) on one instance, on SQLite and
# on PostgreSQL alone (the read cache kept exact by the change counter, which Django's writes move through triggers).
# The Django project's database is the reference backend's (tests/django-backend: Django 5.2, migrated and seeded by its
# own manage.py). Rounds alternate the two schemas, so that the machine's drift falls on both alike; the median of the
# rounds is printed, and the ratio (target: beside Django within 10 % of the own schema).
# As root (the private PostgreSQL cluster belongs to the postgres OS user), on loopback only; needs tests/django-backend/install.sh.
#   bench/beside-django.sh [SECONDS] [ROUNDS]   each measurement's length (default 10) after a 2 s warm-up; rounds (default 3)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
rounds="${2:-3}"
command -v wrk >/dev/null || { echo "beside-django.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/initdb" ] || { echo "beside-django.sh: PostgreSQL's server binaries are required (apt-get install postgresql)" >&2; exit 1; }
marker="${POSTERN_DJANGO_CACHE:-/var/cache/postern/django-5.2}/site-packages.path"
[ -f "$marker" ] || { echo "beside-django.sh: Django 5.2 is not installed: run tests/django-backend/install.sh as root" >&2; exit 1; }
dotnet build "$here/src/Postern.Server/Postern.Server.csproj" -c Release -nologo -v quiet >/dev/null
dll="$here/src/Postern.Server/bin/Release/net10.0/Postern.Server.dll"
key="beside-django-bench-key-not-secret-0123456789abcdef"

work="$(mktemp -d /tmp/postern-beside-django-bench-XXXXXX)"
chmod 755 "$work" && chown postgres: "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(free_port)
http_port=$(free_port)
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
for name in own django; do runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$name"; done
base="http://127.0.0.1:$http_port"

# Django's own migrate and seed (alice, staff, password alice-password) on a SQLite file and on PostgreSQL.
django_manage() {
  (cd "$here/tests/django-backend" && PYTHONPATH="$(cat "$marker")" DJANGO_BACKEND_DB="$1" /usr/bin/python3 manage.py "${@:2}" >/dev/null)
}
django_manage "$work/django.sqlite3" migrate --no-input
django_manage "$work/django.sqlite3" seed_users
django_manage "postgres://postgres@127.0.0.1:$pg_port/django" migrate --no-input
django_manage "postgres://postgres@127.0.0.1:$pg_port/django" seed_users

# Postern's own schema: alice made by createuser (with Django 5.2's iteration count, as the seed's).
for database in "$work/own.sqlite3" "postgres://postgres@127.0.0.1:$pg_port/own"; do
  echo alice-password | Postern__SecretKey="$key" dotnet "$dll" createuser alice --staff --password-stdin --db "$database" >/dev/null
done

# measure DATABASE SCHEMA: req/s of an authenticated GET /api/users/1/ (alice signed in once).
measure() {
  Postern__SecretKey="$key" Logging__LogLevel__Default=Warning \
    dotnet "$dll" serve --db "$1" --schema "$2" --urls "$base" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 150); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.2; done
  local jar="$work/cookies"
  rm -f "$jar"
  curl -s -c "$jar" -b "$jar" "$base/auth/csrf" >/dev/null
  curl -s -c "$jar" -b "$jar" -H "X-CSRFToken: $(awk '$6=="csrftoken"{print $7}' "$jar")" -H 'Content-Type: application/json' \
    -d '{"username": "alice", "password": "alice-password"}' "$base/auth/login" >/dev/null
  local cookie="Cookie: sessionid=$(awk '$6=="sessionid"{print $7}' "$jar")"
  curl -sf -H "$cookie" "$base/api/users/1/" >/dev/null || { echo "beside-django.sh: the login on $2 failed" >&2; cat "$work/serve.log" >&2; exit 1; }
  wrk -t2 -c32 -d2s -H "$cookie" "$base/api/users/1/" >/dev/null
  wrk -t2 -c32 -d"${seconds}s" -H "$cookie" "$base/api/users/1/" | awk '/Requests\/sec/{print $2}'
  kill "$server" && wait "$server" 2>/dev/null || true
  server=""
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A results
for _ in $(seq "$rounds"); do
  results[sqlite_own]+="$(measure "$work/own.sqlite3" postern) "
  results[sqlite_django]+="$(measure "$work/django.sqlite3" django) "
  results[pg_own]+="$(measure "postgres://postgres@127.0.0.1:$pg_port/own" postern) "
  results[pg_django]+="$(measure "postgres://postgres@127.0.0.1:$pg_port/django" django) "
done
echo "authenticated GET /api/users/1/, wrk -t2 -c32 -d${seconds}s, median of $rounds alternating rounds"
echo "| store | Postern's schema req/s | beside Django req/s | beside ÷ own |"
echo "|---|---:|---:|---:|"
for store in sqlite pg; do
  own=$(tr ' ' '\n' <<<"${results[${store}_own]}" | grep . | median)
  django=$(tr ' ' '\n' <<<"${results[${store}_django]}" | grep . | median)
  label=$([ "$store" = sqlite ] && echo SQLite || echo "PostgreSQL alone")
  awk -v l="$label" -v o="$own" -v d="$django" 'BEGIN { printf "| %s | %.0f | %.0f | %.2f |\n", l, o, d, d / o }'
done
