// Which segment layout a log gets when the caller does not choose (LogOptions.preallocate): the
// adapter's capabilities.preallocate. On a local disk (Node, Deno, Bun) a new segment is created
// at its full size, so appends overwrite zeros in place and an fdatasync commits no size change
// (docs/LOG.md "Preallocated segments"); the memory simulator keeps the appended layout that the
// crash sweeps explore. Either way the records read back the same.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import process from "node:process";
import { MemoryFs } from "../adapters/memory.ts";
import type { DurableFs } from "../src/fs.ts";
import { defaultFs } from "../adapters/detect.ts";
import { openLog as publicOpenLog } from "../src/open.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { runtime, test } from "./kit.ts";

const SEGMENT = 64 * 1024;
const payload = new Uint8Array(100).fill(3);

test(`a log on the local disk preallocates its segments by default (${runtime})`, async () => {
  const dir = mkdtempSync(`${process.cwd()}/.test-log-layout-`);
  try {
    assert.equal(defaultFs().capabilities.preallocate, true);
    const log = await publicOpenLog(`${dir}/log`, { maxSegmentBytes: SEGMENT });
    for (let i = 0; i < 3; i++) await log.append(payload);
    await log.close();
    const segs = readdirSync(`${dir}/log`).filter((n) => n.endsWith(".wal"));
    assert.equal(segs.length, 1);
    assert.equal(statSync(`${dir}/log/${segs[0]}`).size, SEGMENT, "the segment is created at its full size");
    const seen: number[] = [];
    const r = await replayLog(`${dir}/log`, {
      fs: defaultFs(),
      onRecord: (rec) => {
        seen.push(rec.sequence);
      },
    });
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(r.truncatedBytes, 0, "the zeros after the last record are unused space, not a tear");
    // The caller's choice wins.
    const plain = await openLog(`${dir}/plain`, { fs: defaultFs(), maxSegmentBytes: SEGMENT, preallocate: false });
    await plain.append(payload);
    await plain.close();
    const seg = readdirSync(`${dir}/plain`).find((n) => n.endsWith(".wal"))!;
    assert.ok(statSync(`${dir}/plain/${seg}`).size < SEGMENT, "preallocate: false appends");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the memory simulator keeps the appended layout by default", async () => {
  const fs = new MemoryFs();
  assert.notEqual((fs as DurableFs).capabilities.preallocate, true);
  const log = await openLog("/log", { fs, maxSegmentBytes: SEGMENT });
  await log.append(payload);
  await log.close();
  const seg = (await fs.readdir("/log")).find((n) => n.endsWith(".wal"))!;
  assert.ok((await fs.stat(`/log/${seg}`))!.size < SEGMENT);
});
