#!/usr/bin/env bash
# Installs what is missing on a Debian 12 machine (Debian packages; npm packages for the tests,
# from the lock file) and builds MCP Auth Agent into ./build. Safe to run again: it only installs
# what is absent and rebuilds incrementally.
#   scripts/setup.sh            build only
#   scripts/setup.sh --tests    also install the npm packages the end-to-end tests need
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[[ "${1:-}" == "--tests" ]] && want_tests=1

packages=(build-essential cmake ninja-build pkg-config clang-format
          qt6-base-dev qt6-base-dev-tools qt6-svg-dev qtkeychain-qt6-dev nlohmann-json3-dev libssl-dev
          gnome-keyring dbus dbus-daemon libsecret-tools)
# The tray's tests: a real X server, tray host and notification daemon, and screenshots.
if (( want_tests )); then packages+=(xvfb trayer dunst imagemagick xdotool x11-utils); fi
# A Node.js that did not come from Debian (e.g. a newer one on PATH) is fine too.
if (( want_tests )) && ! { command -v node && command -v npm; } >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if (( want_tests )) && [[ -f tests/package-lock.json ]]; then
  # Reinstall only when the lock file changed since the last install.
  stamp=tests/node_modules/.lock-stamp
  if [[ ! -f $stamp ]] || ! cmp -s tests/package-lock.json "$stamp"; then
    echo "setup: installing npm packages for the tests (tests/package-lock.json)"
    npm ci --prefix tests --no-audit --no-fund --loglevel=error
    cp tests/package-lock.json "$stamp"
  fi
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --parallel "$(nproc)"
