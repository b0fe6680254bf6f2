// Inline members (docs/FORMAT.md, "Inline members"; src/store/inline.ts): members of at most
// INLINE_MAX bytes are stored in the manifest, a version 2 container of table+inline chunks, so a
// checkpoint of small members is one file. Every read path understands them, their payload has
// its own SHA-256 in the entry, and every byte of such a manifest is covered.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { MemoryFs } from "../adapters/memory.ts";
import { tracingFs } from "../adapters/tracing.ts";
import { CorruptionError, FormatVersionError } from "../src/errors.ts";
import {
  CHUNK_MEMBER_TABLE,
  CHUNK_TABLE_INLINE,
  HEADER_SIZE,
  INLINE_FORMAT_VERSION,
  KIND_MANIFEST,
  META_CRC_SIZE,
} from "../src/format/constants.ts";
import {
  encodeManifest,
  encodeMemberTable,
  manifestMetadata,
  type MemberEntry,
  plainEntry,
} from "../src/format/manifest.ts";
import { setWriteFormatVersion } from "../src/format/write-version.ts";
import { encodeContainer } from "../src/format/writer.ts";
import { scanContainer } from "../src/format/reader.ts";
import { readManifest } from "../src/store/check.ts";
import { INLINE_MAX, INLINE_TOTAL_MAX } from "../src/store/inline.ts";
import { LOCK_NAME, manifestName, memberName } from "../src/store/layout.ts";
import { openStore } from "../src/store/store.ts";
import { verifyFile } from "../src/cli/verify-file.ts";
import { sha256 } from "../src/hash.ts";
import { readFile } from "../src/fs-util.ts";
import { test } from "./kit.ts";
import { flipInMemory } from "./lib/damage.ts";

const enc = new TextEncoder();
const FIXTURE = new URL("./fixtures/v1-store/", import.meta.url);

async function freshFs(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/s");
  await fs.syncDir("/");
  return fs;
}

const files = async (fs: MemoryFs) => (await fs.readdir("/s")).filter((n) => n !== LOCK_NAME).sort();
const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const r = stream.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) break;
    parts.push(value);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

test("a checkpoint of small members is one file: a version 2 manifest of table+inline chunks, and every read path returns the bytes", async () => {
  const fs = await freshFs();
  const s = await openStore("/s", { fs });
  const a = enc.encode("hello, inline\n");
  const b = new Uint8Array(INLINE_MAX).map((_, i) => i * 31);
  const r = await s.save([{ name: "a.txt", data: a }, { name: "d/b.bin", data: b }, {
    name: "empty",
    data: new Uint8Array(0),
  }], { meta: { run: "x" } });
  assert.deepEqual(await files(fs), [manifestName(r.step)], "no member file");
  const man = fs.peek(`/s/${manifestName(r.step)}`)!;
  assert.equal(u16(man, 8), INLINE_FORMAT_VERSION, "header version");
  const metaLen = new DataView(man.buffer, man.byteOffset).getUint32(20, true);
  assert.equal(u16(man, HEADER_SIZE + metaLen + META_CRC_SIZE + 4), CHUNK_TABLE_INLINE, "chunk type");

  assert.equal((await s.verify()).ok, true);
  const l = await s.load();
  assert.deepEqual([...l.members.keys()], ["a.txt", "d/b.bin", "empty"]);
  assert.deepEqual(l.members.get("a.txt"), a);
  assert.deepEqual(l.members.get("d/b.bin"), b);
  assert.equal(l.members.get("empty")!.length, 0);
  assert.equal((await s.latest())?.step, r.step);
  assert.deepEqual((await s.list())[0]!.files, ["a.txt", "d/b.bin", "empty"]);
  assert.deepEqual(await drain(s.open("d/b.bin")), b);
  assert.deepEqual(await drain(s.open("empty")), new Uint8Array(0));
  await s.restore("/out");
  assert.deepEqual(fs.peek("/out/a.txt"), a);
  assert.deepEqual(fs.peek("/out/d/b.bin"), b);
  assert.deepEqual(fs.peek("/out/empty"), new Uint8Array(0));
  // verify FILE / inspect: the manifest alone is a whole checkpoint and lists its inline members.
  const v = await verifyFile(fs, `/s/${manifestName(r.step)}`);
  assert.equal(v.ok, true);
  assert.deepEqual(v.members!.map((m) => [m.name, m.inline, m.payloadSize]), [["a.txt", true, a.length], [
    "d/b.bin",
    true,
    b.length,
  ], ["empty", true, 0]]);
  await s.close();
});

