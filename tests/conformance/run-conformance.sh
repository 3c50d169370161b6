#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in tests/package.json)
# against `mcp-auth proxy`, inside a private D-Bus session with a throwaway unlocked gnome-keyring
# (tests/e2e/run-e2e.sh), with Node 22 from tests/node_modules/.bin (the suite needs Node >= 22).
#
#   tests/conformance/run-conformance.sh BUILD_DIR        (or MCP_AUTH_BUILD_DIR=BUILD_DIR)
#
# Runs, each scenario through conformance/client.mjs (a stdio MCP host running the proxy):
#   1. 0.1.16 --suite auth                  the 14 auth scenarios of 2025-11-25, in parallel
#   2. 0.1.16 --scenario, one at a time     initialize, tools_call, sse-retry, the 2025-03-26 back-compat
#                                            and the draft auth scenarios
#   3. 0.2.0-alpha.12 --scenario            the 2026-07-28 iss-*, metadata-issuer-mismatch,
#                                            authorization-server-migration, metadata-* and
#                                            token-endpoint-auth-* scenarios, at the 2025-11-25
#                                            wire (--spec-version 2025-11-25 --force): our hosts speak it
# then prints a table (conformance/summarize.mjs) and exits non-zero if any scenario failed or warned.
#
# Env: MCP_CONFORMANCE_RESULTS   results directory (default BUILD_DIR/conformance-results, emptied first)
#      MCP_CONFORMANCE_ONLY      space-separated scenario names: run only these (from sets 2 and 3, or
#                                set 1 when they are auth suite scenarios)
#      MCP_CONFORMANCE_REFERENCE=1  run reference-client.mjs (the MCP SDK's own OAuth client) instead of
#                                our proxy: the documented baseline, with reference-expected-failures.txt
#      MCP_CONFORMANCE_NEXT_SPEC spec version for set 3 (default 2025-11-25; "native" = each scenario's own)
#      MCP_CONFORMANCE_PROXY_ARGS  JSON array of extra `mcp-auth proxy` arguments (see client.mjs)
#      MCP_CONFORMANCE_MODE=cli  the agent alone: `mcp-auth login` + `mcp-auth token`, no proxy (client.mjs)
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

expected=
if [[ -n "${MCP_CONFORMANCE_REFERENCE:-}" ]]; then
    command="node conformance/reference-client.mjs"
    expected="$here/reference-expected-failures.txt"
else
    command="node conformance/client.mjs"
    if [[ "${MCP_CONFORMANCE_MODE:-}" != cli ]] && ! "$build/app/mcp-auth" --help 2>&1 | grep -q '^ *proxy'; then
        echo "run-conformance.sh: $build/app/mcp-auth has no 'proxy' command yet" >&2
        exit 1
    fi
fi

out=${MCP_CONFORMANCE_RESULTS:-$build/conformance-results}
rm -rf "$out"
mkdir -p "$out"

auth_suite=(auth/metadata-default auth/metadata-var1 auth/metadata-var2 auth/metadata-var3 auth/basic-cimd
    auth/scope-from-www-authenticate auth/scope-from-scopes-supported auth/scope-omitted-when-undefined
    auth/scope-step-up auth/scope-retry-limit auth/token-endpoint-auth-basic auth/token-endpoint-auth-post
    auth/token-endpoint-auth-none auth/pre-registration)
stable_extra=(initialize tools_call sse-retry auth/2025-03-26-oauth-metadata-backcompat
    auth/2025-03-26-oauth-endpoint-fallback auth/resource-mismatch auth/offline-access-scope
    auth/offline-access-not-supported)
next_extra=(auth/iss-supported auth/iss-not-advertised auth/iss-supported-missing auth/iss-wrong-issuer
    auth/iss-unexpected auth/iss-normalized auth/metadata-issuer-mismatch auth/authorization-server-migration
    # alpha.12's resource-parameter-matches-prm check runs in these (issue 7): `resource` exactly as the PRM has it
    auth/metadata-default auth/metadata-var1 auth/metadata-var2 auth/metadata-var3
    auth/token-endpoint-auth-basic auth/token-endpoint-auth-post auth/token-endpoint-auth-none)
next_spec=${MCP_CONFORMANCE_NEXT_SPEC:-2025-11-25}
next_args=()
[[ "$next_spec" != native ]] && next_args=(--spec-version "$next_spec" --force)

selected() { [[ -z "${MCP_CONFORMANCE_ONLY:-}" || " $MCP_CONFORMANCE_ONLY " == *" $1 "* ]]; }

# run LABEL SUITE_JS ARGS...: one runner invocation, its console output in $out/LABEL.log
run() {
    local label=$1 js=$2
    shift 2
    local rc=0
    echo "== $label: conformance $(node -p "require('$(dirname "$(dirname "$js")")/package.json').version") $*" >&2
    node "$js" client --command "$command" "$@" -o "$out/$label" >>"$out/$label.log" 2>&1 || rc=$?
    echo "   runner exit $rc (log: $out/$label.log)" >&2
}

if [[ -z "${MCP_CONFORMANCE_ONLY:-}" ]]; then
    run auth "$suite_stable" --suite auth
else
    for s in "${auth_suite[@]}"; do
        if selected "$s"; then run auth "$suite_stable" --scenario "$s"; fi
    done
fi
# One at a time: sse-retry measures the reconnect delay to the millisecond.
for s in "${stable_extra[@]}"; do
    if selected "$s"; then run extra "$suite_stable" --scenario "$s"; fi
done
for s in "${next_extra[@]}"; do
    if selected "$s"; then run "next-$next_spec" "$suite_next" --scenario "$s" "${next_args[@]}"; fi
done

echo >&2
node conformance/summarize.mjs "$out" $expected
