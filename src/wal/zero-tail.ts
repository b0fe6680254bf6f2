// Preallocated segments (docs/LOG.md "Preallocated segments"): a segment is created at its full
// size, filled with zeros and fsynced, and appends overwrite the zeros in place, so an fdatasync
// never has a file size (metadata) to commit. After the last record lies the unused rest of the
// preallocation: zeros. This file finds where the bytes after a position stop being zeros, which
// is all the reader needs to tell that unused tail from a torn write or damage.
import type { FileHandle } from "../fs.ts";
import { type Window } from "./window.ts";

const STEP = 1 << 20;
/**
 * The next segment's file while it is prepared ahead of rotation (log.ts): zeros, fsynced. Matches
 * no segment or side-file name, so scans, repair and truncation never look at it.
 */
export const SPARE_SEGMENT = "next-segment.prealloc";
/** One shared buffer of zeros for filling preallocations (never written into). */
const ZEROS = new Uint8Array(STEP);

/** Whether b[from, to) is all zeros; 4 bytes at a time where aligned (a 64 MiB tail is read on every open). */
export function allZero(b: Uint8Array, from = 0, to = b.length): boolean {
  let i = from;
  for (; i < to && ((b.byteOffset + i) & 3) !== 0; i++) if (b[i] !== 0) return false;
  const words = (to - i) >> 2;
  if (words > 0) {
    const u = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let k = 0; k < words; k++) if (u[k] !== 0) return false;
    i += words << 2;
  }
  for (; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * The offset just past the last nonzero byte in [from, w.size), or `from` if they are all zeros
 * (the unused tail of a preallocated segment). Reads backwards, one window at a time.
 */
export async function nonzeroEnd(w: Window, from: number): Promise<number> {
  for (let end = w.size; end > from;) {
    const start = Math.max(from, end - STEP);
    const b = await w.bytes(start, end - start);
    if (!allZero(b)) {
      for (let i = b.length - 1; i >= 0; i--) if (b[i] !== 0) return start + i + 1;
    }
    end = start;
  }
  return from;
}

/**
 * Writes `head` followed by zeros up to `size` bytes into `h` from offset 0, then fsyncs it (data
 * and size): the blocks are allocated and written now, so later in-place overwrites followed by
 * fdatasync change no metadata. The caller makes the file's name durable.
 */
export async function fillPreallocated(h: FileHandle, head: Uint8Array, size: number): Promise<void> {
  const first = new Uint8Array(Math.min(STEP, Math.max(size, head.length)));
  first.set(head, 0);
  await h.write(first, 0);
  for (let at = first.length; at < size; at += STEP) await h.write(ZEROS.subarray(0, Math.min(STEP, size - at)), at);
  await h.sync();
}

/** Overwrites [from, to) of `h` with zeros, in place (the caller syncs). */
export async function zeroRange(h: FileHandle, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += STEP) await h.write(ZEROS.subarray(0, Math.min(STEP, to - at)), at);
}