test("the threshold: a member of INLINE_MAX bytes is inline, one byte more has a file; the total cap and unsized streams get files; mixing works", async () => {
  const fs = await freshFs();
  const s = await openStore("/s", { fs });
  const at = new Uint8Array(INLINE_MAX).fill(1);
  const over = new Uint8Array(INLINE_MAX + 1).fill(2);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc.encode("streamed"));
      c.close();
    },
  });
  const r = await s.save([{ name: "at", data: at }, { name: "over", data: over }, { name: "stream", data: stream }, {
    name: "blob",
    data: new Blob([enc.encode("blob")]),
  }]);
  assert.deepEqual(await files(fs), [manifestName(r.step), memberName(r.step, 1), memberName(r.step, 2)].sort());
  const { manifest } = await readManifest(fs, "/s", r.step);
  assert.deepEqual(manifest!.members.map((m) => m.inline !== undefined), [true, false, false, true]);
  const l = await s.load();
  assert.deepEqual(l.members.get("over"), over);
  assert.deepEqual(l.members.get("stream"), enc.encode("streamed"));
  assert.deepEqual(l.members.get("blob"), enc.encode("blob"));
  // The cap: members go inline in order until INLINE_TOTAL_MAX bytes, the rest get files.
  const n = Math.floor(INLINE_TOTAL_MAX / INLINE_MAX) + 2;
  const many = Array.from({ length: n }, (_, i) => ({ name: `m${i}`, data: new Uint8Array(INLINE_MAX).fill(i) }));
  const r2 = await s.save(many);
  const m2 = (await readManifest(fs, "/s", r2.step)).manifest!;
  const inlineBytes = m2.members.reduce((t, m) => t + (m.inline ? m.payloadSize : 0), 0);
  assert.equal(inlineBytes, INLINE_TOTAL_MAX);
  assert.equal(m2.members.filter((m) => !m.inline).length, 2);
  assert.equal((await s.verify()).ok, true);
  // inlineMax 0: a member file, and the manifest's chunks are the plain member table (type 2) of
  // a v2 container like any other (inline members change the chunk type, not the version).
  const off = await openStore("/t", { fs, inlineMax: 0 });
  const r3 = await off.save([{ name: "x", data: enc.encode("x") }]);
  const man3 = fs.peek(`/t/${manifestName(r3.step)}`)!;
  assert.equal(u16(man3, 8), 2);
  const metaLen3 = new DataView(man3.buffer, man3.byteOffset).getUint32(20, true);
  assert.equal(u16(man3, HEADER_SIZE + metaLen3 + META_CRC_SIZE + 4), CHUNK_MEMBER_TABLE, "chunk type");
  assert.ok(fs.peek(`/t/${memberName(r3.step, 0)}`));
  await off.close();
  await s.close();
});

test("every single-byte flip of a manifest holding inline members is detected, and the checkpoint beside it stays valid", async () => {
  const fs = await freshFs();
  const s = await openStore("/s", { fs, inlineMax: 64 });
  await s.save([{ name: "old", data: enc.encode("older checkpoint") }]);
  // Mixed: an inline member and a member file in one checkpoint.
  const r = await s.save([{ name: "a", data: enc.encode("inline payload bytes") }, {
    name: "big",
    data: new Uint8Array(100).fill(9),
  }]);
  await s.close();
  const path = `/s/${manifestName(r.step)}`;
  const clean = fs.peek(path)!.slice();
  const ro = await openStore("/s", { fs, readOnly: true });
  let detected = 0;
  for (let at = 0; at < clean.length; at++) {
    flipInMemory(fs, path, at);
    let report;
    try {
      report = await ro.check(r.step);
    } catch (err) {
      // The version field flipped to another version: refused as such, not read.
      assert.ok(err instanceof FormatVersionError && at >= 8 && at < 10, `byte ${at}: ${err}`);
      detected++;
      fs.poke(path, clean);
      continue;
    }
    assert.notEqual(report.status, "valid", `flip at byte ${at} of ${clean.length} went unnoticed`);
    assert.ok(
      report.findings.some((f) => f.file === manifestName(r.step)),
      `byte ${at}: the finding names the manifest`,
    );
    detected++;
    fs.poke(path, clean);
  }
  assert.equal(detected, clean.length);
  assert.equal((await ro.check(1)).status, "valid");
  await ro.close();
});

