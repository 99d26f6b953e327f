#!/usr/bin/env bash
# Installs the Django reference backend's two Django releases, both from Debian's archive:
#   3.2  Debian 12's own python3-django 3.2, python3-djangorestframework 3.14 and gunicorn (apt-get), and
#        python3-aiosmtpd for check.py;
#        python3-psycopg2 and python3-redis: the drivers for a PostgreSQL database (DJANGO_BACKEND_DB=postgres://...)
#        and Django's RedisCache (DJANGO_BACKEND_REDIS_URL, 5.2 only), as the tests on PostgreSQL and the scale-out
#        benchmark run it; Debian 12's (psycopg2 2.9, redis-py 4.3) are new enough for both releases, and 5.2's
#        unpacked tree below imports them from the system's dist-packages (its PYTHONPATH comes first, the system's
#        packages after), so nothing of them is unpacked twice;
#   5.2  the newest Django 5.2 LTS and a DRF that supports it, from Debian's newer suites (sid, trixie),
#        downloaded with a private apt state and unpacked into $POSTERN_DJANGO_CACHE (default
#        /var/cache/postern/django-5.2): the system's Python and packages stay as they are.
# Idempotent (a second run with everything present does nothing); needs root for apt-get.
#   install.sh            both releases
#   install.sh --3.2-only Debian 12's packages only
set -euo pipefail
cache="${POSTERN_DJANGO_CACHE:-/var/cache/postern/django-5.2}"

missing=()
/usr/bin/python3 -c 'import django, rest_framework' 2>/dev/null || missing+=(python3-django python3-djangorestframework)
command -v gunicorn >/dev/null || missing+=(gunicorn)
# check.py's SMTP server.
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
# The PostgreSQL driver and the Redis client (both releases; see the top).
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
/usr/bin/python3 -c 'import redis' 2>/dev/null || missing+=(python3-redis)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ "${1:-}" = "--3.2-only" ] && exit 0

# Django 5.2 as run.sh runs it (the unpacked tree first on PYTHONPATH, then the system's dist-packages): its PostgreSQL
# backend must load psycopg2 and its RedisCache redis-py from the system.
check_modern() {
  PYTHONPATH="$1" /usr/bin/python3 -c '
import django, rest_framework, psycopg2, redis
from django.conf import settings
settings.configure()
import django.db.backends.postgresql.base
import django.core.cache.backends.redis
print("Django", django.get_version(), "+ DRF", rest_framework.VERSION, "+ psycopg2", psycopg2.__version__.split()[0],
      "+ redis-py", redis.__version__)'
}
if [ -f "$cache/site-packages.path" ]; then
  check_modern "$(cat "$cache/site-packages.path")" >/dev/null && exit 0
  echo "install.sh: the Django 5.2 tree in $cache does not load; unpacking it again" >&2
fi

# A private apt (state, lists, cache and sources of its own) that knows the newer suites of the archive
# this machine already uses; nothing of it touches /var/lib/apt or /etc/apt.
rm -rf "$cache"
mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/debs" "$cache/root"
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security' | head -1 || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
    /etc/apt/sources.list 2>/dev/null | grep -v -- '-security' | head -1 || true)
fi
[ -n "$mirror" ] || { echo "install.sh: cannot find the Debian archive in apt's sources" >&2; exit 1; }
for suite in sid trixie; do
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
done > "$cache/apt/sources.list"
private_apt=(-o Dir::State="$cache/apt" -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt"
             -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${private_apt[@]}" update -qq >/dev/null 2>&1 || apt-get "${private_apt[@]}" update

# The newest version of package $1 matching the regular expression $2.
newest() {
  apt-cache "${private_apt[@]}" madison "$1" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | grep -E "$2" | sort -V | tail -1
}
django=$(newest python3-django '^3:5\.2\.')
[ -n "$django" ] || { echo "install.sh: no Django 5.2 in Debian's sid or trixie" >&2; exit 1; }
drf=$(newest python3-djangorestframework '^3\.(1[5-9])\.')
asgiref=$(newest python3-asgiref '^3\.([89]|1[0-9])\.')
sqlparse=$(newest python3-sqlparse '^0\.')
(cd "$cache/debs" && apt-get "${private_apt[@]}" download "python3-django=$django" \
  "python3-djangorestframework=$drf" "python3-asgiref=$asgiref" "python3-sqlparse=$sqlparse" >/dev/null)
for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
# Debian's DRF links its CSS and JS into Debian's shared web assets, which the 3.2 install brought.
mkdir -p "$cache/root/usr/share"
for assets in javascript fonts-font-awesome; do
  [ -e "/usr/share/$assets" ] && ln -sfn "/usr/share/$assets" "$cache/root/usr/share/$assets"
done
site="$cache/root/usr/lib/python3/dist-packages"
versions=$(check_modern "$site")
echo "$versions (unpacked)"
echo "$site" > "$cache/site-packages.path"
