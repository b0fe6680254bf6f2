// The v2 leaf pool (src/wasm/leaf-pool.ts): batches are gathered in job slots of a
// SharedArrayBuffer and their completions seen through Atomics, never delivered by message, so a
// caller whose thread is busy finds its digests ready the moment it looks (the message-based pool
// made Deno ~30× slower). Slots are freed only once the worker is done with them and nobody reads
// their bytes, so two hashers, or a hasher abandoned mid-stream, never see another's digests.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { LeafHasher, POOL_SPAWN_BYTES } from "../src/format/leaf-hasher.ts";
import { type PoolSlot, reserveLeafSlot, setLeafThreads, warmLeafPool } from "../src/wasm/leaf-pool.ts";
import { randomBytes, rng, test } from "./kit.ts";

const nodeSha = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

/** Leaves of `chunks` on this thread alone: what every pooled run must equal. */
async function localLeaves(chunks: Uint8Array[]): Promise<Uint8Array> {
  setLeafThreads(1);
  const h = new LeafHasher(64 << 20, { keep: true });
  for (const c of chunks) await h.add(c);
  return h.finish();
}

/** Every free slot the pool has now (its workers started), released again: its capacity. */
function freeSlots(): number {
  const held: PoolSlot[] = [];
  for (let s = reserveLeafSlot(); s; s = reserveLeafSlot()) held.push(s);
  for (const s of held) s.release();
  return held.length;
}

test("a batch hashed on a worker is ready when a busy caller looks: no message, no turn of the caller's loop needed", async () => {
  setLeafThreads(2);
  await warmLeafPool();
  try {
    const msg = randomBytes(64 * 1024 + 32, rng(1));
    // Start the worker (its first batch pays for instantiating the kernel there).
    const warm = reserveLeafSlot();
    assert.ok(warm, "a pool of 2 threads has a worker slot");
    warm.bytes.set(msg);
    assert.deepEqual(await warm.submit(msg.length, 1), nodeSha(msg));
    warm.release();

    const slot = reserveLeafSlot()!;
    const four = new Uint8Array(4 * msg.length);
    for (let i = 0; i < 4; i++) four.set(msg, i * msg.length);
    slot.bytes.set(four);
    const result = slot.submit(msg.length, 4);
    // The caller's thread is busy (synchronous work, no turn of its loop) while the worker hashes.
    const until = performance.now() + 300;
    while (performance.now() < until) { /* busy */ }
    const t0 = performance.now();
    const digests = await result;
    const waited = performance.now() - t0;
    slot.release();
    for (let i = 0; i < 4; i++) assert.deepEqual(digests.subarray(32 * i, 32 * i + 32), nodeSha(msg));
    assert.ok(waited < 100, `the digests were ready when the caller looked, yet it waited ${waited.toFixed(1)} ms`);

    // A worker idle past its linger time (back in its event loop) is woken by the next batch.
    await new Promise((r) => setTimeout(r, 100));
    const late = reserveLeafSlot()!;
    late.bytes.set(msg);
    const timeout = new Promise<string>((r) => setTimeout(() => r("timed out"), 5000));
    const got = await Promise.race([late.submit(msg.length, 1), timeout]);
    late.release();
    assert.deepEqual(got, nodeSha(msg), "an idle worker took the batch");
  } finally {
    setLeafThreads(undefined);
  }
});

test("two hashers through one pool at once: each gets its own leaves, in order", async () => {
  const a = Array.from({ length: 37 }, (_, i) => randomBytes(i === 36 ? 777 : 8192 + 32, rng(10 + i)));
  const b = Array.from({ length: 29 }, (_, i) => randomBytes(i === 28 ? 100 : 16384 + 32, rng(100 + i)));
  const wantA = await localLeaves(a);
  const wantB = await localLeaves(b);
  setLeafThreads(3);
  await warmLeafPool();
  try {
    const ha = new LeafHasher(64 << 20, { keep: true });
    const hb = new LeafHasher(64 << 20, { keep: true });
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < a.length) await ha.add(a[i]!);
      if (i < b.length) await hb.add(b[i]!);
    }
    const [gotA, gotB] = await Promise.all([ha.finish(), hb.finish()]);
    assert.deepEqual(gotA, wantA);
    assert.deepEqual(gotB, wantB);
    assert.equal(freeSlots(), 6, "every slot of both workers is free again");
  } finally {
    setLeafThreads(undefined);
  }
});

test("a hasher abandoned with batches on a worker frees its slots only after the worker is done; the next hasher's leaves are right", async () => {
  // Batches of 4 chunks of 256 KiB: a worker hashes each for ~2 ms, long enough for the next
  // hasher to gather into a slot freed too early and be handed the old batch's digests.
  const chunks = Array.from({ length: 16 }, (_, i) => randomBytes(256 * 1024 + 32, rng(300 + i)));
  const other = Array.from({ length: 4 }, (_, i) => randomBytes(256 * 1024 + 32, rng(400 + i)));
  const want = await localLeaves(chunks);
  setLeafThreads(2);
  await warmLeafPool();
  try {
    const allFree = async () => {
      const deadline = performance.now() + 5000;
      while (freeSlots() < 3 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(freeSlots(), 3, "the abandoned hasher's slots came back");
    };
    for (let round = 0; round < 8; round++) {
      // The last round's abandoned batch may still be on the worker (it takes READY slots round robin).
      await allFree();
      const dropped = new LeafHasher(64 << 20, { keep: true });
      // Not awaited: the last add seals a batch onto the worker, and it is abandoned at once.
      for (const c of other) dropped.add(c)?.catch(() => {});
      dropped.discard();
      // In the same tick nothing can have settled: the abandoned batch's slot must still be held.
      assert.equal(freeSlots(), 2, "a slot whose batch is still on the worker is not free");
      const h = new LeafHasher(64 << 20, { keep: true });
      for (const c of chunks) await h.add(c);
      assert.deepEqual(await h.finish(), want, `round ${round}`);
    }
    // Abandoned batches still on the worker release their slots once hashed.
    await allFree();
  } finally {
    setLeafThreads(undefined);
  }
});

test("the pool sizes to leafThreads: 1 thread has no slot, n threads have n − 1 workers' slots", async () => {
  try {
    setLeafThreads(1);
    assert.equal(reserveLeafSlot(true), undefined);
    setLeafThreads(3);
    await warmLeafPool();
    const held: PoolSlot[] = [];
    for (let s = reserveLeafSlot(); s; s = reserveLeafSlot()) held.push(s);
    assert.equal(held.length, 6, "two workers, three slots each");
    for (const s of held) s.release();
  } finally {
    setLeafThreads(undefined);
  }
});

test("a cold pool never holds up a call: below POOL_SPAWN_BYTES no worker starts; a larger call starts one and uses it once warm", async () => {
  try {
    setLeafThreads(1); // stops every worker
    setLeafThreads(2);
    const chunk = randomBytes(256 * 1024 + 32, rng(7));
    const small = new LeafHasher(12 << 20, {});
    for (let i = 0; i < 48; i++) await small.add(chunk);
    await small.finish();
    await new Promise((r) => setTimeout(r, 300)); // a worker started by it would be warm by now
    assert.equal(freeSlots(), 0, "a 12 MiB call started a worker");
    const large = new LeafHasher(POOL_SPAWN_BYTES, {});
    await large.add(chunk); // starts a worker, hashes here meanwhile
    await large.finish();
    await warmLeafPool();
    assert.equal(freeSlots(), 3, "the large call started one worker");
  } finally {
    setLeafThreads(undefined);
  }
});
