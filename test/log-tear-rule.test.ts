// Guarantee 11, "the log never destroys bytes": etcd's torn-tail rule (a failing last record is
// torn only if it runs past the end of the file or holds a sector of zeros; a complete record
// whose CRC fails is damage), side files for everything cut, and sequence numbers that are never
// handed out again. docs/LOG.md "The torn-tail rule" and "Sequence floor".
import assert from "node:assert/strict";
import { MemoryFs, SECTOR, SimulatedCrash } from "../adapters/memory.ts";
import { UsageError } from "../src/errors.ts";
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE } from "../src/wal/format.ts";
import { LogDamageError, openLog } from "../src/wal/log.ts";
import { repairLog } from "../src/wal/repair.ts";
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

/** Bytes of every file in /log but the writer lock: segments and side files. */
async function logBytes(fs: MemoryFs): Promise<number> {
  let n = 0;
  // The writer lock's files (.lock, its temps and break tickets) are the lock's, not log bytes.
  for (const name of await fs.readdir("/log")) if (!name.startsWith(".lock")) n += fs.peek(`/log/${name}`)?.length ?? 0;
  return n;
}

async function threeRecords(sizes = [30, 40, 700]): Promise<{ fs: MemoryFs; full: Uint8Array; lastAt: number }> {
  const fs = await freshLogFs();
  const log = await openLog("/log", { fs });
  for (const [i, n] of sizes.entries()) await log.append(enc.encode(`record ${i + 1} `.repeat(n).slice(0, n)));
  await log.close();
  const full = fs.peek(SEG)!.slice();
  return { fs, full, lastAt: full.length - RECORD_HEADER_SIZE - sizes[sizes.length - 1]! };
}

test("AFlippedBitInTheLastAcknowledgedRecordIsDamageNotATearAtEveryByteAndBit", async () => {
  // The case (one bit at the end of the last record), and every bit of every byte of a
  // last record that spans two sector boundaries: header, CRC, length, type, sequence, payload.
  const { fs, full, lastAt } = await threeRecords();
  let cases = 0;
  for (let at = lastAt; at < full.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      await assertLastRecordDamaged(fs, flipped(full, at, 1 << bit), lastAt, `byte ${at - lastAt} bit ${bit}`);
      cases++;
    }
  }
  assert.equal(cases, (full.length - lastAt) * 8);
});

test("AppendRefusesAFlippedLastRecordAndRepairKeepsItAndNeverReusesItsSequence", async () => {
  const { fs, full, lastAt } = await threeRecords([10, 12, 11]);
  const bad = flipped(full, full.length - 1, 1); // the issue: one bit at the end of the last acknowledged record
  fs.poke(SEG, bad);
  const { report } = await scan(fs);
  assert.deepEqual({
    recovered: report.recovered,
    truncatedBytes: report.truncatedBytes,
    damage: report.damage && report.damage.sequence,
  }, { recovered: 2, truncatedBytes: 0, damage: 3 });
  await assert.rejects(
    openLog("/log", { fs }),
    (e: unknown) =>
      e instanceof LogDamageError && (e as LogDamageError).code === "ELOGDAMAGE" &&
      /ckpt log repair/.test((e as Error).message),
  );
  assert.deepEqual(fs.peek(SEG), bad, "a refused open cuts nothing");
  const fixed = await repairLog("/log", { fs });
  assert.equal(fixed.repaired, true);
  assert.deepEqual(
    fs.peek(`/log/${fixed.sideFile}`),
    bad.subarray(lastAt),
    "the side file holds the damaged record exactly",
  );
  assert.equal(fixed.cutBytes, bad.length - lastAt);
  assert.equal(fixed.nextSequence, 4);
  // A crash right after repair changes nothing: the floor is durable.
  const log = await openLog("/log", { fs: fs.crash() });
  const seq = await log.append(enc.encode("other content"));
  await log.close();
  assert.ok(seq > 3, `sequence ${seq} is above the damaged record's 3`);
  assert.equal(seq, 4);
});

