// The write-ahead log. `append` resolves only after the fsync (fdatasync by default) that covers
// its record. Group commit without a timer: appends queue while a batch is being written and
// synced, and the next batch takes all of them under one sync. Any write or sync failure
// poisons the log: that batch and every later append reject, and only reopening (which
// recovers from what is on disk) clears it — a failed fsync is never retried as if it worked.
import { CkptError, FsError, UsageError } from "../errors.ts";
import type { DurableFs, FileHandle } from "../fs.ts";
import { attempt, mkdirDurable } from "../fs-util.ts";
import { join } from "../path.ts";
import { StoreLock } from "../store/lock.ts";
import { defaultFs } from "../../adapters/detect.ts";
import {
  MAX_BATCH_BYTES, MAX_RECORD_PAYLOAD, RECORD_BATCH, RECORD_DATA, RECORD_HEADER_SIZE, RECORD_MARKER, SEGMENT_HEADER_SIZE,
  encodeBatch, encodeRecordInto, encodeSegmentHeader, segmentName,
} from "./format.ts";
import { type LogRecord, type ScanReport, listSegments, scanLog } from "./scan.ts";

export type Durability = "fsync" | "fdatasync" | "none";

export interface LogOptions {
  fs?: DurableFs;
  /** "fdatasync" (default), "fsync", or "none" — UNSAFE: appends resolve before anything is durable. */
  durability?: Durability;
  /** Start a new segment once the current one reaches this size (default 64 MiB). */
  maxSegmentBytes?: number;
  /** Most records one group commit takes (default 4096). */
  maxBatchRecords?: number;
  /**
   * Most bytes one group commit writes (default and maximum MAX_BATCH_BYTES, 8 MiB; a single
   * larger record goes alone). Replay relies on the maximum to tell a torn tail from damage.
   */
  maxBatchBytes?: number;
  /** Create the directory if missing (default true). */
  create?: boolean;
  onWarning?: (message: string) => void;
}

/** The log has damage before its tail: appending would bury it. `ckpt log repair` clears it. */
export class LogDamageError extends CkptError {
  constructor(readonly report: ScanReport, dir: string) {
    const d = report.damage!;
    super("ELOGDAMAGE", `${dir}: damaged record at ${d.segment} byte ${d.offset} (sequence ${d.sequence}: ${d.reason}); run \`ckpt log repair ${dir}\` to set the damaged bytes aside`);
  }
}

interface Pending { bytes: Uint8Array; first: number; count: number; resolve: (seq: number) => void; reject: (e: unknown) => void }

export class Log {
  /** What opening found and did: the recovery report. */
  readonly recovery: ScanReport;
  private nextSeq: number;
  private queue: Pending[] = [];
  private flushing = false;
  private poisoned?: unknown;
  private closed = false;
  /** Number of syncs issued (group-commit evidence; exposed for tests and the bench). */
  syncs = 0;

  private constructor(
    readonly dir: string,
    readonly fs: DurableFs,
    private readonly opts: Required<Omit<LogOptions, "fs" | "onWarning" | "create">>,
    private readonly lock: StoreLock,
    recovery: ScanReport,
    private tail: { h: FileHandle; name: string; size: number } | undefined,
  ) {
    this.recovery = recovery;
    this.nextSeq = recovery.lastSequence + 1;
  }

