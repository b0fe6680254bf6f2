// Member sources: bytes, Blob, ReadableStream, AsyncIterable and a file all save byte for byte;
// streams of unknown length (below and above the spool size, ending on a chunk boundary or
// not) produce members that verify; a source that fails mid-way leaves no file behind and the
// previous checkpoint latest; a stream is pulled only as fast as it is written.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MemoryFs } from "../adapters/memory.ts";
import { tracingFs } from "../adapters/tracing.ts";
import { UsageError } from "../src/errors.ts";
import {
  CHUNK_HEADER_SIZE,
  HEADER_SIZE,
  LEAVES_CRC_SIZE,
  META_CRC_SIZE,
  TRAILER_SIZE,
} from "../src/format/constants.ts";
import { setWriteFormatVersion } from "../src/format/write-version.ts";
import { memberName } from "../src/store/layout.ts";
import { SPOOL_BYTES } from "../src/store/unsized-member.ts";
import { openStore } from "../src/store/store.ts";
import { randomBytes, rng, test } from "./kit.ts";
import { freshStoreFs, memStore } from "./lib/store-helpers.ts";

const CHUNK = 4096;
const nodeSha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

const NOISE = randomBytes(65_537, rng(15));
/** n bytes that differ at every offset within a member and between sizes (cheap: no RNG per byte). */
function bytes(n: number, seed = n): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = NOISE[(i + seed) % NOISE.length]! ^ (i >>> 16);
  return out;
}

/** A ReadableStream of `data` in pieces of `piece` bytes, pulled on demand (highWaterMark 0). */
function streamOf(data: Uint8Array, piece: number, onPull?: (pulledBytes: number) => void): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= data.length) {
        c.close();
        return;
      }
      const p = data.slice(off, off + piece);
      off += p.length;
      onPull?.(off);
      c.enqueue(p);
    },
  }, { highWaterMark: 0 });
}

async function* iterableOf(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let off = 0;
  for (let i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.slice(off, off + n);
    off += n;
  }
}

const sizes = [
  0,
  1,
  CHUNK - 1,
  CHUNK,
  3 * CHUNK + 5,
  SPOOL_BYTES - 1,
  SPOOL_BYTES,
  SPOOL_BYTES + 1,
  3 * SPOOL_BYTES + 17,
];

test("every source kind saves byte for byte and verifies, at sizes around the chunk and spool boundaries", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs, "atomic_dirsync", CHUNK);
  for (const n of sizes) {
    const data = bytes(n);
    const h = await fs.open("/src.bin", { write: true, create: true, truncate: true });
    await h.write(data, 0);
    await h.close();
    const r = await s.save([
      { name: "bytes", data },
      { name: "blob", data: new Blob([data as Uint8Array<ArrayBuffer>]) },
      { name: "stream", data: streamOf(data, 1000) },
      { name: "iter/odd", data: iterableOf(data, [1, 7000, 333]) },
      { name: "file", path: "/src.bin" },
    ]);
    assert.equal(r.bytes, 5 * n, `size ${n}`);
    const v = await s.check(r.step);
    assert.equal(v.status, "valid", `size ${n}: ${JSON.stringify(v.findings[0])}`);
    const l = await s.load(r.step);
    for (const name of ["bytes", "blob", "stream", "iter/odd", "file"]) {
      assert.deepEqual(l.members.get(name), data, `size ${n}, member ${name}`);
    }
  }
  await s.close();
});

test("a source that throws mid-way rejects the save with its error, leaves no file, and latest is unchanged", async () => {
  for (const at of [100, SPOOL_BYTES + 5000]) {
    const fs = await freshStoreFs();
    const s = await memStore(fs, "atomic_dirsync", CHUNK);
    await s.save([{ name: "a", data: bytes(10) }]);
    const before = (await fs.readdir("/store")).sort();
    const boom = new Error("source broke");
    async function* failing() {
      yield bytes(at);
      throw boom;
    }
    await assert.rejects(
      s.save([{ name: "ok", data: bytes(5000) }, { name: "bad", data: failing() }]),
      (e) => e === boom,
    );
    await assert.rejects(
      s.save([{
        name: "bad",
        data: new ReadableStream({
          pull(c) {
            c.enqueue(bytes(at));
            c.error(boom);
          },
        }),
      }]),
      (e) => e === boom,
    );
    assert.deepEqual((await fs.readdir("/store")).sort(), before, `failure after ${at} bytes`);
    assert.equal((await s.latest())!.step, 1);
    // The store goes on: the next save succeeds.
    assert.equal((await s.save([{ name: "a", data: streamOf(bytes(at), 999) }])).bytes, at);
    await s.close();
  }
});

test("a stream is pulled only as fast as it is written (back-pressure), and cancelled if the save fails", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs, "atomic_dirsync", CHUNK);
  const n = 4 * SPOOL_BYTES;
  let written = 0;
  let maxLead = 0;
  await s.save([{
    name: "big",
    data: streamOf(bytes(n), 3000, (pulled) => {
      maxLead = Math.max(maxLead, pulled - written);
    }),
  }], {
    onProgress: (done) => {
      written = done;
    },
  });
  assert.equal(written, n);
  // The spool holds up to SPOOL_BYTES before the first write; after that, at most a chunk plus a piece ahead.
  assert.ok(maxLead <= SPOOL_BYTES + CHUNK + 3000, `pulled ${maxLead} bytes ahead of what was written`);

  let cancelled: unknown;
  let k = 0;
  const bad = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(k++ < 3 ? bytes(CHUNK) : ("not bytes" as unknown as Uint8Array));
    },
    cancel(reason) {
      cancelled = reason ?? true;
    },
  }, { highWaterMark: 0 });
  await assert.rejects(s.save([{ name: "x", data: bad }]), UsageError);
  assert.ok(cancelled, "the stream was cancelled when the save failed");
  await s.close();
});