test("AFlippedSequenceClaiming2To53CannotRaiseTheFloorPastWhatTheBytesCanHold", async () => {
  const { fs, full, lastAt } = await threeRecords([10, 12, 11]);
  const bad = flipped(full, lastAt + 18, 0x10); // sequence bit 52
  fs.poke(SEG, bad);
  const fixed = await repairLog("/log", { fs });
  assert.ok(
    fixed.nextSequence > 3 && fixed.nextSequence <= 3 + (bad.length - lastAt) / 4,
    `floor ${fixed.nextSequence}`,
  );
});

test("ARecordTornPastTheEndOfTheFileIsATearCutIntoASideFileAtEveryLength", async () => {
  const { fs, full, lastAt } = await threeRecords();
  for (let keep = 1; keep < full.length - lastAt; keep += 7) {
    const torn = full.slice(0, lastAt + keep);
    fs.poke(SEG, torn);
    for (const name of await fs.readdir("/log")) if (name.includes(".cut-")) await fs.unlink(`/log/${name}`);
    const { report } = await scan(fs);
    assert.deepEqual({ damage: report.damage, truncatedBytes: report.truncatedBytes }, {
      damage: null,
      truncatedBytes: keep,
    }, `keep ${keep}`);
    const before = await logBytes(fs);
    const log = await openLog("/log", { fs });
    assert.deepEqual({ cutBytes: log.recovery.cutBytes, side: fs.peek(`/log/${log.recovery.sideFile}`) }, {
      cutBytes: keep,
      side: torn.subarray(lastAt),
    }, "exactly the cut bytes");
    const seq = await log.append(enc.encode("after"));
    await log.close();
    assert.ok(seq >= 3 && (keep < RECORD_HEADER_SIZE || seq > 3), `keep ${keep}: sequence ${seq}`);
    assert.ok(await logBytes(fs) >= before);
  }
});

test("ARecordWithASectorOfZerosIsATearAndWithoutOneIsDamage", async () => {
  const { fs, full, lastAt } = await threeRecords([30, 40, 3000]);
  const sector = Math.ceil((lastAt + RECORD_HEADER_SIZE) / SECTOR) * SECTOR;
  // One whole sector inside the record lost (the size reached the disk).
  const holed = full.slice();
  holed.fill(0, sector, sector + SECTOR);
  fs.poke(SEG, holed);
  let { report } = await scan(fs);
  assert.deepEqual({ damage: report.damage, truncatedBytes: report.truncatedBytes }, {
    damage: null,
    truncatedBytes: full.length - lastAt,
  });
  // The same zeros one byte off a sector boundary: no sector is all zeros, so it is damage.
  const shifted = full.slice();
  shifted.fill(0, sector + 1, sector + SECTOR + 1);
  fs.poke(SEG, shifted);
  ({ report } = await scan(fs));
  assert.equal(report.damage?.sequence, 3, "zeros that are not a lost sector prove nothing");
  // Zeros from a sector boundary to the end of the file: a tear; opening cuts it into a side file,
  // up to those zeros, which are unused space as in a preallocated segment (they hold nothing).
  const tailLost = full.slice();
  tailLost.fill(0, sector);
  fs.poke(SEG, tailLost);
  const log = await openLog("/log", { fs });
  assert.deepEqual(fs.peek(`/log/${log.recovery.sideFile}`), tailLost.subarray(lastAt, sector));
  assert.ok(await log.append(enc.encode("after")) > 3);
  await log.close();
  assert.deepEqual((await scan(fs)).seqs.slice(0, 2), [1, 2]);
});