  static async open(dir: string, options: LogOptions = {}): Promise<Log> {
    const fs = options.fs ?? defaultFs();
    const maxBatchRecords = options.maxBatchRecords ?? 4096;
    const maxBatchBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
    if (!Number.isSafeInteger(maxBatchRecords) || maxBatchRecords < 1) throw new UsageError(`maxBatchRecords must be a whole number ≥ 1, got ${maxBatchRecords}`);
    // The torn-tail rule (docs/LOG.md) trusts that no group commit writes more than this.
    if (!Number.isSafeInteger(maxBatchBytes) || maxBatchBytes < 1 || maxBatchBytes > MAX_BATCH_BYTES) {
      throw new UsageError(`maxBatchBytes must be a whole number from 1 to ${MAX_BATCH_BYTES}, got ${maxBatchBytes}`);
    }
    const st = await fs.stat(dir);
    if (!st) {
      if (options.create === false) throw new FsError("ENOENT", "open log", dir);
      await mkdirDurable(fs, dir); // every level it creates is durable (guarantee 10)
    }
    const warn = options.onWarning ?? (() => {});
    const lock = await StoreLock.acquire(fs, dir, warn);
    try {
      const report = await scanLog(fs, dir);
      if (report.damage) throw new LogDamageError(report, dir);
      const tail = await Log.cutTornTail(fs, dir, report);
      const opts = {
        durability: options.durability ?? "fdatasync",
        maxSegmentBytes: options.maxSegmentBytes ?? 64 << 20,
        maxBatchRecords,
        maxBatchBytes,
      };
      return new Log(dir, fs, opts, lock, report, tail);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Opening for append cuts a torn tail off (durably) and reopens the last segment. */
  private static async cutTornTail(fs: DurableFs, dir: string, r: ScanReport): Promise<Log["tail"]> {
    const last = r.segments[r.segments.length - 1];
    if (!last) return undefined;
    if (r.tornSegmentHeader) {
      // A segment whose header never reached the disk holds no records: it is ours and dead.
      await fs.unlink(join(dir, last.name));
      await fs.syncDir(dir);
      return undefined;
    }
    const h = await fs.open(join(dir, last.name), { write: true });
    if (r.truncatedBytes > 0) {
      await h.truncate(last.goodEnd);
      await h.sync();
    }
    return { h, name: last.name, size: last.goodEnd };
  }

  /** Appends one record; resolves with its sequence number once it is durable. */
  append(payload: Uint8Array): Promise<number> {
    return this.enqueue(RECORD_DATA, [payload]);
  }

  /** Appends records all or none (one physical record); resolves with the first sequence. */
  appendMany(payloads: Uint8Array[]): Promise<number> {
    if (payloads.length === 0) return Promise.reject(new UsageError("appendMany needs at least one record"));
    return this.enqueue(RECORD_BATCH, payloads);
  }

  /** Records that the store checkpoint `step` covers everything before this position. */
  mark(step: number): Promise<number> {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(step), true);
    return this.enqueue(RECORD_MARKER, [b]);
  }

  private enqueue(type: number, payloads: Uint8Array[]): Promise<number> {
    if (this.closed) return Promise.reject(new UsageError("the log is closed"));
    if (this.poisoned) return Promise.reject(this.poisonError());
    const payload = type === RECORD_BATCH ? encodeBatch(payloads) : payloads[0]!;
    if (payload.length > MAX_RECORD_PAYLOAD) return Promise.reject(new UsageError(`record of ${payload.length} bytes exceeds the ${MAX_RECORD_PAYLOAD}-byte limit`));
    const first = this.nextSeq;
    const count = type === RECORD_BATCH ? payloads.length : 1;
    this.nextSeq += count;
    const bytes = new Uint8Array(RECORD_HEADER_SIZE + payload.length);
    encodeRecordInto(bytes, 0, type, first, payload);
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ bytes, first, count, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Let the rest of the current burst of appends join before the first batch is cut.
        queueMicrotask(() => void this.flushLoop());
      }
    });
  }

  private poisonError(): CkptError {
    return new CkptError("EPOISONED", `the log ${this.dir} failed a write or sync and refuses appends until reopened: ${(this.poisoned as Error)?.message ?? this.poisoned}`);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.poisoned) {
        const batch = this.takeBatch();
        try {
          await this.writeBatch(batch);
        } catch (err) {
          this.poisoned = err;
          for (const p of batch) p.reject(err);
          for (const p of this.queue.splice(0)) p.reject(this.poisonError());
          return;
        }
        for (const p of batch) p.resolve(p.first);
        // Appends made by the continuations of the batch just resolved join the next one.
        await Promise.resolve();
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * The next group commit: at most maxBatchRecords records and maxBatchBytes (≤ MAX_BATCH_BYTES)
   * bytes, except that a first record larger than that goes alone. Replay's torn-tail rule
   * depends on exactly this: no write is longer than MAX_BATCH_BYTES unless it is one record.
   */
  private takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < this.opts.maxBatchRecords && (n === 0 || bytes + this.queue[n]!.bytes.length <= this.opts.maxBatchBytes)) {
      bytes += this.queue[n]!.bytes.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (!this.tail || this.tail.size >= this.opts.maxSegmentBytes) await this.rotate(batch[0]!.first);
    const t = this.tail!;
    const total = batch.reduce((n, p) => n + p.bytes.length, 0);
    let buf = batch[0]!.bytes;
    if (batch.length > 1) {
      buf = new Uint8Array(total);
      let o = 0;
      for (const p of batch) { buf.set(p.bytes, o); o += p.bytes.length; }
    }
    const before = t.size;
    try {
      await t.h.write(buf, before);
      if (this.opts.durability !== "none") {
        this.syncs++;
        if (this.opts.durability === "fsync") await t.h.sync();
        else await t.h.datasync();
      }
    } catch (err) {
      // After a failed fdatasync Linux forgets the unsynced pages yet reads still return them:
      // a reopen in this process would take the failed batch for durable records and append
      // behind a hole that a power loss exposes as mid-log damage. Cutting the batch off makes
      // what reads return match what can be on disk; the next successful sync commits the cut.
      await attempt(() => t.h.truncate(before));
      throw err;
    }
    t.size += total;
  }

  /** Starts segment `seg-<first>.wal`; its header and its name are durable before any record. */
  private async rotate(first: number): Promise<void> {
    const name = segmentName(first);
    const path = join(this.dir, name);
    const h = await this.fs.open(path, { write: true, create: true, exclusive: true, mode: 0o644 });
    try {
      await h.write(encodeSegmentHeader(first), 0);
      await h.sync();
      await this.fs.syncDir(this.dir);
    } catch (err) {
      // A segment whose header or name may not be durable must not become the tail of a reopened
      // log: records acknowledged into it could vanish with it. Take it away again.
      await attempt(() => h.close());
      await attempt(() => this.fs.unlink(path));
      throw err;
    }
    if (this.tail) await attempt(() => this.tail!.h.close());
    this.tail = { h, name, size: SEGMENT_HEADER_SIZE };
  }

  /** Records currently on disk (a fresh read-only scan), e.g. after a marker: see replayLog. */
  replay(options: { salvage?: boolean; afterMarker?: number; onRecord?: (r: LogRecord) => void | Promise<void> } = {}): Promise<ScanReport> {
    return replayLog(this.dir, { ...options, fs: this.fs });
  }

  /** Removes whole segments whose records all precede `before` (never the active one), durably. */
  async truncate(options: { before: number }): Promise<{ removed: string[] }> {
    if (!Number.isSafeInteger(options.before) || options.before < 1) throw new UsageError(`--before must be a sequence number ≥ 1, got ${options.before}`);
    const segs = await listSegments(this.fs, this.dir);
    const removed: string[] = [];
    for (let i = 0; i + 1 < segs.length; i++) {
      const lastSeqOfSegment = segs[i + 1]!.firstSeq - 1;
      if (lastSeqOfSegment >= options.before || segs[i]!.name === this.tail?.name) break;
      // Oldest first, each unlink durable before the next: a power cut keeps a contiguous suffix
      // of segments, never a hole that replay would report as a sequence gap.
      await this.fs.unlink(join(this.dir, segs[i]!.name));
      await this.fs.syncDir(this.dir);
      removed.push(segs[i]!.name);
    }
    return { removed };
  }

  /** Waits for queued appends, then closes the segment and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    if (this.tail) await attempt(() => this.tail!.h.close());
    await this.lock.release();
  }

  get nextSequence(): number {
    return this.nextSeq;
  }
}

export function openLog(dir: string, options: LogOptions = {}): Promise<Log> {
  return Log.open(dir, options);
}

/**
 * Reads the log without modifying it. With `afterMarker: step`, only records after the last
 * marker for that store step are passed on: load checkpoint `step`, then apply these.
 */
export async function replayLog(
  dir: string,
  options: { fs?: DurableFs; salvage?: boolean; afterMarker?: number; onRecord?: (r: LogRecord) => void | Promise<void> } = {},
): Promise<ScanReport> {
  const fs = options.fs ?? defaultFs();
  if (options.afterMarker === undefined) return scanLog(fs, dir, options);
  // Two passes keep memory flat: find the marker's position, then stream what follows it.
  let markerSeq: number | undefined;
  await scanLog(fs, dir, { salvage: options.salvage, onRecord: (r) => { if (r.type === "marker" && r.step === options.afterMarker) markerSeq = r.sequence; } });
  if (markerSeq === undefined) throw new UsageError(`no marker for checkpoint step ${options.afterMarker} in ${dir}`);
  const after = markerSeq;
  return scanLog(fs, dir, { salvage: options.salvage, onRecord: (r) => (r.sequence > after ? options.onRecord?.(r) : undefined) });
}

