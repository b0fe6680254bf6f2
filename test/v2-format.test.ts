// Format v2 (docs/FORMAT.md, "The SHA-256 tree"): the worked examples in FORMAT.md recompute byte
// for byte (v1 and v2), the tree is recomputed with node:crypto (an independent SHA-256), every
// single-byte flip of every v2 structure (header, metadata, chunk headers, payloads, leaf list, its
// CRC, trailer) is detected, leaves hashed on the pool equal leaves hashed here, the v1 fixture
// store still verifies, loads, restores and takes a v2 save beside it, and newer versions are
// refused with FormatVersionError.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { MemoryFs } from "../adapters/memory.ts";
import { defaultFs } from "../adapters/detect.ts";
import {
  CHUNK_DATA,
  CHUNK_HEADER_SIZE,
  HEADER_SIZE,
  KIND_MEMBER,
  LEAVES_CRC_SIZE,
  TRAILER_SIZE,
} from "../src/format/constants.ts";
import { scanContainer, type ScanResult } from "../src/format/reader.ts";
import { encodeChunkAt, encodeContainer } from "../src/format/writer.ts";
import { FormatVersionError } from "../src/errors.ts";
import { crc32, toHex } from "../src/hash.ts";
import { openStore } from "../src/store/store.ts";
import { INLINE_MAX } from "../src/store/inline.ts";
import { restoreCheckpoint } from "../src/store/restore.ts";
import { setLeafThreads, warmLeafPool } from "../src/wasm/leaf-pool.ts";
import { LeafHasher } from "../src/format/leaf-hasher.ts";
import { randomBytes, rng, test } from "./kit.ts";
import { cliArgv, ROOT } from "./lib/cli.ts";

const here = new URL(".", import.meta.url).pathname;
const nodeSha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

async function scanBytes(bytes: Uint8Array): Promise<ScanResult & { payload: Uint8Array[]; oks: boolean[] }> {
  const fs = new MemoryFs();
  const h = await fs.open("/f", { write: true, create: true });
  if (bytes.length > 0) await h.write(bytes, 0);
  const payload: Uint8Array[] = [];
  const oks: boolean[] = [];
  const r = await scanContainer(h, "/f", {
    onChunk: (p, info) => {
      payload.push(p.slice());
      oks.push(info.ok);
    },
  });
  return Object.assign(r, { payload, oks });
}

const GREETING_META = { "ckptkit.step": "1", "ckptkit.member": "greeting.txt", "ckptkit.index": "0" };
function greeting(version: number): Uint8Array {
  return encodeContainer({
    kind: KIND_MEMBER,
    meta: GREETING_META,
    chunkSize: 262144,
    chunkType: CHUNK_DATA,
    createdAt: 0x1a21027fc36,
    version,
  }, new TextEncoder().encode("hello")).bytes;
}

/** The bytes of the first hexdump block after `heading` in docs/FORMAT.md. */
function docHexdump(heading: string): Uint8Array {
  const doc = readFileSync(`${here}../docs/FORMAT.md`, "utf8");
  const at = doc.indexOf(heading);
  assert.ok(at >= 0, `FORMAT.md has a section "${heading}"`);
  const block = doc.slice(doc.indexOf("```\n", at) + 4, doc.indexOf("\n```", doc.indexOf("```\n", at) + 4));
  const bytes: number[] = [];
  for (const line of block.split("\n")) {
    const m = /^([0-9a-f]{8}): ((?:[0-9a-f]{2,4} ?)+)/.exec(line);
    assert.ok(m, `hexdump line: ${line}`);
    assert.equal(Number.parseInt(m[1]!, 16), bytes.length, `offset of ${line}`);
    for (const g of m[2]!.trim().split(" ")) {
      for (let i = 0; i < g.length; i += 2) bytes.push(Number.parseInt(g.slice(i, i + 2), 16));
    }
  }
  return new Uint8Array(bytes);
}

