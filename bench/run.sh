#!/usr/bin/env bash
# Benchmarks (never part of the pass/fail tests). Builds first, then runs each benchmark against
# the real binaries, real servers from npm and a throwaway Secret Service, and prints its table.
#   bench/run.sh                            all benchmarks
#   bench/run.sh broker|proxy|eras|attack   one of them (bench/NAME-bench.mjs; bench/lib.mjs is shared)
# Knobs: BENCH_CONNECTIONS, BENCH_CALLS, BENCH_CLI_RUNS, BENCH_STORM (broker);
#        BENCH_PROXY_CALLS, BENCH_PROXY_WARMUP, BENCH_PROXY_ROUNDS, BENCH_PROXY_COLD_RUNS (proxy);
#        BENCH_ERAS_CALLS, BENCH_ERAS_WARMUP, BENCH_ERAS_ROUNDS, BENCH_ERAS_LEGACY=reject|stateless (eras).
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
(( ${#names[@]} )) || names=(broker proxy eras attack)
for n in "${names[@]}"; do
    [[ -f bench/$n-bench.mjs ]] || { echo "bench/run.sh: no benchmark '$n' (broker, proxy, eras, attack)" >&2; exit 2; }
done
scripts/setup.sh --tests >/dev/null
command -v /usr/bin/time >/dev/null || { sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo); "${sudo_cmd[@]}" apt-get install -y -qq time >/dev/null; }
for n in "${names[@]}"; do
    bash tests/e2e/run-e2e.sh build node "../bench/$n-bench.mjs"
done
