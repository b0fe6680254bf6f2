// store.open(name, { step }) streams one member verified chunk by chunk: a clean member gives
// every byte; a damaged chunk k (payload, chunk header, or a block that differs from the
// manifest's CRC) delivers at most the bytes before chunk k, then errors; under v2 a tree root or
// leaf list that does not vouch for the leaves errors before any chunk, under v1 a digest that
// differs errors at the end. Also log.records() and Symbol.asyncDispose on Store and Log.
import assert from "node:assert/strict";
import type { MemoryFs } from "../adapters/memory.ts";
import { CorruptionError, NoCheckpointError } from "../src/errors.ts";
import {
  CHUNK_HEADER_SIZE,
  HEADER_SIZE,
  LEAVES_CRC_SIZE,
  META_CRC_SIZE,
  TRAILER_SIZE,
} from "../src/format/constants.ts";
import { setWriteFormatVersion } from "../src/format/write-version.ts";
import { crc32 } from "../src/hash.ts";
import { memberName } from "../src/store/layout.ts";
import { openStore } from "../src/store/store.ts";
import { openLog } from "../src/wal/log.ts";
import { randomBytes, rng, test } from "./kit.ts";
import { flipInMemory } from "./lib/damage.ts";
import { freshStoreFs, memStore } from "./lib/store-helpers.ts";

const CHUNK = 1024;
const SIZE = 10 * CHUNK + 333; // 11 chunks, the last one short

/** Reads the stream to its end or its error: the bytes delivered, and the error if any. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ bytes: Uint8Array; error?: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  let error: unknown;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value);
    }
  } catch (err) {
    error = err;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, error };
}

const flip = (fs: MemoryFs, path: string, offset: number) => flipInMemory(fs, path, offset, 0x01);

/** Where chunk k of a member file starts (the member's metadata length read from its header). */
function chunkOffset(file: Uint8Array, k: number): number {
  const metaLen = new DataView(file.buffer, file.byteOffset).getUint32(20, true);
  return HEADER_SIZE + metaLen + META_CRC_SIZE + k * (CHUNK_HEADER_SIZE + CHUNK);
}

async function setup() {
  const fs = await freshStoreFs();
  const s = await memStore(fs, "atomic_dirsync", CHUNK);
  const data = randomBytes(SIZE, rng(7));
  await s.save([{ name: "other", data: new Uint8Array(5) }, { name: "dir/weights.bin", data }]);
  return { fs, s, data, path: `/store/${memberName(1, 1)}` };
}

test("a clean member streams every byte, from the newest valid checkpoint by default", async () => {
  const { s, data } = await setup();
  const r = await drain(s.open("dir/weights.bin"));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.bytes, data);
  assert.deepEqual((await drain(s.open("dir/weights.bin", { step: 1 }))).bytes, data);
  await s.close();
});

test("a flipped payload byte in chunk k delivers at most the bytes before chunk k, then errors", async () => {
  const { fs, s, data, path } = await setup();
  const clean = fs.peek(path)!.slice();
  for (const k of [0, 1, 5, 10]) {
    for (const at of [0, 17, Math.min(CHUNK, SIZE - k * CHUNK) - 1]) {
      flip(fs, path, chunkOffset(clean, k) + CHUNK_HEADER_SIZE + at);
      const r = await drain(s.open("dir/weights.bin", { step: 1 }));
      assert.ok(r.error instanceof CorruptionError, `chunk ${k} byte ${at}: ${String(r.error)}`);
      assert.ok(r.bytes.length <= k * CHUNK, `chunk ${k}: ${r.bytes.length} bytes delivered`);
      assert.deepEqual(r.bytes, data.subarray(0, r.bytes.length), "what was delivered is the saved prefix");
      fs.poke(path, clean);
    }
  }
  await s.close();
});

test("a damaged chunk header errors before the chunk; the newest valid checkpoint skips the damage", async () => {
  const { fs, s, path } = await setup();
  const clean = fs.peek(path)!.slice();
  for (const k of [0, 3]) {
    for (const at of [0, 8, 16, 20, 31]) {
      flip(fs, path, chunkOffset(clean, k) + at);
      const r = await drain(s.open("dir/weights.bin", { step: 1 }));
      assert.ok(r.error instanceof CorruptionError, `chunk ${k} header byte ${at}`);
      assert.ok(r.bytes.length <= k * CHUNK);
      fs.poke(path, clean);
    }
  }
  // Without a step the member is read once, while it streams (issue 14): damage found before its
  // first chunk goes out means the checkpoint is not valid (here the only one: none is) ...
  flip(fs, path, chunkOffset(clean, 0) + 40);
  let r = await drain(s.open("dir/weights.bin"));
  assert.ok(r.error instanceof NoCheckpointError, "the only checkpoint is damaged: none is valid");
  assert.equal(r.bytes.length, 0);
  fs.poke(path, clean);
  // ... and damage found later ends the stream after the saved prefix, never inside a bad chunk.
  flip(fs, path, chunkOffset(clean, 2) + 40);
  r = await drain(s.open("dir/weights.bin"));
  assert.ok(r.error instanceof CorruptionError, String(r.error));
  assert.ok(r.bytes.length <= 2 * CHUNK);
  await s.close();
});

