// The write-ahead log on the power-loss simulator: round trips, torn tails at every byte, damage
// at every byte, crash at every step under concurrent appenders, group commit counted in syncs,
// fsync and ENOSPC failures, rotation, truncation, markers and repair.
import assert from "node:assert/strict";
import { MemoryFs, SimulatedCrash } from "../adapters/memory.ts";
import { DurabilityError, FsError, LockedError } from "../src/errors.ts";
import type { FileHandle } from "../src/fs.ts";
import { type Log, LogDamageError, openLog, replayLog } from "../src/wal/log.ts";
import { repairLog } from "../src/wal/repair.ts";
import type { LogRecord } from "../src/wal/scan.ts";
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, segmentName } from "../src/wal/format.ts";
import { test } from "./kit.ts";
import { flipInMemory, flipped } from "./lib/damage.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const rec = (i: number) => enc.encode(`record-${i}-${"x".repeat(i % 13)}`);

async function fresh(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/log");
  await fs.syncDir("/");
  return fs;
}

async function records(
  fs: MemoryFs,
  salvage = false,
): Promise<{ list: LogRecord[]; report: Awaited<ReturnType<typeof replayLog>> }> {
  const list: LogRecord[] = [];
  const report = await replayLog("/log", {
    fs,
    salvage,
    onRecord: (r) => {
      list.push({ ...r, payload: r.payload.slice() });
    },
  });
  return { list, report };
}

async function writeN(fs: MemoryFs, n: number): Promise<void> {
  const log = await openLog("/log", { fs });
  for (let i = 1; i <= n; i++) assert.equal(await log.append(rec(i)), i);
  await log.close();
}

test("AppendThenReplayReturnsEveryRecordInOrder", async () => {
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  assert.equal(await log.append(rec(1)), 1);
  assert.equal(await log.appendMany([rec(2), rec(3), rec(4)]), 2);
  assert.equal(await log.mark(7), 5);
  assert.equal(await log.append(rec(6)), 6);
  await log.close();
  const { list, report } = await records(fs);
  assert.deepEqual(list.map((r) => r.sequence), [1, 2, 3, 4, 5, 6]);
  assert.equal(list[4]!.type, "marker");
  assert.equal(list[4]!.step, 7);
  assert.equal(dec.decode(list[2]!.payload), dec.decode(rec(3)));
  assert.deepEqual({
    recovered: report.recovered,
    lastSequence: report.lastSequence,
    damage: report.damage,
    truncatedBytes: report.truncatedBytes,
  }, { recovered: 6, lastSequence: 6, damage: null, truncatedBytes: 0 });
  // Reopening continues the sequence.
  const again = await openLog("/log", { fs });
  assert.equal(await again.append(rec(7)), 7);
  await again.close();
});

test("ReplayAfterMarkerGivesOnlyLaterRecords", async () => {
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  await log.append(rec(1));
  await log.mark(3);
  await log.append(rec(3));
  await log.append(rec(4));
  await log.close();
  const seen: number[] = [];
  await replayLog("/log", {
    fs,
    afterMarker: 3,
    onRecord: (r) => {
      seen.push(r.sequence);
    },
  });
  assert.deepEqual(seen, [3, 4]);
});

test("TruncatedTrailingRecordIsCutAtEveryByteOffset", async () => {
  const fs = await fresh();
  await writeN(fs, 4);
  const seg = `/log/${segmentName(1)}`;
  const full = fs.peek(seg)!.slice();
  const lastLen = RECORD_HEADER_SIZE + rec(4).length;
  for (let cut = 1; cut < lastLen; cut++) {
    fs.poke(seg, full.subarray(0, full.length - cut));
    const { list, report } = await records(fs);
    assert.deepEqual(list.map((r) => r.sequence), [1, 2, 3], `cut ${cut}`);
    assert.equal(report.damage, null, `a torn tail is not damage (cut ${cut})`);
    assert.equal(report.truncatedBytes, lastLen - cut);
    const log = await openLog("/log", { fs });
    assert.equal(log.recovery.truncatedBytes, lastLen - cut);
    assert.deepEqual(
      fs.peek(`/log/${log.recovery.sideFile}`),
      full.subarray(full.length - lastLen, full.length - cut),
      "the side file holds exactly the cut bytes",
    );
    const next = await log.append(rec(99));
    // Fewer than 20 bytes hold no whole record (nothing acknowledged); more may, so 4 is skipped.
    assert.equal(next, lastLen - cut < RECORD_HEADER_SIZE ? 4 : 5, `cut ${cut}`);
    await log.close();
    assert.deepEqual((await records(fs)).list.map((r) => r.sequence), [1, 2, 3, next]);
    for (const name of await fs.readdir("/log")) if (name.includes(".cut-")) await fs.unlink(`/log/${name}`);
    fs.poke(seg, full);
  }
});

