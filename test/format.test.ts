// The container format: round trips, every single-byte flip and every truncation of a small
// file is detected, clean files never report damage, hostile headers are refused before
// anything is allocated by them, older and newer versions are refused as such, and u64 sizes above
// 4 GiB cross the WASM boundary exactly (header, trailer, chunk index; sparse and fake files).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { MemoryFs } from "../adapters/memory.ts";
import { defaultFs } from "../adapters/detect.ts";
import {
  CHUNK_DATA,
  CHUNK_HEADER_SIZE,
  HEADER_SIZE,
  KIND_MEMBER,
  STATUS,
  TRAILER_SIZE,
} from "../src/format/constants.ts";
import { type ChunkInfo, type ContainerHeader, scanContainer, type ScanResult } from "../src/format/reader.ts";
import { ContainerWriter, encodeContainer } from "../src/format/writer.ts";
import { FormatVersionError } from "../src/errors.ts";
import type { FileHandle } from "../src/fs.ts";
import { crc32 } from "../src/hash.ts";
import { decodeMetadata, encodeMetadata } from "../src/format/metadata.ts";
import { type Kernel, loadKernel } from "../src/wasm/kernel.ts";
import { randomBytes, rng, runtime, test } from "./kit.ts";
import { flipped } from "./lib/damage.ts";

async function scanBytes(bytes: Uint8Array): Promise<ScanResult> {
  const fs = new MemoryFs();
  const h = await fs.open("/f", { write: true, create: true });
  if (bytes.length > 0) await h.write(bytes, 0);
  const payload: Uint8Array[] = [];
  const r = await scanContainer(h, "/f", {
    onChunk: (p) => {
      payload.push(p.slice());
    },
  });
  (r as ScanResult & { payload?: Uint8Array[] }).payload = payload;
  return r;
}

