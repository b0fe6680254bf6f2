// The write-ahead log. `append` resolves only after the fsync (fdatasync by default) that covers
// its record. Group commit without a timer: appends queue while a batch is being written and
// synced, and the next batch takes all of them under one sync. Any write or sync failure
// poisons the log: that batch and every later append reject, and only reopening (which
// recovers from what is on disk) clears it — a failed fsync is never retried as if it worked.
import { CkptError, FsError, UsageError } from "../errors.ts";
import type { DurableFs, FileHandle } from "../fs.ts";
import { requireFs, type WithFs } from "../fs-arg.ts";
import { attempt, mkdirDurable } from "../fs-util.ts";
import { join } from "../path.ts";
import { StoreLock } from "../lock/lock.ts";
import {
  encodeBatch,
  encodeRecordInto,
  encodeSegmentHeader,
  encodeSkip,
  MAX_BATCH_BYTES,
  MAX_RECORD_PAYLOAD,
  RECORD_BATCH,
  RECORD_DATA,
  RECORD_HEADER_SIZE,
  RECORD_MARKER,
  SEGMENT_HEADER_SIZE,
  segmentName,
} from "./format.ts";
import { listSegments, type LogRecord, scanLog, type ScanReport } from "./scan.ts";
import { sequenceCeiling } from "./sequence-floor.ts";
import { copyToSideFile, moveToSideFile, sideFileFloor } from "./side-file.ts";
import { pullFrom } from "../pull.ts";
import { fillPreallocated, SPARE_SEGMENT, zeroRange } from "./zero-tail.ts";

/** Default segment size; preallocated segments are created at exactly this size. */
export const DEFAULT_SEGMENT_BYTES = 4 << 20;
/**
 * A preallocation at least this large is prepared ahead, off the append path, as the spare file
 * SPARE_SEGMENT, once the current segment is half full; a smaller one is one write at rotation.
 */
const SPARE_MIN_BYTES = 1 << 20;

export type Durability = "fsync" | "fdatasync" | "none";

export interface LogOptions {
  fs?: DurableFs;
  /** "fdatasync" (default), "fsync", or "none" — UNSAFE: appends resolve before anything is durable. */
  durability?: Durability;
  /** Start a new segment once the current one reaches this size (default 4 MiB). */
  maxSegmentBytes?: number;
  /**
   * Create new segments at their full size, filled with zeros and fsynced, so that appends
   * overwrite in place and an fdatasync has no file size to commit (docs/LOG.md "Preallocated
   * segments"). Default: the adapter's `capabilities.preallocate` (true on a local disk in Node,
   * Deno and Bun; false in the memory simulator, S3 and OPFS). Existing segments are used as they
   * are either way.
   */
  preallocate?: boolean;
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
    super(
      "ELOGDAMAGE",
      `${dir}: damaged record at ${d.segment} byte ${d.offset} (sequence ${d.sequence}: ${d.reason}); run \`ckpt log repair ${dir}\` to set the damaged bytes aside`,
    );
  }
}

/** What opening found and did: the scan, plus what was cut into a side file and where sequences go on. */
export interface LogRecovery extends ScanReport {
  /** The side file holding the torn tail that opening cut, or null if nothing was cut. */
  sideFile: string | null;
  /** Bytes moved out of the log into `sideFile`. */
  cutBytes: number;
  /** The sequence the next append takes (above everything the cut bytes may have held). */
  nextSequence: number;
}

interface Pending {
  bytes: Uint8Array;
  first: number;
  count: number;
  resolve: (seq: number) => void;
  reject: (e: unknown) => void;
}

export class Log {
  /** What opening found and did: the recovery report. */
  readonly recovery: LogRecovery;
  private nextSeq: number;
  private queue: Pending[] = [];
  private flushing = false;
  private poisoned?: unknown;
  private closed = false;
  /** The next segment's preallocated file being prepared (resolves undefined if that failed). */
  private spare?: Promise<FileHandle | undefined>;
  /** Number of syncs issued (group-commit evidence; exposed for tests and the bench). */
  syncs = 0;

  private constructor(
    readonly dir: string,
    readonly fs: DurableFs,
    private readonly opts: Required<Omit<LogOptions, "fs" | "onWarning" | "create">>,
    private readonly lock: StoreLock,
    recovery: LogRecovery,
    private tail: { h: FileHandle; name: string; size: number } | undefined,
  ) {
    this.recovery = recovery;
    this.nextSeq = recovery.nextSequence;
  }

