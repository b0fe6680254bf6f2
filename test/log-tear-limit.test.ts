// The torn-tail rule (docs/LOG.md): bytes after the last good record may be cut as a torn write
// only if the one write in flight at a crash could have left them. A group commit writes at most
// MAX_BATCH_BYTES; only a single larger record goes alone, and its header says its length.
// Both sides: every cut of the largest writes the log makes is still a tear; a tail longer than
// any write could be, or longer than the record its header claims, is damage that append refuses
// and repair keeps in its side file.
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { UsageError } from "../src/errors.ts";
import type { FileHandle } from "../src/fs.ts";
import {
  MAX_BATCH_BYTES,
  MAX_RECORD_PAYLOAD,
  RECORD_BATCH,
  RECORD_DATA,
  RECORD_HEADER_SIZE,
  RECORD_MARKER,
  SEGMENT_HEADER_SIZE,
  segmentName,
  SKIP_RECORD_SIZE,
} from "../src/wal/format.ts";
import { LogDamageError, openLog, replayLog } from "../src/wal/log.ts";
import { repairLog } from "../src/wal/repair.ts";
import { MAX_WRITE_BYTES, tornTailVerdict } from "../src/wal/scan.ts";
import { randomBytes, rng, test } from "./kit.ts";
import { flipped } from "./lib/damage.ts";
import { concat, freshLogFs, SEG, tornLength } from "./lib/log-helpers.ts";

const enc = new TextEncoder();
const fresh = freshLogFs;

/** Records the length and bytes of every write into a segment after its header. */
function recordingWrites(fs: MemoryFs): Uint8Array[] {
  const writes: Uint8Array[] = [];
  const open = fs.open.bind(fs);
  fs.open = async (path, o) => {
    const h: FileHandle = await open(path, o);
    if (!path.includes("seg-")) return h;
    const write = h.write.bind(h);
    h.write = async (data: Uint8Array, position: number) => {
      if (position >= SEGMENT_HEADER_SIZE) writes.push(data.slice());
      return write(data, position);
    };
    return h;
  };
  return writes;
}

async function scan(fs: MemoryFs): Promise<{ seqs: number[]; report: Awaited<ReturnType<typeof replayLog>> }> {
  const seqs: number[] = [];
  const report = await replayLog("/log", {
    fs,
    onRecord: (r) => {
      seqs.push(r.sequence);
    },
  });
  return { seqs, report };
}

/** A record header as the writer makes it (CRC left zero: the rule never looks at it). */
function header(type: number, length: number, seq: number): Uint8Array {
  const h = new Uint8Array(RECORD_HEADER_SIZE);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, 0x12345678, true);
  dv.setUint32(4, length, true);
  h[8] = type;
  dv.setBigUint64(12, BigInt(seq), true);
  return h;
}

test("EveryWriteOfTheLogIsAtMostOneBatchOrOneRecordAlone", async () => {
  // Concurrent appends of mixed sizes, appendMany batches, markers and records larger than a
  // batch, with the default policy and with a record cap that never binds: each write into a
  // segment is at most MAX_BATCH_BYTES, or exactly one record. The reader's rule rests on this.
  for (const maxBatchRecords of [4096, 1 << 20]) {
    const fs = await fresh();
    const writes = recordingWrites(fs);
    const log = await openLog("/log", { fs, maxBatchRecords, maxSegmentBytes: 256 << 20 });
    const next = rng(7);
    const work: Promise<number>[] = [];
    for (let i = 0; i < 2500; i++) {
      const kind = next();
      if (i === 1200 || i === 2400) {
        work.push(log.append(new Uint8Array(MAX_BATCH_BYTES + Math.floor(next() * (2 << 20)))));
      } else if (kind < 0.05) {
        work.push(
          log.appendMany(
            Array.from({ length: 1 + Math.floor(next() * 10) }, () => new Uint8Array(Math.floor(next() * 10_000))),
          ),
        );
      } else if (kind < 0.06) work.push(log.mark(i));
      else work.push(log.append(new Uint8Array(Math.floor(next() * 16_000))));
    }
    await Promise.all(work);
    await log.close();
    assert.ok(writes.some((w) => w.length > MAX_BATCH_BYTES), "a record larger than a batch was written");
    assert.ok(
      writes.some((w) => w.length > MAX_BATCH_BYTES * 0.9 && w.length <= MAX_BATCH_BYTES),
      "group commits filled up to the limit",
    );
    for (const w of writes) {
      if (w.length <= MAX_BATCH_BYTES) continue;
      const len = new DataView(w.buffer).getUint32(4, true);
      assert.equal(w.length, RECORD_HEADER_SIZE + len, `a ${w.length}-byte write is one record alone`);
    }
    assert.equal((await scan(fs)).report.damage, null);
  }
});

