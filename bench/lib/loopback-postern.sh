# Sourced by the benchmark scripts that measure one Postern instance at a time with wrk on loopback, beside a private
# PostgreSQL cluster (bench/postgres-signal.sh, bench/beside-django.sh, bench/writes.sh). As root: the cluster belongs
# to the postgres OS user. Nothing here listens anywhere but 127.0.0.1.
#
#   loopback_setup NAME    checks wrk and PostgreSQL, builds the server, starts the cluster; sets here, work, dll, pg_port,
#                          postgres_url (a URL without a database: append /NAME), base (the instance's address); the
#                          cluster, the instance and $work go away on exit
#   create_database NAME   a database in the cluster
#   postern_up ARG...      starts `serve --urls $base ARG...` with the settings in the array serve_env (NAME=VALUE) and
#                          waits for /healthz
#   sign_in USER PASSWORD  logs in as the seed's frontend does; sets session_cookie (the "Cookie: ..." header line, with
#                          sessionid and csrftoken) and csrf_token
#   postern_down           stops the instance
#   median                 the median of the numbers on stdin, one per line

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

loopback_setup() {
  local name=$1
  command -v wrk >/dev/null || { echo "$name: wrk is required (apt-get install wrk)" >&2; exit 1; }
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -x "$pg_bin/initdb" ] || { echo "$name: PostgreSQL's server binaries are required (apt-get install postgresql)" >&2; exit 1; }
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  dotnet build "$here/src/Postern.Server/Postern.Server.csproj" -c Release -nologo -v quiet >/dev/null
  dll="$here/src/Postern.Server/bin/Release/net10.0/Postern.Server.dll"
  work="$(mktemp -d "/tmp/postern-$name-XXXXXX")"
  chmod 755 "$work" && chown postgres: "$work"
  pg_port=$(free_port)
  base="http://127.0.0.1:$(free_port)"
  server=""
  serve_env=()
  trap loopback_clean_up EXIT
  runuser -u postgres -- "$pg_bin/initdb" -D "$work/data" -U postgres --auth=trust --no-sync -E UTF8 --no-locale >/dev/null
  runuser -u postgres -- "$pg_bin/pg_ctl" start -w -D "$work/data" -l "$work/postgres.log" \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -k $work -c max_connections=200" >/dev/null
  postgres_url="postgres://postgres@127.0.0.1:$pg_port"
}

loopback_clean_up() {
  postern_down
  runuser -u postgres -- "$pg_bin/pg_ctl" stop -D "$work/data" -m fast >/dev/null 2>&1 || true
  rm -rf "$work"
}

create_database() { runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$1"; }

postern_up() {
  env "${serve_env[@]}" Logging__LogLevel__Default=Warning dotnet "$dll" serve --urls "$base" "$@" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 150); do curl -sf "$base/healthz" >/dev/null && return; sleep 0.2; done
  echo "the server did not start:" >&2
  cat "$work/serve.log" >&2
  exit 1
}

sign_in() {
  local jar="$work/cookies"
  rm -f "$jar"
  curl -s -c "$jar" -b "$jar" "$base/auth/csrf" >/dev/null
  curl -s -c "$jar" -b "$jar" -H "X-CSRFToken: $(awk '$6=="csrftoken"{print $7}' "$jar")" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$2\"}" "$base/auth/login" >/dev/null
  csrf_token=$(awk '$6=="csrftoken"{print $7}' "$jar")
  local session
  session=$(awk '$6=="sessionid"{print $7}' "$jar")
  [ -n "$session" ] || { echo "the login as $1 failed:" >&2; cat "$work/serve.log" >&2; exit 1; }
  session_cookie="Cookie: sessionid=$session; csrftoken=$csrf_token"
}

postern_down() {
  if [ -n "${server:-}" ]; then
    kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
    server=""
  fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
