// Preallocated segments (docs/LOG.md "Preallocated segments"): a segment is created at its full
// size, zeros behind its header, fsynced with its directory; appends overwrite the zeros in place
// and fdatasync, so the file size never changes. The reader takes zeros after the last record for
// unused space, and guarantee 11's tear rule still holds inside that space: a record with a sector
// of zeros is torn, a complete record whose CRC fails (a flipped length bit included) is damage.
import assert from "node:assert/strict";
import process from "node:process";
import { MemoryFs, SECTOR, SimulatedCrash } from "../adapters/memory.ts";
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, segmentName } from "../src/wal/format.ts";
import { LogDamageError, openLog } from "../src/wal/log.ts";
import { SPARE_SEGMENT } from "../src/wal/zero-tail.ts";
import { test } from "./kit.ts";
import { flipped } from "./lib/damage.ts";
import {
  assertLastRecordDamaged,
  assertPrefixAfterReopen,
  dropLock,
  freshLogFs,
  scan,
  SEG,
} from "./lib/log-helpers.ts";

const enc = new TextEncoder();
const SEGMENT = 8192;

test("PreallocatedSegmentsKeepTheirSizeAndEachAppendIsOneWriteAndOneSync", async () => {
  const fs = await freshLogFs();
  const log = await openLog("/log", { fs, preallocate: true, maxSegmentBytes: SEGMENT });
  await log.append(enc.encode("first"));
  assert.equal(fs.peek(SEG)!.length, SEGMENT, "created at its full size");
  for (let i = 2; i <= 40; i++) {
    const mark = fs.trace.length;
    assert.equal(await log.append(enc.encode(`record ${i} `.repeat(10))), i);
    const ops = fs.trace.slice(mark).filter((t) => !t.startsWith("read") && !t.startsWith("open"));
    assert.deepEqual(ops.map((t) => t.split(" ")[0]), ["write", "fsync"], `append ${i}: ${ops.join("; ")}`);
    assert.equal(fs.peek(SEG)!.length, SEGMENT, `append ${i}: the size never changes`);
  }
  // Rotation: the next segment is preallocated too, with its header and name durable first.
  while (log.nextSequence < 80) await log.append(enc.encode("x".repeat(150)));
  await log.close();
  const segs = (await fs.readdir("/log")).filter((n) => n.endsWith(".wal")).sort();
  assert.ok(segs.length >= 2, segs.join());
  for (const name of segs) assert.ok(fs.peek(`/log/${name}`)!.length >= SEGMENT, name);
  const { seqs, report } = await scan(fs);
  assert.deepEqual(seqs, Array.from({ length: 79 }, (_, i) => i + 1));
  assert.deepEqual({ damage: report.damage, truncatedBytes: report.truncatedBytes }, {
    damage: null,
    truncatedBytes: 0,
  });
  const crashed = fs.crash(); // everything acknowledged is durable; nothing is pending
  await dropLock(crashed);
  assert.deepEqual((await scan(crashed)).seqs, seqs);
});

test("ALogWrittenWithoutPreallocationOpensAppendsAndRotatesIntoPreallocatedSegments", async () => {
  const fs = await freshLogFs();
  const old = await openLog("/log", { fs, preallocate: false, maxSegmentBytes: SEGMENT });
  for (let i = 1; i <= 5; i++) await old.append(enc.encode(`old ${i}`));
  await old.close();
  const oldSize = fs.peek(SEG)!.length;
  assert.ok(oldSize < 200);
  const log = await openLog("/log", { fs, preallocate: true, maxSegmentBytes: SEGMENT });
  assert.equal(log.recovery.sideFile, null);
  while (log.nextSequence < 120) await log.append(enc.encode("y".repeat(150)));
  await log.close();
  const segs = (await fs.readdir("/log")).filter((n) => n.endsWith(".wal")).sort();
  assert.ok(segs.length >= 2);
  assert.equal(fs.peek(`/log/${segs[1]}`)!.length, SEGMENT, "the new segment is preallocated");
  const { seqs, payloads, report } = await scan(fs);
  assert.equal(report.damage, null);
  assert.deepEqual(seqs, Array.from({ length: 119 }, (_, i) => i + 1));
  assert.equal(payloads.get(5), "old 5");
});

async function threeRecords(
  sizes = [30, 40, 700],
): Promise<{ fs: MemoryFs; full: Uint8Array; lastAt: number; end: number }> {
  const fs = await freshLogFs();
  const log = await openLog("/log", { fs, preallocate: true, maxSegmentBytes: SEGMENT });
  for (const [i, n] of sizes.entries()) await log.append(enc.encode(`record ${i + 1} `.repeat(n).slice(0, n)));
  await log.close();
  const full = fs.peek(SEG)!.slice();
  const end = SEGMENT_HEADER_SIZE + sizes.reduce((a, n) => a + RECORD_HEADER_SIZE + n, 0);
  return { fs, full, lastAt: end - RECORD_HEADER_SIZE - sizes[sizes.length - 1]!, end };
}

