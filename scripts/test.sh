#!/usr/bin/env bash
# Runs every test of Postern. Checks the prerequisites (the .NET 10 SDK), installs what the tests need (as root, from
# Debian's archive: the Django reference backend's packages, Chromium, curl, nginx, Node.js and npm, openssl, PostgreSQL,
# Prometheus, aiosmtpd, pyotp, Redis and wrk),
# then builds and runs all test projects and the JavaScript client's tests (clients/js), and builds the seed's frontend
# (deploy/frontend) that the browser tests serve.
# Each suite starts and stops its own servers on loopback. Prints "N passed, N failed" at the end;
# exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

say() { printf '\n== %s\n' "$*"; }

# Prerequisites first, so that a missing one is said before minutes of installing.
if ! command -v dotnet >/dev/null; then
  echo "scripts/test.sh: the .NET 10 SDK is required (dotnet is not on PATH): https://dotnet.microsoft.com/download" >&2
  exit 1
fi
if ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
  echo "scripts/test.sh: the .NET 10 SDK is required; dotnet has: $(dotnet --list-sdks | tr '\n' ' ')" >&2
  exit 1
fi
# What the tests run, from Debian's archive:
# the Django reference backend (tests/django-backend/install.sh): Django 3.2 + DRF + gunicorn from Debian 12, and
#   Django 5.2 LTS + DRF from Debian's newer suites, unpacked into a cache folder (the system's Python stays as it is)
# the django-allauth peer (tests/allauth-site/install.sh): Debian 12's django-allauth 0.51 (apt-get), and the newest
#   django-allauth from Debian's newer suites with the fido2 and qrcode it needs, unpacked into a cache folder
# chromium: the browsable API's browser tests (Playwright drives Debian's Chromium; no browser download)
# curl: the README walkthrough's test runs the README's own curl commands
# nginx, openssl: the HTTPS tests put the backends behind Debian's nginx with a self-signed certificate
# postgresql: the PostgreSQL storage tests start a private cluster of their own with Debian's binaries
# prometheus: the metrics tests start a private Prometheus of their own (loopback, its own data folder) scraping a test
#   server, and check deploy/prometheus/prometheus.yml with its promtool
# redis-server: the scale-out and fault tests start a private Redis of their own (its own port, folder and config)
# python3-aiosmtpd: the e-mail tests start a real SMTP server of their own on loopback (tests/smtp-capture/capture.py)
# python3-pyotp: the two-factor tests compute authenticator codes apart from the server, as an app would
# wrk: the benchmark's smoke run (tests/Postern.Bench.Tests) drives every server with it
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || need+=(prometheus)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || need+=(python3-aiosmtpd)
/usr/bin/python3 -c 'import pyotp' 2>/dev/null || need+=(python3-pyotp)
command -v wrk >/dev/null || need+=(wrk)
# nodejs, npm: the server tests validate the OpenAPI document with Redocly CLI, which they install with npm ci
# (tests/openapi-validator; Redocly 1.34 runs on Debian 12's Node.js 18); the JavaScript client (clients/js) is built
# and tested with them too, and the seed's frontend (deploy/frontend) built
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ "$(id -u)" = 0 ]; then
  say "installing test dependencies (Debian packages)"
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
      || { echo "scripts/test.sh: could not install ${need[*]} with apt-get" >&2; exit 1; }
  fi
  bash "$here/tests/django-backend/install.sh"
  bash "$here/tests/allauth-site/install.sh"
  # Debian's packages may also start a system nginx on port 80, a system PostgreSQL cluster on 5432, a system Redis on
  # 6379 and a system Prometheus on 9090: the tests never use them (their own configs, data folders and ports).
elif [ ${#need[@]} -gt 0 ]; then
  echo "scripts/test.sh: not root, and these Debian packages are missing: ${need[*]}" >&2
  echo "  run it as root (it installs them), or: sudo apt-get install ${need[*]} && sudo tests/django-backend/install.sh && sudo tests/allauth-site/install.sh" >&2
  exit 1
else
  echo "not root: assuming the Django reference backend and the allauth peer are installed (tests/django-backend/install.sh, tests/allauth-site/install.sh)"
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 17) ? 0 : 1)'; then
  echo "scripts/test.sh: Node.js 18.17 or later is required (the OpenAPI validator, the JavaScript client); this one is $(node --version)" >&2
  exit 1
fi
# screenshots and other evidence the tests leave behind
export POSTERN_TEST_ARTIFACTS="${POSTERN_TEST_ARTIFACTS:-$here/artifacts}"
mkdir -p "$POSTERN_TEST_ARTIFACTS"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say "building"
dotnet build Postern.slnx -c Release -warnaserror -nologo -v quiet

