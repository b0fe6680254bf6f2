// The contract's memory bound on a hostile store: a member table may span many chunks, so a
// crafted manifest can list a million members. Decoding keeps ~32 bytes + the name per entry
// (src/format/manifest.ts TableEntry) and holds every entry's file name to the layout; findings
// are capped (src/store/finding-cap.ts): the first 1,000 one by one, then one per kind counting
// the rest. Figures for a 100 MB manifest are in the report; CI runs a 12 MB one.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { MemoryFs } from "../adapters/memory.ts";
import { decodeMemberTable, encodeMemberTable, type MemberEntry } from "../src/format/manifest.ts";
import { join } from "../src/path.ts";
import { MAX_FINDINGS } from "../src/store/finding-cap.ts";
import { manifestName, memberFilePrefix, memberName } from "../src/store/layout.ts";
import { writeMember } from "../src/store/member.ts";
import { openStore } from "../src/store/store.ts";
import { runtime, test } from "./kit.ts";
import { ckpt, cliArgv, noCrash, ROOT } from "./lib/cli.ts";
import { craftManifestBytes } from "./lib/craft.ts";
import { scratchDir } from "./lib/interrupt-helpers.ts";

const MB = 1e6;
const MiB = 1024 * 1024;

/** Peak RSS in bytes of `ckpt args` (GNU time), or undefined where /usr/bin/time is missing. */
function peakRss(args: string[], report: string): number | undefined {
  if (!existsSync("/usr/bin/time")) return undefined;
  const r = spawnSync("/usr/bin/time", ["-v", "-o", report, ...cliArgv(), ...args], {
    cwd: ROOT,
    stdio: "ignore",
    timeout: 120_000,
  });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(report, "utf8"));
  assert.ok(m, "GNU time reported no peak RSS");
  return Number(m[1]) * 1024;
}

interface VerifyDoc {
  ok: boolean;
  checkpoints: { step: number; status: string; findings: { kind: string; message: string }[] }[];
}

