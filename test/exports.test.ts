// The contract's library surface, checked against both manifests: deno.json's `exports` must
// point at the TypeScript entry and package.json's at the tsup build of the same entry.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as api from "../src/index.ts";
import { test } from "./kit.ts";
import { ROOT } from "./lib/cli.ts";

const CONTRACT = [
  "crc32",
  "sha256",
  "createSha256",
  "openStore",
  "openState",
  "toHex",
  "CkptError",
  "CorruptionError",
  "FsError",
  "DurabilityError",
  "UsageError",
  "LockedError",
];

test("src/index.ts exports the contract's API", () => {
  for (const name of CONTRACT) assert.equal(typeof (api as Record<string, unknown>)[name], "function", name);
});

test("deno.json exports the TypeScript entry; package.json exports the build and the ckpt bin", () => {
  const deno = JSON.parse(readFileSync(`${ROOT}/deno.json`, "utf8"));
  assert.equal(deno.exports, "./src/index.ts");
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8"));
  assert.equal(pkg.name, "ckptkit");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.bin.ckpt, "dist/cli.js");
  assert.equal(pkg.exports["."].import, "./dist/index.js");
  for (const dep of ["deno", "bun"]) assert.ok(pkg.devDependencies[dep], `${dep} is a devDependency`);
  const tsup = readFileSync(`${ROOT}/tsup.config.ts`, "utf8");
  assert.match(tsup, /index: "src\/index\.ts"/);
  assert.match(tsup, /cli: "src\/cli\.ts"/);
});

test("the kernel is loaded from embedded bytes whose SHA-256 is stamped in the module", async () => {
  const { kernel } = await import("../src/wasm/kernel.ts");
  const { KERNEL_BUILDS } = await import("../src/wasm/kernel-bytes.generated.ts");
  for (const { base64, sha256 } of Object.values(KERNEL_BUILDS)) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    assert.equal(api.toHex(api.sha256(bytes)), sha256);
  }
  assert.equal(kernel().sha256, KERNEL_BUILDS[kernel().variant].sha256);
});