test("ZeroFilledTailIsUnusedSpaceNotDamage", async () => {
  // Zeros after the last record are the unused rest of a preallocated segment (docs/LOG.md): not
  // a torn write to cut, and not damage; appends overwrite them.
  const fs = await fresh();
  await writeN(fs, 3);
  const seg = `/log/${segmentName(1)}`;
  const full = fs.peek(seg)!;
  const withZeros = new Uint8Array(full.length + 700);
  withZeros.set(full);
  fs.poke(seg, withZeros);
  const { list, report } = await records(fs);
  assert.equal(list.length, 3);
  assert.equal(report.damage, null);
  assert.equal(report.truncatedBytes, 0);
});

test("ChecksumMismatchAtEveryByteOfEveryRecordIsReported", async () => {
  const fs = await fresh();
  await writeN(fs, 5);
  const seg = `/log/${segmentName(1)}`;
  const clean = fs.peek(seg)!.slice();
  let off = SEGMENT_HEADER_SIZE;
  for (let i = 1; i <= 4; i++) { // every record but the last (test/log-tear-rule.test.ts does the last)
    const len = RECORD_HEADER_SIZE + rec(i).length;
    for (let b = 0; b < len; b++) {
      fs.poke(seg, flipped(clean, off + b, 0x40));
      const { list, report } = await records(fs);
      assert.deepEqual(
        list.map((r) => r.sequence),
        Array.from({ length: i - 1 }, (_, k) => k + 1),
        `record ${i} byte ${b}`,
      );
      assert.equal(report.damage?.sequence, i, `record ${i} byte ${b}`);
      assert.equal(report.damage?.offset, off);
      assert.ok(report.discarded >= 1, "records after the damage are counted as discarded");
      const salvaged = await records(fs, true);
      assert.ok(salvaged.list.some((r) => r.sequence === 5), `salvage reaches the last record (record ${i} byte ${b})`);
      assert.ok(!salvaged.list.some((r) => r.sequence === i), "the damaged record itself is never returned");
    }
    off += len;
  }
  fs.poke(seg, clean);
  const log = await openLog("/log", { fs });
  await log.close();
});

test("MidLogDamageRefusesAppendUntilRepairSetsItAside", async () => {
  const fs = await fresh();
  await writeN(fs, 5);
  const seg = `/log/${segmentName(1)}`;
  flipInMemory(fs, seg, SEGMENT_HEADER_SIZE + 40, 1); // inside record 2 (record 1 is 30 bytes)
  await assert.rejects(
    openLog("/log", { fs }),
    (e: unknown) => e instanceof LogDamageError && /ckpt log repair/.test((e as Error).message),
  );
  const before = fs.peek(seg)!.length;
  const r = await repairLog("/log", { fs });
  assert.equal(r.repaired, true);
  assert.equal(r.sideFiles.length, 1);
  assert.equal(r.damage?.sequence, 2);
  assert.equal(
    fs.peek(`/log/${r.sideFiles[0]}`)!.length,
    before - r.damage!.offset,
    "every byte from the damage on is kept in the side file",
  );
  assert.deepEqual((await records(fs)).list.map((x) => x.sequence), [1]);
  const log = await openLog("/log", { fs });
  assert.equal(await log.append(rec(2)), 6, "above every sequence the moved bytes held (2..5)");
  await log.close();
});

