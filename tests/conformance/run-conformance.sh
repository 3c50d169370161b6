#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in tests/package.json)
# against `mcp-auth proxy`, inside a private D-Bus session with a throwaway unlocked gnome-keyring
# (tests/e2e/run-e2e.sh), with Node 22 from tests/node_modules/.bin (the suite needs Node >= 22).
#
#   tests/conformance/run-conformance.sh BUILD_DIR        (or MCP_AUTH_BUILD_DIR=BUILD_DIR)
#
# Two hosts, each a real MCP client spawning `mcp-auth proxy URL` over stdio:
#   v1  conformance/client.mjs     SDK v1 `Client`: 2025-11-25 only, so at 2026-07-28 the proxy's bridge
#   v2  conformance/client-v2.mjs  SDK v2 `Client`: versionNegotiation 'auto' at 2026-07-28 (must end modern;
#                                  auth scenarios that sign in connect twice, the second must end modern),
#                                  plain 2025 `initialize` at 2025-11-25
# Runs (RUN label: what), each scenario of a --requirements or --suite run in parallel (the runner's own):
#   1 next-2026-v1        0.2.0-alpha.12 --requirements 2026-07-28, v1 host (the 32 required client scenarios)
#   2 next-2026-v2        the same, v2 host
#   3 next-2025-v1        0.2.0-alpha.12 --requirements 2025-11-25, v1 host (18 required client scenarios)
#   4 next-2025-v2        the same, v2 host
#   5 stable-auth-v1      0.1.16 --suite auth (the 14 auth scenarios of 2025-11-25)
#   6 stable-extra-v1     0.1.16 --scenario, what only 0.1.16 has: initialize (a bogus id-less reply to
#                         notifications/initialized), sse-retry (late-reconnect WARNING), the 2025-03-26
#                         back-compat scenarios, and resource-mismatch and offline-access-* at the 2025 wire
#   7 next-extra-2025-v1  0.2.0-alpha.12 --scenario at the 2025-11-25 wire (--spec-version --force): the
#                         2026-07-28 auth scenarios (iss-*, metadata-issuer-mismatch, AS migration) against a
#                         2025 server, which neither requirement set runs there
# Sets 6 and 7 run their scenarios concurrently, sse-retry alone after them (it times the reconnect).
# Then conformance/summarize.mjs prints a table per run and exits non-zero on any FAILURE or WARNING in a
# scored scenario, a client killed by the 30 s timeout, or a non-zero client exit where none is allowed.
#
# Env: MCP_CONFORMANCE_RESULTS   results directory (default BUILD_DIR/conformance-results, emptied first)
#      MCP_CONFORMANCE_ONLY      space-separated scenario names: run only these, wherever they occur, one
#                                `--scenario` at a time (a requirements run's scenario at that revision's wire)
#      MCP_CONFORMANCE_HOSTS     "v1 v2" (default), or just one of them
#      MCP_CONFORMANCE_RUNS      run labels to do (default: all seven), e.g. "next-2026-v1 next-2026-v2"
#      MCP_CONFORMANCE_REFERENCE=1  the baseline, no proxy: v1 = reference-client.mjs (SDK v1's own OAuth
#                                client; it speaks no 2026-07-28, so run 1 is skipped), v2 = client-v2.mjs
#                                with MCP_CONFORMANCE_DIRECT=1 (SDK v2's Streamable HTTP + OAuth), expected
#                                failures in reference-expected-failures.txt
#      MCP_CONFORMANCE_PROXY_ARGS  JSON array of extra `mcp-auth proxy` arguments (see host.mjs)
#      MCP_CONFORMANCE_MODE=cli  the agent alone: `mcp-auth login` + `mcp-auth token`, no proxy (client.mjs)
#      client-v2.mjs knobs (MCP_CONFORMANCE_V2_NEGOTIATION, MCP_CONFORMANCE_V2_PROBE) pass through.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tests=$(dirname "$here")
build=${1:-${MCP_AUTH_BUILD_DIR:-}}
if [[ -z "$build" || ! -d "$build" ]]; then
    echo "run-conformance.sh: give the build directory as argument or MCP_AUTH_BUILD_DIR" >&2
    exit 2
fi
build=$(cd "$build" && pwd)

if [[ -z "${MCP_CONFORMANCE_IN_SESSION:-}" ]]; then
    export MCP_CONFORMANCE_IN_SESSION=1
    exec bash "$tests/e2e/run-e2e.sh" "$build" bash "$here/run-conformance.sh" "$build"