test("FORMAT.md: both worked examples (v1 and v2) are what the writer produces, byte for byte", () => {
  assert.deepEqual(docHexdump("## Worked example (v1)"), greeting(1));
  assert.deepEqual(docHexdump("## Worked example (v2)"), greeting(2));
});

test("the v2 tree recomputes with an independent SHA-256: head digest, leaves, leaf list CRC, root in the trailer", async () => {
  for (const [size, chunk] of [[0, 64], [5, 64], [64, 64], [1000, 64], [3000, 1024]] as const) {
    const payload = randomBytes(size, rng(size + 1));
    const bytes = encodeContainer(
      { kind: KIND_MEMBER, meta: { k: "v" }, chunkSize: chunk, chunkType: CHUNK_DATA, createdAt: 1 },
      payload,
    ).bytes;
    const dv = new DataView(bytes.buffer);
    assert.equal(dv.getUint16(8, true), 2, "new files are version 2");
    const metaLen = dv.getUint32(20, true);
    const n = Math.ceil(size / chunk);
    const first = HEADER_SIZE + metaLen + 4;
    const H = nodeSha(bytes.subarray(0, first));
    const leaves: Uint8Array[] = [];
    let pos = first;
    for (let i = 0; i < n; i++) {
      const len = CHUNK_HEADER_SIZE + Math.min(chunk, size - i * chunk);
      leaves.push(nodeSha(bytes.subarray(pos, pos + len)));
      pos += len;
    }
    const list = bytes.subarray(pos, pos + 32 * n);
    assert.deepEqual(list, new Uint8Array(leaves.flatMap((l) => [...l])), `${size}/${chunk}: leaf list`);
    assert.equal(dv.getUint32(pos + 32 * n, true), crc32(list), "leaf list CRC-32");
    const trailer = bytes.subarray(pos + 32 * n + LEAVES_CRC_SIZE);
    assert.equal(trailer.length, TRAILER_SIZE);
    const root = nodeSha(new TextEncoder().encode("CKPTROOT"), H, ...leaves);
    assert.equal(toHex(trailer.subarray(16)), toHex(root), `${size}/${chunk}: root`);
    const r = await scanBytes(bytes);
    assert.deepEqual(r.damage, []);
    assert.equal(toHex(r.fileSha256!), toHex(root), "the reader's digest is the root");
  }
});

test("every single-byte flip of a v2 container, in every structure, is detected (exhaustive)", async () => {
  // Two full chunks and a short one: header, metadata + CRC, 3 chunk headers and payloads, a
  // 96-byte leaf list + CRC, the trailer. Each flip must be reported, and no chunk that holds a
  // flipped byte may be delivered as ok.
  const bytes = encodeContainer(
    { kind: KIND_MEMBER, meta: { m: "x" }, chunkSize: 40, chunkType: CHUNK_DATA, createdAt: 7 },
    randomBytes(100, rng(3)),
  ).bytes;
  for (let i = 0; i < bytes.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const d = bytes.slice();
      d[i]! ^= bit;
      let r: ScanResult & { oks: boolean[] };
      try {
        r = await scanBytes(d);
      } catch (e) {
        assert.ok(e instanceof FormatVersionError === false, `byte ${i}: ${e}`);
        throw e;
      }
      assert.ok(r.damage.length > 0, `flip of byte ${i} (bit ${bit}) not detected`);
    }
  }
});

