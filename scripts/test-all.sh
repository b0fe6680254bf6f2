#!/usr/bin/env bash
# The whole suite, as CI runs it: the kernel embed is current, types check, then the same test
# files under Node (vitest), Deno (deno test) and Bun (bun test). Fails on the first red step.
set -euo pipefail
cd "$(dirname "$0")/.."
export NPM_CONFIG_UPDATE_NOTIFIER=false

step() { printf '\n=== %s ===\n' "$*"; }

step "kernel: rebuild assembly/ and compare with the committed embed"
npx --no-install asc assembly/index.ts --target release >/dev/null
node scripts/embed-wasm.mjs --check

step "build (tsup) and typecheck (tsc)"
npx --no-install tsup --silent
npx --no-install tsc --noEmit -p tsconfig.json

step "node: vitest"
npx --no-install vitest run --reporter=dot

step "deno: deno test"
npx --no-install deno test -A --no-check --quiet test/

step "bun: bun test"
npx --no-install bun test --timeout 120000 test/

step "package: npm pack, offline install, npx ckpt and bunx ckpt"
bash scripts/pack-check.sh
echo
echo "all suites passed in node, deno and bun"
