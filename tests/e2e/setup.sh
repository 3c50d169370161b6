#!/usr/bin/env bash
# Installs the pinned npm dependencies of the e2e tests into tests/node_modules (from package-lock.json).
set -euo pipefail
tests=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$tests"
npm ci --no-audit --no-fund
