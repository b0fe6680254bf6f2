// The log never destroys bytes (guarantee 11): whatever is cut from a segment — a torn tail when
// opening for append, damage at repair — is first copied (or, for a whole segment, renamed) into
// a side file beside it, and the side file and the directory are fsynced before the segment is
// truncated. A power loss at any point leaves the bytes in the segment, in the side file, or both.
//
// Name: `<segment>.cut-<offset>-<ms since epoch>-next-<N>`: where the bytes came from, when, and
// the sequence floor N computed for them (sequence-floor.ts). The name matches no segment pattern,
// so scans ignore side files. The floor in the name covers the moment between the truncation and
// the skip record that records the floor in the log itself: opening the log takes the largest N
// found in side-file names as a floor too, and writes the missing skip record.
import { FsError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { join } from "../path.ts";

const SIDE_RE = /^seg-\d{16}\.wal\.cut-(\d+)-(\d+)-next-(\d+)$/;

export function sideFileName(segment: string, offset: number, stamp: number, next: number): string {
  return `${segment}.cut-${offset}-${stamp}-next-${next}`;
}

/** The largest sequence floor named by a side file in `dir` (0 if none). */
export async function sideFileFloor(fs: DurableFs, dir: string): Promise<number> {
  let floor = 0;
  for (const name of await fs.readdir(dir)) {
    const m = SIDE_RE.exec(name);
    if (!m) continue;
    const n = Number(m[3]);
    if (Number.isSafeInteger(n) && n > floor) floor = n;
  }
  return floor;
}

/**
 * Copies bytes [offset, end) of `segment` (end: the end of the file unless given; zeros after a
 * torn write in a preallocated segment are left out) into a new side file and fsyncs it; returns its
 * name. The caller fsyncs the directory before cutting anything.
 */
export async function copyToSideFile(
  fs: DurableFs,
  dir: string,
  segment: string,
  offset: number,
  next: number,
  stamp: number,
  end?: number,
): Promise<{ name: string; bytes: number }> {
  const src = await fs.open(join(dir, segment));
  try {
    const length = Math.min(end ?? Infinity, await src.size()) - offset;
    const { name, h: dst } = await createUnique(fs, dir, (s) => sideFileName(segment, offset, s, next), stamp);
    try {
      const buf = new Uint8Array(Math.max(1, Math.min(length, 1 << 20)));
      for (let done = 0; done < length;) {
        const n = await readFully(src, buf.subarray(0, Math.min(buf.length, length - done)), offset + done);
        if (n === 0) throw new FsError("EIO", "copy to side file (segment shrank)", join(dir, segment));
        await dst.write(buf.subarray(0, n), done);
        done += n;
      }
      await dst.sync();
    } finally {
      await dst.close();
    }
    return { name, bytes: length };
  } finally {
    await src.close();
  }
}

/** Renames a whole segment to a side file; the caller fsyncs the directory. */
export async function moveToSideFile(
  fs: DurableFs,
  dir: string,
  segment: string,
  next: number,
  stamp: number,
): Promise<string> {
  for (let s = stamp;; s++) {
    const name = sideFileName(segment, 0, s, next);
    if (await fs.stat(join(dir, name))) continue;
    await fs.rename(join(dir, segment), join(dir, name));
    return name;
  }
}

async function createUnique(fs: DurableFs, dir: string, nameFor: (stamp: number) => string, stamp: number) {
  for (let s = stamp;; s++) {
    const name = nameFor(s);
    try {
      return { name, h: await fs.open(join(dir, name), { write: true, create: true, exclusive: true, mode: 0o644 }) };
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST" || s > stamp + 1000) throw err;
    }
  }
}