test("AMaximalGroupCommitTornAtEveryOffsetIsATear", async () => {
  // 4096 records of 2048 bytes appended at once: one group commit of exactly MAX_BATCH_BYTES, at
  // both caps (maxBatchRecords and maxBatchBytes). Torn at every byte offset — as a prefix, or
  // with the file size reaching the disk and the data from that offset on not (zeros) — the
  // bytes after the last whole record are a tear by the rule; the scanner agrees at the edges
  // and at a spread of offsets inside.
  const fs = await fresh();
  const writes = recordingWrites(fs);
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("acknowledged"));
  const base = fs.peek(SEG)!.length;
  const RECLEN = MAX_BATCH_BYTES / 4096;
  const syncs = log.syncs;
  await Promise.all(
    Array.from({ length: 4096 }, (_, i) => log.append(new Uint8Array(RECLEN - RECORD_HEADER_SIZE).fill(i & 255))),
  );
  assert.equal(log.syncs, syncs + 1, "one group commit");
  await log.close();
  const batch = writes[writes.length - 1]!;
  assert.equal(batch.length, MAX_BATCH_BYTES, "the batch is as large as a batch may be");
  const full = fs.peek(SEG)!.slice();
  assert.equal(full.length, base + MAX_BATCH_BYTES);

  // Every offset, by the rule: the tail starts at the record the cut falls in.
  const verdict = tornTailVerdict;
  let tears = 0;
  for (let c = 1; c < MAX_BATCH_BYTES; c++) {
    const start = c - (c % RECLEN);
    const seq = 2 + start / RECLEN;
    const prefix = c - start; // a prefix tear: the file ends at c
    if (prefix > 0) {
      if (verdict(prefix, batch, start, seq) !== undefined) assert.fail(`prefix cut ${c}`);
      tears++;
    }
    const zeroed = MAX_BATCH_BYTES - start; // size durable, data from c on lost
    if (verdict(zeroed, batch, start, seq) !== undefined) assert.fail(`zeros from ${c}`);
  }
  assert.equal(tears, MAX_BATCH_BYTES - 4096);

  // The scanner: every offset of the first and of the last record, and a spread in between.
  const cuts = new Set<number>();
  for (let c = 1; c < RECLEN; c++) cuts.add(c);
  for (let c = 1; c <= 64; c++) cuts.add(MAX_BATCH_BYTES - c);
  for (const c of [MAX_BATCH_BYTES - RECLEN + 1, MAX_BATCH_BYTES - RECLEN + RECORD_HEADER_SIZE]) cuts.add(c);
  const next = rng(11);
  for (let i = 0; i < 40; i++) cuts.add(1 + Math.floor(next() * (MAX_BATCH_BYTES - 1)));
  for (const c of cuts) {
    const cut = full.subarray(0, base + c);
    fs.poke(SEG, cut);
    const { seqs, report } = await scan(fs);
    assert.equal(report.damage, null, `cut ${c}: ${JSON.stringify(report.damage)}`);
    // (Record 2's payload is zeros: a prefix ending in them is torn only up to their sector.)
    assert.equal(report.truncatedBytes, tornLength(cut, base + c - (c % RECLEN)), `cut ${c}`);
    assert.equal(seqs.length, 1 + Math.floor(c / RECLEN), `cut ${c}`);
  }
  // From a sector boundary in the middle on, the batch lost, its size durable (a disk loses whole
  // sectors): a tear up to those zeros; then the whole batch lost: only zeros, unused space, as in
  // a preallocated segment — nothing to cut, and nothing there was acknowledged.
  // (Record 2048's payload is zeros, so losing it changes nothing: start in record 2049.)
  const mid = Math.ceil((base + MAX_BATCH_BYTES / 2 + RECLEN + 5) / 512) * 512 - base;
  for (const lostFrom of [mid, 0]) {
    const zeroed = full.slice();
    zeroed.fill(0, base + lostFrom);
    fs.poke(SEG, zeroed);
    const { seqs, report } = await scan(fs);
    const start = lostFrom - (lostFrom % RECLEN);
    assert.equal(report.damage, null, `zeros from ${lostFrom}`);
    assert.equal(report.truncatedBytes, tornLength(zeroed, base + start));
    assert.equal(seqs.length, 1 + start / RECLEN);
    if (lostFrom === 0) break;
    // Opening for append cuts the tear into a side file (the zeros after it stay, unused); the
    // next sequence is above every one the cut bytes may have held (guarantee 11).
    const again = await openLog("/log", { fs, maxSegmentBytes: 256 << 20 }); // no rotation
    assert.equal(again.recovery.truncatedBytes, report.truncatedBytes);
    assert.deepEqual(
      fs.peek(`/log/${again.recovery.sideFile}`),
      zeroed.subarray(base + start, base + start + report.truncatedBytes),
    );
    assert.ok(await again.append(enc.encode("after the tear")) > 1 + start / RECLEN);
    await again.close();
  }
});