function encode(payload: Uint8Array, chunkSize = 64, meta: Record<string, string> = { name: "m" }) {
  return encodeContainer(
    { kind: KIND_MEMBER, meta, chunkSize, chunkType: CHUNK_DATA, createdAt: 1_700_000_000_000 },
    payload,
  ).bytes;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test("round trip: empty, one byte, exact multiple and ragged chunk counts", async () => {
  const next = rng(10);
  for (
    const [n, chunk] of [[0, 64], [1, 64], [64, 64], [65, 64], [1000, 64], [70_000, 4096], [
      300_000,
      512 * 1024,
    ]] as const
  ) {
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
      const r = await scanBytes(flipped(bytes, i, mask));
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
    assert.ok(
      ["torn", "truncated"].includes(r.damage[0]!.kind),
      `truncation to ${len} reported as ${r.damage[0]!.kind}`,
    );
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
  const r = await scanBytes(flipped(bytes, chunk5, 4));
  assert.equal(r.damage.length, 1);
  assert.equal(r.damage[0]!.kind, "crc-mismatch");
  assert.equal(r.damage[0]!.block, 5);
});

test("an older (0) or newer (3, 65535) format version is rejected with FormatVersionError / EVERSION", async () => {
  for (const version of [0, 3, 0xffff]) {
    const bytes = encode(new Uint8Array(10));
    new DataView(bytes.buffer).setUint16(8, version, true);
    // Re-seal the header CRC so only the version differs: refused as another version, not as damage.
    new DataView(bytes.buffer).setUint32(60, crc32(bytes.subarray(0, 60)), true);
    await assert.rejects(scanBytes(bytes), (e: unknown) => {
      assert.ok(e instanceof FormatVersionError, `version ${version}: ${e}`);
      assert.equal(e.code, "EVERSION");
      assert.match(
        e.message,
        new RegExp(`format version ${version} is not supported \\(this reader handles versions 1 to 2\\)`),
      );
      return true;
    });
  }
  // Without the re-seal the same field is damage (header CRC), found before the version is read.
  const torn = encode(new Uint8Array(10));
  torn[8] = 0;
  assert.equal((await scanBytes(torn)).damage[0]?.kind, "bad-header");
});

test("absurd lengths in a re-sealed header are refused, not allocated", async () => {
  const base = encode(new Uint8Array(10));
  for (
    const [off, value] of [[32, 2n ** 60n], [40, 2n ** 40n], [48, 2n ** 63n], [20, 0xffffffffn], [16, 0n]] as const
  ) {
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
  assert.equal(
    (await scanBytes(new TextEncoder().encode("hello world, not a checkpoint at all; long enough to have a header...")))
      .damage[0]!.kind,
    "bad-header",
  );
  assert.equal((await scanBytes(new TextEncoder().encode("CKPT"))).damage[0]!.kind, "truncated");
  assert.equal((await scanBytes(new Uint8Array(64))).damage[0]!.kind, "bad-header");
});

// ---- Sizes above 4 GiB ------------------------------------------------------------------------
// u64 sizes cross into the WASM kernel as f64 and come back through DataView/BigInt. None of this
// hashes gigabytes: headers and trailers are encoded for the claimed sizes, and the files that
// claim them are sparse or fake (a handle that serves the head and zeros, allocating nothing).

const GiB4 = 2 ** 32;

/** A read-only FileHandle of a claimed size: `prefix` at offset 0, zeros after it up to `present` bytes. */
class FakeHandle implements FileHandle {
  /** Largest buffer (the whole ArrayBuffer behind a read's view) the reader handed us. */
  maxBuffer = 0;
  served = 0;
  constructor(
    readonly path: string,
    private readonly claimed: number,
    private readonly prefix: Uint8Array,
    private readonly present = claimed,
  ) {}
  async read(buf: Uint8Array, position: number): Promise<number> {
    this.maxBuffer = Math.max(this.maxBuffer, buf.buffer.byteLength);
    const end = Math.min(this.present, position + buf.length);
    if (position >= end) return 0;
    buf.fill(0, 0, end - position);
    if (position < this.prefix.length) buf.set(this.prefix.subarray(position, Math.min(this.prefix.length, end)), 0);
    this.served += end - position;
    return end - position;
  }
  async size(): Promise<number> {
    return this.claimed;
  }
  async write(): Promise<void> {
    throw new Error("read-only fake");
  }
  async sync(): Promise<void> {}
  async datasync(): Promise<void> {}
  async truncate(): Promise<void> {
    throw new Error("read-only fake");
  }
  async close(): Promise<void> {}
}

/** The first bytes of a container claiming `payload` bytes (header, metadata, metadata CRC), and its expected sizes in BigInt arithmetic. */
function bigHead(payload: number, chunkSize: number) {
  const w = new ContainerWriter({
    kind: KIND_MEMBER,
    meta: { name: "big" },
    payloadLength: payload,
    chunkSize,
    chunkType: CHUNK_DATA,
    createdAt: 1_700_000_000_000,
  });
  const head = w.head();
  const dv = new DataView(head.buffer, head.byteOffset, HEADER_SIZE);
  const metaLen = dv.getUint32(20, true);
  const P = BigInt(payload);
  const C = BigInt(chunkSize);
  const count = (P + C - 1n) / C;
  const total = 64n + BigInt(metaLen) + 4n + 32n * count + P + 32n * count + 4n + 48n; // v2: + leaf list
  return { w, head, dv, metaLen, count, total };
}

/** Every kernel build this engine runs (the library uses one; all encode the same bytes). */
function kernels(): Kernel[] {
  const out = (["scalar", "simd"] as const).map((v) => loadKernel(v)).filter((k): k is Kernel => k !== undefined);
  assert.ok(out.some((k) => k.variant === "scalar"), "the scalar kernel runs everywhere");
  return out;
}

const STOP = "stop: header seen";

test("> 4 GiB: payload, chunk count and total size just above 2^32 and 2^33 round-trip exactly through the header", async () => {
  const cases: [payload: number, chunk: number][] = [
    [GiB4 + 1, 512 * 1024],
    [GiB4 + 12_345, 65_536],
    [2 * GiB4 + 3, 512 * 1024],
    [2 * GiB4 + 2 ** 31 + 7, 4097],
    [GiB4 + 5, 1], // a chunk count above 2^32 too (one-byte chunks are legal)
    [2 * GiB4 + 1, 1],
    [2 ** 52, 512 * 1024], // the largest payload a header may claim
  ];
  for (const [payload, chunk] of cases) {
    const what = `payload ${payload}, chunk ${chunk}`;
    const { w, head, dv, metaLen, count, total } = bigHead(payload, chunk);
    assert.equal(w.chunkCount, Number(count), what);
    assert.equal(w.totalSize, Number(total), what);
    assert.equal(dv.getBigUint64(32, true), BigInt(payload), `${what}: payload length field`);
    assert.equal(dv.getBigUint64(40, true), count, `${what}: chunk count field`);
    assert.equal(dv.getBigUint64(48, true), total, `${what}: total size field`);
    assert.equal(dv.getUint32(60, true), crc32(head.subarray(0, 60)), `${what}: header CRC`);

    // The reader: the kernel accepts the size identity against a file of exactly that size
    // (onHeader runs only after checkHeader returned OK) and the parsed fields are exact.
    const exact = new FakeHandle("/big", Number(total), head);
    let seen: ContainerHeader | undefined;
    const r = await scanContainer(exact, "/big", {
      onHeader: (h) => {
        seen = h;
        return STOP;
      },
    });
    assert.deepEqual(seen, {
      version: 2,
      kind: KIND_MEMBER,
      chunkSize: chunk,
      metaLength: metaLen,
      createdAt: 1_700_000_000_000,
      payloadLength: payload,
      chunkCount: Number(count),
      totalSize: Number(total),
    }, what);
    assert.deepEqual(r.damage, [{ kind: "bad-header", offset: 0, length: HEADER_SIZE, message: STOP }], what);
    assert.equal(exact.maxBuffer, HEADER_SIZE, `${what}: only the header was read`);

    // Off by one byte, or by exactly 2^32 (what a u32 truncation would not see): typed, at once.
    for (const delta of [-1, 1, -GiB4, GiB4]) {
      const size = Number(total) + delta;
      if (size < head.length) continue;
      const h = new FakeHandle("/big", size, head);
      const d = await scanContainer(h, "/big");
      assert.equal(d.fileSize, size);
      assert.equal(d.header?.totalSize, Number(total), `${what} ${delta}`);
      assert.deepEqual(
        { kind: d.damage[0]?.kind, offset: d.damage[0]?.offset, length: d.damage[0]?.length, n: d.damage.length },
        {
          kind: delta < 0 ? "truncated" : "bad-header",
          offset: Math.min(size, Number(total)),
          length: Math.abs(delta),
          n: 1,
        },
        `${what}, file ${delta > 0 ? "+" : ""}${delta} bytes`,
      );
      assert.equal(h.maxBuffer, HEADER_SIZE, `${what} ${delta}: nothing allocated past the header`);
    }
  }
});

test("> 4 GiB: the trailer's total size above 2^32 and 2^33 is written and checked exactly (every kernel build)", () => {
  for (const k of kernels()) {
    const shaPtr = k.scratchPtr + 256;
    const sha = randomBytes(32, rng(40));
    for (const total of [GiB4 + 1, GiB4 + 229, 2 * GiB4 + 3, 2 * GiB4 + 2 ** 31 + 7, 2 ** 53 - 1]) {
      const what = `${k.variant}: total ${total}`;
      k.mem.set(sha, shaPtr);
      k.exports.writeTrailer(k.ioPtr, total, shaPtr);
      const t = k.io.slice(0, TRAILER_SIZE);
      const dv = new DataView(t.buffer);
      assert.equal(new TextDecoder().decode(t.subarray(0, 8)), "CKPTEND\0", what);
      assert.equal(dv.getBigUint64(8, true), BigInt(total), what);
      assert.deepEqual(t.subarray(16), sha, what);
      assert.equal(k.exports.checkTrailer(k.ioPtr, total, shaPtr), STATUS.OK, what);
      for (const wrong of [total - 1, total + 1, total - GiB4, total + GiB4, total % GiB4]) {
        assert.equal(
          k.exports.checkTrailer(k.ioPtr, wrong, shaPtr),
          STATUS.BAD_TRAILER,
          `${what} checked against ${wrong}`,
        );
      }
    }
  }
});

test("> 4 GiB: chunk indexes above 2^32 (one-byte chunks) are encoded and checked exactly (every kernel build)", () => {
  const payload = new TextEncoder().encode("hello");
  // Computed up front: crc32() works in the library kernel's I/O window, which is one of these.
  const expectedCrc = crc32(payload);
  for (const k of kernels()) {
    for (const index of [GiB4, GiB4 + 5, 2 * GiB4 + 1, 2 ** 52 + 3]) {
      const what = `${k.variant}: chunk ${index}`;
      k.io.set(payload, CHUNK_HEADER_SIZE);
      const crc = k.exports.encodeChunk(k.ioPtr, CHUNK_DATA, index, payload.length) >>> 0;
      assert.equal(crc, expectedCrc, what);
      assert.equal(new DataView(k.io.buffer, k.io.byteOffset).getBigUint64(8, true), BigInt(index), what);
      assert.equal(k.exports.scanChunk(k.ioPtr, index, payload.length), STATUS.OK, what);
      for (const wrong of [index - 1, index + 1, index - GiB4, index % GiB4]) {
        assert.equal(
          k.exports.scanChunk(k.ioPtr, wrong, payload.length),
          STATUS.BAD_CHUNK_INDEX,
          `${what} checked as ${wrong}`,
        );
      }
    }
  }
});

test("> 4 GiB: a sparse file claiming 4 GiB + 4 KiB fails typed at once through the runtime's own adapter, reading one chunk at most", async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-sparse-${runtime}-`);
  const fs = defaultFs();
  try {
    const chunk = 512 * 1024;
    const { head, metaLen, total } = bigHead(GiB4 + 4099, chunk);
    const T = Number(total);
    const path = `${dir}/big`;
    const w = await fs.open(path, { write: true, create: true, exclusive: true });
    await w.write(head, 0);
    await w.truncate(T - 1); // extends with a hole: nothing is written or allocated
    await w.close();
    assert.ok(statSync(path).blocks * 512 < 16 << 20, "the file is sparse");

    // One byte short: truncated, with the exact > 4 GiB offset, after reading only the header.
    let h = await fs.open(path);
    let probe = recorder(h);
    const t0 = Date.now();
    const r = await scanContainer(probe, path);
    await h.close();
    assert.equal(r.fileSize, T - 1, "the adapter reports a size above 2^32 exactly");
    assert.deepEqual(r.damage.map((d) => [d.kind, d.offset, d.length]), [["truncated", T - 1, 1]]);
    assert.equal(probe.maxBuffer(), HEADER_SIZE);

    // Exact size: the header is accepted, and the first chunk (a hole, all zeros) is damage,
    // found with one chunk-sized buffer. The scan would go on to report every other block (by
    // design), hashing 4 GiB; the test stops it at the first.
    const f = await fs.open(path, { write: true });
    await f.truncate(T);
    await f.close();
    h = await fs.open(path);
    probe = recorder(h);
    const chunks: ChunkInfo[] = [];
    let header: ContainerHeader | undefined;
    await assert.rejects(
      scanContainer(probe, path, {
        onHeader: (hd) => {
          header = hd;
          return undefined;
        },
        onChunk: (_p, info) => {
          chunks.push(info);
          throw new Error("enough");
        },
      }),
      /enough/,
    );
    await h.close();
    assert.equal(header?.totalSize, T);
    assert.equal(header?.chunkCount, Math.ceil((GiB4 + 4099) / chunk));
    assert.deepEqual(chunks.map((c) => ({ index: c.index, offset: c.offset, length: c.length, ok: c.ok })), [{
      index: 0,
      offset: HEADER_SIZE + metaLen + 4,
      length: CHUNK_HEADER_SIZE + chunk,
      ok: false,
    }]);
    assert.ok(probe.maxBuffer() <= CHUNK_HEADER_SIZE + chunk, `largest buffer ${probe.maxBuffer()}`);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Wraps a real handle, recording the largest buffer handed to read(). */
function recorder(h: FileHandle): FileHandle & { maxBuffer(): number } {
  let max = 0;
  return {
    path: h.path,
    read: (buf, pos) => {
      max = Math.max(max, buf.buffer.byteLength);
      return h.read(buf, pos);
    },
    write: (d, p) => h.write(d, p),
    sync: () => h.sync(),
    datasync: () => h.datasync(),
    truncate: (n) => h.truncate(n),
    size: () => h.size(),
    close: () => h.close(),
    maxBuffer: () => max,
  };
}

test("> 4 GiB: a handle whose size claims 8 GiB but holds only the header is truncated at once, not scanned for 8 GiB", async () => {
  const { head, total } = bigHead(2 * GiB4 + 77, 512 * 1024);
  const T = Number(total);
  for (const present of [head.length, head.length + 10, head.length + 32 + 1000]) {
    const h = new FakeHandle("/short", T, head, present);
    const t0 = Date.now();
    const r = await scanContainer(h, "/short");
    const ms = Date.now() - t0;
    assert.equal(r.damage.length, 1, `${present} bytes present: ${JSON.stringify(r.damage.slice(0, 3))}`);
    assert.deepEqual([r.damage[0]!.kind, r.damage[0]!.offset, r.damage[0]!.length], [
      "truncated",
      present,
      T - present,
    ]);
    assert.ok(ms < 2000, `${ms} ms`);
    assert.ok(h.served <= present && h.maxBuffer <= CHUNK_HEADER_SIZE + 512 * 1024);
  }
});

test("> 4 GiB: a handle claiming 8 GiB of zeros after a re-sealed header with 16 MiB chunks: damage in the first chunk, one chunk allocated", async () => {
  const { head } = bigHead(2 * GiB4 + 77, 512 * 1024);
  // Re-seal the header for the reader's largest chunk size (writers stop at 512 KiB).
  const chunk = 16 << 20;
  const dv = new DataView(head.buffer, head.byteOffset, HEADER_SIZE);
  const payload = 2 * GiB4 + 77;
  const count = Math.ceil(payload / chunk);
  const total = HEADER_SIZE + dv.getUint32(20, true) + 4 + 32 * count + payload + 32 * count + 4 + TRAILER_SIZE; // v2: + leaf list
  dv.setUint32(16, chunk, true);
  dv.setBigUint64(40, BigInt(count), true);
  dv.setBigUint64(48, BigInt(total), true);
  dv.setUint32(60, crc32(head.subarray(0, 60)), true);
  const h = new FakeHandle("/zeros", total, head);
  const chunks: ChunkInfo[] = [];
  await assert.rejects(
    scanContainer(h, "/zeros", {
      onChunk: (_p, info) => {
        chunks.push(info);
        throw new Error("enough");
      },
    }),
    /enough/,
  );
  assert.deepEqual(chunks.map((c) => [c.index, c.ok, c.length]), [[0, false, CHUNK_HEADER_SIZE + chunk]]);
  assert.ok(h.maxBuffer <= CHUNK_HEADER_SIZE + chunk, `largest buffer ${h.maxBuffer}`);
  // The same claim behind a damaged header CRC is refused after reading 64 bytes.
  const bad = new FakeHandle("/zeros", total, flipped(head, 50, 1));
  const r = await scanContainer(bad, "/zeros");
  assert.deepEqual(r.damage.map((d) => d.kind), ["bad-header"]);
  assert.equal(bad.maxBuffer, HEADER_SIZE);
});

test("metadata encodes every string exactly as TextEncoder does (sized first, encoded in place): ASCII, 2-, 3- and 4-byte characters, lone surrogates", () => {
  const te = new TextEncoder();
  const texts = ["", "ckptkit.step", "é", "€uro", "😀x", "a\ud800b", "\udc00", "x\ud83d", "日本語".repeat(50)];
  const meta: Record<string, string> = {};
  texts.forEach((t, i) => {
    meta[`k${i}${t}`] = t;
  });
  // The reference: each key and value encoded separately, laid out as docs/FORMAT.md says.
  const parts: number[] = [...new Uint8Array(new Uint32Array([texts.length]).buffer)];
  for (const [k, v] of Object.entries(meta)) {
    const kb = te.encode(k), vb = te.encode(v);
    parts.push(kb.length & 0xff, kb.length >> 8, ...kb, ...new Uint8Array(new Uint32Array([vb.length]).buffer), ...vb);
  }
  const bytes = encodeMetadata(meta);
  assert.deepEqual([...bytes], parts);
  const back = decodeMetadata(bytes, "m", 0);
  assert.deepEqual(Object.keys(back).length, texts.length);
});
