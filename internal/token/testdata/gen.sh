#!/bin/sh
# Regenerates the test-only RSA key shared by the benchmarks, so that
# BenchmarkSignRS256 and BenchmarkRawRSASign sign with the very same key.
# It signs nothing real; never use it outside tests.
set -e
cd "$(dirname "$0")"
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.pem
