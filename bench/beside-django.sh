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
# shellcheck source=bench/lib/loopback-postern.sh
source "$(dirname "$0")/lib/loopback-postern.sh"
seconds="${1:-10}"
rounds="${2:-3}"
marker="${POSTERN_DJANGO_CACHE:-/var/cache/postern/django-5.2}/site-packages.path"
[ -f "$marker" ] || { echo "beside-django.sh: Django 5.2 is not installed: run tests/django-backend/install.sh as root" >&2; exit 1; }
key="beside-django-bench-key-not-secret-0123456789abcdef"
loopback_setup beside-django-bench
for name in own django; do create_database "$name"; done

# Django's own migrate and seed (alice, staff, password alice-password) on a SQLite file and on PostgreSQL.
django_manage() {
  (cd "$here/tests/django-backend" && PYTHONPATH="$(cat "$marker")" DJANGO_BACKEND_DB="$1" /usr/bin/python3 manage.py "${@:2}" >/dev/null)
}
django_manage "$work/django.sqlite3" migrate --no-input
django_manage "$work/django.sqlite3" seed_users
django_manage "$postgres_url/django" migrate --no-input
django_manage "$postgres_url/django" seed_users

# Postern's own schema: alice made by createuser (with Django 5.2's iteration count, as the seed's).
for database in "$work/own.sqlite3" "$postgres_url/own"; do
  echo alice-password | Postern__SecretKey="$key" dotnet "$dll" createuser alice --staff --password-stdin --db "$database" >/dev/null
done

# measure DATABASE SCHEMA: req/s of an authenticated GET /api/users/1/ (alice signed in once).
measure() {
  serve_env=(Postern__SecretKey="$key")
  postern_up --db "$1" --schema "$2"
  sign_in alice alice-password
  curl -sf -H "$session_cookie" "$base/api/users/1/" >/dev/null || { echo "beside-django.sh: the login on $2 failed" >&2; cat "$work/serve.log" >&2; exit 1; }
  wrk -t2 -c32 -d2s -H "$session_cookie" "$base/api/users/1/" >/dev/null
  wrk -t2 -c32 -d"${seconds}s" -H "$session_cookie" "$base/api/users/1/" | awk '/Requests\/sec/{print $2}'
  postern_down
}

declare -A results
for _ in $(seq "$rounds"); do
  results[sqlite_own]+="$(measure "$work/own.sqlite3" postern) "
  results[sqlite_django]+="$(measure "$work/django.sqlite3" django) "
  results[pg_own]+="$(measure "$postgres_url/own" postern) "
  results[pg_django]+="$(measure "$postgres_url/django" django) "
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