test("SequenceGapIsDamage", async () => {
  const fs = await fresh();
  await writeN(fs, 2);
  // A second segment that starts past the expected sequence.
  const log = await openLog("/log", { fs, maxSegmentBytes: 1 });
  await log.append(rec(3));
  await log.close();
  const second = `/log/${segmentName(3)}`;
  const bytes = fs.peek(second)!;
  await fs.rename(second, `/log/${segmentName(5)}`);
  const { encodeSegmentHeader } = await import("../src/wal/format.ts");
  const moved = bytes.slice();
  moved.set(encodeSegmentHeader(5), 0);
  fs.poke(`/log/${segmentName(5)}`, moved);
  const { report } = await records(fs);
  assert.match(report.damage?.reason ?? "", /sequence gap/);
});

test("RotationAndTruncateBeforeRemoveOnlyWholeOldSegments", async () => {
  const fs = await fresh();
  const log = await openLog("/log", { fs, maxSegmentBytes: 200 });
  for (let i = 1; i <= 30; i++) await log.append(rec(i));
  const segs = (await fs.readdir("/log")).filter((n) => n.startsWith("seg-")).sort();
  assert.ok(segs.length >= 4, `rotated into ${segs.length} segments`);
  const r = await log.truncate({ before: 15 });
  assert.ok(r.removed.length >= 1);
  await log.close();
  const { list, report } = await records(fs);
  assert.equal(report.damage, null);
  assert.equal(list[list.length - 1]!.sequence, 30);
  assert.ok(list[0]!.sequence <= 15, "nothing at or after `before` is removed");
  assert.ok(list[0]!.sequence > 1);
  for (let i = 1; i < list.length; i++) assert.equal(list[i]!.sequence, list[i - 1]!.sequence + 1);
  // The truncation is durable.
  const after = await records(fs.crash());
  assert.equal(after.list[0]!.sequence, list[0]!.sequence);
});

test("GroupCommitSharesSyncsAmong64ConcurrentAppenders", async () => {
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  const seqs: number[] = [];
  await Promise.all(Array.from({ length: 64 }, async (_, w) => {
    for (let i = 0; i < 10; i++) seqs.push(await log.append(enc.encode(`w${w}-${i}`)));
  }));
  assert.equal(seqs.length, 640);
  assert.deepEqual([...seqs].sort((a, b) => a - b), Array.from({ length: 640 }, (_, i) => i + 1));
  assert.ok(log.syncs <= 640 / 8, `640 appends took ${log.syncs} syncs`);
  await log.close();
});

async function crashRun(k: number, durability: "fdatasync" | "none"): Promise<{ acked: Set<number>; fs: MemoryFs }> {
  const fs = await fresh();
  fs.crashAfter(k);
  const acked = new Set<number>();
  try {
    const log = await openLog("/log", { fs, durability });
    await Promise.all(Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 3; i++) acked.add(await log.append(enc.encode(`w${w}-${i}`)));
    }));
    await log.close();
  } catch (err) {
    if (
      !(err instanceof SimulatedCrash) && (err as { code?: string }).code !== "EPOISONED" &&
      !(err instanceof SimulatedCrash)
    ) throw err;
  }
  return { acked, fs };
}

test("CrashAtEveryStepWithConcurrentAppendersLosesNothingAcknowledged", async () => {
  let k = 0;
  let states = 0;
  for (; k < 200; k++) {
    const { acked, fs } = await crashRun(k, "fdatasync");
    for (const variant of [{}, { keep: () => true as const }]) {
      const { list, report } = await records(fs.crash(variant));
      states++;
      assert.equal(report.damage, null, `k=${k}`);
      const seqs = list.map((r) => r.sequence);
      for (let i = 0; i < seqs.length; i++) assert.equal(seqs[i], i + 1, `k=${k}: in order, no gaps, no duplicates`);
      for (const a of acked) assert.ok(seqs.includes(a), `k=${k}: acknowledged record ${a} lost`);
    }
    if (acked.size === 12) break; // the workload completed before the crash point
  }
  assert.ok(k > 5 && states > 10, `explored ${states} crash states`);
});

