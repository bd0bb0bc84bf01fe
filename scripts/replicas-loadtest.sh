#!/usr/bin/env bash
# Runs three local `signet serve` replicas on a fresh PostgreSQL database and
# `signet loadtest` against them, then stops them and drops the database.
#
#   scripts/replicas-loadtest.sh                    # 60 s, rotation every 2 s
#   DURATION=20s scripts/replicas-loadtest.sh --json
#
# Environment (defaults in brackets):
#   SIGNET_TEST_POSTGRES  server DSN [postgres://127.0.0.1:5432/test?sslmode=disable];
#                         the script creates and drops a database on it (needs psql)
#   DURATION [60s]  ROTATE_EVERY [2s]  REVOKE_EVERY [3]  CONCURRENCY [8]
#   JWKS_MAX_AGE [300s]  BASE_PORT [18441]: replicas listen on BASE_PORT..BASE_PORT+2
# Extra arguments go to `signet loadtest` (e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."

server=${SIGNET_TEST_POSTGRES:-postgres://127.0.0.1:5432/test?sslmode=disable}
duration=${DURATION:-60s}
rotate_every=${ROTATE_EVERY:-2s}
revoke_every=${REVOKE_EVERY:-3}
concurrency=${CONCURRENCY:-8}
max_age=${JWKS_MAX_AGE:-300s}
base_port=${BASE_PORT:-18441}
host=signet.test

work=$(mktemp -d)
db=signet_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
base=${server%%\?*}
query=${server#"$base"}
dsn=${base%/*}/$db$query
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/signet" ./cmd/signet
psql "$server" -qc "CREATE DATABASE $db" >/dev/null
SIGNET_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export SIGNET_MASTER_KEY

urls=()
for i in 0 1 2; do
  port=$((base_port + i))
  "$work/signet" serve --addr "127.0.0.1:$port" --data-dir "$work/data$i" --database "$dsn" \
    --public-url "http://$host" --jwks-max-age "$max_age" --log-level warn >"$work/log$i" 2>&1 &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
  # The first replica bootstraps the tenant; wait until each one serves.
  for _ in $(seq 100); do
    curl -fsS -o /dev/null -H "Host: $host" "http://127.0.0.1:$port/.well-known/jwks.json" 2>/dev/null && break
    sleep 0.1
  done
done

# CPU seconds (user+system) a process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
before=()
for pid in "${pids[@]}"; do before+=("$(cpu "$pid")"); done

IFS=,
TIMEFORMAT="load tool: %U s user + %S s system CPU in %R s" # printed on stderr
status=0
time "$work/signet" loadtest --url "${urls[*]}" --host "$host" --credentials "$work/data0/admin-credentials.json" \
  --duration "$duration" --concurrency "$concurrency" --rotate-every "$rotate_every" --revoke-every "$revoke_every" "$@" || status=$?
unset IFS
for i in "${!pids[@]}"; do
  echo "replica $i: $(awk -v a="$(cpu "${pids[$i]}")" -v b="${before[$i]}" 'BEGIN { printf "%.1f", a - b }') s CPU during the run" >&2
done
echo "machine: $(nproc) CPUs" >&2
exit $status