test("TheLargestRecordTornAtEveryOffsetIsATearAndOneByteMoreIsNot", async () => {
  // A record of MAX_RECORD_PAYLOAD bytes is the longest write the log makes. By the rule, its
  // prefixes are tears — every length within 1 MiB of the start, of the batch limit and of the
  // end, and a prime stride between (the verdict is monotone in the length: all 64 Mi of them
  // take seconds and prove no more) — and so is the whole of it with its header sector lost
  // (zeros), on either side of any split point inside the header. A byte more is never a tear.
  const E = 5;
  const h = header(RECORD_DATA, MAX_RECORD_PAYLOAD, E);
  const MiB = 1 << 20;
  const verdict = tornTailVerdict;
  const prefixes = [[1, MiB], [MAX_BATCH_BYTES - MiB, MAX_BATCH_BYTES + MiB], [
    MAX_WRITE_BYTES - MiB,
    MAX_WRITE_BYTES,
  ]] as const;
  for (const [from, to] of prefixes) {
    for (let t = from; t <= to; t++) {
      if (verdict(t, h, 0, E) !== undefined) assert.fail(`a ${t}-byte prefix of the largest record`);
    }
  }
  for (let t = 1; t <= MAX_WRITE_BYTES; t += 509) {
    if (verdict(t, h, 0, E) !== undefined) assert.fail(`a ${t}-byte prefix of the largest record`);
  }
  assert.match(tornTailVerdict(MAX_WRITE_BYTES + 1, h, 0, E) ?? "", /not a torn write/);
  const batchHeader = header(RECORD_BATCH, MAX_RECORD_PAYLOAD, E);
  assert.equal(tornTailVerdict(MAX_WRITE_BYTES, batchHeader, 0, E), undefined, "appendMany's batch record too");
  for (let k = 0; k <= RECORD_HEADER_SIZE; k++) {
    const front = h.slice();
    front.fill(0, 0, k);
    const back = h.slice();
    back.fill(0, k);
    assert.equal(tornTailVerdict(MAX_WRITE_BYTES, front, 0, E), undefined, `header bytes before ${k} lost`);
    assert.equal(tornTailVerdict(MAX_WRITE_BYTES, back, 0, E), undefined, `header bytes from ${k} lost`);
  }
  // Just past a batch, anything but a header that claims the tail is damage.
  const T = MAX_BATCH_BYTES + 1;
  const claimsT = header(RECORD_DATA, T - RECORD_HEADER_SIZE, E);
  assert.equal(tornTailVerdict(T, claimsT, 0, E), undefined, "a header claiming exactly the tail");
  assert.equal(
    tornTailVerdict(MAX_BATCH_BYTES, new Uint8Array(20).fill(0xee), 0, E),
    undefined,
    "any bytes up to a batch",
  );
  const refused: [string, Uint8Array][] = [
    ["garbage", new Uint8Array(20).fill(0xee)],
    ["a record one byte shorter than the tail", header(RECORD_DATA, T - RECORD_HEADER_SIZE - 1, E)],
    ["the next sequence", header(RECORD_DATA, MAX_RECORD_PAYLOAD, E + 1)],
    ["an earlier sequence", header(RECORD_DATA, MAX_RECORD_PAYLOAD, E - 1)],
    ["a marker", header(RECORD_MARKER, MAX_RECORD_PAYLOAD, E)],
    ["a length beyond the limit", header(RECORD_DATA, MAX_RECORD_PAYLOAD + 1, E)],
    [
      "nonzero reserved bytes",
      (() => {
        const x = header(RECORD_DATA, MAX_RECORD_PAYLOAD, E);
        x[10] = 1;
        return x;
      })(),
    ],
    [
      "zeros around a wrong sequence",
      (() => {
        const x = header(RECORD_DATA, MAX_RECORD_PAYLOAD, E + 256);
        x.fill(0, 0, 9);
        return x;
      })(),
    ],
  ];
  for (const [what, bytes] of refused) assert.match(tornTailVerdict(T, bytes, 0, E) ?? "", /not a torn write/, what);
  // A sequence above 2^32 is compared in full.
  const big = 2 ** 40 + 3;
  assert.equal(tornTailVerdict(T, header(RECORD_DATA, MAX_RECORD_PAYLOAD, big), 0, big), undefined);
  assert.notEqual(tornTailVerdict(T, header(RECORD_DATA, MAX_RECORD_PAYLOAD, big), 0, 3), undefined);
});

