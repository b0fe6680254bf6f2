// SHA-256 on the hash worker (src/wasm/hash-worker.ts, src/hash-stream.ts) must be invisible in
// results: the same digests as node:crypto, the same scan findings and the same file bytes as
// hashing in-thread, whatever the piece sizes, with the worker busy, after an abandoned stream,
// and without holding a CLI process open once its work is done.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryFs } from "../adapters/memory.ts";
import { CHUNK_DATA, KIND_MEMBER, TRAILER_SIZE } from "../src/format/constants.ts";
import { scanContainer, type ScanResult } from "../src/format/reader.ts";
import { ContainerWriter, encodeContainer } from "../src/format/writer.ts";
import { UsageError } from "../src/errors.ts";
import {
  type HashWorkerPolicy,
  hashWorkerPolicy,
  setHashWorkerPolicy,
  StreamSha256,
  WORKER_MIN_BYTES,
  workerStreamCount,
} from "../src/hash-stream.ts";
import { openStore } from "../src/store/store.ts";
import { inLanes } from "../src/lanes.ts";
import { writeMember } from "../src/store/member.ts";
import { ckpt } from "./lib/cli.ts";
import { randomBytes, rng, test as kitTest } from "./kit.ts";
import { flipInFile, flipped } from "./lib/damage.ts";
import { setWriteFormatVersion } from "../src/format/write-version.ts";

// The hash worker serves format v1's serial SHA-256 (v1 files are still read, and written with
// CKPTKIT_FORMAT_VERSION=1); v2 leaves go to the leaf pool (test/v2-format.test.ts). These tests
// write v1 so that the worker is what they exercise, each test for its own duration only: Bun runs
// test files in one process, and a version set for the whole module made later files write v1.
const test: typeof kitTest = (name, fn, timeoutMs) =>
  kitTest(name, async () => {
    setWriteFormatVersion(1);
    try {
      await fn();
    } finally {
      setWriteFormatVersion(undefined);
    }
  }, timeoutMs);

const nodeSha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const hex = (
  b: Uint8Array | undefined,
) => (b ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : "none");

async function withPolicy<T>(p: HashWorkerPolicy, fn: () => Promise<T>): Promise<T> {
  const before = hashWorkerPolicy();
  setHashWorkerPolicy(p);
  try {
    return await fn();
  } finally {
    setHashWorkerPolicy(before);
  }
}

async function scan(bytes: Uint8Array, p: HashWorkerPolicy): Promise<ScanResult & { payloads: string[] }> {
  const fs = new MemoryFs();
  const h = await fs.open("/f", { write: true, create: true });
  if (bytes.length > 0) await h.write(bytes, 0);
  const payloads: string[] = [];
  const r = await withPolicy(p, () =>
    scanContainer(h, "/f", {
      onChunk: (payload) => {
        payloads.push(nodeSha(payload));
      },
    }));
  return { ...r, payloads };
}

test("the worker hashes any split of a stream to node:crypto's digest (pieces from 0 bytes to 3 MiB)", async () => {
  const next = rng(41);
  for (const size of [0, 1, 55, 64, 65, 262_144 + 64, 262_144 + 65, 1 << 20, 3 * (1 << 20) + 7]) {
    const data = randomBytes(size, next);
    await withPolicy("on", async () => {
      const s = await StreamSha256.open(size);
      assert.ok(s.onWorker, "policy on: the stream must run on the worker in this runtime");
      let off = 0;
      while (off < size) {
        const n = Math.min(
          size - off,
          next() < 0.2 ? 0 : next() < 0.5 ? (next() * 100) | 0 : (next() * 2 * (1 << 20)) | 0,
        );
        const piece = data.slice(off, off + n);
        await s.update(piece);
        piece.fill(0xee); // the caller may reuse its buffer once update() resolves
        off += n;
      }
      assert.equal(hex(await s.digest()), nodeSha(data), `size ${size}`);
    });
  }
});

test("scanContainer finds the same damage and digest on the worker as in-thread: intact, flipped, truncated", async () => {
  const next = rng(42);
  for (
    const [payloadSize, chunkSize] of [[0, 64], [5000, 64], [300_000, 4096], [1_500_000, 262_144], [
      2_200_000,
      524_288,
    ]] as const
  ) {
    const good = encodeContainer({
      kind: KIND_MEMBER,
      meta: { name: "m" },
      chunkSize,
      chunkType: CHUNK_DATA,
      createdAt: 1_700_000_000_000,
    }, randomBytes(payloadSize, next)).bytes;
    const variants: Array<[string, Uint8Array]> = [["intact", good]];
    for (let i = 0; i < 6; i++) {
      const at = (next() * good.length) | 0;
      variants.push([`flip at ${at}`, flipped(good, at, 1 << ((next() * 8) | 0))]);
    }
    variants.push([
      "truncated",
      good.slice(0, Math.max(1, good.length - 1 - ((next() * Math.min(good.length - 1, 70_000)) | 0))),
    ]);
    for (const [name, bytes] of variants) {
      const off = await scan(bytes, "off");
      const on = await scan(bytes, "on");
      const what = `payload ${payloadSize}, chunk ${chunkSize}, ${name}`;
      assert.deepEqual(on.damage, off.damage, what);
      assert.deepEqual(on.blockCrcs, off.blockCrcs, what);
      assert.deepEqual(on.payloads, off.payloads, what);
      assert.equal(hex(on.fileSha256), hex(off.fileSha256), what);
      if (name === "intact") {
        assert.equal(on.damage.length, 0, what);
        assert.equal(hex(on.fileSha256), nodeSha(good.subarray(0, good.length - TRAILER_SIZE)), what);
      } else {
        assert.ok(on.damage.length > 0, `${what}: damage must be found`);
      }
    }
  }
});