test("DurabilityNoneLosesAcknowledgedRecords", async () => {
  let lost = 0;
  for (let k = 0; k < 60; k++) {
    const { acked, fs } = await crashRun(k, "none");
    const seqs = new Set((await records(fs.crash())).list.map((r) => r.sequence));
    for (const a of acked) if (!seqs.has(a)) lost++;
  }
  assert.ok(lost > 0, "durability: none must be shown to lose acknowledged appends");
});

/** Wraps a MemoryFs so the nth datasync/sync or write of segment files fails with an errno. */
function failing(fs: MemoryFs, op: "sync" | "write", nth: number, errno: string): MemoryFs {
  let count = 0;
  const open = fs.open.bind(fs);
  fs.open = async (path, o) => {
    const h: FileHandle = await open(path, o);
    if (!path.includes("seg-")) return h;
    const wrap =
      <T extends unknown[]>(fn: (...a: T) => Promise<unknown>, isOp: boolean, sync: boolean) => async (...a: T) => {
        if (isOp && ++count === nth) {
          throw sync ? new DurabilityError(errno, "fdatasync", path) : new FsError(errno, "write", path);
        }
        return fn(...a);
      };
    return {
      ...h,
      path: h.path,
      read: h.read.bind(h),
      size: h.size.bind(h),
      close: h.close.bind(h),
      truncate: h.truncate.bind(h),
      write: wrap(h.write.bind(h), op === "write", false) as FileHandle["write"],
      sync: wrap(h.sync.bind(h), op === "sync", true) as FileHandle["sync"],
      datasync: wrap(h.datasync.bind(h), op === "sync", true) as FileHandle["datasync"],
    };
  };
  return fs;
}

test("FsyncErrorPoisonsTheLogAndReopeningRecovers", async () => {
  const fs = failing(await fresh(), "sync", 4, "EIO");
  const log: Log = await openLog("/log", { fs });
  const ok: number[] = [];
  for (let i = 1; i <= 2; i++) ok.push(await log.append(rec(i)));
  await assert.rejects(log.append(rec(3)), (e: unknown) => e instanceof DurabilityError && e.errno === "EIO");
  await assert.rejects(log.append(rec(4)), (e: unknown) => (e as { code?: string }).code === "EPOISONED");
  await log.close();
  const again = await openLog("/log", { fs: fs.crash() });
  const seqs = (await records(again.fs as MemoryFs)).list.map((r) => r.sequence);
  for (const s of ok) assert.ok(seqs.includes(s), "records acknowledged before the failure survive");
  await again.close();
});

test("EnospcOnWriteRejectsAndLosesNothingAcknowledged", async () => {
  const fs = failing(await fresh(), "write", 4, "ENOSPC");
  const log = await openLog("/log", { fs });
  const ok: number[] = [];
  for (let i = 1; i <= 2; i++) ok.push(await log.append(rec(i)));
  await assert.rejects(log.append(rec(3)), (e: unknown) => e instanceof FsError && e.errno === "ENOSPC");
  await log.close();
  const seqs = (await records(fs.crash())).list.map((r) => r.sequence);
  assert.deepEqual(seqs.slice(0, 2), ok);
});

test("ASecondWriterIsRefused", async () => {
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  await assert.rejects(openLog("/log", { fs }), LockedError);
  await log.close();
});

test("ReplayAcrossReadWindowBoundaries", async () => {
  // Records of odd sizes straddle the scanner's 1 MiB read window, and one is larger than it.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  const sizes: number[] = [];
  for (let i = 0; i < 3000; i++) sizes.push(100 + ((i * 37) % 900));
  sizes.splice(2900, 0, 1_500_000); // late, so ordinary straddles happen in the first window first
  await Promise.all(sizes.map((n, i) => log.append(new Uint8Array(n).fill(i & 255))));
  await log.close();
  const { list, report } = await records(fs);
  assert.equal(report.damage, null);
  assert.equal(list.length, sizes.length);
  list.forEach((r, i) => {
    assert.equal(r.payload.length, sizes[i], `record ${i + 1}`);
    assert.equal(r.payload[r.payload.length - 1], i & 255);
  });
});