/** A manifest re-encoded with consistent container checks, but member 0's inline payload other than its entry's SHA-256 says. */
async function swappedPayload(fs: MemoryFs, step: number): Promise<void> {
  const { manifest } = await readManifest(fs, "/s", step);
  const members: MemberEntry[] = manifest!.members.map(plainEntry);
  const other = members[0]!.inline!.slice();
  other[0] = other[0]! ^ 1;
  members[0] = { ...members[0]!, inline: other }; // fileSha256 left as recorded
  fs.poke(`/s/${manifestName(step)}`, encodeManifest({ ...manifest!, members }));
}

test("an inline payload is held to its own SHA-256: a manifest whose container checks pass but whose payload differs is corrupt, named, and never delivered", async () => {
  const fs = await freshFs();
  const s = await openStore("/s", { fs });
  await s.save([{ name: "good", data: enc.encode("good") }]);
  const r = await s.save([{ name: "cfg.json", data: enc.encode('{"lr":0.1}') }, {
    name: "w",
    data: enc.encode("weights"),
  }]);
  await swappedPayload(fs, r.step);
  // The container itself is whole: only the entry's SHA-256 can tell.
  const h = await fs.open(`/s/${manifestName(r.step)}`);
  assert.deepEqual((await scanContainer(h, "m")).damage, []);
  await h.close();
  const rep = await s.check(r.step);
  assert.equal(rep.status, "corrupt");
  assert.deepEqual(rep.findings.map((f) => [f.kind, f.member, f.file]), [[
    "sha-mismatch",
    "cfg.json",
    manifestName(r.step),
  ]]);
  assert.equal((await verifyFile(fs, `/s/${manifestName(r.step)}`)).ok, false);
  assert.equal((await s.latest())?.step, 1, "latest falls back past it");
  assert.equal((await s.load()).step, 1);
  await assert.rejects(s.load(r.step), CorruptionError);
  await assert.rejects(drain(s.open("cfg.json", { step: r.step })), CorruptionError);
  await assert.rejects(s.restore("/out", { step: r.step }), CorruptionError);
  assert.equal(fs.peek("/out/cfg.json"), undefined, "nothing restored");
  assert.equal((await s.restore("/out2")).step, 1);
  const rb = await s.rollback();
  assert.deepEqual(rb.moved.map((m) => m.step), [r.step]);
  await s.close();
});

test("a version 1 store stays readable, and one store mixes v1 manifests with v2 inline ones", async () => {
  const fs = await freshFs();
  for (
    const n of ["step-0000000000000007.manifest", "step-0000000000000007.member-0", "step-0000000000000007.member-1"]
  ) {
    const h = await fs.open(`/s/${n}`, { write: true, create: true });
    await h.write(new Uint8Array(readFileSync(new URL(n, FIXTURE))), 0);
    await h.close();
  }
  // And one of member files only (inlineMax 0): a v2 manifest of type-2 chunks.
  const v1 = await openStore("/s", { fs, inlineMax: 0 });
  await v1.save([{ name: "f", data: enc.encode("file member") }]);
  await v1.close();
  const s = await openStore("/s", { fs });
  const r = await s.save([{ name: "i", data: enc.encode("inline member") }, {
    name: "j",
    data: new Uint8Array(INLINE_MAX + 5).fill(3),
  }]);
  assert.deepEqual((await s.verify()).checkpoints.map((c) => [c.step, c.status]), [[r.step, "valid"], [8, "valid"], [
    7,
    "valid",
  ]]);
  assert.equal(new TextDecoder().decode((await s.load(7)).members.get("a.txt")), "hello, single-chunk manifest\n");
  assert.deepEqual((await s.load(8)).members.get("f"), enc.encode("file member"));
  assert.deepEqual((await s.load()).members.get("i"), enc.encode("inline member"));
  // Retention: an inline checkpoint's one file goes; the mixed one's member file too.
  assert.deepEqual((await s.prune(1)).removed, [8, 7]);
  assert.deepEqual(await files(fs), [manifestName(r.step), memberName(r.step, 1)]);
  const r2 = await s.save([{ name: "k", data: enc.encode("k") }], { keep: 1 });
  assert.deepEqual(await files(fs), [manifestName(r2.step)]);
  await s.close();
});

