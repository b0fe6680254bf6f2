// `ckpt log repair`: for a log with damage, before its tail or at it (bytes after the last good
// record too long to be a torn write, docs/LOG.md "The torn-tail rule"). The damaged bytes are
// never thrown away: from the first damaged record to the end of its segment they are copied into
// a side file `<segment>.damaged-<time>`, later segments are renamed the same way, and the segment
// is truncated at the last good record. Side files do not match the segment pattern, so scans skip
// them. Everything is fsynced, side files before the truncation.
import { FsError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { join } from "../path.ts";
import { StoreLock } from "../store/lock.ts";
import { defaultFs } from "../../adapters/detect.ts";
import { Log } from "./log.ts";
import { scanLog } from "./scan.ts";

export interface RepairReport {
  repaired: boolean;
  /** Bytes moved out of the log into side files. */
  truncatedBytes: number;
  sideFiles: string[];
  lastSequence: number;
  damage: { sequence: number; offset: number; reason: string; segment: string } | null;
}

export async function repairLog(dir: string, options: { fs?: DurableFs } = {}): Promise<RepairReport> {
  const fs = options.fs ?? defaultFs();
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
      const side = `${seg.name}.damaged-${stamp}`;
      await copyRange(fs, join(dir, seg.name), join(dir, side), d.offset, seg.size - d.offset);
      sideFiles.push(side);
      moved += seg.size - d.offset;
      for (const later of report.segments.slice(idx + 1)) {
        const name = `${later.name}.damaged-${stamp}`;
        await fs.rename(join(dir, later.name), join(dir, name));
        sideFiles.push(name);
        moved += later.size;
      }
      await fs.syncDir(dir);
      if (d.offset === 0) await fs.unlink(join(dir, seg.name));
      else {
        const h = await fs.open(join(dir, seg.name), { write: true });
        try {
          await h.truncate(d.offset);
          await h.sync();
        } finally {
          await h.close();
        }
      }
      await fs.syncDir(dir);
    }
  } finally {
    await lock.release();
  }
  // Opening cuts any torn tail and proves the log is appendable again.
  const log = await Log.open(dir, { fs });
  const after = log.recovery;
  await log.close();
  return { repaired: report.damage !== null, truncatedBytes: moved + after.truncatedBytes, sideFiles, lastSequence: after.lastSequence, damage: report.damage };
}

async function copyRange(fs: DurableFs, from: string, to: string, offset: number, length: number): Promise<void> {
  const src = await fs.open(from);
  const dst = await fs.open(to, { write: true, create: true, exclusive: true, mode: 0o644 });
  try {
    const buf = new Uint8Array(Math.min(length, 1 << 20));
    for (let done = 0; done < length;) {
      const n = await readFully(src, buf.subarray(0, Math.min(buf.length, length - done)), offset + done);
      if (n === 0) break;
      await dst.write(buf.subarray(0, n), done);
      done += n;
    }
    await dst.sync();
  } finally {
    await src.close();
    await dst.close();
  }
}