test("AFlippedBitInTheLastRecordOfAPreallocatedSegmentIsDamageAtEveryByteAndBit", async () => {
  // The zeros after the last record must not make a flipped length bit (which stretches the record
  // into them) or any other flip look like a lost sector.
  const { fs, full, lastAt, end } = await threeRecords([30, 40, 300]);
  for (let at = lastAt; at < end; at++) {
    for (let bit = 0; bit < 8; bit++) {
      await assertLastRecordDamaged(fs, flipped(full, at, 1 << bit), lastAt, `byte ${at - lastAt} bit ${bit}`);
    }
  }
  fs.poke(SEG, full);
  await assert.rejects(async () => {
    fs.poke(SEG, flipped(full, lastAt + 5, 1)); // the length field, stretched 256 bytes into the zeros
    await openLog("/log", { fs, preallocate: true });
  }, LogDamageError);
});

test("ASectorOfZerosInsideTheLastRecordIsATearCutWithoutShrinkingTheSegment", async () => {
  const { fs, full, lastAt, end } = await threeRecords([30, 40, 3000]);
  const sector = Math.ceil((lastAt + RECORD_HEADER_SIZE) / SECTOR) * SECTOR;
  const holed = full.slice();
  holed.fill(0, sector, sector + SECTOR); // a lost sector inside the record, later ones landed
  fs.poke(SEG, holed);
  let { report } = await scan(fs);
  assert.equal(report.damage, null);
  assert.equal(
    report.truncatedBytes,
    Math.ceil(end / SECTOR) * SECTOR - lastAt,
    "the tear ends with its last nonzero sector",
  );
  // The same zeros one byte off a sector boundary prove nothing: damage.
  const shifted = full.slice();
  shifted.fill(0, sector + 1, sector + SECTOR + 1);
  fs.poke(SEG, shifted);
  ({ report } = await scan(fs));
  assert.equal(report.damage?.sequence, 3);
  // The record's last sectors lost (they read as the preallocated zeros): a tear. Opening moves it
  // to a side file, zeros it in place (the segment keeps its size) and continues above 3.
  const tailLost = full.slice();
  tailLost.fill(0, sector);
  fs.poke(SEG, tailLost);
  const log = await openLog("/log", { fs, preallocate: true, maxSegmentBytes: SEGMENT });
  assert.deepEqual(fs.peek(`/log/${log.recovery.sideFile}`), tailLost.subarray(lastAt, sector));
  assert.equal(fs.peek(SEG)!.length, SEGMENT, "cut in place, not truncated");
  const seq = await log.append(enc.encode("after"));
  assert.ok(seq > 3);
  await log.close();
  const after = await scan(fs);
  assert.deepEqual(after.seqs, [1, 2, seq]);
  assert.equal(after.report.damage, null);
});

/** One run of concurrent appends into preallocated segments (with rotations), cut after `k` operations. */
async function workload(
  k: number,
  maxSegmentBytes: number,
  records: number,
  size: (w: number) => number,
): Promise<{ fs: MemoryFs; acked: Map<number, string>; sent: Set<string>; done: boolean }> {
  const fs = await freshLogFs();
  const acked = new Map<number, string>();
  const sent = new Set<string>();
  fs.crashAfter(k);
  let done = false;
  try {
    const log = await openLog("/log", { fs, preallocate: true, maxSegmentBytes });
    await Promise.all(Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < records / 4; i++) {
        const text = `writer ${w} record ${i} `.padEnd(size(w), "+");
        sent.add(text);
        acked.set(await log.append(enc.encode(text)), text);
      }
    }));
    await log.close();
    done = true;
  } catch (err) {
    if (!(err instanceof SimulatedCrash) && (err as { code?: string }).code !== "EPOISONED") throw err;
  }
  return { fs, acked, sent, done };
}