test("a process writing version 1 (CKPTKIT_FORMAT_VERSION=1) inlines nothing: a v1 manifest and member files, readable", async () => {
  const fs = await freshFs();
  setWriteFormatVersion(1);
  try {
    const s = await openStore("/s", { fs });
    const r = await s.save([{ name: "a", data: enc.encode("small") }]);
    assert.equal(u16(fs.peek(`/s/${manifestName(r.step)}`)!, 8), 1);
    assert.deepEqual(await files(fs), [manifestName(r.step), memberName(r.step, 0)]);
    assert.equal(u16(fs.peek(`/s/${memberName(r.step, 0)}`)!, 8), 1);
    assert.deepEqual((await s.load()).members.get("a"), enc.encode("small"));
    await s.close();
  } finally {
    setWriteFormatVersion(undefined);
  }
});

test("a version 1 header on table+inline chunks is damage, and a member file beside an inline member of its index is not the manifest's", async () => {
  const fs = await freshFs();
  const s = await openStore("/s", { fs });
  const r = await s.save([{ name: "a", data: enc.encode("a") }]);
  const { manifest } = await readManifest(fs, "/s", r.step);
  assert.throws(() => encodeManifest(manifest!, undefined, 1), /inline members is format version 2/);
  // A well-formed version 1 container (v1 layout, its own CRCs and SHA-256 all intact) whose
  // chunks are type 3: only the chunk type is wrong, and that is damage in a v1 header.
  const table = encodeMemberTable(manifest!.members);
  const v1 = encodeContainer({
    kind: KIND_MANIFEST,
    meta: manifestMetadata(r.step, {}),
    chunkSize: table.length,
    chunkType: CHUNK_TABLE_INLINE,
    version: 1,
  }, table).bytes;
  fs.poke(`/s/${manifestName(r.step)}`, v1);
  const bad = await s.check(r.step);
  assert.equal(bad.status, "corrupt");
  assert.match(bad.findings[0]!.message, /chunk type 3/);
  fs.poke(`/s/${manifestName(r.step)}`, encodeManifest(manifest!));
  assert.equal((await s.check(r.step)).status, "valid");
  const h = await fs.open(`/s/${memberName(r.step, 0)}`, { write: true, create: true });
  await h.write(enc.encode("planted"), 0);
  await h.close();
  const rep = await s.check(r.step);
  assert.equal(rep.status, "corrupt");
  assert.match(rep.findings[0]!.message, /not listed in the manifest/);
  await s.close();
});

test("load and check read an inline checkpoint's manifest once each and open no member file", async () => {
  const mem = await freshFs();
  const fs = tracingFs(mem);
  const s = await openStore("/s", { fs });
  const r = await s.save([{ name: "a", data: new Uint8Array(INLINE_MAX).fill(5) }]);
  const reads = () => fs.events.filter((e) => e.op === "read");
  fs.reset();
  assert.equal((await s.check(r.step)).status, "valid");
  const onePass = reads().length;
  assert.ok(onePass > 0 && reads().every((e) => e.path.endsWith(manifestName(r.step))));
  fs.reset();
  await s.load();
  assert.equal(reads().length, onePass, "load reads the manifest once");
  assert.equal(fs.events.filter((e) => e.path.includes(".member-")).length, 0);
  await s.close();
});

test("a file member source keeps its permission bits when inline", async () => {
  const fs = await freshFs();
  const h = await fs.open("/src.sh", { write: true, create: true, mode: 0o750 });
  await h.write(enc.encode("#!/bin/sh\n"), 0);
  await h.close();
  const mode = (await fs.stat("/src.sh"))!.mode & 0o777;
  const s = await openStore("/s", { fs });
  const r = await s.save([{ name: "run.sh", path: "/src.sh" }]);
  const { manifest } = await readManifest(fs, "/s", r.step);
  assert.equal(manifest!.members[0]!.mode, mode);
  await s.restore("/out");
  assert.equal((await fs.stat("/out/run.sh"))!.mode & 0o777, mode);
  assert.deepEqual(fs.peek("/out/run.sh"), enc.encode("#!/bin/sh\n"));
  await s.close();
});

