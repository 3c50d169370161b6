#!/usr/bin/env bash
# Runs the e2e tests inside a private D-Bus session with a throwaway, unlocked gnome-keyring.
#
#   tests/e2e/run-e2e.sh [BUILD_DIR]        (or MCP_AUTH_BUILD_DIR=BUILD_DIR)
#   tests/e2e/run-e2e.sh BUILD_DIR CMD...   runs CMD (e.g. a benchmark) in the same environment
#
# Needs: tests/node_modules (tests/e2e/setup.sh), dbus-run-session, gnome-keyring-daemon, gdbus, node ≥ 20.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tests=$(dirname "$here")
build=${1:-${MCP_AUTH_BUILD_DIR:-}}
shift || true
if [[ -z "$build" ]]; then
    echo "run-e2e.sh: give the build directory as argument or MCP_AUTH_BUILD_DIR" >&2
    exit 2
fi
MCP_AUTH_BUILD_DIR=$(cd "$build" && pwd)
export MCP_AUTH_BUILD_DIR

if [[ ! -f "$tests/node_modules/oidc-provider/package.json" ]]; then
    echo "run-e2e.sh: npm dependencies missing in $tests/node_modules: run tests/e2e/setup.sh first" >&2
    exit 1
fi
for tool in dbus-run-session gnome-keyring-daemon gdbus node; do
    command -v "$tool" >/dev/null || { echo "run-e2e.sh: $tool not found" >&2; exit 1; }
done

if [[ -z "${MCP_AUTH_E2E_IN_SESSION:-}" ]]; then
    export MCP_AUTH_E2E_IN_SESSION=1
    exec dbus-run-session -- bash "${BASH_SOURCE[0]}" "$MCP_AUTH_BUILD_DIR" "$@"
fi

# Inside the private session bus: a keyring in a throwaway HOME, so no real keyring is touched.
keyhome=$(mktemp -d "${TMPDIR:-/tmp}/mcp-auth-e2e-keyring.XXXXXX")
chmod 700 "$keyhome"
keyring_pid=
cleanup() {
    if [[ -n "$keyring_pid" ]]; then
        kill "$keyring_pid" 2>/dev/null || true
        wait "$keyring_pid" 2>/dev/null || true
    fi
    rm -rf "$keyhome"
}
trap cleanup EXIT
export HOME="$keyhome/home" XDG_DATA_HOME="$keyhome/home/.local/share" XDG_CONFIG_HOME="$keyhome/home/.config" \
    XDG_RUNTIME_DIR="$keyhome/run"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

printf '%s' "e2e-throwaway-$$-$RANDOM" | gnome-keyring-daemon --foreground --unlock --components=secrets \
    >"$keyhome/keyring.env" 2>"$keyhome/keyring.log" &
keyring_pid=$!
for _ in $(seq 100); do
    if gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true; then
        break
    fi
    sleep 0.1
done
while IFS='=' read -r name value; do
    [[ "$name" =~ ^[A-Z_]+$ ]] && export "$name=$value"
done <"$keyhome/keyring.env"
if ! gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.SearchItems '@a{ss} {}' >/dev/null 2>&1; then
    echo "run-e2e.sh: the Secret Service did not come up; keyring log:" >&2
    cat "$keyhome/keyring.log" >&2
    exit 1
fi

cd "$tests"
if (( $# )); then
    "$@"
    exit
fi
# Their own ctest entries: eras.test.mjs (hosts × servers across MCP eras), e2e_eras, run beside this;
# broker-load.test.mjs (the agent's socket under load, ~50 s, CPU-bound), e2e_broker_load, run alone;
# tray.test.mjs (the tray under Xvfb with a tray host), e2e_tray.
files=()
for f in e2e/*.test.mjs; do
    [[ $f == e2e/eras.test.mjs || $f == e2e/broker-load.test.mjs || $f == e2e/tray.test.mjs ]] || files+=("$f")
done
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
