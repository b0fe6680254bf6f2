#!/usr/bin/env bash
# The object-store tests against a real S3-compatible server (no mocks): installs (Debian packages,
# once) and starts a local Swift + s3api on 127.0.0.1 (scripts/s3-server.sh), runs the S3 test
# files under Node (vitest), Deno and Bun with the endpoint in the environment, and stops the
# server again if this script started it.
# Usage: scripts/test-s3.sh [node|deno|bun]...   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
export NPM_CONFIG_UPDATE_NOTIFIER=false
runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(node deno bun)
files=(test/s3.test.ts test/s3-faults.test.ts)

eval "$(bash scripts/s3-server.sh env)"
if curl -sf "$CKPTKIT_S3_ENDPOINT/healthcheck" >/dev/null 2>&1; then
  echo "s3: using the server already running at $CKPTKIT_S3_ENDPOINT"
else
  bash scripts/s3-server.sh start
  trap 'bash scripts/s3-server.sh stop' EXIT
fi

for rt in "${runtimes[@]}"; do
  printf '\n=== s3 tests: %s ===\n' "$rt"
  case "$rt" in
    node) npx --no-install vitest run --reporter=dot "${files[@]}" ;;
    deno) npx --no-install deno test -A --no-check --quiet "${files[@]}" ;;
    bun) npx --no-install bun test --timeout 120000 "${files[@]}" ;;
    *) echo "unknown runtime $rt (node, deno, bun)" >&2; exit 2 ;;
  esac
done
