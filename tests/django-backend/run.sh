#!/usr/bin/env bash
# Runs the Django reference backend on 127.0.0.1:PORT in the foreground, under gunicorn:
#   run.sh [PORT] [WORKERS]        PORT defaults to 8001, WORKERS (sync workers) to 2
#   DJANGO=5.2 (the default) or DJANGO=3.2 picks the release (install both first with install.sh).
# Each start migrates and seeds a fresh SQLite database in a temporary folder, unless DJANGO_BACKEND_DB
# names one (a SQLite file, or a postgres://USER@HOST:PORT/NAME URL of an existing PostgreSQL database, which
# is migrated and seeded the same way); the other DJANGO_BACKEND_* settings are in backend/settings.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:-8001}"
workers="${2:-2}"
case "${DJANGO:-5.2}" in
  5.2)
    marker="${POSTERN_DJANGO_CACHE:-/var/cache/postern/django-5.2}/site-packages.path"
    [ -f "$marker" ] || { echo "run.sh: Django 5.2 is not installed: run $here/install.sh as root" >&2; exit 1; }
    export PYTHONPATH="$(cat "$marker")${PYTHONPATH:+:$PYTHONPATH}"
    ;;
  3.2)
    /usr/bin/python3 -c 'import django' 2>/dev/null || { echo "run.sh: Django 3.2 is not installed: run $here/install.sh as root" >&2; exit 1; }
    ;;
  *) echo "run.sh: DJANGO must be 5.2 or 3.2, not '${DJANGO}'" >&2; exit 2 ;;
esac
if [ -z "${DJANGO_BACKEND_DB:-}" ]; then
  # Removed on exit: each start is a fresh database, and the tests start many.
  db_folder="$(mktemp -d)"
  export DJANGO_BACKEND_DB="$db_folder/reference-backend.sqlite3"
fi
cd "$here"
/usr/bin/python3 manage.py migrate --no-input >/dev/null
/usr/bin/python3 manage.py seed_users >/dev/null
if [ -n "${db_folder:-}" ]; then
  # gunicorn in the background so that the temporary database goes with it; signals reach it through the trap.
  /usr/bin/python3 -m gunicorn --bind "127.0.0.1:${port}" --workers "$workers" --access-logfile - backend.wsgi:application &
  server=$!
  trap 'kill -TERM "$server" 2>/dev/null' INT TERM
  status=0
  wait "$server" || status=$?
  wait "$server" 2>/dev/null || true
  rm -rf "$db_folder"
  exit "$status"
fi
exec /usr/bin/python3 -m gunicorn --bind "127.0.0.1:${port}" --workers "$workers" --access-logfile - backend.wsgi:application
