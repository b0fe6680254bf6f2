#!/usr/bin/env bash
# The package as registries see it: publint (package.json and the packed files agree),
# @arethetypeswrong/cli for the ESM profile (types resolve for ESM consumers and bundlers), and
# `deno publish --dry-run` for JSR (license, exports, no slow types, no warnings).
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
echo "package lint passed: publint, attw (esm-only), deno publish --dry-run without warnings"
