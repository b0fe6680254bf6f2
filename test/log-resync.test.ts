// Resynchronization after a bad record: what the scanner may accept as "the next record", how
// it tells a torn tail from damage when payloads embed log records, and that crafted input
// cannot make it hash quadratically. Also the power-loss case the simulator does not tear on its
// own: an in-flight batch whose later sector reached the disk but an earlier one did not.
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import type { LogRecord } from "../src/wal/scan.ts";
import {
  encodeRecord,
  encodeSegmentHeader,
  RECORD_DATA,
  RECORD_HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
} from "../src/wal/format.ts";
import { test } from "./kit.ts";
import { flipInMemory, flipped } from "./lib/damage.ts";
import { concat, freshLogFs, SEG } from "./lib/log-helpers.ts";

const enc = new TextEncoder();
const fresh = freshLogFs;

async function scan(
  fs: MemoryFs,
  salvage = false,
): Promise<{ seqs: number[]; report: Awaited<ReturnType<typeof replayLog>> }> {
  const seqs: number[] = [];
  const report = await replayLog("/log", {
    fs,
    salvage,
    onRecord: (r: LogRecord) => {
      seqs.push(r.sequence);
    },
  });
  return { seqs, report };
}

test("SalvageSkipsAStaleCopyOfAnEarlierRecordInsteadOfReturningItTwice", async () => {
  const fs = await fresh();
  const r = (seq: number) => encodeRecord(RECORD_DATA, seq, enc.encode(`payload ${seq}`));
  const damaged = flipped(r(3), RECORD_HEADER_SIZE + 2, 0x10);
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("placeholder"));
  await log.close();
  // 1, 2, a damaged 3, a byte-exact copy of 2 (valid CRC, stale sequence), 4, 5.
  fs.poke(SEG, concat([encodeSegmentHeader(1), r(1), r(2), damaged, r(2), r(4), r(5)]));
  const plain = await scan(fs);
  assert.deepEqual(plain.seqs, [1, 2]);
  assert.equal(plain.report.damage?.sequence, 3);
  const salvaged = await scan(fs, true);
  assert.deepEqual(salvaged.seqs, [1, 2, 4, 5], "salvage returns each sequence once, in increasing order");
});

test("TornRecordWhosePayloadEmbedsAnEarlierRecordIsATornTailAtEveryCut", async () => {
  // A log of log records: record 3's payload is the full encoding of record 1. Cutting record 3
  // leaves a valid-looking record 1 inside the torn bytes; it must not turn the tear into damage.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("first"));
  await log.append(enc.encode("second"));
  const embedded = concat([new Uint8Array(7), encodeRecord(RECORD_DATA, 1, enc.encode("first")), new Uint8Array(5)]);
  await log.append(embedded);
  await log.close();
  const full = fs.peek(SEG)!.slice();
  const lastLen = RECORD_HEADER_SIZE + embedded.length;
  for (let cut = 1; cut < lastLen; cut++) {
    fs.poke(SEG, full.subarray(0, full.length - cut));
    const { seqs, report } = await scan(fs);
    assert.deepEqual(seqs, [1, 2], `cut ${cut}`);
    assert.equal(report.damage, null, `cut ${cut}: a torn tail, not damage`);
    // Bytes that are all zeros are unused space (a preallocated segment's), not a torn write.
    const zeros = full.subarray(full.length - lastLen, full.length - cut).every((b) => b === 0);
    assert.equal(report.truncatedBytes, zeros ? 0 : lastLen - cut, `cut ${cut}`);
  }
  const reopened = await openLog("/log", { fs });
  assert.equal(await reopened.append(enc.encode("third")), 3);
  await reopened.close();
});

