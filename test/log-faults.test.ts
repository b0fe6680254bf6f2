// The log after a failed write or sync, then reopened in the same process and used again. A
// failed fdatasync forgets the unsynced data (Linux) although reads still return it, so a
// reopen that trusted what it reads would write later records behind a hole that a power loss
// then exposes as mid-log damage, and replay would stop before acknowledged records. The
// power-loss simulator under the fault adapter models exactly that.
import assert from "node:assert/strict";
import { type FaultRule, FaultyFs } from "../adapters/faulty.ts";
import { MemoryFs } from "../adapters/memory.ts";
import { DurabilityError, FsError } from "../src/errors.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { test } from "./kit.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const rec = (i: number) => enc.encode(`record ${i} `.repeat(1 + (i % 5)));

async function setup(rules: FaultRule[]): Promise<{ mem: MemoryFs; fs: FaultyFs }> {
  const mem = new MemoryFs();
  await mem.mkdir("/log");
  await mem.syncDir("/");
  return { mem, fs: new FaultyFs(mem, rules) };
}

/** Appends 1..n (acknowledged), expects the next append to fail, reopens, appends three more. */
async function failThenContinue(
  fs: FaultyFs,
  n: number,
  isExpected: (e: unknown) => boolean,
  maxSegmentBytes?: number,
): Promise<Map<number, string>> {
  const acked = new Map<number, string>();
  const log = await openLog("/log", { fs, maxSegmentBytes });
  for (let i = 1; i <= n; i++) acked.set(await log.append(rec(i)), dec.decode(rec(i)));
  await assert.rejects(log.append(rec(n + 1)), isExpected);
  await assert.rejects(
    log.append(rec(n + 2)),
    (e: unknown) => (e as { code?: string }).code === "EPOISONED",
    "a poisoned log refuses",
  );
  await log.close();
  const again = await openLog("/log", { fs, maxSegmentBytes });
  for (let i = n + 10; i < n + 13; i++) acked.set(await again.append(rec(i)), dec.decode(rec(i)));
  await again.close();
  return acked;
}

async function assertAllAcknowledgedReplay(mem: MemoryFs, acked: Map<number, string>): Promise<void> {
  for (const variant of [{}, { keep: () => true as const }]) {
    const got = new Map<number, string>();
    const report = await replayLog("/log", {
      fs: mem.crash(variant),
      onRecord: (r) => {
        got.set(r.sequence, dec.decode(r.payload));
      },
    });
    assert.equal(report.damage, null, `no damage after a power loss: ${JSON.stringify(report.damage)}`);
    const seqs = [...got.keys()];
    seqs.forEach((s, i) => assert.equal(s, i + 1, "a gapless prefix"));
    for (const [seq, body] of acked) {
      assert.equal(got.get(seq), body, `acknowledged record ${seq} replays with its bytes`);
    }
  }
}

test("FailedFdatasyncThenReopenInTheSameProcessKeepsLaterAcknowledgedRecords", async () => {
  const { mem, fs } = await setup([{ op: "fdatasync", path: "seg-", nth: 3 }]);
  const acked = await failThenContinue(fs, 2, (e) => e instanceof DurabilityError && e.errno === "EIO");
  assert.equal(fs.failures.length, 1);
  await assertAllAcknowledgedReplay(mem, acked);
});

test("WriteReportedFailedAfterReachingTheCacheThenReopenKeepsLaterAcknowledgedRecords", async () => {
  const { mem, fs } = await setup([{ op: "write", path: "seg-", nth: 4, when: "after", errno: "ENOSPC" }]);
  const acked = await failThenContinue(fs, 2, (e) => e instanceof FsError && e.errno === "ENOSPC");
  await assertAllAcknowledgedReplay(mem, acked);
});

test("FailedFsyncOfANewSegmentHeaderThenReopenKeepsLaterAcknowledgedRecords", async () => {
  // Small segments: the 4th append rotates into seg-…04, whose header fsync fails.
  const { mem, fs } = await setup([{ op: "fsync", path: "seg-0000000000000004", nth: 1 }]);
  const acked = await failThenContinue(fs, 3, (e) => e instanceof DurabilityError, 120);
  assert.equal(fs.failures.length, 1, "the rotation was reached");
  await assertAllAcknowledgedReplay(mem, acked);
});

test("FailedDirectoryFsyncOfANewSegmentThenReopenKeepsLaterAcknowledgedRecords", async () => {
  const { mem, fs } = await setup([{ op: "fsync-dir", path: "/log", nth: 2 }]);
  const acked = await failThenContinue(fs, 3, (e) => e instanceof DurabilityError, 120);
  assert.equal(fs.failures.length, 1, "the rotation was reached");
  await assertAllAcknowledgedReplay(mem, acked);
});