  static async open(dir: string, options: LogOptions & WithFs): Promise<Log> {
    checkOpenArgs(dir, options);
    const fs = requireFs(options, "openLog");
    const maxBatchRecords = options.maxBatchRecords ?? 4096;
    const maxBatchBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
    if (!Number.isSafeInteger(maxBatchRecords) || maxBatchRecords < 1) {
      throw new UsageError(`maxBatchRecords must be a whole number ≥ 1, got ${maxBatchRecords}`);
    }
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
      const { tail, recovery } = await Log.recover(fs, dir, report);
      const opts = {
        durability: options.durability ?? "fdatasync",
        maxSegmentBytes: options.maxSegmentBytes ?? DEFAULT_SEGMENT_BYTES,
        preallocate: options.preallocate ?? fs.capabilities.preallocate ?? false,
        maxBatchRecords,
        maxBatchBytes,
      };
      return new Log(dir, fs, opts, lock, recovery, tail);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * Opening for append: moves a torn tail into a side file (durably, before cutting it), then makes
   * sure the log continues above every sequence that may have been handed out — the ceiling of
   * the cut bytes, and any floor a side file names (a cut whose skip record a crash prevented) —
   * by appending a skip record, synced before any append is taken.
   */
  private static async recover(
    fs: DurableFs,
    dir: string,
    r: ScanReport,
  ): Promise<{ tail: Log["tail"]; recovery: LogRecovery }> {
    let sideFile: string | null = null;
    let cutBytes = 0;
    let floor = r.nextSequence;
    const stamp = Date.now();
    let segments = r.segments;
    let last = segments[segments.length - 1];
    if (last && r.tornSegmentHeader) {
      // A segment whose header never reached the disk holds no records; its bytes still go aside.
      sideFile = await moveToSideFile(fs, dir, last.name, floor, stamp);
      cutBytes = last.size;
      await fs.syncDir(dir);
      segments = segments.slice(0, -1);
      last = segments[segments.length - 1];
    } else if (last && r.truncatedBytes > 0) {
      floor = Math.max(
        floor,
        await sequenceCeiling(fs, dir, [{
          segment: last.name,
          from: last.goodEnd,
          to: last.goodEnd + r.truncatedBytes,
          whole: false,
        }], r.nextSequence),
      );
      // The torn bytes end at goodEnd + truncatedBytes; zeros after them (a preallocated
      // segment's unused space) hold nothing and stay where they are.
      const to = last.goodEnd + r.truncatedBytes;
      const side = await copyToSideFile(fs, dir, last.name, last.goodEnd, floor, stamp, to);
      sideFile = side.name;
      cutBytes = side.bytes;
      await fs.syncDir(dir); // the side file's name is durable before a byte is cut
    }
    floor = Math.max(floor, await sideFileFloor(fs, dir));
    const recovery: LogRecovery = { ...r, sideFile, cutBytes, nextSequence: floor };
    if (!last) return { tail: undefined, recovery }; // the first segment will be named after the floor
    const h = await fs.open(join(dir, last.name), { write: true });
    try {
      let size = last.goodEnd;
      if (cutBytes > 0 && !r.tornSegmentHeader) {
        // A segment that ends with the torn bytes is cut short (the layout before preallocation);
        // one with zeros after them keeps its size: the torn bytes become zeros again.
        if (size + cutBytes >= last.size) await h.truncate(size);
        else await zeroRange(h, size, size + cutBytes);
        await h.sync();
      }
      if (floor > r.nextSequence) {
        // Record the floor in the log itself: a skip record from the next sequence to the floor.
        const skip = encodeSkip(r.nextSequence, floor);
        await h.write(skip, size);
        await h.sync();
        size += skip.length;
      }
      return { tail: { h, name: last.name, size }, recovery };
    } catch (err) {
      await attempt(() => h.close());
      throw err;
    }
  }

  /** Appends one record; resolves with its sequence number once it is durable. */
  append(payload: Uint8Array): Promise<number> {
    if (!(payload instanceof Uint8Array)) return Promise.reject(notBytes("append(payload)", payload));
    return this.enqueue(RECORD_DATA, [payload]);
  }

  /** Appends records all or none (one physical record); resolves with the first sequence. */
  appendMany(payloads: Uint8Array[]): Promise<number> {
    if (!Array.isArray(payloads)) {
      return Promise.reject(
        new UsageError(`appendMany(payloads) takes an array of Uint8Array, got ${describe(payloads)}`),
      );
    }
    if (payloads.length === 0) return Promise.reject(new UsageError("appendMany needs at least one record"));
    const bad = payloads.findIndex((p) => !(p instanceof Uint8Array));
    if (bad >= 0) return Promise.reject(notBytes(`appendMany(payloads[${bad}])`, payloads[bad]));
    return this.enqueue(RECORD_BATCH, payloads);
  }

  /** Records that the store checkpoint `step` covers everything before this position. */
  mark(step: number): Promise<number> {
    if (!Number.isSafeInteger(step) || step < 0) {
      return Promise.reject(new UsageError(`mark(step) takes a whole number ≥ 0, got ${describe(step)}`));
    }
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(step), true);
    return this.enqueue(RECORD_MARKER, [b]);
  }