test("a leaf that differs with the chunk CRCs intact is reported on that chunk, and the chunk is not delivered as ok", async () => {
  const bytes = encodeContainer(
    { kind: KIND_MEMBER, meta: {}, chunkSize: 16, chunkType: CHUNK_DATA, createdAt: 7 },
    randomBytes(64, rng(9)),
  ).bytes;
  const dv = new DataView(bytes.buffer);
  const first = HEADER_SIZE + dv.getUint32(20, true) + 4;
  const listAt = first + 4 * (CHUNK_HEADER_SIZE + 16);
  // Replace leaf 2 and re-seal the list's CRC: only the leaf comparison can see it.
  const d = bytes.slice();
  d[listAt + 64]! ^= 1;
  new DataView(d.buffer).setUint32(listAt + 128, crc32(d.subarray(listAt, listAt + 128)), true);
  const r = await scanBytes(d);
  assert.deepEqual(r.damage.map((x) => [x.kind, x.block]), [["sha-mismatch", 2]]);
  // The root no longer vouches for the list, so no chunk is delivered as ok (a verified read
  // stops before its first byte), not only chunk 2.
  assert.deepEqual(r.oks, [false, false, false, false]);
  // Chunk 2 replaced by another well-formed chunk 2 (its own CRCs hold): its leaf differs from
  // the vouched-for list, so it alone is not ok, and it is reported on that chunk.
  const c = bytes.slice();
  const other = encodeChunkAt(CHUNK_DATA, 2, randomBytes(16, rng(10))).encoded;
  c.set(other, first + 2 * (CHUNK_HEADER_SIZE + 16));
  const rc = await scanBytes(c);
  assert.deepEqual(rc.damage.map((x) => [x.kind, x.block]), [["sha-mismatch", 2]]);
  assert.deepEqual(rc.oks, [true, true, false, true]);
  // Without re-sealing, the list's CRC names the list itself.
  const e = bytes.slice();
  e[listAt + 64]! ^= 1;
  const r2 = await scanBytes(e);
  assert.deepEqual(r2.damage.map((x) => [x.kind, x.offset]), [["crc-mismatch", listAt]]);
});

test("every truncation of a v2 container is detected", async () => {
  const bytes = encodeContainer(
    { kind: KIND_MEMBER, meta: {}, chunkSize: 32, chunkType: CHUNK_DATA, createdAt: 7 },
    randomBytes(70, rng(4)),
  ).bytes;
  for (let len = 0; len < bytes.length; len++) {
    assert.ok((await scanBytes(bytes.subarray(0, len))).damage.length > 0, `cut at ${len}`);
  }
});

test("leaves hashed on the worker pool equal leaves hashed on this thread, in order, with bounded batches", async () => {
  const chunks = Array.from({ length: 41 }, (_, i) => randomBytes(i === 40 ? 1000 : 4096 + 32, rng(i)));
  const run = async (threads: number) => {
    setLeafThreads(threads);
    await warmLeafPool();
    const seen: number[] = [];
    const h = new LeafHasher(64 << 20, {
      keep: true,
      onBatch: (b) => {
        seen.push(b.start);
      },
    });
    for (const c of chunks) await h.add(c);
    const leaves = await h.finish();
    return { leaves, seen };
  };
  try {
    const local = await run(1);
    const pooled = await run(2);
    assert.deepEqual(pooled.leaves, local.leaves);
    assert.deepEqual(pooled.seen, [...pooled.seen].sort((a, b) => a - b), "batches complete to the caller in order");
    for (let i = 0; i < chunks.length; i++) {
      assert.deepEqual(local.leaves.subarray(32 * i, 32 * i + 32), nodeSha(chunks[i]!), `leaf ${i}`);
    }
  } finally {
    setLeafThreads(undefined);
  }
});