# The JavaScript client (clients/js): npm ci, its build (tsc) and its tests (node --test) against the Postern just built
# and the Django reference backends. Between its build and its tests, the seed's frontend (deploy/frontend: npm ci, tsc,
# esbuild), which bundles the client just built; the browser tests below serve what it builds (deploy/frontend/dist).
# In the background while the formatting is checked, which is not timing-sensitive (the .NET suites below are, so they
# run alone); its output goes to a log shown when it is done.
js_log="$(mktemp)"
frontend_status_file="$(mktemp)"
rm -f clients/js/test-results.tap
(
  cd clients/js
  npm ci --no-audit --no-fund && npm run build || exit 1
  frontend_status=0
  (cd ../../deploy/frontend && npm ci --no-audit --no-fund && npm run build) || frontend_status=$?
  echo "$frontend_status" >"$frontend_status_file"
  npm test
) >"$js_log" 2>&1 &
js_pid=$!

say "checking formatting"
format_status=0
dotnet format Postern.slnx --verify-no-changes --no-restore || format_status=$?

say "testing the JavaScript client (clients/js)"
js_status=0
wait "$js_pid" || js_status=$?
cat "$js_log"
rm -f "$js_log"
# node --test's TAP summary (the tests' second reporter writes it to a file): "# pass N", "# fail N".
js_passed=$(awk '/^# pass /{print $3}' clients/js/test-results.tap 2>/dev/null || true)
js_failed=$(awk '/^# fail /{print $3}' clients/js/test-results.tap 2>/dev/null || true)
js_passed=${js_passed:-0}
js_failed=${js_failed:-0}
if [ "$js_status" -ne 0 ] && [ "$js_failed" -eq 0 ]; then
  js_failed=1 # npm ci or the build failed: no test ran, and that is a failure too
fi
echo "JavaScript client: $js_passed passed, $js_failed failed"
frontend_status="$(cat "$frontend_status_file")"
rm -f "$frontend_status_file"
if [ "${frontend_status:-1}" != 0 ]; then
  frontend_status=1
  echo "scripts/test.sh: the frontend (deploy/frontend) did not build: its browser tests (FrontendTests) will fail" >&2
fi
[ "$format_status" -eq 0 ] || exit "$format_status"

say "testing"
log="$(mktemp)"
# The tests' temporary folders (PostgreSQL clusters of several hundred MB among them) go in a folder of this run's
# own, removed at the end with whatever a test host had no time to delete; the clean-up then touches only clusters
# this run started, never those of another run on the same machine. 755: the clusters' postgres OS user enters it.
run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/postern-test-run-XXXXXX")"
chmod 755 "$run_tmp"
# Clusters the tests started and could not stop as their process ended (pg_ctl daemonizes): stop them by their own PID.
clean_up() {
  for pidfile in "$run_tmp"/postern-pg-*/data/postmaster.pid; do
    [ -f "$pidfile" ] && kill "$(head -1 "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  rm -rf "$run_tmp" "$log"
}
trap clean_up EXIT
export TMPDIR="$run_tmp"
status=0
# One test assembly at a time: each starts real servers, and two cores shared by all of them make timing-sensitive steps flaky.
# Tests about one store only carry the trait Store=sqlite-only or Store=postgres-only; the first pass is the SQLite one.
dotnet test Postern.slnx -c Release --no-build --nologo -m:1 --filter "Store!=postgres-only" 2>&1 | tee "$log" || status=$?
# The differential suite and the whole server suite once more on PostgreSQL (each test server on a fresh database
# in a private cluster on loopback, started by the tests), with the PostgreSQL-only tests: what they check must not
# depend on the store.
say "testing again on PostgreSQL"
POSTERN_TEST_STORE=postgres dotnet test tests/Postern.Differential.Tests/Postern.Differential.Tests.csproj -c Release --no-build --nologo 2>&1 | tee -a "$log" || status=$?
POSTERN_TEST_STORE=postgres dotnet test tests/Postern.Server.Tests/Postern.Server.Tests.csproj -c Release --no-build --nologo \
  --filter "Store!=sqlite-only" 2>&1 | tee -a "$log" || status=$?
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk -v js="$js_passed" '{s+=$2} END {print s+js}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk -v js="$js_failed" '{s+=$2} END {print s+js}')
echo
echo "Total: $passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$js_status" -ne 0 ] || [ "$frontend_status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
