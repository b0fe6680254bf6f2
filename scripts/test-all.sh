#!/usr/bin/env bash
# The whole suite, as CI runs it: the kernel embed is current, types check, then the same test
# files under Node (vitest), Deno (deno test) and Bun (bun test). Fails on the first red step.
set -euo pipefail
cd "$(dirname "$0")/.."
export NPM_CONFIG_UPDATE_NOTIFIER=false

step() { printf '\n=== %s ===\n' "$*"; }

step "layers: imports point one way (dependency-cruiser), no runtime globals in the core"
npm run --silent lint:layers
bash scripts/architecture.sh --check
# One layout everywhere (deno.json "fmt": 120 columns): the formatter is the style check.
npx --no-install deno fmt --check --quiet

step "kernel: rebuild assembly/ and compare with the committed embed"
npx --no-install asc assembly/index.ts --target release >/dev/null
node scripts/embed-wasm.mjs --check

step "build (tsup) and typecheck (tsc)"
npx --no-install tsup --silent
npx --no-install tsc --noEmit -p tsconfig.json

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

step "s3: a local S3-compatible server (Swift + s3api) for the object-store tests"
if bash scripts/s3-server.sh start; then
  eval "$(bash scripts/s3-server.sh env)"
  trap 'rm -rf "$logs"; bash scripts/s3-server.sh stop' EXIT
elif [ "${CI:-}" = "true" ]; then
  echo "the S3 server could not be started; CI requires it" >&2
  exit 1
else
  echo "note: no S3 server here; the S3 tests will report NOT RUN (scripts/test-s3.sh runs them)"
fi

step "node: vitest"
npx --no-install vitest run --reporter=dot 2>&1 | tee "$logs/node"

step "deno: deno test"
npx --no-install deno test -A --no-check --quiet --v8-flags=--expose-gc test/ 2>&1 | tee "$logs/deno"

step "bun: bun test"
npx --no-install bun test --timeout 120000 test/ 2>&1 | tee "$logs/bun"

step "browser: headless Chromium (Debian's chromium, driven by playwright-core): OPFS adapter, store, log, crash kills"
if bash scripts/chromium.sh install; then
  node test/browser/run.mjs 2>&1 | tee "$logs/browser"
  node scripts/browser-crashtest.mjs --trials "${CKPT_BROWSER_KILLS:-5}" 2>&1 | tee -a "$logs/browser"
elif [ "${CI:-}" = "true" ]; then
  echo "chromium could not be installed; CI requires the browser tests" >&2
  exit 1
else
  echo "NOT RUN: browser tests (no chromium here and it could not be installed: scripts/chromium.sh install)" | tee "$logs/browser"
fi

step "package: npm pack, lean offline install, npx ckpt and bunx ckpt; publint, attw, deno publish --dry-run"
bash scripts/pack-check.sh
bash scripts/package-lint.sh
# One closing line over the three runners (each run above already failed the script if red).
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
n_node=$(strip "$logs/node" | sed -n 's/^ *Tests *\([0-9]*\) passed.*/\1/p' | tail -1)
n_deno=$(strip "$logs/deno" | sed -n 's/^ok | \([0-9]*\) passed.*/\1/p' | tail -1)
n_bun=$(strip "$logs/bun" | sed -n 's/^ *\([0-9]*\) pass$/\1/p' | tail -1)
n_browser=$(sed -n 's/^browser (Chromium [^)]*): \([0-9]*\) passed.*/\1/p' "$logs/browser" | tail -1)
echo
echo "node ${n_node:-?}, deno ${n_deno:-?}, bun ${n_bun:-?}, browser ${n_browser:-NOT RUN} tests passed"
echo "tests: $(( ${n_node:-0} + ${n_deno:-0} + ${n_bun:-0} + ${n_browser:-0} )) passed, 0 failed"