test("a save's manifest is byte for byte what encodeManifest writes for its entries, in one chunk (built in kernel memory) and in several", async () => {
  const fs = await freshFs();
  const s = await openStore("/s", { fs, inlineMax: INLINE_TOTAL_MAX });
  const sizes = [[0, 5, 4096], [60_000, 1, 70_000], Array.from({ length: 9 }, () => 64 * 1024)];
  for (const [c, lens] of sizes.entries()) {
    const members = lens.map((n, i) => ({
      name: `m${i}`,
      data: Uint8Array.from({ length: n }, (_, j) => (j * 31 + i + c) & 0xff),
    }));
    const r = await s.save(members, { meta: { run: c } });
    const bytes = await readFile(fs, `/s/${manifestName(r.step)}`);
    const { manifest } = await readManifest(fs, "/s", r.step);
    assert.ok(manifest, `save ${c}: the manifest reads back`);
    const chunks = new DataView(bytes.buffer, bytes.byteOffset).getUint32(40, true);
    assert.equal(chunks, c < 2 ? 1 : 2, `save ${c}: chunk count`); // > 512 KiB of table: two chunks
    // The entries as read, with the digest recomputed from the payload (no digest taken from the file).
    const entries = manifest!.members.map((m) => ({ ...plainEntry(m), fileSha256: sha256(m.inline!) }));
    assert.deepEqual(entries.map((e) => e.inline), members.map((m) => m.data));
    assert.deepEqual(
      encodeManifest({ ...manifest!, members: entries }),
      bytes,
      `save ${c}: other bytes than encodeManifest's`,
    );
  }
  await s.close();
});

test("an inline entry without its 32-byte SHA-256 is refused by encodeManifest, never written as zeros", () => {
  const entry: MemberEntry = {
    name: "a",
    file: "",
    payloadSize: 1,
    fileSize: 0,
    chunkSize: 0,
    fileSha256: new Uint8Array(0),
    blockCrcs: [],
    inline: new Uint8Array(1),
    mode: 0,
  };
  assert.throws(() => encodeManifest({ step: 1, createdAt: 1, meta: {}, members: [entry] }), /SHA-256 of 0 bytes/);
  assert.throws(
    () => encodeMemberTable([{ ...entry, file: "step-1.member-0", inline: undefined, payloadSize: 0 }]),
    /SHA-256 of 0 bytes/,
  );
});

test("docs/FORMAT.md's inline worked example is what encodeManifest writes, byte for byte, and reads back", async () => {
  const doc = readFileSync(new URL("../docs/FORMAT.md", import.meta.url), "utf8");
  const block = /<!-- inline-example:begin -->\n```\n([\s\S]*?)```\n<!-- inline-example:end -->/.exec(doc);
  assert.ok(block, "the example block is in docs/FORMAT.md");
  const hello = enc.encode("hello");
  const { sha256 } = await import("../src/hash.ts");
  const bytes = encodeManifest({
    step: 1,
    createdAt: 1700000000000,
    meta: {},
    members: [{
      name: "hi.txt",
      file: "",
      payloadSize: 5,
      fileSize: 0,
      chunkSize: 0,
      fileSha256: sha256(hello),
      blockCrcs: [],
      inline: hello,
      mode: 0o644,
    }],
  });
  const lines: string[] = [];
  for (let o = 0; o < bytes.length; o += 16) {
    const hex = [...bytes.subarray(o, o + 16)].map((b) => b.toString(16).padStart(2, "0"));
    const groups: string[] = [];
    for (let i = 0; i < hex.length; i += 2) groups.push(hex.slice(i, i + 2).join(""));
    lines.push(`${o.toString(16).padStart(8, "0")}: ${groups.join(" ")}`);
  }
  assert.equal(block[1], `${lines.join("\n")}\n`);
  assert.equal(bytes.length, 64 + 23 + 4 + 32 + 70 + 5 + 32 + 4 + 48); // v2: one leaf and its CRC before the trailer
  const fs = await freshFs();
  const h = await fs.open(`/s/${manifestName(1)}`, { write: true, create: true });
  await h.write(bytes, 0);
  await h.close();
  const { manifest } = await readManifest(fs, "/s", 1);
  assert.deepEqual([manifest!.members[0]!.name, manifest!.members[0]!.inline, manifest!.members[0]!.mode], [
    "hi.txt",
    hello,
    0o644,
  ]);
});