test("a member hashed on the worker is byte-identical to one hashed in-thread", async () => {
  const next = rng(43);
  const data = randomBytes(3 * 262_144 + 12_345, next);
  const files: Uint8Array[] = [];
  for (const p of ["off", "on"] as const) {
    const fs = new MemoryFs();
    const entry = await withPolicy(p, () =>
      writeMember({
        fs,
        path: "/m",
        source: { name: "w", data },
        step: 7,
        index: 0,
        chunkSize: 262_144,
        createdAt: 1_700_000_000_000,
        sync: true,
      }));
    const h = await fs.open("/m");
    const bytes = new Uint8Array(await h.size());
    await h.read(bytes, 0);
    await h.close();
    assert.equal(hex(entry.fileSha256), nodeSha(bytes.subarray(0, bytes.length - TRAILER_SIZE)), `policy ${p}`);
    files.push(bytes);
  }
  assert.deepEqual(files[1], files[0]);
});

test("one worker, two streams: the second hashes in-thread; an abandoned stream frees the worker", async () => {
  await withPolicy("on", async () => {
    const a = await StreamSha256.open(1);
    const b = await StreamSha256.open(1);
    assert.ok(a.onWorker);
    assert.equal(b.onWorker, false, "the worker serves one stream at a time");
    await a.update(new Uint8Array([1, 2, 3]));
    await b.update(new Uint8Array([4, 5]));
    assert.equal(hex(await a.digest()), nodeSha(new Uint8Array([1, 2, 3])));
    assert.equal(hex(await b.digest()), nodeSha(new Uint8Array([4, 5])));
    const c = await StreamSha256.open(1);
    assert.ok(c.onWorker, "the worker is free again after a digest");
    await c.update(new Uint8Array(1000));
    await c.release();
    const d = await StreamSha256.open(1);
    assert.ok(d.onWorker, "the worker is free again after an abandoned stream");
    assert.equal(hex(await d.digest()), nodeSha(new Uint8Array(0)), "a new stream starts from the initial state");
  });
});

test("the policy: auto sends a second large stream to the worker, never a lone one; off never; bad values are usage errors", async () => {
  await withPolicy("auto", async () => {
    const lone = await StreamSha256.open(1 << 30);
    assert.equal(lone.onWorker, false, "a lone stream hashes in-thread");
    const small = await StreamSha256.open(WORKER_MIN_BYTES - 1);
    assert.equal(small.onWorker, false, "a small second stream is not worth the worker");
    const second = await StreamSha256.open(WORKER_MIN_BYTES);
    assert.ok(second.onWorker, "a second large stream goes to the worker");
    await second.release();
    await small.release();
    await lone.release();
    const again = await StreamSha256.open(1 << 30);
    assert.equal(again.onWorker, false, "released streams no longer count");
    await again.release();
  });
  await withPolicy("off", async () => {
    const s = await StreamSha256.open(1 << 30);
    assert.equal(s.onWorker, false);
  });
  assert.throws(() => setHashWorkerPolicy("fast" as HashWorkerPolicy), UsageError);
  const w = new ContainerWriter(
    { kind: KIND_MEMBER, meta: {}, payloadLength: 0, chunkSize: 64, chunkType: CHUNK_DATA },
    { externalSha256: true },
  );
  w.head();
  assert.throws(() => w.trailer(), UsageError, "an external-hash writer needs the digest");
  assert.throws(() => w.trailer(new Uint8Array(31)), UsageError);
});