  private enqueue(type: number, payloads: Uint8Array[]): Promise<number> {
    if (this.closed) return Promise.reject(new UsageError("the log is closed"));
    if (this.poisoned) return Promise.reject(this.poisonError());
    const payload = type === RECORD_BATCH ? encodeBatch(payloads) : payloads[0]!;
    if (payload.length > MAX_RECORD_PAYLOAD) {
      return Promise.reject(
        new UsageError(`record of ${payload.length} bytes exceeds the ${MAX_RECORD_PAYLOAD}-byte limit`),
      );
    }
    const first = this.nextSeq;
    const count = type === RECORD_BATCH ? payloads.length : 1;
    if (first + count > Number.MAX_SAFE_INTEGER) {
      return Promise.reject(
        new CkptError("ESEQUENCE", `the log ${this.dir} has no sequence numbers left (next ${first})`),
      );
    }
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
    return new CkptError(
      "EPOISONED",
      `the log ${this.dir} failed a write or sync and refuses appends until reopened: ${
        (this.poisoned as Error)?.message ?? this.poisoned
      }`,
    );
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
    while (
      n < this.queue.length && n < this.opts.maxBatchRecords &&
      (n === 0 || bytes + this.queue[n]!.bytes.length <= this.opts.maxBatchBytes)
    ) {
      bytes += this.queue[n]!.bytes.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (!this.tail || this.tail.size >= this.opts.maxSegmentBytes) await this.rotate(batch[0]!.first);
    else if (this.tail.size >= this.opts.maxSegmentBytes / 2) this.prepareSpare();
    const t = this.tail!;
    const total = batch.reduce((n, p) => n + p.bytes.length, 0);
    let buf = batch[0]!.bytes;
    if (batch.length > 1) {
      buf = new Uint8Array(total);
      let o = 0;
      for (const p of batch) {
        buf.set(p.bytes, o);
        o += p.bytes.length;
      }
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

  /**
   * Starts segment `seg-<first>.wal`; its header and its name are durable before any record.
   * Preallocated: the file is maxSegmentBytes of zeros behind the header, all fsynced — taken from
   * the spare prepared ahead (header written in place, fsynced, then renamed) or written here.
   */
  private async rotate(first: number): Promise<void> {
    const name = segmentName(first);
    const path = join(this.dir, name);
    const header = encodeSegmentHeader(first);
    const spare = this.spare ? await this.spare : undefined;
    this.spare = undefined;
    let h: FileHandle | undefined = spare;
    let named = false; // whether `path` is ours to take away again
    try {
      if (spare) {
        await spare.write(header, 0);
        await spare.sync();
        // rename replaces its target: check what O_EXCL would (no writer but us, under the lock).
        if (await this.fs.stat(path)) throw new FsError("EEXIST", "start log segment", path);
        await this.fs.rename(join(this.dir, SPARE_SEGMENT), path);
        named = true;
      } else {
        h = await this.fs.open(path, { write: true, create: true, exclusive: true, mode: 0o644 });
        named = true;
        if (this.opts.preallocate) await fillPreallocated(h, header, this.preallocBytes());
        else {
          await h.write(header, 0);
          await h.sync();
        }
      }
      await this.fs.syncDir(this.dir);
    } catch (err) {
      // A segment whose header or name may not be durable must not become the tail of a reopened
      // log: records acknowledged into it could vanish with it. Take it away again.
      if (h) await attempt(() => h!.close());
      if (named) await attempt(() => this.fs.unlink(path));
      else if (spare) await attempt(() => this.fs.unlink(join(this.dir, SPARE_SEGMENT)));
      throw err;
    }
    if (this.tail) await attempt(() => this.tail!.h.close());
    this.tail = { h: h!, name, size: SEGMENT_HEADER_SIZE };
  }

  private preallocBytes(): number {
    return Math.max(this.opts.maxSegmentBytes, SEGMENT_HEADER_SIZE);
  }

  /**
   * Prepares the next segment's file ahead of rotation, off the append path (the flush loop does
   * not wait for it): SPARE_SEGMENT, zeros, fsynced. Its name matches no segment, so a crash
   * leaves it unread; a leftover of the right size is reused (it holds zeros, or zeros behind a
   * header a crashed rotation wrote, which the next rotation overwrites). A failure only means
   * rotation writes the preallocation itself.
   */
  private prepareSpare(): void {
    if (!this.opts.preallocate || this.spare || this.preallocBytes() < SPARE_MIN_BYTES) return;
    const path = join(this.dir, SPARE_SEGMENT);
    const size = this.preallocBytes();
    this.spare = (async () => {
      const st = await this.fs.stat(path);
      if (st?.isFile && st.size === size) return this.fs.open(path, { write: true });
      if (st) await this.fs.unlink(path);
      const h = await this.fs.open(path, { write: true, create: true, exclusive: true, mode: 0o644 });
      try {
        await fillPreallocated(h, new Uint8Array(0), size);
      } catch (err) {
        await attempt(() => h.close());
        throw err;
      }
      return h;
    })().catch(() => undefined);
  }

  /** Records currently on disk (a fresh read-only scan), e.g. after a marker: see replayLog. */
  replay(
    options: { salvage?: boolean; afterMarker?: number; onRecord?: (r: LogRecord) => void | Promise<void> } = {},
  ): Promise<ScanReport> {
    return replayLog(this.dir, { ...options, fs: this.fs });
  }

  /**
   * The same records as replay, pulled one at a time: `for await (const r of log.records())`.
   * The log is read only as fast as the loop asks; leaving the loop early stops the scan. Like
   * replay it ends at the first torn or damaged record (replay's report says which).
   */
  records(options: { salvage?: boolean; afterMarker?: number } = {}): AsyncGenerator<LogRecord, void, undefined> {
    return pullFrom<LogRecord>((emit) => this.replay({ ...options, onRecord: emit }).then(() => {}));
  }

  /** `await using log = await openLog(dir)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Removes whole segments whose records all precede `before` (never the active one), durably. */
  async truncate(options: { before: number }): Promise<{ removed: string[] }> {
    if (!Number.isSafeInteger(options.before) || options.before < 1) {
      throw new UsageError(`--before must be a sequence number ≥ 1, got ${options.before}`);
    }
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
    const spare = this.spare ? await this.spare : undefined;
    if (spare) await attempt(() => spare.close());
    await this.lock.release();
  }

  get nextSequence(): number {
    return this.nextSeq;
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string") return `a string (${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)})`;
  if (typeof v === "object") return `an object (${(v as object).constructor?.name ?? "Object"})`;
  return `${typeof v} ${String(v)}`;
}

/** Plain-JS callers get a clear error, never a string stored as its UTF-16 code units' low bytes. */
function notBytes(what: string, v: unknown): UsageError {
  return new UsageError(
    `${what} takes a Uint8Array, got ${describe(v)} (encode text first, e.g. new TextEncoder().encode(s))`,
  );
}

const DURABILITIES: readonly string[] = ["fsync", "fdatasync", "none"];

function checkOpenArgs(dir: unknown, options: unknown): void {
  if (typeof dir !== "string" || dir === "") {
    throw new UsageError(`openLog(dir) takes a directory path, got ${describe(dir)}`);
  }
  if (typeof options !== "object" || options === null) {
    throw new UsageError(`openLog(dir, options) takes an options object, got ${describe(options)}`);
  }
  const o = options as LogOptions;
  if (o.durability !== undefined && !DURABILITIES.includes(o.durability)) {
    throw new UsageError(`durability must be "fdatasync", "fsync" or "none", got ${describe(o.durability)}`);
  }
  if (o.maxSegmentBytes !== undefined && (!Number.isSafeInteger(o.maxSegmentBytes) || o.maxSegmentBytes < 1)) {
    throw new UsageError(`maxSegmentBytes must be a whole number ≥ 1, got ${describe(o.maxSegmentBytes)}`);
  }
  if (o.onWarning !== undefined && typeof o.onWarning !== "function") {
    throw new UsageError(`onWarning must be a function, got ${describe(o.onWarning)}`);
  }
}

export function openLog(dir: string, options: LogOptions & WithFs): Promise<Log> {
  return Log.open(dir, options);
}

export interface ReplayOptions {
  fs?: DurableFs;
  salvage?: boolean;
  afterMarker?: number;
  onRecord?: (r: LogRecord) => void | Promise<void>;
}

/**
 * Reads the log without modifying it. With `afterMarker: step`, only records after the last
 * marker for that store step are passed on: load checkpoint `step`, then apply these.
 */
export async function replayLog(
  dir: string,
  options: ReplayOptions & WithFs,
): Promise<ScanReport> {
  const fs = requireFs(options, "replayLog");
  if (options.afterMarker === undefined) return scanLog(fs, dir, options);
  // Two passes keep memory flat: find the marker's position, then stream what follows it.
  let markerSeq: number | undefined;
  await scanLog(fs, dir, {
    salvage: options.salvage,
    onRecord: (r) => {
      if (r.type === "marker" && r.step === options.afterMarker) markerSeq = r.sequence;
    },
  });
  if (markerSeq === undefined) throw new UsageError(`no marker for checkpoint step ${options.afterMarker} in ${dir}`);
  const after = markerSeq;
  return scanLog(fs, dir, {
    salvage: options.salvage,
    onRecord: (r) => (r.sequence > after ? options.onRecord?.(r) : undefined),
  });
}
