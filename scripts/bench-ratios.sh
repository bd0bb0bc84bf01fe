#!/usr/bin/env bash
# Measures Signet's performance targets as ratios on this machine, in one run:
#  1. the JWKS handler vs a bare net/http handler writing the same bytes, and
#     the token endpoint vs raw RSA-2048 signing (internal/oauth benchmarks,
#     one `go test` process, medians of COUNT runs);
#  2. unless SKIP_LOAD=1, `signet loadtest` for DURATION against three local
#     replicas on a fresh PostgreSQL database (scripts/replicas-loadtest.sh),
#     with tokens/s compared with the raw two-goroutine signing rate of step 1.
#
#   scripts/bench-ratios.sh               # COUNT=5 BENCHTIME=2s DURATION=60s
# Environment: COUNT, BENCHTIME, DURATION, and those of replicas-loadtest.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
benchtime=${BENCHTIME:-2s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== go test -run '^\$' -bench '<JWKS, token and RSA benchmarks>' -benchtime $benchtime -count $count ./internal/oauth/"
go test -run '^$' -bench '^Benchmark(JWKS|JWKSBare|JWKSParallel|JWKSBareParallel|TokenClientCredentials|TokenClientCredentialsParallel|RSASign|RSASignParallel)$' \
  -benchtime "$benchtime" -count "$count" ./internal/oauth/ | tee "$out" | grep -E '^(goos|goarch|cpu|Benchmark)'

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
echo
echo "== DURATION=${DURATION:-60s} scripts/replicas-loadtest.sh"
report=$(DURATION=${DURATION:-60s} scripts/replicas-loadtest.sh) || { echo "$report"; exit 1; }
echo "$report"
tps=$(awk '$1=="tokens" { gsub(/[(\/s)]/, "", $3); print $3 }' <<<"$report")
echo
echo "tokens/s through 3 replicas with the load tool on the same machine: $tps, $(ratio "$tps" "$raw")× raw signing ($raw/s)"
