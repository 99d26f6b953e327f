#!/usr/bin/env bash
# Installs the two django-allauth peers of tests/allauth-site, both from Debian's archive only:
#   0.51  Debian 12's own python3-django-allauth 0.51 (account views as HTML forms; no MFA, no headless API),
#         with Debian 12's Django 3.2 and DRF 3.14 (apt-get, through tests/django-backend/install.sh);
#   new   the newest python3-django-allauth in Debian's newer suites (sid, trixie), with the Python packages
#         it needs that Debian 12 lacks or has too old (python3-fido2 1.x, python3-qrcode), downloaded with
#         a private apt state and unpacked into $POSTERN_ALLAUTH_CACHE (default /var/cache/postern/allauth-new),
#         layered over the Django 5.2 + DRF that tests/django-backend/install.sh unpacks: the system's Python
#         and packages stay as they are.
# Writes $POSTERN_ALLAUTH_CACHE/pythonpath: the PYTHONPATH that run.sh uses for ALLAUTH=new.
# Idempotent (a second run with everything present does nothing); needs root for apt-get.
#   install.sh              both
#   install.sh --0.51-only  Debian 12's packages only
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${POSTERN_ALLAUTH_CACHE:-/var/cache/postern/allauth-new}"
django_cache="${POSTERN_DJANGO_CACHE:-/var/cache/postern/django-5.2}"
fail() { echo "allauth-site/install.sh: $*" >&2; exit 1; }

only_old=
case "${1:-}" in
  "") ;;
  --0.51-only) only_old=1 ;;
  *) fail "unknown option '$1' (use --0.51-only or nothing)" ;;
esac

# Debian 12: Django 3.2, DRF, gunicorn (and, unless --0.51-only, Django 5.2 unpacked), then allauth 0.51.
if [ -n "$only_old" ]; then
  bash "$here/../django-backend/install.sh" --3.2-only
else
  bash "$here/../django-backend/install.sh"
fi
# The system's own Python, without any PYTHONPATH of the caller's (which could name the unpacked stacks).
if ! env -u PYTHONPATH /usr/bin/python3 -c 'import allauth' 2>/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-django-allauth >/dev/null \
    || fail "apt-get could not install python3-django-allauth (Debian 12's 0.51)"
fi
env -u PYTHONPATH /usr/bin/python3 -c \
  'import allauth, django, rest_framework; print("django-allauth", allauth.__version__, "with Django", django.get_version(), "+ DRF", rest_framework.VERSION, "(Debian 12)")'
[ -n "$only_old" ] && exit 0

[ -f "$django_cache/site-packages.path" ] || fail "Django 5.2 is missing from $django_cache (tests/django-backend/install.sh failed?)"
# Done before, and still importable (the Django 5.2 tree under it may have been reinstalled).
if [ -f "$cache/pythonpath" ] && PYTHONPATH="$(cat "$cache/pythonpath")" /usr/bin/python3 -c \
    'import allauth.headless, allauth.mfa, django, rest_framework' 2>/dev/null; then
  exit 0
fi

# A private apt (state, lists, cache and sources of its own) that knows the newer suites of the archive this
# machine already uses; nothing of it touches /var/lib/apt or /etc/apt.
rm -rf "$cache"
mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/debs" "$cache/root"
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security' | head -1 || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
    /etc/apt/sources.list 2>/dev/null | grep -v -- '-security' | head -1 || true)
fi
[ -n "$mirror" ] || fail "cannot find the Debian archive in apt's sources"
for suite in sid trixie; do
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
done > "$cache/apt/sources.list"
private_apt=(-o Dir::State="$cache/apt" -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt"
             -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${private_apt[@]}" update -qq >/dev/null 2>&1 || apt-get "${private_apt[@]}" update \
  || fail "apt-get update of sid and trixie from $mirror failed"

# The newest version of package $1 matching the regular expression $2, or fail naming it.
newest() {
  local version
  version=$(apt-cache "${private_apt[@]}" madison "$1" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' \
    | grep -E "$2" | sort -V | tail -1 || true)
  [ -n "$version" ] || fail "no $1 matching /$2/ in Debian's sid or trixie"
  echo "$version"
}
# allauth: the newest there is. Its MFA extra wants fido2 >= 1.1.2 and qrcode >= 7 (the headless API needs
# nothing more: PyJWT only for its JWT token strategy, which this site does not use, and Debian 12 has it).
# fido2 2.x wants python3-cryptography > 45, and Debian 12's is 38 (a compiled module that cannot be
# unpacked from a newer suite for Debian 12's Python 3.11): the newest 1.x, which wants cryptography >= 2.6.
allauth=$(newest python3-django-allauth '.')
fido2=$(newest python3-fido2 '^1\.([2-9]|1[0-9])')
qrcode=$(newest python3-qrcode '^[78]\.')
(cd "$cache/debs" && apt-get "${private_apt[@]}" download "python3-django-allauth=$allauth" \
  "python3-fido2=$fido2" "python3-qrcode=$qrcode" >/dev/null) || fail "downloading the packages failed"
for deb in "$cache"/debs/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
site="$cache/root/usr/lib/python3/dist-packages"
pythonpath="$site:$(cat "$django_cache/site-packages.path")"
PYTHONPATH="$pythonpath" /usr/bin/python3 -c '
import allauth, django, rest_framework, fido2, qrcode
import allauth.headless, allauth.mfa
print("django-allauth", allauth.__version__, "with Django", django.get_version(), "+ DRF", rest_framework.VERSION,
      "+ fido2", fido2.__version__, "unpacked")' \
  || fail "the unpacked django-allauth $allauth does not import with Debian 12's Python (above)"
echo "$pythonpath" > "$cache/pythonpath"