test("a ReadableStream member no longer fails with 'payload incomplete' (issue 15) and is not a 0-byte file", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  const data = new TextEncoder().encode("hello, stream");
  const r = await s.save([{ name: "s", data: new Blob([data as Uint8Array<ArrayBuffer>]).stream() }]);
  assert.equal(r.bytes, data.length);
  assert.deepEqual((await s.load()).members.get("s"), data);
  await s.close();
});

test("power loss after every operation of a streamed save (patched header): recovery gives the old checkpoint or the new one, never other bytes", async () => {
  const { MemoryFs, SimulatedCrash } = await import("../adapters/memory.ts");
  const oldData = bytes(5000, 1);
  const newData = bytes(SPOOL_BYTES + 3 * CHUNK + 7, 2);
  const base = async () => {
    const fs = await freshStoreFs();
    const s = await memStore(fs, "atomic_dirsync", CHUNK);
    await s.save([{ name: "w", data: oldData }]);
    await s.close();
    return fs;
  };
  const probe = await base();
  const before = probe.steps;
  await (await memStore(probe, "atomic_dirsync", CHUNK)).save([{ name: "w", data: streamOf(newData, 7777) }]);
  const total = probe.steps - before;
  let old = 0;
  let fresh = 0;
  for (let k = 0; k <= total; k++) {
    const fs = await base();
    fs.crashAfter(k);
    let acked = false;
    try {
      await (await memStore(fs, "atomic_dirsync", CHUNK)).save([{ name: "w", data: streamOf(newData, 7777) }]);
      acked = true;
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
    }
    for (const variant of [{}, { keep: () => true }] as Parameters<InstanceType<typeof MemoryFs>["crash"]>[0][]) {
      const s = await openStore("/store", { fs: fs.crash(variant), readOnly: true });
      const l = await s.latest();
      assert.ok(l, `crash after op ${k}: no valid checkpoint`);
      const got = (await s.load(l.step)).members.get("w")!;
      if (l.step === 1) {
        assert.deepEqual(got, oldData);
        old++;
        assert.ok(!acked, `crash after op ${k}: an acknowledged save was lost`);
      } else {
        assert.deepEqual(got, newData);
        fresh++;
      }
    }
  }
  assert.ok(old > 0 && fresh > 0, `both outcomes reached (old ${old}, new ${fresh})`);
});

test("v2: a streamed member past the spool gets its leaf list and tree root as it is written (no read-back); v1 still reads back", async () => {
  const data = bytes(3 * SPOOL_BYTES + 17, 5);
  for (const version of [2, 1]) {
    setWriteFormatVersion(version);
    try {
      const mem = new MemoryFs();
      const fs = tracingFs(mem);
      const s = await openStore("/s", { fs, chunkSize: CHUNK });
      fs.reset();
      const r = await s.save([{ name: "big", data: streamOf(data, 5000) }]);
      const memberReads = fs.events.filter((e) => e.op === "read" && /member-/.test(e.path)).length;
      const file = mem.peek(`/s/${memberName(r.step, 0)}`)!;
      const dv = new DataView(file.buffer, file.byteOffset);
      assert.equal(dv.getUint16(8, true), version);
      if (version === 2) {
        assert.equal(memberReads, 0, "a v2 streamed save reads nothing back");
        // The tree recomputed with node:crypto: H over the patched head, a leaf per chunk as stored.
        const n = Math.ceil(data.length / CHUNK);
        const first = HEADER_SIZE + dv.getUint32(20, true) + META_CRC_SIZE;
        const leaves: Uint8Array[] = [];
        for (let i = 0; i < n; i++) {
          const at = first + i * (CHUNK_HEADER_SIZE + CHUNK);
          leaves.push(
            nodeSha(
              file.subarray(at, Math.min(at + CHUNK_HEADER_SIZE + CHUNK, first + n * CHUNK_HEADER_SIZE + data.length)),
            ),
          );
        }
        const listAt = file.length - TRAILER_SIZE - LEAVES_CRC_SIZE - 32 * n;
        assert.equal(listAt, first + n * CHUNK_HEADER_SIZE + data.length);
        assert.deepEqual(file.subarray(listAt, listAt + 32 * n), new Uint8Array(Buffer.concat(leaves)));
        const root = nodeSha(new TextEncoder().encode("CKPTROOT"), nodeSha(file.subarray(0, first)), ...leaves);
        assert.deepEqual(file.subarray(file.length - 32), root);
      } else {
        assert.ok(memberReads > 0, "v1 hashes the file as written, read back");
      }
      assert.equal((await s.check(r.step)).status, "valid");
      assert.deepEqual((await s.load(r.step)).members.get("big"), data);
      await s.close();
    } finally {
      setWriteFormatVersion(undefined);
    }
  }
});