test("TheLargestRecordTornInTheScannerIsATearAndWithOneMoreByteIsDamage", async () => {
  // End to end with a real maximal record: a prefix one byte short of it is cut; the whole of it
  // (CRC failing) plus one byte is kept as damage, since no single write could have left that.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("first"));
  await log.close();
  const good = fs.peek(SEG)!.slice();
  // A payload that ends in nonzero bytes: zeros after a header are a record whose sectors did not
  // land, whatever follows them (a preallocated segment's unused space), so they prove nothing.
  const rec = new Uint8Array(MAX_WRITE_BYTES + 1).fill(0x5a, MAX_WRITE_BYTES - 1023);
  rec.set(header(RECORD_DATA, MAX_RECORD_PAYLOAD, 2), 0); // CRC wrong
  fs.poke(SEG, concat([good, rec.subarray(0, MAX_WRITE_BYTES - 1)]));
  let r = await scan(fs);
  assert.deepEqual(r.seqs, [1]);
  assert.equal(r.report.damage, null);
  assert.equal(r.report.truncatedBytes, MAX_WRITE_BYTES - 1);
  fs.poke(SEG, concat([good, rec]));
  r = await scan(fs);
  assert.deepEqual(r.seqs, [1]);
  assert.equal(r.report.truncatedBytes, 0);
  assert.deepEqual({ sequence: r.report.damage?.sequence, offset: r.report.damage?.offset }, {
    sequence: 2,
    offset: good.length,
  });
  assert.match(r.report.damage!.reason, /longest write/);
});