test("AGroupCommitWhoseLaterSectorLandedAndEarlierOnesDidNotIsATear", async () => {
  // LazyFS's case: zeros from the in-flight batch's first record on, then its last sector(s)
  // (a whole never-acknowledged record among them). Nothing acknowledged was lost: append goes on.
  for (const landed of [1, 2]) {
    const fs = await freshLogFs();
    const log = await openLog("/log", { fs });
    for (let i = 1; i <= 10; i++) await log.append(enc.encode(`acknowledged ${i} `.repeat(5)));
    const batchAt = fs.peek(SEG)!.length;
    const syncs = log.syncs;
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(enc.encode(`in flight ${i} `.repeat(6)))));
    assert.equal(log.syncs, syncs + 1, "one group commit");
    await log.close();
    const bytes = fs.peek(SEG)!.slice();
    const lastSector = Math.floor((bytes.length - 1) / SECTOR) * SECTOR - (landed - 1) * SECTOR;
    bytes.fill(0, batchAt, lastSector);
    fs.poke(SEG, bytes);
    const { seqs, report } = await scan(fs);
    assert.equal(report.damage, null, `landed ${landed}: ${report.damage?.reason}`);
    assert.deepEqual(
      seqs,
      Array.from({ length: 10 }, (_, i) => i + 1),
      "every acknowledged record, nothing after the hole",
    );
    assert.equal(report.truncatedBytes, bytes.length - batchAt);
    const before = await logBytes(fs);
    const again = await openLog("/log", { fs });
    assert.deepEqual(
      fs.peek(`/log/${again.recovery.sideFile}`),
      bytes.subarray(batchAt),
      "the side file holds the cut bytes",
    );
    assert.equal(await again.append(enc.encode("after the tear")), 51, "above the whole in-flight batch (11..50)");
    await again.close();
    assert.ok(await logBytes(fs) >= before);
    // A valid record of an earlier sequence after the hole would not fit a tear: damage.
  }
});

/** One run of a group-commit workload cut after `k` operations. */
async function workload(k: number): Promise<{ fs: MemoryFs; acked: Map<number, string>; done: boolean }> {
  const fs = await freshLogFs();
  const acked = new Map<number, string>();
  fs.crashAfter(k);
  let done = false;
  try {
    const log = await openLog("/log", { fs });
    for (let wave = 0; wave < 3; wave++) {
      await Promise.all(Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; i < 2; i++) {
          const text = `wave ${wave} writer ${w} record ${i} `.repeat(3 + w * 2);
          acked.set(await log.append(enc.encode(text)), text);
        }
      }));
    }
    await log.close();
    done = true;
  } catch (err) {
    if (!(err instanceof SimulatedCrash) && (err as { code?: string }).code !== "EPOISONED") throw err;
  }
  return { fs, acked, done };
}

/** Crash states of `fs`: nothing pending kept, everything, the last write torn at each sector, and its earlier sectors lost but its last one landed. */
function crashStates(fs: MemoryFs): { name: string; fs: MemoryFs }[] {
  const out = [{ name: "none", fs: fs.crash() }, { name: "all", fs: fs.crash({ keep: () => true }) }];
  const last = fs.pending.map((op, i) => ({ op, i })).filter(({ op }) =>
    op.kind === "write" && op.path.includes("seg-")
  ).pop();
  if (!last || last.op.kind !== "write") return out;
  for (const cut of MemoryFs.tearPoints(last.op)) {
    out.push({ name: `torn at ${cut}`, fs: fs.crash({ keep: (_, i) => (i === last.i ? cut : i < last.i) }) });
  }
  const end = last.op.offset + last.op.data.length;
  const lastSector = Math.floor((end - 1) / SECTOR) * SECTOR;
  if (lastSector > last.op.offset) {
    const s = fs.crash({ keep: (_, i) => i <= last.i });
    const b = s.peek(last.op.path)!.slice();
    if (b.length >= end) {
      b.fill(0, last.op.offset, lastSector);
      s.poke(last.op.path, b);
      out.push({ name: "later sector landed", fs: s });
    }
  }
  return out;
}

