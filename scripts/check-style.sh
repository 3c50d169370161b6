#!/usr/bin/env bash
# House-rule checks that need no build: clang-format, and the layering of style.md (core never
# includes Gui, Widgets or qtkeychain; no platform #ifdefs in core).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/mcpauth-format.log; then
  echo "check-style: files need clang-format -i:"
  grep -oE '^[^: ]+\.(cpp|h):' /tmp/mcpauth-format.log | tr -d : | sort -u | head -20
  status=1
fi
if git grep -n -E '#\s*include\s*[<"](QtGui|QtWidgets|qt6keychain|QWidget|QApplication|QGuiApplication|QDesktopServices|QSystemTrayIcon)' -- core; then
  echo "check-style: core/ must not include Gui, Widgets or qtkeychain (style.md layering)"; status=1
fi
if git grep -n -E '#\s*if(def)?.*Q_OS_' -- core; then
  echo "check-style: platform #ifdefs belong in platform/, not core/"; status=1
fi
[[ $status -eq 0 ]] && echo "check-style: ok"
exit $status
