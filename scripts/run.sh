#!/usr/bin/env bash
# One command: install what is missing, build, and start the agent (tray when a display exists,
# headless otherwise). Extra arguments go to mcp-auth-agent, e.g. scripts/run.sh --headless.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "Starting mcp-auth-agent; try: build/app/mcp-auth status   (Ctrl-C stops the agent)"
exec build/app/mcp-auth-agent "$@"