fi

# --- inside the keyring session, cwd = tests/ -------------------------------------------------------
cd "$tests"
export PATH="$tests/node_modules/.bin:$PATH" MCP_AUTH_BUILD_DIR="$build"
suite_stable="$tests/node_modules/@modelcontextprotocol/conformance/dist/index.js"
suite_next="$tests/node_modules/conformance-next/dist/index.js"
for f in "$suite_stable" "$suite_next"; do
    [[ -f "$f" ]] || { echo "run-conformance.sh: $f missing: run tests/e2e/setup.sh (npm ci in tests/)" >&2; exit 1; }
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 22 )); then
    echo "run-conformance.sh: the suite needs Node >= 22, found $(node --version) (tests/node_modules/.bin/node missing?)" >&2
    exit 1
fi

reference=${MCP_CONFORMANCE_REFERENCE:-}
expected=
if [[ -n "$reference" ]]; then
    expected="$here/reference-expected-failures.txt"
elif [[ "${MCP_CONFORMANCE_MODE:-}" != cli ]] && ! "$build/app/mcp-auth" --help 2>&1 | grep -q '^ *proxy'; then
    echo "run-conformance.sh: $build/app/mcp-auth has no 'proxy' command yet" >&2
    exit 1
fi

out=${MCP_CONFORMANCE_RESULTS:-$build/conformance-results}
rm -rf "$out"
mkdir -p "$out/logs"

version_of() { node -p "require('$tests/node_modules/$1/package.json').version"; }
v_stable=$(version_of @modelcontextprotocol/conformance)
v_next=$(version_of conformance-next)
v_sdk1=$(version_of @modelcontextprotocol/sdk)
v_sdk2=$(version_of @modelcontextprotocol/client)

# The client list of the suite's requirements/REV.yaml (flat YAML: `client:` then `  - name` lines).
required() {
    awk '/^[^ #]/ { in_client = ($0 ~ /^client:/) } in_client && /^  *- / { print $2 }' \
        "$tests/node_modules/conformance-next/requirements/$1.yaml"
}

auth_suite=(auth/metadata-default auth/metadata-var1 auth/metadata-var2 auth/metadata-var3 auth/basic-cimd
    auth/scope-from-www-authenticate auth/scope-from-scopes-supported auth/scope-omitted-when-undefined
    auth/scope-step-up auth/scope-retry-limit auth/token-endpoint-auth-basic auth/token-endpoint-auth-post
    auth/token-endpoint-auth-none auth/pre-registration)
stable_extra=(initialize auth/2025-03-26-oauth-metadata-backcompat auth/2025-03-26-oauth-endpoint-fallback
    auth/resource-mismatch auth/offline-access-scope auth/offline-access-not-supported)
next_extra=(auth/iss-supported auth/iss-not-advertised auth/iss-supported-missing auth/iss-wrong-issuer
    auth/iss-unexpected auth/iss-normalized auth/metadata-issuer-mismatch auth/authorization-server-migration)

selected() { [[ -z "${MCP_CONFORMANCE_ONLY:-}" || " $MCP_CONFORMANCE_ONLY " == *" $1 "* ]]; }
wanted_run() { [[ -z "${MCP_CONFORMANCE_RUNS:-}" || " $MCP_CONFORMANCE_RUNS " == *" $1 "* ]]; }
wanted_host() { [[ " ${MCP_CONFORMANCE_HOSTS:-v1 v2} " == *" $1 "* ]]; }