test("fuzz: v2 headers claiming adversarial chunk counts, chunk sizes and lengths (CRC resealed, total = the real size) give damage, never a trap or a huge allocation", async () => {
  const good = encodeContainer(
    { kind: KIND_MEMBER, meta: {}, chunkSize: 16, chunkType: CHUNK_DATA, createdAt: 7 },
    randomBytes(64, rng(12)),
  ).bytes;
  const r = rng(13);
  const pick = (xs: number[]) => xs[Math.floor(r() * xs.length)]!;
  const big = [
    0,
    1,
    2,
    3,
    4,
    5,
    15,
    16,
    17,
    63,
    64,
    65,
    2047,
    2048,
    2049,
    2 ** 20,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 40,
    2 ** 52,
    2 ** 53 - 1,
  ];
  const heapBefore = process.memoryUsage().heapUsed;
  let damaged = 0;
  for (let t = 0; t < 3000; t++) {
    const d = good.slice();
    const dv = new DataView(d.buffer);
    if (r() < 0.7) dv.setUint32(16, pick(big) >>> 0, true); // chunk size
    if (r() < 0.7) dv.setBigUint64(32, BigInt(pick(big)), true); // payload length
    if (r() < 0.8) dv.setBigUint64(40, BigInt(pick(big)), true); // chunk count: sizes the leaf list
    if (r() < 0.2) dv.setUint32(20, pick(big) >>> 0, true); // metadata length
    if (r() < 0.9) dv.setBigUint64(48, BigInt(r() < 0.8 ? d.length : pick(big)), true); // total size
    dv.setUint32(60, crc32(d.subarray(0, 60)), true);
    if (d.every((b, i) => b === good[i])) continue;
    const res = await scanBytes(d); // throws only FormatVersionError/FsError: neither applies here
    assert.ok(res.damage.length > 0, `trial ${t}: header ${toHex(d.subarray(0, 64))} not detected`);
    damaged++;
  }
  assert.ok(damaged > 2500);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 << 20, "no allocation sized by a claimed count");
});

test("a newer version (3) is refused with FormatVersionError, code EVERSION, naming both versions read", async () => {
  const d = greeting(2);
  new DataView(d.buffer).setUint16(8, 3, true);
  new DataView(d.buffer).setUint32(60, crc32(d.subarray(0, 60)), true);
  await assert.rejects(
    scanBytes(d),
    (e: unknown) =>
      e instanceof FormatVersionError && e.code === "EVERSION" &&
      /version 3 is not supported \(this reader handles versions 1 to 2\)/.test(e.message),
  );
});