test("a member file whose chunks verify by themselves but differ from the manifest's CRCs delivers nothing", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs, "atomic_dirsync", CHUNK);
  const a = randomBytes(SIZE, rng(1));
  const b = randomBytes(SIZE, rng(2));
  await s.save([{ name: "m", data: a }]);
  await s.save([{ name: "m", data: b }]);
  // Step 2's member replaced by step 1's: a well-formed container, every chunk CRC intact.
  fs.poke(`/store/${memberName(2, 0)}`, fs.peek(`/store/${memberName(1, 0)}`)!.slice());
  const r = await drain(s.open("m", { step: 2 }));
  assert.ok(r.error instanceof CorruptionError);
  assert.equal(r.bytes.length, 0);
  await s.close();
});

test("v2: a damaged tree root or leaf list errors before the first chunk; other trailer damage errors at the end", async () => {
  const { fs, s, data, path } = await setup();
  const clean = fs.peek(path)!.slice();
  const n = 11;
  const listAt = clean.length - TRAILER_SIZE - LEAVES_CRC_SIZE - 32 * n;
  // The root (trailer bytes 16..47): no leaf is vouched for, so no chunk is delivered.
  flip(fs, path, clean.length - TRAILER_SIZE + 20);
  let r = await drain(s.open("dir/weights.bin", { step: 1 }));
  assert.ok(r.error instanceof CorruptionError);
  assert.equal(r.bytes.length, 0);
  fs.poke(path, clean);
  // Leaf 4 changed and the list's CRC re-sealed: the CRCs pass, the root over the list does not.
  const d = clean.slice();
  d[listAt + 32 * 4 + 3]! ^= 1;
  new DataView(d.buffer).setUint32(listAt + 32 * n, crc32(d.subarray(listAt, listAt + 32 * n)), true);
  fs.poke(path, d);
  r = await drain(s.open("dir/weights.bin", { step: 1 }));
  assert.ok(r.error instanceof CorruptionError);
  assert.equal(r.bytes.length, 0);
  fs.poke(path, clean);
  // The trailer's magic: the root still vouches for every leaf, so every chunk is delivered,
  // and the trailer's damage errors the stream at its end.
  flip(fs, path, clean.length - TRAILER_SIZE + 2);
  r = await drain(s.open("dir/weights.bin", { step: 1 }));
  assert.ok(r.error instanceof CorruptionError);
  assert.deepEqual(r.bytes, data);
  await s.close();
});

test("v1 (CKPTKIT_FORMAT_VERSION=1): a damaged trailer (SHA-256) errors at the end, after every chunk checked out", async () => {
  setWriteFormatVersion(1);
  try {
    const { fs, s, data, path } = await setup();
    assert.equal(new DataView(fs.peek(path)!.buffer).getUint16(8, true), 1, "a v1 member file");
    flip(fs, path, fs.peek(path)!.length - TRAILER_SIZE + 20);
    const r = await drain(s.open("dir/weights.bin", { step: 1 }));
    assert.ok(r.error instanceof CorruptionError);
    assert.deepEqual(r.bytes, data);
    await s.close();
  } finally {
    setWriteFormatVersion(undefined);
  }
});

test("open: a missing member or step is NoCheckpointError; cancel stops the read", async () => {
  const { s, data } = await setup();
  assert.ok((await drain(s.open("nope"))).error instanceof NoCheckpointError);
  assert.ok((await drain(s.open("other", { step: 9 }))).error instanceof NoCheckpointError);
  const reader = s.open("dir/weights.bin").getReader();
  const first = await reader.read();
  assert.deepEqual(first.value, data.subarray(0, CHUNK));
  await reader.cancel();
  assert.equal(
    (await s.save([{ name: "x", data: new Uint8Array(3) }])).step,
    2,
    "the store goes on after a cancelled read",
  );
  await s.close();
});

test("log.records() yields what replay passes to its callback, and stops early on break", async () => {
  const fs = await freshStoreFs();
  const log = await openLog("/log", { fs });
  const enc = new TextEncoder();
  for (let i = 0; i < 20; i++) await log.append(enc.encode(`record ${i}`));
  const seen: string[] = [];
  for await (const r of log.records()) seen.push(new TextDecoder().decode(r.payload));
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => `record ${i}`));
  const firstFive: number[] = [];
  for await (const r of log.records()) {
    firstFive.push(r.sequence);
    if (firstFive.length === 5) break;
  }
  assert.equal(firstFive.length, 5);
  await log[Symbol.asyncDispose]();
  // Disposed: the lock is free for the next writer.
  const again = await openLog("/log", { fs });
  assert.equal((await again.append(enc.encode("after"))) > 20, true);
  await again.close();
});

test("Store[Symbol.asyncDispose] closes the store (its writer lock is released)", async () => {
  const fs = await freshStoreFs();
  const s = await openStore("/store", { fs });
  await s[Symbol.asyncDispose]();
  const t = await openStore("/store", { fs }); // would be refused as a second live writer otherwise
  await t.close();
});

test("open: an abort errors the stream with an AbortError", async () => {
  const { s, data } = await setup();
  const ac = new AbortController();
  const reader = s.open("dir/weights.bin", { step: 1, signal: ac.signal }).getReader();
  assert.deepEqual((await reader.read()).value, data.subarray(0, CHUNK));
  ac.abort();
  await assert.rejects(reader.read(), (e: Error) => e.name === "AbortError");
  assert.equal((await s.save([{ name: "x", data: new Uint8Array(1) }])).step, 2, "the store goes on");
  await s.close();
});
