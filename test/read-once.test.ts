// Each checkpoint is read once per call (issue 14, item 2). The tracing adapter records every
// read the store makes; a member's full pass is what one verify of it reads. restore and load
// read the checkpoint they return once (no latest() pass first), latest reads each checkpoint it
// checks once, and save with keep does not read back the checkpoint it has just written.
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { tracingFs } from "../adapters/tracing.ts";
import { openStore } from "../src/store/store.ts";
import { memberName } from "../src/store/layout.ts";
import { test } from "./kit.ts";
import { flipInMemory } from "./lib/damage.ts";

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

/** A store at /s with checkpoints 1..n, each one 1 MiB member (4 chunks), on a traced memory fs. */
async function storeWith(n: number) {
  const mem = new MemoryFs();
  const fs = tracingFs(mem);
  const s = await openStore("/s", { fs, chunkSize: CHUNK });
  for (let step = 1; step <= n; step++) await s.save([{ name: "w.bin", data: new Uint8Array(MiB).fill(step) }], { step });
  return { mem, fs, s };
}

/** Reads of member files, per step (a manifest's reads are not counted: it is small). */
function memberReads(fs: { events: { op: string; path: string }[] }): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of fs.events) {
    const m = /^step-0*(\d+)\.member-/.exec(e.path);
    if (e.op === "read" && m) out.set(Number(m[1]), (out.get(Number(m[1])) ?? 0) + 1);
  }
  return out;
}

async function onePass(): Promise<number> {
  const { fs, s } = await storeWith(1);
  fs.reset();
  assert.equal((await s.check(1)).status, "valid");
  const n = memberReads(fs).get(1)!;
  await s.close();
  assert.ok(n >= 1);
  return n;
}

/** restore also reads each member's header and metadata once more, for its recorded file mode. */
const MODE_READS = 2;

test("restore reads the checkpoint it restores once, and no other", async () => {
  const pass = await onePass();
  const { fs, s } = await storeWith(3);
  fs.reset();
  const r = await s.restore("/out");
  assert.equal(r.step, 3);
  assert.deepEqual([...memberReads(fs)], [[3, pass + MODE_READS]]);
  await s.close();
});

test("load reads the checkpoint it loads once, and no other", async () => {
  const pass = await onePass();
  const { fs, s } = await storeWith(3);
  fs.reset();
  const got = await s.load();
  assert.equal(got.step, 3);
  assert.equal(got.members.get("w.bin")![0], 3);
  assert.deepEqual([...memberReads(fs)], [[3, pass]]);
  await s.close();
});

test("restore and load of a store whose newest checkpoint is damaged fall back, reading each candidate once", async () => {
  const pass = await onePass();
  const { mem, fs, s } = await storeWith(3);
  // A bit flip in the newest member's last chunk: found only by reading it.
  const path = `/s/${memberName(3, 0)}`;
  flipInMemory(mem, path, mem.peek(path)!.length - 100);
  fs.reset();
  assert.equal((await s.load()).step, 2);
  assert.deepEqual([...memberReads(fs)].sort(), [[2, pass], [3, pass]]);
  fs.reset();
  assert.equal((await s.restore("/out")).step, 2);
  assert.deepEqual([...memberReads(fs)].sort(), [[2, pass + MODE_READS], [3, pass + MODE_READS]]);
  fs.reset();
  assert.equal((await s.latest())!.step, 2);
  assert.deepEqual([...memberReads(fs)].sort(), [[2, pass], [3, pass]]);
  await s.close();
});

test("save with keep does not read back the checkpoint it just wrote, and reads each older one once", async () => {
  const pass = await onePass();
  const { fs, s } = await storeWith(4);
  fs.reset();
  const r = await s.save([{ name: "w.bin", data: new Uint8Array(MiB).fill(5) }], { keep: 2 });
  assert.equal(r.step, 5);
  // Older ones are still checked in full: prune must tell a damaged one (left to rollback) from a
  // valid one before it deletes anything.
  assert.deepEqual([...memberReads(fs)].sort(), [[1, pass], [2, pass], [3, pass], [4, pass]]);
  assert.deepEqual((await s.list()).map((c) => c.step), [5, 4]);
  await s.close();
});
