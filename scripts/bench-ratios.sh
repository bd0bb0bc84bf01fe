#!/usr/bin/env bash
# Measures Signet's performance targets as ratios on this machine, in one run:
#  1. the JWKS handler vs a bare net/http handler writing the same bytes, and
#     the token endpoint vs raw RSA-2048 signing (the internal/oauth
#     benchmarks: one test binary, COUNT rounds of all of them, medians);
#  2. unless SKIP_LOAD=1, `signet loadtest` for DURATION against three local
#     replicas on a fresh PostgreSQL database (scripts/replicas-loadtest.sh),
#     with tokens/s compared with the raw all-core signing rate measured
#     right before and right after it.
#
#   scripts/bench-ratios.sh               # COUNT=5 BENCHTIME=3s DURATION=60s
# Environment: COUNT, BENCHTIME, DURATION, and those of replicas-loadtest.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
benchtime=${BENCHTIME:-3s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# One test binary, run COUNT times: every round runs all eight benchmarks, so
# a change in the machine's load hits both sides of each ratio alike.
bin=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$bin"' EXIT
go test -c -o "$bin/oauth.test" ./internal/oauth/
benchmarks='^Benchmark(JWKS|JWKSBare|JWKSParallel|JWKSBareParallel|TokenClientCredentials|TokenClientCredentialsParallel|RSASign|RSASignParallel)$'
echo "== $count rounds of: go test -run '^\$' -bench '$benchmarks' -benchtime $benchtime ./internal/oauth/"
for _ in $(seq "$count"); do
  (cd internal/oauth && "$bin/oauth.test" -test.run '^$' -test.bench "$benchmarks" -test.benchtime "$benchtime")
done | tee "$out" | grep -E '^Benchmark'

# Median ns/op of each benchmark (name without the -GOMAXPROCS suffix).
medians=$(awk '/^Benchmark/ { name=$1; sub(/-[0-9]+$/, "", name); v[name]=v[name] " " $3 }
  END { for (n in v) { c=split(v[n], a, " "); asort(a); print n, (c%2 ? a[(c+1)/2] : (a[c/2]+a[c/2+1])/2) } }' "$out")
med() { awk -v n="$1" '$1==n { print $2 }' <<<"$medians"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a/b }'; }

echo
echo "== ratios (medians; target ≥ 0.90)"
printf 'JWKS, one goroutine:           handler %8.0f ns/op, bare %8.0f ns/op, ratio %s\n' \
  "$(med BenchmarkJWKS)" "$(med BenchmarkJWKSBare)" "$(ratio "$(med BenchmarkJWKSBare)" "$(med BenchmarkJWKS)")"
printf 'JWKS, all cores:               handler %8.0f ns/op, bare %8.0f ns/op, ratio %s\n' \
  "$(med BenchmarkJWKSParallel)" "$(med BenchmarkJWKSBareParallel)" "$(ratio "$(med BenchmarkJWKSBareParallel)" "$(med BenchmarkJWKSParallel)")"
printf 'tokens, one goroutine:         handler %8.0f ns/op, raw RSA %8.0f ns/op, ratio %s\n' \
  "$(med BenchmarkTokenClientCredentials)" "$(med BenchmarkRSASign)" "$(ratio "$(med BenchmarkRSASign)" "$(med BenchmarkTokenClientCredentials)")"
printf 'tokens, all cores:             handler %8.0f ns/op, raw RSA %8.0f ns/op, ratio %s\n' \
  "$(med BenchmarkTokenClientCredentialsParallel)" "$(med BenchmarkRSASignParallel)" "$(ratio "$(med BenchmarkRSASignParallel)" "$(med BenchmarkTokenClientCredentialsParallel)")"
raw=$(awk -v ns="$(med BenchmarkRSASignParallel)" 'BEGIN { printf "%.0f", 1e9/ns }')
echo "raw RSA-2048 signing on all cores ($(nproc) here): $raw signatures/s"

[ "${SKIP_LOAD:-0}" = 1 ] && exit 0

# The raw rate the load is compared with is measured right before and right
# after it, so that both see the machine in the same state.
rawrate() {
  (cd internal/oauth && "$bin/oauth.test" -test.run '^$' -test.bench '^BenchmarkRSASignParallel$' -test.benchtime "$benchtime") |
    awk '/^Benchmark/ { printf "%.0f", 1e9/$3 }'
}
echo
raw_before=$(rawrate)
echo "== DURATION=${DURATION:-60s} scripts/replicas-loadtest.sh"
report=$(DURATION=${DURATION:-60s} scripts/replicas-loadtest.sh) || { echo "$report"; exit 1; }
raw_after=$(rawrate)
echo "$report"
tps=$(awk '$1=="tokens" { sub(/^\(/, "", $3); sub(/\/s\),?$/, "", $3); print $3 }' <<<"$report")
raw=$(( (raw_before + raw_after) / 2 ))
echo
echo "raw RSA-2048 signing on all cores: $raw_before/s before the load, $raw_after/s after"
echo "tokens/s through 3 replicas, load tool on the same machine: $tps = $(ratio "$tps" "$raw")× raw signing ($raw/s)"
