// The container format: round trips, every single-byte flip and every truncation of a small
// file is detected, clean files never report damage, and hostile headers are refused before
// anything is allocated by them.
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { CHUNK_DATA, HEADER_SIZE, KIND_MEMBER } from "../src/format/constants.ts";
import { scanContainer, type ScanResult } from "../src/format/reader.ts";
import { encodeContainer } from "../src/format/writer.ts";
import { FormatVersionError } from "../src/errors.ts";
import { crc32 } from "../src/hash.ts";
import { randomBytes, rng, test } from "./kit.ts";

async function scanBytes(bytes: Uint8Array): Promise<ScanResult> {
  const fs = new MemoryFs();
  const h = await fs.open("/f", { write: true, create: true });
  if (bytes.length > 0) await h.write(bytes, 0);
  const payload: Uint8Array[] = [];
  const r = await scanContainer(h, "/f", { onChunk: (p) => { payload.push(p.slice()); } });
  (r as ScanResult & { payload?: Uint8Array[] }).payload = payload;
  return r;
}

function encode(payload: Uint8Array, chunkSize = 64, meta: Record<string, string> = { name: "m" }) {
  return encodeContainer({ kind: KIND_MEMBER, meta, chunkSize, chunkType: CHUNK_DATA, createdAt: 1_700_000_000_000 }, payload).bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

test("round trip: empty, one byte, exact multiple and ragged chunk counts", async () => {
  const next = rng(10);
  for (const [n, chunk] of [[0, 64], [1, 64], [64, 64], [65, 64], [1000, 64], [70_000, 4096], [300_000, 512 * 1024]] as const) {
    const payload = randomBytes(n, next);
    const bytes = encode(payload, chunk);
    const r = await scanBytes(bytes) as ScanResult & { payload: Uint8Array[] };
    assert.deepEqual(r.damage, [], `size ${n}`);
    assert.equal(r.header!.payloadLength, n);
    assert.equal(r.header!.chunkCount, Math.ceil(n / chunk));
    assert.deepEqual(concat(r.payload), payload);
    assert.deepEqual(r.blockCrcs, r.payload.map((p) => crc32(p)));
    assert.deepEqual(r.meta, { name: "m" });
  }
});

test("every single-byte flip of a small container is detected (exhaustive)", async () => {
  const bytes = encode(randomBytes(300, rng(11)), 64, { name: "m", step: "7" });
  let detected = 0;
  for (let i = 0; i < bytes.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const bad = bytes.slice();
      bad[i]! ^= mask;
      const r = await scanBytes(bad);
      assert.ok(r.damage.length > 0, `flip 0x${mask.toString(16)} at byte ${i} of ${bytes.length} went undetected`);
      detected++;
    }
  }
  assert.equal(detected, bytes.length * 3);
});

test("every truncation length is detected", async () => {
  const bytes = encode(randomBytes(300, rng(12)), 64);
  for (let len = 0; len < bytes.length; len++) {
    const r = await scanBytes(bytes.subarray(0, len));
    assert.ok(r.damage.length > 0, `truncation to ${len} bytes went undetected`);
    assert.ok(["torn", "truncated"].includes(r.damage[0]!.kind), `truncation to ${len} reported as ${r.damage[0]!.kind}`);
  }
});

test("clean files of random sizes never report damage (no false positives)", async () => {
  const next = rng(13);
  for (let i = 0; i < 300; i++) {
    const r = await scanBytes(encode(randomBytes((next() * 5000) | 0, next), 1 + ((next() * 700) | 0)));
    assert.deepEqual(r.damage, []);
  }
});

test("damage is localized to the chunk that holds it", async () => {
  const bytes = encode(randomBytes(1000, rng(14)), 100);
  const r0 = await scanBytes(bytes);
  const chunk5 = HEADER_SIZE + (r0.header!.metaLength + 4) + 5 * (32 + 100) + 32 + 10;
  const bad = bytes.slice();
  bad[chunk5]! ^= 4;
  const r = await scanBytes(bad);
  assert.equal(r.damage.length, 1);
  assert.equal(r.damage[0]!.kind, "crc-mismatch");
  assert.equal(r.damage[0]!.block, 5);
});

test("a newer format version is rejected with a clear error", async () => {
  const bytes = encode(new Uint8Array(10));
  bytes[8] = 2; // version field
  // Re-seal the header CRC so only the version differs.
  new DataView(bytes.buffer).setUint32(60, crc32(bytes.subarray(0, 60)), true);
  await assert.rejects(scanBytes(bytes), (e: unknown) => e instanceof FormatVersionError && /version 2/.test((e as Error).message));
});

test("absurd lengths in a re-sealed header are refused, not allocated", async () => {
  const base = encode(new Uint8Array(10));
  for (const [off, value] of [[32, 2n ** 60n], [40, 2n ** 40n], [48, 2n ** 63n], [20, 0xffffffffn], [16, 0n]] as const) {
    const bad = base.slice();
    const dv = new DataView(bad.buffer);
    if (off === 20 || off === 16) dv.setUint32(off, Number(value), true);
    else dv.setBigUint64(off, value, true);
    dv.setUint32(60, crc32(bad.subarray(0, 60)), true);
    const r = await scanBytes(bad);
    assert.equal(r.damage[0]?.kind, "bad-header", `field @${off} = ${value}`);
  }
});

test("wrong magic, empty and tiny files are malformed, not crashes", async () => {
  assert.equal((await scanBytes(new Uint8Array(0))).damage[0]!.kind, "torn");
  assert.equal((await scanBytes(new TextEncoder().encode("hello world, not a checkpoint at all; long enough to have a header..."))).damage[0]!.kind, "bad-header");
  assert.equal((await scanBytes(new TextEncoder().encode("CKPT"))).damage[0]!.kind, "truncated");
  assert.equal((await scanBytes(new Uint8Array(64))).damage[0]!.kind, "bad-header");
});
