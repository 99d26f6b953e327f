#!/usr/bin/env bash
# Runs the django-allauth peer on 127.0.0.1:PORT in the foreground, under gunicorn:
#   run.sh [PORT] [WORKERS]     PORT defaults to 8011, WORKERS (sync workers) to 2
#   ALLAUTH=new (the default): the newest allauth from Debian's newer suites, with Django 5.2 (forms, headless, MFA)
#   ALLAUTH=0.51: Debian 12's allauth 0.51 with Django 3.2 (forms only)
# (install both first with install.sh). Each start migrates and seeds (seed.py) a fresh SQLite database in a
# temporary folder, removed when the server stops, unless ALLAUTH_SITE_DIR names a folder (kept; seeding an
# already seeded one changes nothing). The other ALLAUTH_SITE_* settings are in allauthsite/settings.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:-8011}"
workers="${2:-2}"
case "${ALLAUTH:-new}" in
  new)
    marker="${POSTERN_ALLAUTH_CACHE:-/var/cache/postern/allauth-new}/pythonpath"
    [ -f "$marker" ] || { echo "run.sh: the newest django-allauth is not installed: run $here/install.sh as root" >&2; exit 1; }
    export PYTHONPATH="$(cat "$marker")${PYTHONPATH:+:$PYTHONPATH}"
    ;;
  0.51)
    # Debian 12's packages in the system's Python: nothing of the unpacked stacks on the path.
    unset PYTHONPATH
    /usr/bin/python3 -c 'import allauth' 2>/dev/null \
      || { echo "run.sh: Debian 12's django-allauth is not installed: run $here/install.sh --0.51-only as root" >&2; exit 1; }
    ;;
  *) echo "run.sh: ALLAUTH must be new or 0.51, not '${ALLAUTH}'" >&2; exit 2 ;;
esac
if [ -z "${ALLAUTH_SITE_DIR:-}" ]; then
  # Removed on exit: each start is a fresh database, and the tests start many.
  data="$(mktemp -d)"
  export ALLAUTH_SITE_DIR="$data"
fi
cd "$here"
/usr/bin/python3 manage.py migrate --no-input >/dev/null
/usr/bin/python3 seed.py >/dev/null
gunicorn=(/usr/bin/python3 -m gunicorn --bind "127.0.0.1:${port}" --workers "$workers" --access-logfile -
          allauthsite.wsgi:application)
if [ -n "${data:-}" ]; then
  # gunicorn in the background so that the temporary folder goes with it; signals reach it through the trap.
  "${gunicorn[@]}" &
  server=$!
  trap 'kill -TERM "$server" 2>/dev/null' INT TERM
  status=0
  wait "$server" || status=$?
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
  exit "$status"
fi
exec "${gunicorn[@]}"