test("the v1 fixture store: verify, latest, load, restore, open and cat read it; a v2 save goes beside it; both verify", async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-v1-`);
  try {
    cpSync(`${here}fixtures/v1-mixed`, `${dir}/s`, { recursive: true });
    rmSync(`${dir}/s/README.md`);
    for (const f of readdirSync(`${dir}/s`)) {
      assert.equal(readFileSync(`${dir}/s/${f}`).readUInt16LE(8), 1, `${f} is a v1 file`);
    }
    const fs = defaultFs();
    const s = await openStore(`${dir}/s`, { fs });
    try {
      const v = await s.verify();
      assert.ok(v.ok, JSON.stringify(v.findings));
      assert.equal((await s.latest())?.step, 5);
      const five = await s.load(5);
      assert.equal(five.members.get("weights.bin")!.length, 5000);
      assert.deepEqual(five.members.get("weights.bin")!.subarray(0, 4), randomBytesLike(5000).subarray(0, 4));
      assert.deepEqual([...five.members.get("opt/state.bin")!], [0, 1, 2, 3, 255]);
      assert.equal(five.members.get("empty")!.length, 0);
      assert.equal(String((await s.list()).find((c) => c.step === 3)?.meta?.lr), "0.5");
      await restoreCheckpoint(s, 5, `${dir}/out`);
      assert.deepEqual([...readFileSync(`${dir}/out/opt/state.bin`)], [0, 1, 2, 3, 255]);
      // store.open and `ckpt cat` stream a v1 member, verified (v1: the file-wide SHA-256 at the end).
      const opened = new Uint8Array(await new Response(s.open("weights.bin", { step: 5 })).arrayBuffer());
      assert.deepEqual(opened, five.members.get("weights.bin"));
      const [cmd, ...pre] = cliArgv();
      const cat = spawnSync(cmd!, [...pre, "cat", `${dir}/s`, "opt/state.bin", "--step", "5"], { cwd: ROOT });
      assert.equal(cat.status, 0, String(cat.stderr));
      assert.deepEqual([...cat.stdout], [0, 1, 2, 3, 255]);
      // A v2 save into the v1 store: mixed versions, newest first. The small member is inline
      // (in the v2 manifest, src/store/inline.ts), the one past the threshold a v2 member file.
      const big = new Uint8Array(INLINE_MAX + 1).fill(4);
      const { step } = await s.save([{ name: "new.bin", data: new Uint8Array([9, 8, 7]) }, {
        name: "big.bin",
        data: big,
      }]);
      assert.equal(step, 6);
      assert.ok(!existsSync(`${dir}/s/step-0000000000000006.member-0`), "new.bin is inline");
      assert.equal(readFileSync(`${dir}/s/step-0000000000000006.member-1`).readUInt16LE(8), 2);
      assert.equal(readFileSync(`${dir}/s/step-0000000000000006.manifest`).readUInt16LE(8), 2);
      const six = await s.load(6);
      assert.deepEqual([...six.members.get("new.bin")!], [9, 8, 7]);
      assert.deepEqual(six.members.get("big.bin"), big);
      const all = await s.verify();
      assert.ok(all.ok, JSON.stringify(all.findings));
      assert.equal((await s.latest())?.step, 6);
      assert.deepEqual([...(await s.load(3)).members.get("a.txt")!], [
        ...new TextEncoder().encode("version one, step 3\n"),
      ]);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The fixture's weights.bin: mulberry32(16), `(next() * 256) | 0` per byte (test/fixtures/v1-mixed/README.md). */
function randomBytesLike(n: number): Uint8Array {
  return randomBytes(n, rng(16));
}

test("a v2 manifest of several table+inline chunks (type 3) passes the tree reader, reads back, and a type-3 chunk in a member file is damage", async () => {
  const { encodeManifest } = await import("../src/format/manifest.ts");
  const { readManifest } = await import("../src/store/check.ts");
  const { manifestName } = await import("../src/store/layout.ts");
  const { sha256 } = await import("../src/hash.ts");
  const { CHUNK_TABLE_INLINE } = await import("../src/format/constants.ts");
  const payloads = [0, 1, 2].map((i) => new Uint8Array(40 + i).fill(i + 1));
  const members = payloads.map((p, i) => ({
    name: `m${i}`,
    file: "",
    payloadSize: p.length,
    fileSize: 0,
    chunkSize: 0,
    fileSha256: sha256(p),
    blockCrcs: [],
    inline: p,
    mode: 0,
  }));
  // A 32-byte table chunk: the table and the inline area span several chunks, all of type 3.
  const bytes = encodeManifest({ step: 4, createdAt: 1, meta: {}, members }, 32);
  assert.equal(new DataView(bytes.buffer).getUint16(8, true), 2);
  const scan = await scanBytes(bytes);
  assert.deepEqual(scan.damage, []);
  assert.ok(scan.oks.length > 3 && scan.oks.every(Boolean), `${scan.oks.length} chunks, all ok`);
  const fs = new MemoryFs();
  await fs.mkdir("/s");
  const h = await fs.open(`/s/${manifestName(4)}`, { write: true, create: true });
  await h.write(bytes, 0);
  await h.close();
  const { manifest, findings } = await readManifest(fs, "/s", 4);
  assert.deepEqual(findings, []);
  assert.deepEqual(manifest!.members.map((m) => m.inline), payloads);
  // The same chunk type in a member (kind 1) container is wrong: only manifests hold type 3.
  const member =
    encodeContainer({ kind: KIND_MEMBER, meta: {}, chunkSize: 8, chunkType: CHUNK_TABLE_INLINE }, new Uint8Array(20))
      .bytes;
  const bad = await scanBytes(member);
  assert.ok(
    bad.damage.some((d) => d.kind === "bad-chunk" && /chunk type 3/.test(d.message)),
    JSON.stringify(bad.damage),
  );
});
