// Each checkpoint is read once per call (issue 14, item 2). The tracing adapter records every
// read the store makes; a member's full pass is what one verify of it reads. restore and load
// read the checkpoint they return once (no latest() pass first), latest reads each checkpoint it
// checks once, and save with keep reads no older checkpoint this Store already proved good
// (src/store/retention.ts: the anchor, the verified record, the manifest's own checks).
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { tracingFs } from "../adapters/tracing.ts";
import { openStore } from "../src/store/store.ts";
import { memberName } from "../src/store/layout.ts";
import { LEAVES_CRC_SIZE, TRAILER_SIZE } from "../src/format/constants.ts";
import { test } from "./kit.ts";
import { flipInMemory } from "./lib/damage.ts";
import { catCommand } from "../src/cli/store-commands.ts";
import type { CommandContext } from "../src/cli/command.ts";
import { CorruptionError } from "../src/errors.ts";

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;

/** A store at /s with checkpoints 1..n, each one 1 MiB member (4 chunks), on a traced memory fs. */
async function storeWith(n: number) {
  const mem = new MemoryFs();
  const fs = tracingFs(mem);
  const s = await openStore("/s", { fs, chunkSize: CHUNK });
  for (let step = 1; step <= n; step++) {
    await s.save([{ name: "w.bin", data: new Uint8Array(MiB).fill(step) }], { step });
  }
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

/** The steps whose manifest was read at all. */
function manifestsRead(fs: { events: { op: string; path: string }[] }): number[] {
  const steps = new Set<number>();
  for (const e of fs.events) {
    const m = /^step-0*(\d+)\.manifest$/.exec(e.path);
    if (e.op === "read" && m) steps.add(Number(m[1]));
  }
  return [...steps].sort((a, b) => a - b);
}

const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

test("10 saves with keep 3 on one Store read only the step each save deletes", async () => {
  const pass = await onePass();
  const { fs, s } = await storeWith(0);
  const perSave: number[] = [];
  for (let step = 1; step <= 10; step++) {
    fs.reset();
    await s.save([{ name: "w.bin", data: new Uint8Array(MiB).fill(step) }], { keep: 3 });
    const reads = memberReads(fs);
    perSave.push(total(reads));
    // The window is counted by the Store's record (stats only); the step that leaves it is read
    // once in full before it is deleted (a rotted one is rollback's: guarantee 3).
    if (step > 3) assert.deepEqual([...reads], [[step - 3, pass]], `save ${step}`);
    else assert.equal(reads.size, 0, `save ${step}`);
    assert.deepEqual(manifestsRead(fs), step > 3 ? [step - 3] : [], `save ${step}: only the deleted step's manifest`);
  }
  console.log(
    `save --keep 3, one Store, 10 saves: member reads per save ${perSave.join(",")} (one full pass = ${pass})`,
  );
  assert.deepEqual((await s.list()).map((c) => c.step), [10, 9, 8]);
  await s.close();
});

test("10 saves with keep 3, a fresh Store each (the CLI): manifests only, and the one deleted read once", async () => {
  const pass = await onePass();
  const mem = new MemoryFs();
  const fs = tracingFs(mem);
  const perSave: number[] = [];
  for (let step = 1; step <= 10; step++) {
    const s = await openStore("/s", { fs, chunkSize: CHUNK });
    fs.reset();
    await s.save([{ name: "w.bin", data: new Uint8Array(MiB).fill(step) }], { keep: 3 });
    const reads = memberReads(fs);
    perSave.push(total(reads));
    // Only the step this save deletes is read in full (never verified by this process).
    if (step > 3) assert.deepEqual([...reads], [[step - 3, pass]], `save ${step}`);
    else assert.equal(reads.size, 0, `save ${step}`);
    // The manifests of the older steps still present (the window, and the one deleted).
    assert.deepEqual(
      manifestsRead(fs),
      Array.from({ length: Math.min(step - 1, 3) }, (_, i) => Math.max(1, step - 3) + i),
      `save ${step}`,
    );
    await s.close();
  }
  console.log(
    `save --keep 3, fresh Store per save, 10 saves: member reads per save ${
      perSave.join(",")
    } (one full pass = ${pass})`,
  );
});

test("retention never anchors on an unproven step: a rotted newest keeps the older good one", async () => {
  const { mem, s } = await storeWith(2);
  // Step 2 was committed by this Store, so its record says good; a flip since is found only by
  // a read. prune(1) must prove its anchor now, so step 1, the newest good one, stays.
  const path = `/s/${memberName(2, 0)}`;
  flipInMemory(mem, path, mem.peek(path)!.length - 100);
  assert.deepEqual((await s.prune(1)).removed, []);
  assert.equal((await s.latest())!.step, 1);
  await s.close();
});

test("a damaged step inside the keep window is never chosen by latest", async () => {
  const { mem, s } = await storeWith(0);
  for (let step = 1; step <= 5; step++) {
    await s.save([{ name: "w.bin", data: new Uint8Array(MiB).fill(step) }], { keep: 3 });
  }
  for (const step of [5, 4]) {
    const path = `/s/${memberName(step, 0)}`;
    flipInMemory(mem, path, mem.peek(path)!.length - 100);
  }
  assert.equal((await s.latest())!.step, 3);
  assert.equal((await s.load()).step, 3);
  await s.close();
});

test("an unrecorded damaged step is read before retention deletes it, and left for rollback", async () => {
  const { mem, s: first } = await storeWith(3);
  await first.close();
  const path = `/s/${memberName(1, 0)}`;
  flipInMemory(mem, path, mem.peek(path)!.length - 100);
  const s = await openStore("/s", { fs: mem, chunkSize: CHUNK }); // a new process: nothing recorded
  await s.save([{ name: "w.bin", data: new Uint8Array(MiB).fill(4) }], { keep: 1 });
  assert.deepEqual((await s.list()).map((c) => c.step), [4, 1]);
  await s.close();
});

/** Drains a stream: its bytes, and its error if it ended with one. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ bytes: number; first?: number; error?: unknown }> {
  const reader = stream.getReader();
  let bytes = 0;
  let first: number | undefined;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      first ??= r.value[0];
      bytes += r.value.length;
    }
  } catch (error) {
    return { bytes, first, error };
  }
  return { bytes, first };
}

test("open(name) without a step reads the member it streams once, and each other member once", async () => {
  const pass = await onePass();
  const { fs, s } = await storeWith(2);
  await s.save([{ name: "a.bin", data: new Uint8Array(MiB).fill(7) }, {
    name: "w.bin",
    data: new Uint8Array(MiB).fill(3),
  }]);
  fs.reset();
  const r = await drain(s.open("w.bin"));
  assert.equal(r.error, undefined);
  assert.equal(r.bytes, MiB);
  assert.equal(r.first, 3);
  // Step 3's two member files: each one full pass, none twice (latest() first read both again).
  const perFile = new Map<string, number>();
  for (const e of fs.events) {
    if (e.op === "read" && e.path.includes(".member-")) perFile.set(e.path, (perFile.get(e.path) ?? 0) + 1);
  }
  assert.deepEqual([...perFile].sort(), [[memberName(3, 0), pass], [memberName(3, 1), pass]]);
  await s.close();
});

test("open(name): damage before the first chunk goes out falls back to the older checkpoint; after, the stream errors", async () => {
  const pass = await onePass();
  const { mem, fs, s } = await storeWith(3);
  const path = `/s/${memberName(3, 0)}`;
  const clean = mem.peek(path)!.slice();
  flipInMemory(mem, path, 200); // inside chunk 0's header or payload: nothing of step 3 delivered
  fs.reset();
  let r = await drain(s.open("w.bin"));
  assert.equal(r.error, undefined);
  assert.equal(r.first, 2, "the newest valid checkpoint, as latest() would choose");
  const reads = memberReads(fs);
  assert.equal(reads.get(2), pass);
  assert.ok(reads.get(3)! < pass, "step 3 read only up to its damage");
  mem.poke(path, clean);
  // The last chunk's payload (v2: before the 4 leaves, their CRC and the trailer): the bytes
  // before it are out already. (A flip in the leaf list delivers nothing: the root no longer
  // vouches for any leaf, and the older checkpoint is used, as for damage before chunk 0.)
  flipInMemory(mem, path, clean.length - (TRAILER_SIZE + LEAVES_CRC_SIZE + 4 * 32) - 100);
  r = await drain(s.open("w.bin"));
  assert.ok(r.error instanceof CorruptionError, String(r.error));
  assert.ok(r.bytes > 0 && r.bytes < MiB);
  assert.equal(r.first, 3);
  await s.close();
});

test("ckpt cat reads the member once (no latest() pass first)", async () => {
  const pass = await onePass();
  const { fs, s } = await storeWith(3);
  await s.close();
  fs.reset();
  let written = 0;
  const out: string[] = [];
  const ctx = {
    positionals: ["/s", "w.bin"],
    values: {},
    json: false,
    quiet: false,
    fs,
    out: (t: string) => void out.push(t),
    writeOut: async (b: Uint8Array) => {
      written += b.length;
    },
    err: () => {},
    note: () => {},
    stderrIsTTY: false,
    stdoutIsTTY: false,
    runtime: "node",
    self: [],
    tmpdir: "/tmp",
    readStdin: async () => new Uint8Array(0),
  } as unknown as CommandContext;
  assert.equal(await catCommand.run(ctx), 0);
  assert.equal(written, MiB);
  console.log(`ckpt cat of a 1 MiB member: ${total(memberReads(fs))} member reads (one full pass = ${pass})`);
  assert.deepEqual([...memberReads(fs)], [[3, pass]]);
  fs.reset();
  assert.equal(await catCommand.run({ ...ctx, json: true }), 0);
  assert.match(out.at(-1)!, /"step":3/);
  assert.deepEqual([...memberReads(fs)], [[3, pass]]);
});
