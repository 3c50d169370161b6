#!/usr/bin/env bash
# Benchmarks (never part of the pass/fail tests). Builds first, then runs each benchmark against
# the real binaries, real servers from npm and a throwaway Secret Service, and prints its table.
#   bench/run.sh            all benchmarks
# Knobs: BENCH_CONNECTIONS, BENCH_CALLS, BENCH_CLI_RUNS, BENCH_STORM.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests >/dev/null
command -v /usr/bin/time >/dev/null || { sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo); "${sudo_cmd[@]}" apt-get install -y -qq time >/dev/null; }
bash tests/e2e/run-e2e.sh build node ../bench/broker-bench.mjs