test("ARecordLargerThanABatchTornOrWithItsHeaderSectorLostIsATear", async () => {
  const fs = await fresh();
  const writes = recordingWrites(fs);
  const log = await openLog("/log", { fs });
  for (let i = 1; i <= 3; i++) await log.append(enc.encode(`small ${i}`));
  const base = fs.peek(SEG)!.length;
  const L = MAX_BATCH_BYTES + (1 << 20);
  const big = randomBytes(L, rng(3));
  assert.equal(await log.append(big), 4);
  await log.close();
  assert.equal(writes[writes.length - 1]!.length, RECORD_HEADER_SIZE + L, "written alone");
  const full = fs.peek(SEG)!.slice();
  const size = RECORD_HEADER_SIZE + L;
  for (const t of [1, 19, 20, 21, MAX_BATCH_BYTES, MAX_BATCH_BYTES + 1, size - 1]) {
    fs.poke(SEG, full.subarray(0, base + t));
    const { seqs, report } = await scan(fs);
    assert.deepEqual(seqs, [1, 2, 3], `prefix of ${t}`);
    assert.equal(report.damage, null, `prefix of ${t}: ${JSON.stringify(report.damage)}`);
    assert.equal(report.truncatedBytes, t);
  }
  // Sector-granular loss: the header's sector (and, straddling, the next) reads back as zeros.
  // The header is moved so a sector boundary splits it at k, for several k.
  const sector = (at: number) => Math.ceil(at / 512) * 512;
  for (
    const lose of [[0, sector(base) - base], [0, sector(base) - base + 512], [
      sector(base) - base,
      sector(base) - base + 512,
    ], [0, L]]
  ) {
    const b = full.slice();
    b.fill(0, base + lose[0]!, base + lose[1]!);
    fs.poke(SEG, b);
    const { report } = await scan(fs);
    assert.equal(report.damage, null, `bytes ${lose} of the record lost: ${JSON.stringify(report.damage)}`);
    assert.equal(report.truncatedBytes, size);
  }
  // A bit flip inside the complete record (its CRC fails, no sector of zeros): it may have been
  // acknowledged, so it is damage (guarantee 11), not a tear.
  fs.poke(SEG, flipped(full, base + RECORD_HEADER_SIZE + 5_000_000, 4));
  const r = (await scan(fs)).report;
  assert.equal(r.truncatedBytes, 0);
  assert.equal(r.damage?.sequence, 4);
  await assert.rejects(openLog("/log", { fs }), LogDamageError);
  // Lost sectors (the size durable): a tear, cut into a side file; the log goes on above 4.
  const lost = full.slice();
  lost.fill(0, sector(base) + 4096, sector(base) + 8192);
  fs.poke(SEG, lost);
  const reopened = await openLog("/log", { fs });
  assert.equal(reopened.recovery.truncatedBytes, size);
  assert.deepEqual(fs.peek(`/log/${reopened.recovery.sideFile}`), lost.subarray(base));
  assert.ok(await reopened.append(enc.encode("again")) > 4);
  await reopened.close();
});

test("BytesBeyondTheRecordTheHeaderClaimsAreDamageAndRepairKeepsThem", async () => {
  // The same oversized record, complete (CRC failing) and followed by bytes it does not cover:
  // no write lays down more than its one record, so this is not a tear.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("one"));
  await log.append(new Uint8Array(10 << 20).fill(9));
  await log.close();
  const second = SEGMENT_HEADER_SIZE + RECORD_HEADER_SIZE + 3;
  const full = flipped(fs.peek(SEG)!, second + 100, 1); // the big record's payload: its CRC fails
  for (const extra of [1, 1000]) {
    const bad = concat([full, new Uint8Array(extra).fill(0x5a)]);
    fs.poke(SEG, bad);
    const { seqs, report } = await scan(fs);
    assert.deepEqual(seqs, [1]);
    assert.equal(report.truncatedBytes, 0);
    assert.deepEqual({ sequence: report.damage?.sequence, offset: report.damage?.offset }, {
      sequence: 2,
      offset: second,
    }, `${extra} bytes past the record`);
    assert.match(report.damage!.reason, /no header of a record of sequence 2 that long/);
  }
  await assert.rejects(
    openLog("/log", { fs }),
    (e: unknown) => e instanceof LogDamageError && /ckpt log repair/.test((e as Error).message),
  );
  const bad = fs.peek(SEG)!.slice();
  const fixed = await repairLog("/log", { fs });
  assert.equal(fixed.repaired, true);
  assert.deepEqual(
    fs.peek(`/log/${fixed.sideFiles[0]}`),
    bad.subarray(second),
    "the side file holds every byte from the damage on",
  );
  assert.deepEqual(fs.peek(SEG)!.subarray(0, second), bad.subarray(0, second));
  assert.equal(fs.peek(SEG)!.length, second + SKIP_RECORD_SIZE, "then a skip record past the moved sequence");
  assert.ok(fixed.nextSequence > 2, "above the damaged record's sequence (bounded by the moved bytes' length)");
});

