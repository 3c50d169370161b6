#!/usr/bin/env bash
# One command: install what is missing (Debian and npm packages), build, check formatting and
# layering, and run every test (unit, platform against a real Secret Service, end-to-end against
# real servers from npm). ctest's summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
scripts/check-style.sh
cd build
ctest --output-on-failure --timeout 900 -j2 "$@"
