#!/usr/bin/env bash
# The package as registries see it: publint (package.json and the packed files agree),
# @arethetypeswrong/cli for the ESM profile (types resolve for ESM consumers and bundlers), and
# `deno publish --dry-run` for JSR (license, exports, no slow types, no warnings), and `deno check
# src/index.ts` from a clean directory: a temp copy of what JSR publishes (src/, adapters/,
# deno.json; no package.json, no node_modules), offline (--cached-only: the npm types it needs,
# @types/node and the optional AWS SDK that deno.json maps, come from Deno's own cache).
# Needs `npm ci` (publint and attw are devDependencies); PACKAGE_LINT_BIN overrides the bin dir.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="${PACKAGE_LINT_BIN:-$root/node_modules/.bin}"
deno="$root/node_modules/.bin/deno"
for tool in "$bin/publint" "$bin/attw" "$deno"; do
  if [ ! -x "$tool" ]; then echo "package lint: $tool is missing: run npm ci" >&2; exit 1; fi
done

"$bin/publint" --strict
# --pack runs `npm pack` (prepack builds dist/); the CommonJS resolutions are out of scope: ckptkit is ESM only.
"$bin/attw" --pack . --profile esm-only

# JSR: dirty only by ignored build output in CI; any warning fails the check, not just errors.
out="$("$deno" publish --dry-run --allow-dirty 2>&1)" || { echo "$out" >&2; exit 1; }
if grep -qiE "^(.\[[0-9;]*m)*warning" <<<"$out"; then echo "$out" >&2; echo "package lint: deno publish --dry-run warned" >&2; exit 1; fi
# A consumer's view: nothing of this checkout's node_modules or package.json reaches the check.
clean="$(mktemp -d)"
trap 'rm -rf "$clean"' EXIT
cp -R src adapters deno.json LICENSE README.md "$clean/"
if ! out="$(cd "$clean" && DENO_NO_UPDATE_CHECK=1 "$deno" check --cached-only --node-modules-dir=none --no-lock src/index.ts 2>&1)"; then
  echo "$out" >&2
  echo "package lint: deno check src/index.ts failed in a clean copy (if a package is not cached: run it once online without --cached-only)" >&2
  exit 1
fi
echo "package lint passed: publint, attw (esm-only), deno publish --dry-run without warnings, deno check from a clean copy"