test("GarbageAfterTheLastRecordIsDamageNotCut", async () => {
  // The audit's case: the last valid record followed by random bytes. No crash writes a header
  // that is neither the writer's nor zeros, so at any length they are damage: replay reports
  // it, opening for append refuses and names repair, and repair moves the bytes into its side
  // file. Beyond MAX_BATCH_BYTES the length rule alone already says so.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  for (let i = 1; i <= 3; i++) await log.append(enc.encode(`record ${i}`));
  await log.close();
  const good = fs.peek(SEG)!.slice();
  const garbage = randomBytes(MAX_BATCH_BYTES + 1, rng(99));
  fs.poke(SEG, concat([good, garbage.subarray(0, MAX_BATCH_BYTES)]));
  let r = await scan(fs);
  assert.equal(r.report.damage?.sequence, 4, "a batch's worth of garbage is not a torn group commit");
  assert.match(r.report.damage!.reason, /neither zeros nor the header of record 4|not the header of record 4/);
  assert.equal(r.report.truncatedBytes, 0);

  const bad = concat([good, garbage]);
  fs.poke(SEG, bad);
  r = await scan(fs);
  assert.deepEqual(r.seqs, [1, 2, 3]);
  assert.deepEqual({
    recovered: r.report.recovered,
    discarded: r.report.discarded,
    lastSequence: r.report.lastSequence,
    truncatedBytes: r.report.truncatedBytes,
  }, { recovered: 3, discarded: 0, lastSequence: 3, truncatedBytes: 0 });
  assert.deepEqual({ sequence: r.report.damage?.sequence, offset: r.report.damage?.offset }, {
    sequence: 4,
    offset: good.length,
  });
  assert.match(r.report.damage!.reason, /more than one group commit writes/);
  assert.deepEqual(fs.peek(SEG), bad, "replay never modifies the log");
  const salvaged = await replayLog("/log", { fs, salvage: true });
  assert.equal(salvaged.recovered, 3);
  assert.notEqual(salvaged.damage, null);

  await assert.rejects(
    openLog("/log", { fs }),
    (e: unknown) => e instanceof LogDamageError && /ckpt log repair/.test((e as Error).message),
  );
  assert.deepEqual(fs.peek(SEG), bad, "a refused open cuts nothing");
  const fixed = await repairLog("/log", { fs });
  assert.deepEqual({
    repaired: fixed.repaired,
    truncatedBytes: fixed.truncatedBytes,
    lastSequence: fixed.lastSequence,
    sides: fixed.sideFiles.length,
  }, { repaired: true, truncatedBytes: garbage.length, lastSequence: 3, sides: 1 });
  assert.deepEqual(fs.peek(`/log/${fixed.sideFiles[0]}`), garbage, "the side file holds the garbage exactly");
  assert.deepEqual(fs.peek(SEG)!.subarray(0, good.length), good);
  const after = await repairLog("/log", { fs: fs.crash() });
  assert.equal(after.repaired, false, "the repair was durable");
  const again = await openLog("/log", { fs });
  const seq = await again.append(enc.encode("record 4"));
  assert.ok(seq > 4, "above anything the garbage could have held");
  await again.close();
  assert.deepEqual((await scan(fs)).seqs, [1, 2, 3, seq]);
});

