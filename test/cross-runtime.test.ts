// Same bytes on disk in every runtime: a store written by each of Node, Deno and Bun verifies
// and restores byte-identically in all three (3 × 3), through the CLI each runtime runs.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { randomBytes, rng, runtime, test } from "./kit.ts";
import { ckpt } from "./lib/cli.ts";

const RUNTIMES = ["node", "deno", "bun"] as const;

test(`cross-runtime (driven from ${runtime}): each runtime's store verifies and restores in all three`, () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-x-`);
  try {
    const next = rng(77);
    const inputs = { "weights.bin": randomBytes(700_000, next), "state.json": new TextEncoder().encode('{"step":1}') };
    for (const [name, body] of Object.entries(inputs)) writeFileSync(`${dir}/${name}`, body);
    for (const writer of RUNTIMES) {
      const s = ckpt(["save", `${dir}/store-${writer}`, `${dir}/weights.bin`, `${dir}/state.json`, "--json"], {
        rt: writer,
      });
      assert.equal(s.code, 0, `${writer} save: ${s.stderr}`);
    }
    for (const writer of RUNTIMES) {
      for (const reader of RUNTIMES) {
        const v = ckpt(["verify", `${dir}/store-${writer}`], { rt: reader });
        assert.equal(v.code, 0, `${reader} verifying ${writer}'s store: ${v.stdout}${v.stderr}`);
        const out = `${dir}/out-${writer}-${reader}`;
        const r = ckpt(["restore", `${dir}/store-${writer}`, out], { rt: reader });
        assert.equal(r.code, 0, `${reader} restoring ${writer}'s store: ${r.stderr}`);
        for (const [name, body] of Object.entries(inputs)) {
          assert.deepEqual(new Uint8Array(readFileSync(`${out}/${name}`)), body, `${writer} → ${reader}: ${name}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