/** Reopens a crash state and checks guarantee 11; returns the sequence the log continues at. */
async function reopenAndCheck(where: string, fs: MemoryFs, acked: Map<number, string>): Promise<number> {
  await dropLock(fs);
  const before = await logBytes(fs);
  const segBefore = new Map<string, Uint8Array>();
  for (const name of await fs.readdir("/log")) {
    if (name.endsWith(".wal")) segBefore.set(name, fs.peek(`/log/${name}`)!.slice());
  }
  const log = await openLog("/log", { fs });
  const r = log.recovery;
  if (r.sideFile && r.cutBytes > 0 && !r.tornSegmentHeader) {
    const seg = r.sideFile.slice(0, r.sideFile.indexOf(".cut-"));
    const orig = segBefore.get(seg)!;
    assert.deepEqual(
      fs.peek(`/log/${r.sideFile}`),
      orig.subarray(orig.length - r.cutBytes),
      `${where}: the side file holds exactly the cut bytes`,
    );
  }
  assert.equal(r.cutBytes, r.truncatedBytes, `${where}: what is cut is what replay called torn`);
  assert.ok(await logBytes(fs) >= before, `${where}: no byte destroyed`);
  const next = log.nextSequence;
  await assertPrefixAfterReopen(where, fs, log, acked);
  return next;
}

test("NothingIsCutWithoutASideFileAndNoSequenceIsReusedAtEveryCrashPointOfAGroupCommitWorkload", async () => {
  let states = 0;
  let cuts = 0;
  let interrupted = 0;
  for (let k = 0;; k++) {
    const { fs, acked, done } = await workload(k);
    for (const st of crashStates(fs)) {
      const where = `k=${k} ${st.name}`;
      const pristine = st.fs.crash({ keep: () => true });
      const floor = await reopenAndCheck(where, st.fs, acked);
      states++;
      if ((await st.fs.readdir("/log")).some((n) => n.includes(".cut-"))) {
        cuts++;
        // A crash inside the recovery itself (side file, truncation, skip record) at every step:
        // reopening again still keeps every byte and continues at or above the same floor.
        for (let j = 0;; j++) {
          const s = pristine.crash({ keep: () => true });
          await dropLock(s);
          const before = await logBytes(s);
          s.crashAfter(j);
          let finished = false;
          try {
            const l = await openLog("/log", { fs: s });
            await l.close();
            finished = true;
          } catch (err) {
            if (!(err instanceof SimulatedCrash)) throw err;
          }
          for (const variant of [s.crash(), s.crash({ keep: () => true })]) {
            assert.ok(await logBytes(variant) >= before, `${where} recovery crash ${j}: bytes destroyed`);
            const next = await reopenAndCheck(`${where} recovery crash ${j}`, variant, acked);
            assert.ok(next >= floor, `${where} recovery crash ${j}: continues at ${next}, below the floor ${floor}`);
            interrupted++;
          }
          if (finished) break;
        }
      }
    }
    if (done) break;
  }
  assert.ok(
    states > 50 && cuts > 10 && interrupted > 20,
    `${states} crash states, ${cuts} with a cut, ${interrupted} with a crash during recovery`,
  );
});

test("TheLogsPublicApiRefusesWhatIsNotBytesFromPlainJavaScript", async () => {
  const fs = await freshLogFs();
  const log = await openLog("/log", { fs });
  const loose = log as unknown as {
    append(x: unknown): Promise<number>;
    appendMany(x: unknown): Promise<number>;
    mark(x: unknown): Promise<number>;
  };
  await assert.rejects(
    loose.append("x=1"),
    (e: unknown) => e instanceof UsageError && /Uint8Array/.test((e as Error).message),
  );
  await assert.rejects(loose.append(undefined), UsageError);
  await assert.rejects(loose.append([1, 2, 3]), UsageError);
  await assert.rejects(loose.appendMany(["a", "b"]), UsageError);
  await assert.rejects(loose.appendMany("ab"), UsageError);
  await assert.rejects(loose.mark("3"), UsageError);
  await assert.rejects(loose.mark(-1), UsageError);
  assert.equal(await log.append(enc.encode("x=1")), 1);
  await log.close();
  const { payloads } = await scan(fs);
  assert.deepEqual([...payloads.values()], ["x=1"], "nothing odd was stored");
  const open = openLog as unknown as (d: unknown, o?: unknown) => Promise<unknown>;
  await assert.rejects(open(42), UsageError);
  await assert.rejects(open("/log", { fs, durability: "sometimes" }), UsageError);
  await assert.rejects(open("/log", { fs, maxSegmentBytes: "big" }), UsageError);
  assert.equal(SEGMENT_HEADER_SIZE, 32);
});
