// Group commit through the runtime's real adapter (its syscalls are synchronous calls wrapped in
// promises, so batching must come from the log's queue, not from I/O latency): syncs counted by
// the fault adapter with no rule armed. And appendMany's all-or-none under a tear at every byte.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { defaultFs } from "../adapters/detect.ts";
import { FaultyFs } from "../adapters/faulty.ts";
import { MemoryFs } from "../adapters/memory.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { segmentName } from "../src/wal/format.ts";
import { runtime, test } from "./kit.ts";

const enc = new TextEncoder();

for (const durability of ["fdatasync", "fsync"] as const) {
  test(`GroupCommitOnTheRealAdapterShares${durability}sAmong64Appenders (${runtime})`, async () => {
    const dir = mkdtempSync(`${tmpdir()}/ckpt-gc-${runtime}-`);
    try {
      const fs = new FaultyFs(defaultFs());
      const log = await openLog(`${dir}/log`, { fs, durability });
      fs.resetCounts();
      const acked: number[] = [];
      await Promise.all(Array.from({ length: 64 }, async (_, w) => {
        for (let i = 0; i < 10; i++) acked.push(await log.append(enc.encode(`writer ${w} record ${i}`)));
      }));
      await log.close();
      const syncs = fs.counts.fdatasync + fs.counts.fsync;
      assert.equal(acked.length, 640);
      assert.ok(syncs >= 1 && syncs <= 640 / 16, `640 appends took ${syncs} ${durability} calls`);
      const other = durability === "fsync" ? "fdatasync" : "fsync";
      assert.ok(fs.counts[durability] >= 1, `durability "${durability}" uses ${durability}`);
      assert.ok(
        fs.counts[other] <= 1,
        `only the first segment's header needs an fsync (${fs.counts[other]} ${other} calls)`,
      );
      const seqs: number[] = [];
      const rep = await replayLog(`${dir}/log`, {
        fs: defaultFs(),
        onRecord: (r) => {
          seqs.push(r.sequence);
        },
      });
      assert.equal(rep.damage, null);
      assert.deepEqual(seqs, Array.from({ length: 640 }, (_, i) => i + 1));
      assert.deepEqual([...acked].sort((a, b) => a - b), seqs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("AppendManyTornAtEveryByteReturnsNoneOfItsRecords", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/log");
  await fs.syncDir("/");
  const log = await openLog("/log", { fs });
  await log.append(enc.encode("before"));
  assert.equal(await log.appendMany([enc.encode("a"), enc.encode("bb"), enc.encode("ccc"), new Uint8Array(40)]), 2);
  await log.close();
  const seg = `/log/${segmentName(1)}`;
  const full = fs.peek(seg)!.slice();
  const whole = (await replayLog("/log", { fs })).recovered;
  assert.equal(whole, 5);
  const batchBytes = 20 + 4 + 4 * 4 + 1 + 2 + 3 + 40;
  for (let cut = 1; cut <= batchBytes; cut++) {
    fs.poke(seg, full.subarray(0, full.length - cut));
    const seqs: number[] = [];
    const rep = await replayLog("/log", {
      fs,
      onRecord: (r) => {
        seqs.push(r.sequence);
      },
    });
    assert.deepEqual(seqs, [1], `cut ${cut}: all of the batch or none of it`);
    assert.equal(rep.damage, null);
  }
});