/** Crash states: nothing pending kept, everything, the last segment write torn at each sector, its earlier sectors lost. */
function crashStates(fs: MemoryFs): { name: string; fs: MemoryFs }[] {
  const out = [{ name: "none", fs: fs.crash() }, { name: "all", fs: fs.crash({ keep: () => true }) }];
  const last = fs.pending.map((op, i) => ({ op, i })).filter(({ op }) =>
    op.kind === "write" && /seg-|prealloc/.test(op.path)
  ).pop();
  if (!last || last.op.kind !== "write") return out;
  // A preallocation's 1 MiB of zeros has 2048 tear points that all leave zeros: a spread of 16.
  const points = MemoryFs.tearPoints(last.op);
  const every = Math.ceil(points.length / 16);
  for (const cut of points.filter((_, j) => j % every === 0 || j === points.length - 1)) {
    out.push({ name: `torn at ${cut}`, fs: fs.crash({ keep: (_, i) => (i === last.i ? cut : i < last.i) }) });
  }
  const end = last.op.offset + last.op.data.length;
  const lastSector = Math.floor((end - 1) / SECTOR) * SECTOR;
  if (lastSector > last.op.offset) {
    const s = fs.crash({ keep: (_, i) => i <= last.i });
    const b = s.peek(last.op.path);
    if (b && b.length >= end) {
      const c = b.slice();
      c.fill(0, last.op.offset, lastSector);
      s.poke(last.op.path, c);
      out.push({ name: "later sector landed", fs: s });
    }
  }
  return out;
}

async function checkState(where: string, fs: MemoryFs, acked: Map<number, string>, sent: Set<string>): Promise<void> {
  await dropLock(fs);
  const log = await openLog("/log", { fs, preallocate: true, maxSegmentBytes: SEGMENT }).catch((e) =>
    assert.fail(`${where}: ${(e as Error).message}`)
  );
  await assertPrefixAfterReopen(where, fs, log, acked, sent);
}

test("EveryCrashPointOfAppendsIntoPreallocatedSegmentsKeepsEveryAcknowledgedRecord", async () => {
  let states = 0;
  for (let k = 0;; k++) {
    const { fs, acked, sent, done } = await workload(k, 2048, 48, (w) => 40 + 90 * w);
    for (const st of crashStates(fs)) {
      await checkState(`k=${k} ${st.name}`, st.fs, acked, sent);
      states++;
    }
    if (done) break;
  }
  assert.ok(states > 100, `${states} crash states`);
});

test("EveryCrashPointAroundARotationIntoTheSparePreparedAheadKeepsEveryAcknowledgedRecord", async () => {
  // 1 MiB segments: the spare (next-segment.prealloc) is prepared once the first is half full,
  // off the append path, and rotation renames it into place. Crash points: the steps around the
  // spare's creation and around the rotation (every step with CKPT_LONG=1).
  const MIB = 1 << 20;
  const probe = await workload(Number.MAX_SAFE_INTEGER, MIB, 80, () => 16_000);
  assert.ok(probe.done);
  const steps = probe.fs.trace.filter((t) => /^(create|write|truncate|fsync|rename|unlink|mkdir|link|chmod)/.test(t));
  const spareAt = steps.findIndex((t) => t.includes(SPARE_SEGMENT));
  const renameAt = steps.findIndex((t) => t.startsWith("rename") && t.includes(SPARE_SEGMENT));
  assert.ok(spareAt > 0 && renameAt > spareAt, "a spare was prepared, then renamed into place");
  const long = process.env.CKPT_LONG === "1";
  const near = (k: number) =>
    long || (k >= spareAt - 1 && k <= spareAt + 3) || (k >= renameAt - 3 && k <= renameAt + 3);
  assert.ok((await probe.fs.readdir("/log")).filter((n) => n.endsWith(".wal")).length >= 2, "and used by a rotation");
  let states = 0;
  const ks = Array.from({ length: steps.length + 1 }, (_, k) => k).filter(near);
  for (const k of ks) {
    const { fs, acked, sent, done } = await workload(k, MIB, 80, () => 16_000);
    for (const st of crashStates(fs)) {
      await checkState(`k=${k} ${st.name}`, st.fs, acked, sent);
      states++;
    }
    if (done) break;
  }
  assert.ok(states > 20, `${states} crash states`);
});

test("AnAllZeroLastSegmentIsATornCreationSetAside", async () => {
  const fs = await freshLogFs();
  const log = await openLog("/log", { fs, preallocate: true, maxSegmentBytes: SEGMENT });
  await log.append(enc.encode("one"));
  await log.close();
  const name = `/log/${segmentName(2)}`;
  const h = await fs.open(name, { write: true, create: true });
  await h.write(new Uint8Array(SEGMENT), 0); // header and all zeros: a preallocation cut short
  await h.sync();
  await fs.syncDir("/log");
  const again = await openLog("/log", { fs, preallocate: true, maxSegmentBytes: SEGMENT });
  assert.ok(again.recovery.tornSegmentHeader);
  assert.equal(await again.append(enc.encode("two")), 2);
  await again.close();
  assert.deepEqual((await scan(fs)).seqs, [1, 2]);
});
