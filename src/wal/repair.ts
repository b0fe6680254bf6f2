// `ckpt log repair`: for a log with damage, before its tail or at it (a complete record whose CRC
// fails with no sector of zeros, or bytes no crash could leave; docs/LOG.md "The torn-tail rule").
// The damaged bytes are never thrown away: from the first damaged record to the end of its segment
// they are copied into a side file (side-file.ts), later segments are renamed likewise, both
// fsynced with the directory before the segment is truncated at the last good record. The log
// then continues above every sequence the moved bytes may hold (sequence-floor.ts): the floor is
// in the side files' names and, once the log is reopened here, in a skip record.
import { FsError } from "../errors.ts";
import { requireFs, type WithFs } from "../fs-arg.ts";
import { join } from "../path.ts";
import { StoreLock } from "../lock/lock.ts";
import { SEGMENT_HEADER_SIZE } from "./format.ts";
import { Log } from "./log.ts";
import { scanLog } from "./scan.ts";
import { sequenceCeiling } from "./sequence-floor.ts";
import { copyToSideFile, moveToSideFile } from "./side-file.ts";

export interface RepairReport {
  repaired: boolean;
  /** Bytes moved out of the log into side files (damage, plus any torn tail cut on reopening). */
  truncatedBytes: number;
  /** The same number, under the name the open and append reports use. */
  cutBytes: number;
  /** Every side file written, in log order. */
  sideFiles: string[];
  /** The first of them (where the damage begins), or null if nothing was moved. */
  sideFile: string | null;
  lastSequence: number;
  /** The sequence the next append takes: above everything the moved bytes may hold. */
  nextSequence: number;
  damage: { sequence: number; offset: number; reason: string; segment: string } | null;
}

export async function repairLog(dir: string, options: WithFs): Promise<RepairReport> {
  const fs = requireFs(options, "repairLog");
  if (!(await fs.stat(dir))) throw new FsError("ENOENT", "repair log", dir);
  const lock = await StoreLock.acquire(fs, dir, () => {});
  let report;
  const sideFiles: string[] = [];
  let moved = 0;
  try {
    report = await scanLog(fs, dir);
    if (report.damage) {
      const d = report.damage;
      const stamp = Date.now();
      const idx = report.segments.findIndex((s) => s.name === d.segment);
      const seg = report.segments[idx]!;
      const later = report.segments.slice(idx + 1);
      const floor = await sequenceCeiling(fs, dir, [
        { segment: seg.name, from: Math.max(d.offset, SEGMENT_HEADER_SIZE), whole: d.offset === 0 },
        ...later.map((s) => ({ segment: s.name, from: SEGMENT_HEADER_SIZE, whole: true })),
      ], d.sequence);
      if (d.offset === 0) {
        sideFiles.push(await moveToSideFile(fs, dir, seg.name, floor, stamp));
        moved += seg.size;
      } else {
        const side = await copyToSideFile(fs, dir, seg.name, d.offset, floor, stamp);
        sideFiles.push(side.name);
        moved += side.bytes;
      }
      for (const s of later) {
        sideFiles.push(await moveToSideFile(fs, dir, s.name, floor, stamp));
        moved += s.size;
      }
      await fs.syncDir(dir); // side files durable before the segment is cut
      if (d.offset > 0) {
        const h = await fs.open(join(dir, seg.name), { write: true });
        try {
          await h.truncate(d.offset);
          await h.sync();
        } finally {
          await h.close();
        }
      }
    }
  } finally {
    await lock.release();
  }
  // Opening cuts any torn tail (into a side file too), records the floor the side files name in
  // a skip record, and proves the log is appendable again.
  const log = await Log.open(dir, { fs });
  const after = log.recovery;
  const nextSequence = log.nextSequence;
  await log.close();
  if (after.sideFile) sideFiles.push(after.sideFile);
  const cutBytes = moved + after.cutBytes;
  return {
    repaired: report.damage !== null,
    truncatedBytes: cutBytes,
    cutBytes,
    sideFiles,
    sideFile: sideFiles[0] ?? null,
    lastSequence: after.lastSequence,
    nextSequence,
    damage: report.damage,
  };
}