test("SalvageResynchronizesAcrossTheReadWindowInsideALargeDamagedRecord", async () => {
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  const sizes = [300, 2_500_000, 300, 700, 1_200_000, 90];
  for (const [i, n] of sizes.entries()) await log.append(new Uint8Array(n).fill(i + 1));
  await log.close();
  // Damage the 2.5 MB record's payload: the scanner must walk its bytes across window refills.
  flipInMemory(fs, SEG, SEGMENT_HEADER_SIZE + RECORD_HEADER_SIZE + 300 + RECORD_HEADER_SIZE + 1_000_000, 1);
  const plain = await scan(fs);
  assert.deepEqual(plain.seqs, [1]);
  assert.equal(plain.report.discarded, 4);
  const { seqs, report } = await scan(fs, true);
  assert.deepEqual(seqs, [1, 3, 4, 5, 6]);
  assert.equal(report.damage?.sequence, 2);
});

test("CraftedRecordHeadersEveryFewBytesAreDamageAfterBoundedWorkNotATornTail", async () => {
  // Every 16 bytes a header with a known type, zero reserved bytes, the expected sequence and a
  // 64 KiB length: each candidate needs a CRC over 64 KiB. Unbounded, this is ~1 GB of hashing
  // for a 256 KiB file; bounded, the scanner gives up and, having proven nothing, says damage.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("good"));
  await log.close();
  const pattern = new Uint8Array(16);
  const dv = new DataView(pattern.buffer);
  // Header at offset 8 inside each 16-byte cell: length at cell+12, type at cell+0 of the next.
  dv.setUint32(12, 65536, true);
  pattern[0] = RECORD_DATA;
  dv.setUint32(4, 2, true); // sequence low word (expected: 2), high word (cell+8) stays 0
  const garbage = new Uint8Array(256 * 1024);
  for (let o = 0; o < garbage.length; o += 16) garbage.set(pattern, o);
  fs.poke(SEG, concat([fs.peek(SEG)!, garbage]));
  const { seqs, report } = await scan(fs);
  assert.deepEqual(seqs, [1]);
  assert.notEqual(report.damage, null, "unproven garbage at the tail is damage, never silently cut");
  assert.equal(report.truncatedBytes, 0);
});

test("PowerLossKeepingALaterSectorOfTheInFlightBatchLosesNothingAcknowledged", async () => {
  // The simulator tears writes only as prefixes; a disk may also persist a later sector of the
  // in-flight write and lose an earlier one. Build that state by hand: 20 acknowledged records,
  // then an 80-record group commit that was never acknowledged, its second sector zeroed.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  for (let i = 1; i <= 20; i++) await log.append(enc.encode(`acknowledged ${i} `.repeat(3)));
  const acked = fs.peek(SEG)!.length;
  const syncs = log.syncs;
  await Promise.all(Array.from({ length: 80 }, (_, i) => log.append(enc.encode(`in flight ${i} `.repeat(4)))));
  assert.equal(log.syncs, syncs + 1, "the 80 records went out as one write and one sync");
  await log.close();
  const bytes = fs.peek(SEG)!.slice();
  const hole = Math.ceil((acked + 1) / 512) * 512 + 512;
  assert.ok(hole + 1024 < bytes.length);
  bytes.fill(0, hole, hole + 512);
  fs.poke(SEG, bytes);
  const { seqs, report } = await scan(fs);
  for (let i = 1; i <= 20; i++) assert.equal(seqs[i - 1], i, "every acknowledged record replays, in order");
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, "no gap, no duplicate");
  // Valid records after the hole are later records of the same in-flight batch: a tear
  // (docs/LOG.md "The torn-tail rule"), so appending goes on without repair.
  assert.equal(report.damage, null);
  const cutFrom = bytes.length - report.truncatedBytes;
  assert.ok(cutFrom <= hole && report.truncatedBytes > 0);
  const again = await openLog("/log", { fs });
  assert.deepEqual(
    fs.peek(`/log/${again.recovery.sideFile}`),
    bytes.subarray(cutFrom),
    "the side file holds the cut bytes",
  );
  assert.equal(
    await again.append(enc.encode("after the tear")),
    101,
    "above the in-flight batch's sequences (21..100)",
  );
  await again.close();
  assert.equal((await scan(fs.crash())).report.damage, null);
});
