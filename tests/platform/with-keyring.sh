#!/usr/bin/env bash
# Run a command inside a private D-Bus session with a freshly started, unlocked gnome-keyring
# (Secret Service), so keychain tests use the real backend and never touch the user's keyring.
# Usage: with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi
# dbus-daemon and gnome-keyring want an existing runtime directory (ctest points XDG_RUNTIME_DIR at
# a private one that may not exist yet).
if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ ! -d "$XDG_RUNTIME_DIR" ]; then
    mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
fi
exec dbus-run-session -- bash -c '
    set -euo pipefail
    keyring_home="$(mktemp -d)"
    out="$keyring_home/env"
    # --unlock reads a password on stdin and creates the login keyring unlocked with it (a throwaway
    # here). --foreground keeps the daemon our child, so we stop it by its pid. It prints NAME=value
    # lines (GNOME_KEYRING_CONTROL) to export. Its files go to a private HOME, removed afterwards.
    printf "%s" "mcpauth-test-$$" |
        HOME="$keyring_home" XDG_DATA_HOME="$keyring_home/data" XDG_CACHE_HOME="$keyring_home/cache" \
        gnome-keyring-daemon --foreground --unlock --components=secrets >"$out" 2>/dev/null &
    daemon=$!
    trap "kill $daemon 2>/dev/null || true; wait $daemon 2>/dev/null || true; rm -rf \"$keyring_home\"" EXIT
    # Ready when it owns the Secret Service name on our bus (its NAME=value output is not a signal:
    # it prints only what differs from the defaults). Waiting also keeps D-Bus activation from
    # starting a second, locked daemon behind our back.
    owned() {
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"
    }
    for _ in $(seq 1 100); do
        owned && break
        kill -0 $daemon 2>/dev/null || break
        sleep 0.05
    done
    owned || { echo "with-keyring.sh: gnome-keyring-daemon did not start" >&2; exit 1; }
    while IFS= read -r line; do
        case "$line" in *=*) export "$line" ;; esac
    done <"$out"
    "$@"
' with-keyring "$@"
