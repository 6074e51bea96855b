#!/usr/bin/env bash
# sse_update_ms: installs playwright-core from the browser tests' lock file
# into the build directory (as tests/web/browser/run.sh does) and runs
# bench_web.mjs against Debian's /usr/bin/chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${FLOORLINK_BINARY_DIR:?set FLOORLINK_BINARY_DIR to the build directory}"
lock="$here/../../tests/web/browser"
work="$FLOORLINK_BINARY_DIR/bench/web/node"
mkdir -p "$work"
if ! cmp -s "$lock/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
  cp "$lock/package.json" "$lock/package-lock.json" "$work/"
  (cd "$work" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
export FLOORLINK_NODE_MODULES="$work/node_modules"
exec node "$here/bench_web.mjs"
