// Which file syscalls leave the caller's thread (guarantee 12, docs/ENGINE.md "Which thread does
// what"). Synchronous syscalls behind a resolved promise are the fastest way to write a small
// file (the async variants add ~50 µs a call, a third of a 4 KiB save), but an fsync of many
// dirty pages takes seconds and a write into a large file can stall in dirty-page throttling:
// those go to the runtime's thread pool, so the event loop keeps turning while they run.
// One Offload per open file; the adapters ask it before each call.
import { fsError, permissionError } from "./errno.ts";

/** fsync/fdatasync inline while at most this much was written since the last sync (page cache → disk in < ~5 ms). */
export const SYNC_INLINE_BYTES = 1 << 20;
/** Reads and writes at or beyond this file offset run on the thread pool (see the measurements in docs/ENGINE.md). */
export const LARGE_FILE_BYTES = 8 << 20;

export class Offload {
  /** Bytes written through this handle since its last sync. */
  private unsynced = 0;
  /** A write or read reached LARGE_FILE_BYTES: the file is large, later calls stay async. */
  private large: boolean;

  /** `sizeHint`: the open's hint (OpenOptions.sizeHint); a large one makes every call async at once. */
  constructor(sizeHint = 0) {
    this.large = sizeHint >= LARGE_FILE_BYTES;
  }

  wrote(position: number, length: number): void {
    this.unsynced += length;
    if (position + length >= LARGE_FILE_BYTES) this.large = true;
  }
  /**
   * A sync that began when `atStart` bytes were unsynced has finished: those are on disk, the
   * bytes written while it ran are not (a flush-behind datasync runs beside later writes).
   */
  synced(atStart: number): void {
    this.unsynced = Math.max(0, this.unsynced - atStart);
  }
  /** Bytes written since the last sync began (pass to synced()). */
  get pending(): number {
    return this.unsynced;
  }

  /** Whether an access [position, position + length) should go to the thread pool. */
  io(position: number, length: number): boolean {
    if (position + length >= LARGE_FILE_BYTES) this.large = true;
    return this.large;
  }
  /** Whether the next fsync/fdatasync should go to the thread pool. */
  sync(): boolean {
    return this.unsynced > SYNC_INLINE_BYTES;
  }
}

/** How many calls went to the thread pool in this process (tests: the policy's decisions are observable). */
export let pooledCalls = 0;

/**
 * `guard` for an async call: native errors become FsErrors. Its completion is not counted as a
 * turn by src/pace.ts: it runs in the loop's I/O phase, and in Deno several completions can run
 * back to back without the timers running (a 31.7 ms timer gap with 9.6 ms stretches).
 */
export async function guardAsync<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
  pooledCalls++;
  try {
    return await fn();
  } catch (err) {
    throw permissionError(err) ?? fsError(err, op, path);
  }
}
