#!/usr/bin/env bash
# Browser tests of the station screen and technician page: installs
# playwright-core (npm ci, from the committed lock file) into the build
# directory and runs run.mjs against Debian's /usr/bin/chromium. Playwright's
# own browser downloads are never used. An argument runs that script instead
# of run.mjs with the same modules (bench/web uses it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${FLOORLINK_BINARY_DIR:?set FLOORLINK_BINARY_DIR to the build directory}"
export FLOORLINK_SOURCE_DIR=${FLOORLINK_SOURCE_DIR:-$(cd "$here/../../.." && pwd)}
work="$FLOORLINK_BINARY_DIR/tests/web/browser-node"
mkdir -p "$work"
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
export FLOORLINK_NODE_MODULES="$work/node_modules"
exec node "${1:-$here/run.mjs}"