# host_command HOST: the --command for that host (the runner splits it on spaces; no options in it)
host_command() {
    case "$1/$reference" in
        v1/) echo "node conformance/client.mjs" ;;
        v2/*) echo "node conformance/client-v2.mjs" ;;
        v1/*) echo "node conformance/reference-client.mjs" ;;
    esac
}
# host_title HOST [REV]
host_title() {
    local v2mode="initialize"
    [[ "${2:-}" == 2026-07-28 ]] && v2mode="versionNegotiation ${MCP_CONFORMANCE_V2_NEGOTIATION:-auto}, must end modern"
    case "$1/$reference" in
        v1/) echo "host client.mjs (SDK v1 $v_sdk1 Client, initialize) via mcp-auth proxy" ;;
        v2/) echo "host client-v2.mjs (SDK v2 $v_sdk2 Client, $v2mode) via mcp-auth proxy" ;;
        v1/*) echo "reference-client.mjs (SDK v1 $v_sdk1 with its own OAuth, no proxy)" ;;
        v2/*) echo "client-v2.mjs direct (SDK v2 $v_sdk2, $v2mode, its own OAuth, no proxy)" ;;
    esac
}

# meta RUN ORDER TITLE [REQUIREMENTS COMPLETE]: RUN/run.json for summarize.mjs
meta() {
    mkdir -p "$out/$1"
    printf '{"order":%s,"title":"%s","requirements":%s,"complete":%s}\n' "$2" "$3" \
        "$([[ -n "${4:-}" ]] && echo "\"$4\"" || echo null)" "${5:-false}" >"$out/$1/run.json"
}

# run RUN HOST SUITE_JS ARGS...: one runner invocation into RUN/, its console output in logs/
run() {
    local label=$1 host=$2 js=$3
    shift 3
    local rc=0 what=all prev= a
    for a in "$@"; do
        [[ "$prev" == --scenario || "$prev" == --requirements || "$prev" == --suite ]] && what=$a
        prev=$a
    done
    local log="$out/logs/$label-${what//\//_}.log"
    echo "== $label: conformance $(node -p "require('$(dirname "$(dirname "$js")")/package.json').version") $* [$host]" >&2
    local direct=
    [[ -n "$reference" && "$host" == v2 ]] && direct=1
    MCP_CONFORMANCE_DIRECT=$direct node "$js" client --command "$(host_command "$host")" "$@" -o "$out/$label" >"$log" 2>&1 || rc=$?
    echo "   $label: runner exit $rc (log: $log)" >&2
}

started=$SECONDS
stamp() { echo "   [$((SECONDS - started)) s]" >&2; }

# Runs 1-4: alpha.12's requirement sets, once per host era.
order=0
for rev in 2026-07-28 2025-11-25; do
    for host in v1 v2; do
        order=$((order + 1))
        label="next-${rev%%-*}-$host"
        wanted_run "$label" && wanted_host "$host" || continue
        if [[ -n "$reference" && "$host" == v1 && "$rev" == 2026-07-28 ]]; then
            echo "== $label: skipped (SDK v1's own client speaks no 2026-07-28)" >&2
            continue
        fi
        if [[ -z "${MCP_CONFORMANCE_ONLY:-}" ]]; then
            meta "$label" "$order" "conformance $v_next --requirements $rev, $(host_title "$host" "$rev")" "$rev" true
            run "$label" "$host" "$suite_next" --requirements "$rev"
        else
            meta "$label" "$order" "conformance $v_next at $rev (--scenario), $(host_title "$host" "$rev")" "$rev" false
            for s in $(required "$rev"); do
                if selected "$s"; then run "$label" "$host" "$suite_next" --scenario "$s" --spec-version "$rev" --force; fi
            done
        fi
        stamp
    done
done

# Run 5: 0.1.16's auth suite, as before.
if wanted_run stable-auth-v1 && wanted_host v1; then
    meta stable-auth-v1 5 "conformance $v_stable --suite auth, $(host_title v1)"
    if [[ -z "${MCP_CONFORMANCE_ONLY:-}" ]]; then
        run stable-auth-v1 v1 "$suite_stable" --suite auth
    else
        for s in "${auth_suite[@]}"; do
            if selected "$s"; then run stable-auth-v1 v1 "$suite_stable" --scenario "$s"; fi
        done
    fi
    stamp
fi

# Runs 6 and 7: single scenarios, concurrently; then sse-retry alone.
if wanted_host v1; then
    pids=()
    if wanted_run stable-extra-v1; then
        meta stable-extra-v1 6 "conformance $v_stable --scenario, $(host_title v1)"
        for s in "${stable_extra[@]}"; do
            if selected "$s"; then run stable-extra-v1 v1 "$suite_stable" --scenario "$s" & pids+=($!); fi
        done
    fi
    if wanted_run next-extra-2025-v1; then
        meta next-extra-2025-v1 7 "conformance $v_next --scenario at the 2025-11-25 wire, $(host_title v1)"
        for s in "${next_extra[@]}"; do
            if selected "$s"; then
                run next-extra-2025-v1 v1 "$suite_next" --scenario "$s" --spec-version 2025-11-25 --force & pids+=($!)
            fi
        done
    fi
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    if wanted_run stable-extra-v1 && selected sse-retry; then
        run stable-extra-v1 v1 "$suite_stable" --scenario sse-retry
    fi
    stamp
fi

echo >&2
node conformance/summarize.mjs "$out" $expected
