#!/usr/bin/env bash
# As users get it: pack the package, install the tarball into an empty project without network,
# and run the CLI and the library from there with npx (Node) and bunx (Bun).
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
# The bench from the package: charts render from its own dependencies (vega), anchors absent.
npx --offline ckpt bench --quick --suites verify,timeline --runtimes node --out bench-out > /dev/null
grep -q "<svg" bench-out/report.html
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
echo "pack check passed: $tarball installs offline; npx ckpt and bunx ckpt save and verify"
