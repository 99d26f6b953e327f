#!/usr/bin/env bash
# The benchmark (see bench/README.md):
#   bench/run.sh [--duration SECONDS] [--only SCENARIO,...] [--servers postern,cookie,bare,django]
#                [--smoke] [--soak] [--out FILE] [--json FILE] [--sessions N] [--connections N] [--warmup SECONDS]
#       Postern, ASP.NET Core cookie auth, bare Kestrel and the Django reference backend side by side under wrk;
#       the markdown report goes to stdout (and --out), progress to stderr. `--help` lists every option.
#   bench/run.sh --scale [--duration SECONDS] [--only ...] [--out FILE] [--json FILE] ...
#       The scale-out run (bench/README.md#scale-out): Postern ×2 behind nginx on PostgreSQL + Redis, the same on
#       PostgreSQL alone, Django 5.2 under gunicorn behind nginx on PostgreSQL with cached_db sessions on Redis, and one
#       Postern instance restarted under load; a private PostgreSQL cluster, Redis and nginx, on loopback.
#   bench/run.sh --client [BenchmarkDotNet options, e.g. --job short]
#       Postern.Client's PosternSession against raw HttpClient (BenchmarkDotNet).
#   bench/run.sh --client --interleaved
#       The same pairs in alternating rounds (drift on a shared VM hits both sides alike).
# As root it installs what is missing first (Debian's wrk, the Django reference backend in tests/django-backend);
# then builds Release and runs.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

command -v dotnet >/dev/null || { echo "bench/run.sh: the .NET 10 SDK is required (dotnet is not on PATH)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
  if ! command -v wrk >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || { echo "could not install wrk with apt-get" >&2; exit 1; }
  fi
  # --scale: Debian's PostgreSQL server (a private cluster), nginx (the repository's template) and Redis
  if [[ " $* " == *" --scale "* ]]; then
    scale_needs=()
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || scale_needs+=(postgresql)
    [ -x /usr/sbin/nginx ] || scale_needs+=(nginx)
    [ -x /usr/bin/redis-server ] || scale_needs+=(redis-server)
    if [ ${#scale_needs[@]} -gt 0 ]; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${scale_needs[@]}" >/dev/null \
        || { echo "could not install ${scale_needs[*]} with apt-get" >&2; exit 1; }
    fi
  fi
  # the Django reference backend (Django 5.2 + DRF, unpacked from Debian's newer suites on first use; psycopg2 and
  # redis-py from Debian 12 for --scale)
  bash "$here/tests/django-backend/install.sh"
else
  command -v wrk >/dev/null || { echo "wrk is not installed (as root, this script installs it: apt-get install wrk)" >&2; exit 1; }
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ "${1:-}" = "--client" ]; then
  shift
  echo "building (Release)" >&2
  dotnet build bench/Postern.Client.Bench/Postern.Client.Bench.csproj -c Release -warnaserror -nologo -v quiet >&2
  client=(dotnet bench/Postern.Client.Bench/bin/Release/net10.0/Postern.Client.Bench.dll "$@")
  # Client and server on cores of their own: on two cores the scheduler otherwise moves both about, and the
  # pair's sides pay for that differently from one iteration to the next.
  cores=$(nproc)
  if [ "$cores" -ge 2 ] && command -v taskset >/dev/null; then
    export POSTERN_BENCH_SERVER_CPUS=$((cores - 1))
    exec taskset -c "0-$((cores - 2))" "${client[@]}"
  fi
  exec "${client[@]}"
fi

echo "building (Release)" >&2
# The runner's project builds Postern.Server and both baselines with it.
dotnet build bench/Postern.Bench/Postern.Bench.csproj -c Release -warnaserror -nologo -v quiet >&2
POSTERN_BENCH_COMMAND="bench/run.sh${*:+ $*}" exec dotnet bench/Postern.Bench/bin/Release/net10.0/Postern.Bench.dll "$@"
