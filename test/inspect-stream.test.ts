// `inspect` streams: a member of 1-byte chunks (a 7.8 MB v2 file of 120,000 chunks and their
// leaves here; the 99 MB case is in the report) is inspected without one object per chunk. The
// JSON lists the first INSPECT_CHUNKS chunks and counts them all; a file whose every chunk is
// damaged reports the first MAX_BLOCK_DAMAGE blocks and one entry counting the rest; peak RSS
// stays flat.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { defaultFs } from "../adapters/detect.ts";
import { INSPECT_CHUNKS } from "../src/cli/verify-file.ts";
import { MAX_BLOCK_DAMAGE } from "../src/format/reader.ts";
import { writeMember } from "../src/store/member.ts";
import { ckpt, cliArgv, noCrash, ROOT } from "./lib/cli.ts";
import { runtime, test } from "./kit.ts";

const CHUNKS = 120_000;

async function tinyChunkMember(path: string): Promise<void> {
  const data = new Uint8Array(CHUNKS).map((_, i) => (i * 31) & 0xff);
  await writeMember({
    fs: defaultFs(),
    path,
    source: { name: "tiny-chunks.bin", data },
    step: 1,
    index: 0,
    chunkSize: 1,
    createdAt: 0,
    sync: false,
  });
}

interface InspectDoc {
  ok: boolean;
  chunks: { index: number; ok: boolean }[];
  chunkCount: number;
  badChunks: number;
  chunksOmitted: number;
  damage: { kind: string; block?: number; message: string }[];
}

/** Peak RSS in KiB of `ckpt args` (GNU time), or undefined where /usr/bin/time is missing. */
function peakRssKiB(args: string[], report: string): number | undefined {
  if (!existsSync("/usr/bin/time")) return undefined;
  // The report goes to a file (-o): Bun's spawnSync cut a long stderr short.
  const r = spawnSync("/usr/bin/time", ["-v", "-o", report, ...cliArgv(), ...args], {
    cwd: ROOT,
    stdio: "ignore",
    timeout: 120_000,
  });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}`);
  const text = readFileSync(report, "utf8");
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  assert.ok(m, `GNU time reported no peak RSS: ${text}`);
  return Number(m[1]);
}

test("inspect --json of a member of 120,000 one-byte chunks lists the first 1,000, counts them all, and its RSS does not grow with the chunk count", async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-inspect-${runtime}-`);
  try {
    const f = `${dir}/m`;
    await tinyChunkMember(f);
    const r = ckpt(["inspect", f, "--json"], { timeoutMs: 120_000 });
    noCrash(r);
    assert.equal(r.code, 0, r.stderr);
    const doc = r.json<InspectDoc>();
    assert.equal(doc.chunks.length, INSPECT_CHUNKS);
    assert.deepEqual(doc.chunks.slice(0, 3).map((c) => c.index), [0, 1, 2]);
    assert.equal(doc.chunkCount, CHUNKS);
    assert.equal(doc.chunksOmitted, CHUNKS - INSPECT_CHUNKS);
    assert.equal(doc.badChunks, 0);
    assert.ok(r.stdout.length < 200_000, `the document is bounded: ${r.stdout.length} bytes`);
    const human = ckpt(["inspect", f], { timeoutMs: 120_000 });
    assert.equal(human.stdout.split("\n").filter((l) => l.startsWith("chunk ")).length, INSPECT_CHUNKS);
    assert.match(
      human.stdout,
      new RegExp(`… ${CHUNKS - INSPECT_CHUNKS} more chunks not listed \\(${CHUNKS} in all, 0 bad\\)`),
    );
    // Memory: the same command on a one-chunk file is the baseline; 120,000 chunks may add the
    // per-chunk CRC list (8 bytes each) and buffers, not an object per chunk (~300 bytes each).
    const small = `${dir}/one`;
    await writeMember({
      fs: defaultFs(),
      path: small,
      source: { name: "one", data: new Uint8Array(1) },
      step: 1,
      index: 0,
      chunkSize: 1,
      createdAt: 0,
      sync: false,
    });
    const base = peakRssKiB(["inspect", small, "--json"], `${dir}/time-small`);
    const big = peakRssKiB(["inspect", f, "--json"], `${dir}/time-big`);
    if (base !== undefined && big !== undefined) {
      assert.ok(big - base < 48 * 1024, `peak RSS grew by ${big - base} KiB for ${CHUNKS} chunks (base ${base} KiB)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a member whose every one-byte chunk is damaged: inspect and verify report the first 1,000 blocks and one entry counting the rest", async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-inspect-${runtime}-`);
  try {
    const f = `${dir}/m`;
    await tinyChunkMember(f);
    // Flip one bit of every chunk's payload byte: after the 64-byte header, the metadata and its
    // CRC, chunk i is a 32-byte chunk header and its 1-byte payload.
    const bytes = readFileSync(f);
    const r0 = ckpt(["inspect", f, "--json"], { timeoutMs: 120_000 }).json<
      InspectDoc & { header: { metaLength: number } }
    >();
    const body = 64 + r0.header.metaLength + 4;
    for (let i = 0; i < CHUNKS; i++) bytes[body + i * 33 + 32]! ^= 1;
    writeFileSync(f, bytes);
    const r = ckpt(["inspect", f, "--json"], { timeoutMs: 120_000 });
    noCrash(r);
    assert.equal(r.code, 1);
    const doc = r.json<InspectDoc>();
    assert.equal(doc.badChunks, CHUNKS);
    assert.equal(doc.damage.length, MAX_BLOCK_DAMAGE + 1, "the first blocks one by one, then one entry for the rest");
    assert.equal(doc.damage[MAX_BLOCK_DAMAGE - 1]!.block, MAX_BLOCK_DAMAGE - 1);
    assert.match(
      doc.damage[MAX_BLOCK_DAMAGE]!.message,
      new RegExp(`^${CHUNKS - MAX_BLOCK_DAMAGE} more damaged blocks not listed, from block ${MAX_BLOCK_DAMAGE} `),
    );
    const v = ckpt(["verify", f, "--json"], { timeoutMs: 120_000 });
    assert.equal(v.code, 1);
    assert.equal(v.json<{ damage: unknown[] }>().damage.length, MAX_BLOCK_DAMAGE + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
