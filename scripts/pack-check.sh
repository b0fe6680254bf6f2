#!/usr/bin/env bash
# As users get it: pack the package, install the tarball into an empty project without network,
# and run the CLI and the library from there with npx (Node) and bunx (Bun). The install is the
# lean one (no optional peers); the bench's charts are covered by test/bench.test.ts in the repo.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bun="$root/node_modules/.bin/bun"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

tarball="$(cd "$root" && npm pack --silent --pack-destination "$tmp" | tail -n 1)"
cd "$tmp"
# Pinned to the versions our lockfile resolved, so the install needs the npm cache only (npm ci
# filled it); a plain `npm install --offline` would also need registry metadata nothing cached.
node "$root/scripts/pack-lock.mjs" "$root" "$tmp" "$tarball"
npm ci --offline --no-audit --no-fund --silent

# Lean install: the library and the core CLI, without the optional peers (AWS SDK, vega).
# Issue 14 bound: at most 10 packages (ckptkit included) and 3 MB on disk.
packages="$(npm ls --all --parseable 2>/dev/null | tail -n +2 | wc -l)"
megabytes="$(du -sm node_modules | cut -f1)"
echo "lean install: $packages packages, $megabytes MB"
if [ "$packages" -gt 10 ]; then echo "pack check: $packages packages installed, the bound is 10" >&2; npm ls --all >&2; exit 1; fi
if [ "$megabytes" -gt 3 ]; then echo "pack check: $megabytes MB installed, the bound is 3" >&2; exit 1; fi
for optional in @aws-sdk/client-s3 @aws-sdk/lib-storage vega vega-lite; do
  if [ -e "node_modules/$optional" ]; then echo "pack check: optional $optional was installed" >&2; exit 1; fi
done
# Without them, s3:// and bench exit 3 naming exactly what to install (not a module-not-found).
expect_missing() { # <install command on stderr> <runner...> ckpt <args...>
  local want="$1"; shift
  set +e; "$@" > out.txt 2> err.txt; local rc=$?; set -e
  if [ "$rc" -ne 3 ] || ! grep -qF "$want" err.txt; then
    echo "pack check: ckpt $* exited $rc, want 3 and '$want' on stderr:" >&2; cat err.txt >&2; exit 1
  fi
}
s3_hint="s3:// paths need the optional packages @aws-sdk/client-s3 and @aws-sdk/lib-storage: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage"
expect_missing "$s3_hint" npx --offline ckpt verify s3://bucket/prefix
expect_missing "$s3_hint" npx --offline ckpt save s3://bucket/prefix package.json
expect_missing "$s3_hint" "$bun" x --bun ckpt verify s3://bucket/prefix
expect_missing "bench charts need the optional packages vega and vega-lite: npm install vega vega-lite" \
  npx --offline ckpt bench --quick --suites verify --runtimes node --out bench-out
node --input-type=module -e '
  import { s3Storage, MissingPackageError } from "ckptkit";
  const err = await s3Storage().then(() => undefined, (e) => e);
  if (!(err instanceof MissingPackageError) || err.code !== "EMISSINGPACKAGE") throw new Error(`s3Storage without the SDK: ${err}`);
'

printf 'payload one\n' > a.txt
npx --offline ckpt --help | grep -q "save"
npx --offline ckpt save store a.txt --json | grep -q '"step":1'
npx --offline ckpt verify store
node --input-type=module -e '
  import { crc32, sha256, toHex, openStore } from "ckptkit";
  if (crc32(new TextEncoder().encode("123456789")) !== 0xcbf43926) throw new Error("crc32");
  const s = await openStore("store", { readOnly: true });
  if ((await s.latest()).step !== 1) throw new Error("latest");
  console.log("node library ok:", toHex(sha256(new Uint8Array(0))).slice(0, 16));
'
"$bun" x --bun ckpt --help | grep -q "save"
"$bun" x --bun ckpt save store a.txt --json | grep -q '"step":2'
"$bun" x --bun ckpt verify store
"$bun" -e '
  const { crc32, openStore } = await import("ckptkit");
  if (crc32(new TextEncoder().encode("123456789")) !== 0xcbf43926) throw new Error("crc32");
  const s = await openStore("store", { readOnly: true });
  if ((await s.latest()).step !== 2) throw new Error("latest");
  console.log("bun library ok");
'
echo "pack check passed: $tarball installs offline ($packages packages, $megabytes MB); npx ckpt and bunx ckpt save and verify; s3:// and bench without their optional packages exit 3 naming them"
