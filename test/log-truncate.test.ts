// truncate({ before }) under power loss: a crash at every step of it, keeping every subset of the
// directory operations not yet made durable, must leave a log that replays without damage,
// ends where it ended before, and still holds every record at or after `before`.
import assert from "node:assert/strict";
import { MemoryFs, SimulatedCrash } from "../adapters/memory.ts";
import { LockedError } from "../src/errors.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { test } from "./kit.ts";

const enc = new TextEncoder();

async function segmentedLog(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/log");
  await fs.syncDir("/");
  const log = await openLog("/log", { fs, maxSegmentBytes: 150 });
  for (let i = 1; i <= 24; i++) await log.append(enc.encode(`record number ${i}`));
  await log.close();
  return fs.crash(); // everything above was acknowledged, so it is durable
}

test("TruncateBeforeSurvivesACrashAtEveryStepAndEverySubsetOfPendingUnlinks", async () => {
  const before = 19;
  const base = await segmentedLog();
  const segments = (await base.readdir("/log")).filter((n) => n.startsWith("seg-")).length;
  assert.ok(segments >= 6, `the log spans ${segments} segments`);
  let states = 0;
  let finished = false;
  for (let k = 0; !finished && k < 100; k++) {
    const fs = base.crash();
    fs.crashAfter(k);
    try {
      const log = await openLog("/log", { fs, maxSegmentBytes: 150 });
      const r = await log.truncate({ before });
      assert.ok(r.removed.length >= 3, `removed ${r.removed.length} segments`);
      await log.close();
      finished = true;
    } catch (err) {
      // The lock's retry loop reports a power cut during its own steps as a lost race.
      if (!(err instanceof SimulatedCrash) && !(err instanceof LockedError)) throw err;
    }
    const pending = fs.pending.length;
    assert.ok(pending <= 12, `${pending} pending operations`);
    for (let mask = 0; mask < 1 << pending; mask++) {
      const crashed = fs.crash({ keep: (_, i) => (mask & (1 << i)) !== 0 });
      const seqs: number[] = [];
      const report = await replayLog("/log", {
        fs: crashed,
        onRecord: (r) => {
          seqs.push(r.sequence);
        },
      });
      states++;
      const where = `crash after step ${k}, pending subset ${mask.toString(2)}`;
      assert.equal(report.damage, null, `${where}: ${JSON.stringify(report.damage)}`);
      assert.equal(seqs[seqs.length - 1], 24, where);
      assert.ok(seqs[0]! <= before, `${where}: records from ${before} on are kept`);
      seqs.forEach((s, i) => assert.equal(s, seqs[0]! + i, `${where}: contiguous`));
    }
  }
  assert.ok(finished, "the truncation completed within the explored steps");
  assert.ok(states > 20, `explored ${states} crash states`);
});