test("a checkpoint's large members are saved and checked two at a time (one on the worker): same digests, same findings, in member order", async () => {
  const next = rng(45);
  const fs = new MemoryFs();
  const store = await openStore("/s", { fs });
  const members = [0, 1, 2].map((i) => ({ name: `m${i}`, data: randomBytes(WORKER_MIN_BYTES + 1000 * i, next) }));
  const beforeSave = workerStreamCount();
  await withPolicy("auto", () => store.save(members, { step: 1 }));
  assert.ok(workerStreamCount() > beforeSave, "auto: one of the members being written went to the worker");
  // An independent check of the worker's digests: the manifest's SHA-256s against an in-thread verify.
  assert.equal((await withPolicy("off", () => store.verify())).ok, true);
  const clean: string[] = [];
  for (const p of ["off", "auto"] as const) {
    const before = workerStreamCount();
    const r = await withPolicy(p, () => store.verify());
    assert.equal(r.ok, true, `policy ${p}`);
    if (p === "auto") assert.ok(workerStreamCount() > before, "auto: one of the concurrent members went to the worker");
    else assert.equal(workerStreamCount(), before, "off: never the worker");
    clean.push(JSON.stringify(r));
  }
  assert.equal(clean[1], clean[0]);
  // Damage members 2 and 0 (not 1): the findings name them, in member order, under both policies.
  for (
    const [file, at] of [["step-0000000000000001.member-2", 5_000_000], [
      "step-0000000000000001.member-0",
      123_456,
    ]] as const
  ) {
    await flipInFile(fs, `/s/${file}`, at, 0x10);
  }
  const seen: string[] = [];
  for (const p of ["off", "auto"] as const) {
    const r = await withPolicy(p, () => store.verify());
    const files = r.checkpoints.flatMap((c) => c.findings.map((f) => f.file));
    assert.deepEqual(
      [...new Set(files)],
      ["step-0000000000000001.member-0", "step-0000000000000001.member-2"],
      `policy ${p}`,
    );
    seen.push(JSON.stringify(r));
  }
  assert.equal(seen[1], seen[0]);
  await store.close();
});

test("inLanes: results in job order, at most two in flight, and an error waits for the job in flight", async () => {
  let inFlight = 0;
  let most = 0;
  const finished: number[] = [];
  const job = async (i: number) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, (5 - i) * 3));
    inFlight--;
    finished.push(i);
    return i * 10;
  };
  assert.deepEqual(await inLanes(5, 2, job), [0, 10, 20, 30, 40]);
  assert.equal(most, 2);
  finished.length = 0;
  await assert.rejects(
    inLanes(4, 2, async (i) => {
      if (i === 1) throw new Error("boom");
      await new Promise((r) => setTimeout(r, 20));
      finished.push(i);
      return i;
    }),
    /boom/,
  );
  assert.deepEqual(
    finished,
    [0],
    "job 0 (in flight when job 1 failed) finished before the rejection; no job started after it",
  );
});

test("the CLI saves and verifies on the worker (CKPTKIT_HASH_WORKER=on) and exits once done", () => {
  const dir = mkdtempSync(join(tmpdir(), "ckpt-hashworker-"));
  const before = process.env.CKPTKIT_HASH_WORKER;
  try {
    const src = join(dir, "weights.bin");
    writeFileSync(src, randomBytes(2 * 1024 * 1024 + 3, rng(44)));
    process.env.CKPTKIT_HASH_WORKER = "on";
    process.env.CKPTKIT_FORMAT_VERSION = "1";
    // A worker left referenced would keep the process alive past the timeout (spawnSync kills it: code -1).
    const save = ckpt(["save", join(dir, "store"), src, "--step", "1", "--json"], { timeoutMs: 30_000 });
    assert.equal(save.code, 0, save.stderr);
    const verify = ckpt(["verify", join(dir, "store"), "--json"], { timeoutMs: 30_000 });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.json<{ ok: boolean }>().ok, true);
    process.env.CKPTKIT_HASH_WORKER = "sideways";
    const bad = ckpt(["verify", join(dir, "store"), "--json"], { timeoutMs: 30_000 });
    assert.equal(bad.code, 2, `a bad CKPTKIT_HASH_WORKER is a usage error: ${bad.stdout}${bad.stderr}`);
  } finally {
    delete process.env.CKPTKIT_FORMAT_VERSION;
    if (before === undefined) delete process.env.CKPTKIT_HASH_WORKER;
    else process.env.CKPTKIT_HASH_WORKER = before;
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a producer that outruns the worker waits without blocking: the event loop turns while the ring is full (guarantee 12)", async () => {
  // 64 MiB in 512 KiB pieces: copying into the ring (8 slots) is ~20× faster than hashing, so the
  // ring is full almost at once. A blocking Atomics.wait there returned settled promises: awaiting
  // them never let a timer run until the last piece was in.
  const piece = randomBytes(512 * 1024, rng(7));
  const whole = createHash("sha256");
  await withPolicy("on", async () => {
    const sha = await StreamSha256.open(64 << 20);
    assert.ok(sha.onWorker, "the stream must hash on the worker");
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 0);
    try {
      for (let i = 0; i < 128; i++) {
        await sha.update(piece);
        whole.update(piece);
      }
      const ticksWhileFeeding = ticks;
      assert.equal(hex(await sha.digest()), whole.digest("hex"));
      assert.ok(ticksWhileFeeding > 0, "no timer ran while 64 MiB was fed to a full ring: the wait blocked the thread");
    } finally {
      clearInterval(timer);
    }
  });
});
