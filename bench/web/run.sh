#!/usr/bin/env bash
# sse_update_ms: bench_web.mjs with the browser tests' playwright-core (their
# lock file, installed into the build directory) and Debian's /usr/bin/chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../../tests/web/browser/run.sh" "$here/bench_web.mjs"