test("ZerosAfterTheLastRecordAreUnusedSpaceAtAnyLength", async () => {
  // Zeros after the last record are what a preallocated segment holds there: no record, no tear,
  // no damage, whatever their length (before preallocation, zeros longer than the longest write
  // were damage). Appends overwrite them in place.
  const fs = await fresh();
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("kept"));
  await log.close();
  const good = fs.peek(SEG)!.slice();
  const withZeros = (n: number) => {
    const b = new Uint8Array(good.length + n);
    b.set(good);
    return b;
  };
  fs.poke(SEG, withZeros(MAX_WRITE_BYTES + 1));
  const { report } = await scan(fs);
  assert.deepEqual({ truncatedBytes: report.truncatedBytes, damage: report.damage, recovered: report.recovered }, {
    truncatedBytes: 0,
    damage: null,
    recovered: 1,
  });
  const again = await openLog("/log", { fs });
  assert.equal(again.recovery.sideFile, null);
  assert.equal(await again.append(enc.encode("next")), 2);
  await again.close();
  assert.equal(fs.peek(SEG)!.length, good.length + MAX_WRITE_BYTES + 1, "overwritten in place");
  assert.deepEqual((await scan(fs)).seqs, [1, 2]);
});

test("AZeroHeaderLastSegmentIsATornCreationOnlyIfNothingFollowsTheHeader", async () => {
  // A new segment's header is written and synced before any record, so a crash while creating it
  // leaves at most 32 bytes. More behind a zero header is damage: kept, never unlinked.
  for (const extra of [0, 1, 5000]) {
    const fs = await fresh();
    const log = await openLog("/log", { fs, maxSegmentBytes: 1 });
    await log.append(enc.encode("one"));
    await log.close();
    const second = `/log/${segmentName(2)}`;
    const body = randomBytes(extra, rng(extra));
    const bytes = concat([new Uint8Array(SEGMENT_HEADER_SIZE), body]);
    const h = await fs.open(second, { write: true, create: true });
    await h.close();
    await fs.syncDir("/log");
    fs.poke(second, bytes);
    const { seqs, report } = await scan(fs);
    assert.deepEqual(seqs, [1]);
    if (extra === 0) {
      assert.equal(report.tornSegmentHeader, true);
      assert.equal(report.damage, null);
      const again = await openLog("/log", { fs });
      assert.equal(await again.append(enc.encode("two")), 2);
      await again.close();
      continue;
    }
    assert.equal(report.tornSegmentHeader, false);
    assert.equal(report.truncatedBytes, 0);
    assert.deepEqual({
      segment: report.damage?.segment,
      offset: report.damage?.offset,
      sequence: report.damage?.sequence,
    }, { segment: segmentName(2), offset: 0, sequence: 2 });
    assert.match(report.damage!.reason, /header is zeros, yet/);
    await assert.rejects(openLog("/log", { fs }), LogDamageError);
    assert.deepEqual(fs.peek(second), bytes, "not unlinked");
    const fixed = await repairLog("/log", { fs });
    assert.deepEqual(fs.peek(`/log/${fixed.sideFiles[0]}`), bytes, "repair keeps the whole segment");
    assert.equal(fs.peek(second), undefined);
  }
});

test("TheWriterRefusesABatchLimitAboveTheFormatsBound", async () => {
  const fs = await fresh();
  await assert.rejects(openLog("/log", { fs, maxBatchBytes: MAX_BATCH_BYTES + 1 }), UsageError);
  await assert.rejects(openLog("/log", { fs, maxBatchBytes: 0 }), UsageError);
  await assert.rejects(openLog("/log", { fs, maxBatchRecords: 0 }), UsageError);
  const log = await openLog("/log", { fs, maxBatchBytes: MAX_BATCH_BYTES });
  await log.close();
  // Nothing was locked or created by the refused opens.
  assert.deepEqual((await fs.readdir("/log")).filter((n) => n.startsWith("seg-")), []);
});