test("verify of a store whose 12 MB manifest lists 120,000 missing members: torn, 1,000 findings + 1 summary, bounded output and RSS", async () => {
  const dir = scratchDir(`hostile-${runtime}`);
  try {
    const store = join(dir, "store");
    mkdirSync(store);
    const size = 12 * MB;
    const bytes = craftManifestBytes(1, size, false);
    writeFileSync(join(store, manifestName(1)), bytes);
    const r = ckpt(["verify", store, "--json"], { timeoutMs: 120_000 });
    noCrash(r);
    assert.equal(r.code, 1);
    const doc = r.json<VerifyDoc>();
    const f = doc.checkpoints[0]!.findings;
    assert.equal(doc.checkpoints[0]!.status, "torn");
    assert.equal(f.length, MAX_FINDINGS + 1, "the first findings one by one, then one counting the rest");
    assert.match(f[MAX_FINDINGS]!.message, /^\d+ more missing-member findings not listed/);
    assert.ok(r.stdout.length < 1 * MB, `verify --json printed ${r.stdout.length} bytes`);
    // `verify FILE` / `inspect` of the manifest list the first members and count them all.
    const i = ckpt(["inspect", join(store, manifestName(1)), "--json"], { timeoutMs: 120_000 });
    noCrash(i);
    const idoc = i.json<{ ok: boolean; members: unknown[]; memberCount: number }>();
    assert.equal(idoc.ok, true);
    assert.equal(idoc.members.length, 1000);
    assert.ok(idoc.memberCount > 100_000, `memberCount ${idoc.memberCount}`);
    // Memory: against an empty store's verify, the crafted table may cost its own bytes and a
    // few dozen bytes per entry, not the ~280 bytes per entry and a finding per member of before
    // (measured before: +351 MB for a 16 MB table in Node).
    mkdirSync(join(dir, "empty"));
    const base = peakRss(["verify", join(dir, "empty")], join(dir, "time-base"));
    const big = peakRss(["verify", store], join(dir, "time-big"));
    if (base !== undefined && big !== undefined) {
      assert.ok(
        big < 256 * MiB + 2 * bytes.length,
        `peak RSS ${big} bytes is over the contract's 256 MiB + 2 × ${bytes.length}`,
      );
      assert.ok(
        big - base < 96 * MiB + 2 * bytes.length,
        `peak RSS grew by ${((big - base) / MiB).toFixed(1)} MiB for a ${bytes.length}-byte manifest (base ${
          (base / MiB).toFixed(1)
        } MiB)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a table of minimal 60-byte entries (empty names and file names) is refused at its count, before any entry is decoded", () => {
  const dir = scratchDir(`hostile-${runtime}`);
  try {
    const store = join(dir, "store");
    mkdirSync(store);
    writeFileSync(join(store, manifestName(1)), craftManifestBytes(1, 4 * MB, true));
    const r = ckpt(["verify", store, "--json"], { timeoutMs: 60_000 });
    noCrash(r);
    assert.equal(r.code, 1);
    const f = r.json<VerifyDoc>().checkpoints[0]!.findings;
    assert.equal(f.length, 1);
    assert.match(f[0]!.message, /member table claims \d+ members in \d+ bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const entry = (i: number, step: number, over: Partial<MemberEntry> = {}): MemberEntry => ({
  name: `m${i}`,
  file: memberName(step, i),
  payloadSize: 1000 + i,
  fileSize: 5000 + i,
  chunkSize: 64 + i,
  fileSha256: new Uint8Array(32).fill(i + 1),
  blockCrcs: [i, 0xffffffff, 0x80000000 + i],
  ...over,
});

test("decode holds each entry's file name to the layout and reads every field back as encoded", () => {
  const step = 7;
  const members = [entry(0, step), entry(1, step, { name: "x/é", blockCrcs: [] }), entry(2, step)];
  const table = encodeMemberTable(members);
  const back = decodeMemberTable(table, "t", 0, memberFilePrefix(step));
  assert.equal(back.length, 3);
  for (const [i, m] of back.entries()) {
    const e = members[i]!;
    assert.equal(m.name, e.name);
    assert.equal(m.file, e.file);
    assert.equal(m.payloadSize, e.payloadSize);
    assert.equal(m.fileSize, e.fileSize);
    assert.equal(m.chunkSize, e.chunkSize);
    assert.deepEqual([...m.fileSha256], [...e.fileSha256]);
    assert.deepEqual(Array.from(m.blockCrcs), Array.from(e.blockCrcs));
  }
  assert.deepEqual(JSON.parse(JSON.stringify(back[0])).blockCrcs, [0, 0xffffffff, 0x80000000]);
  // Re-encoding decoded entries gives the same bytes.
  assert.deepEqual(encodeMemberTable(back), table);
  // Swapped file names, another step's names, a leading zero: each is damage.
  const swapped = encodeMemberTable([
    entry(0, step, { file: memberName(step, 1) }),
    entry(1, step, { file: memberName(step, 0) }),
  ]);
  assert.throws(
    () => decodeMemberTable(swapped, "t", 0, memberFilePrefix(step)),
    /member 0 has file name "step-0000000000000007\.member-1", expected 'step-0000000000000007\.member-0'/,
  );
  const other = encodeMemberTable([entry(0, step + 1)]);
  assert.throws(() => decodeMemberTable(other, "t", 0, memberFilePrefix(step)), /member 0 has file name/);
  const zero = encodeMemberTable([entry(0, step, { file: `${memberName(step, 0)}`.replace(/-0$/, "-00") })]);
  assert.throws(() => decodeMemberTable(zero, "t", 0, memberFilePrefix(step)), /member 0 has file name/);
});

test("a member file re-sealed with other bytes (every one of 5,000 blocks differs from the manifest): 1,000 crc-mismatch findings + 1 counting the rest", async () => {
  const fs = new MemoryFs();
  const blocks = 5000;
  const chunkSize = 16;
  const s = await openStore("/store", { fs, chunkSize });
  const a = new Uint8Array(blocks * chunkSize).fill(1);
  await s.save([{ name: "w.bin", data: a }], { step: 1 });
  await s.close();
  // The same member, sealed by the store's own writer, with other bytes: its own CRCs and
  // SHA-256 hold, its sizes and metadata agree with the manifest, only the block CRCs differ.
  const path = `/store/${memberName(1, 0)}`;
  const createdAt = 0;
  await fs.unlink(path);
  await writeMember({
    fs,
    path,
    source: { name: "w.bin", data: new Uint8Array(a.length).fill(2) },
    step: 1,
    index: 0,
    chunkSize,
    createdAt,
    sync: false,
  });
  const r = await openStore("/store", { fs, readOnly: true });
  try {
    const rep = await r.verify();
    const f = rep.checkpoints[0]!.findings;
    assert.equal(rep.checkpoints[0]!.status, "corrupt");
    assert.ok(f.every((x) => x.kind === "crc-mismatch"), f.map((x) => x.kind).join());
    assert.equal(f.length, MAX_FINDINGS + 1);
    assert.equal(f[MAX_FINDINGS - 1]!.block, MAX_FINDINGS - 1);
    assert.match(
      f[MAX_FINDINGS]!.message,
      new RegExp(
        `^${blocks - MAX_FINDINGS} more crc-mismatch blocks not listed, from block ${MAX_FINDINGS} to ${
          blocks - 1
        } of ${memberName(1, 0)}`,
      ),
    );
    assert.equal(f[MAX_FINDINGS]!.block, MAX_FINDINGS);
  } finally {
    await r.close();
  }
});
