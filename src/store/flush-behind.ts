// Flush-behind: a large file written front to back is flushed to disk while it is still being
// written, so its closing fsync covers only the tail (docs/ENGINE.md, "Flush-behind"). Without
// it, a save hashes and writes every byte and only then waits for the disk to take all of them:
// on a 64 MiB member the closing fsync was a quarter of the save, spent after the hashing
// instead of beside it.
//
// Invariants:
// - Only where the adapter says a datasync may run while writes to the same handle go on, on
//   the thread pool (FsCapabilities.flushBehind: the local adapters); never on the simulator,
//   an object store or OPFS, whose syncs mean something else.
// - At most one flush in flight; one is started after every FLUSH_BEHIND_BYTES written since
//   the last one started, so a file below that size never gets one.
// - A flush only moves disk work earlier: the file is still fsynced before it counts as durable,
//   through syncFile(), which first waits for the flush in flight, so a failed flush fails the
//   save (an fdatasync error means the file's durability is unknown) instead of being lost.
// - An abandoned flush (the save failed or was aborted) is left to finish with its outcome
//   handled, like the abandoned fsync of src/abort.ts: it writes nothing of its own.
import { unlessAborted } from "../abort.ts";
import type { DurableFs, FileHandle } from "../fs.ts";

/** Bytes written between flushes: large enough that a flush is worth its syscall, small enough to overlap a 64 MiB save. */
export const FLUSH_BEHIND_BYTES = 16 << 20;

export class FlushBehind {
  private inFlight: Promise<void> | undefined;
  private failure: { err: unknown } | undefined;
  private since = 0;
  /** Flushes started (tests, benchmarks). */
  started = 0;

  constructor(private readonly h: FileHandle, private readonly enabled: boolean) {}

  /**
   * For a file about to be written on `fs` that will be fsynced at the end (`durable`: an
   * unsafe-protocol save never syncs, so it never flushes either): enabled when the adapter
   * supports it and the file will be large (`size` undefined: not known yet).
   */
  static for(fs: DurableFs, h: FileHandle, size: number | undefined, durable = true): FlushBehind {
    return new FlushBehind(
      h,
      durable && fs.capabilities.flushBehind === true && (size === undefined || size > FLUSH_BEHIND_BYTES),
    );
  }

  /** Counts `n` bytes handed to the file; starts a flush when enough have gone by and none is running. */
  wrote(n: number): void {
    if (!this.enabled) return;
    this.since += n;
    if (this.since < FLUSH_BEHIND_BYTES || this.inFlight) return;
    this.since = 0;
    this.started++;
    this.inFlight = this.h.datasync().then(
      () => {
        this.inFlight = undefined;
      },
      (err: unknown) => {
        this.failure ??= { err };
        this.inFlight = undefined;
      },
    );
  }

  /**
   * The file's closing fsync, after the flush in flight (whose failure it rethrows: the file's
   * durability is then unknown). Under an abort neither is waited for: the caller removes the
   * file, and an abandoned sync writes nothing of its own (src/abort.ts).
   */
  async syncFile(signal: AbortSignal | undefined, what: string): Promise<void> {
    await unlessAborted(this.settle(), signal, what);
    await unlessAborted(this.h.sync(), signal, what);
  }

  /** Waits for the flush in flight; rethrows the first flush's failure. */
  private async settle(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    if (this.failure) throw this.failure.err;
  }
}
