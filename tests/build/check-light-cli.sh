#!/bin/sh
# The CLI stays light: a host may run dozens of `mcp-auth proxy` processes, so mcp-auth must not load
# Qt Gui/Widgets, the keychain library or libcrypto (sign-in and PKCE happen in the agent).
# Usage: check-light-cli.sh PATH-TO-mcp-auth
set -eu
needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || { echo "FAIL: readelf found no NEEDED entries in $1" >&2; exit 1; }
status=0
for lib in $needed; do
  case "$lib" in
    libQt6Gui*|libQt6Widgets*|libQt6DBus*|libqt6keychain*|libcrypto*|libssl*)
      echo "FAIL: $1 links $lib" >&2; status=1 ;;
  esac
done
[ $status -eq 0 ] && echo "ok: $1 links only: $(echo $needed | tr '\n' ' ')"
exit $status
