// Durable state: an in-memory value, every change appended to the log (group commit) before it
// is applied, and now and then a snapshot of the value saved in the store, tied to a log marker.
// See docs/STATE.md. The invariants, each kept in one place below:
// 1. The value is `apply` folded over the log's data records in sequence order, and only over
//    durable ones: a change is applied after its append resolved and after every record with a
//    lower sequence was processed (the `ready` reorder buffer), whatever order batches resolve in.
// 2. A snapshot holds exactly the records before its marker: its value is captured when the
//    marker itself comes up in that order — so after the marker is durable, after every earlier
//    record was applied, and before any later one is.
// 3. The snapshot is saved only after its marker is durable (2 implies it), and the log is
//    truncated only after the save returned, and only before the marker of the OLDEST snapshot
//    still in the store, so every snapshot recovery may fall back to keeps its suffix.
// 4. Nothing else appends to the log (both the log and the store hold writer locks).
import { CkptError, UsageError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { requireFs, type WithFs } from "../fs-arg.ts";
import { dirname, join } from "../path.ts";
import { openStore, type Store, type StoreOptions } from "../store/store.ts";
import { type Log, type LogOptions, openLog } from "../wal/log.ts";
import { encodeSnapshotMeta, listSnapshots, recover, type RecoveryReport, STATE_MEMBER } from "./recover.ts";

export { type RecoveryReport, StateRecoveryError } from "./recover.ts";

export interface StateOptions<S> {
  /** The value before any change. Copied through encode/decode, so `apply` may mutate what it gets. */
  initial: S;
  /** Folds one change into the value (may mutate and return it). Deterministic; must not throw. */
  apply: (state: S, change: Uint8Array) => S;
  encode: (state: S) => Uint8Array;
  decode: (bytes: Uint8Array) => S;
  /** Take a snapshot automatically after this many changes (default: never; call snapshot()). */
  snapshotEvery?: number;
  /** Snapshots kept in the store (default 2, at least 1): recovery can fall back to the older ones. */
  keepSnapshots?: number;
  /**
   * `apply` never mutates its input (it returns a new value): a snapshot then holds a reference
   * and encodes it outside the critical section, which shrinks to a pointer copy. Default false:
   * the value is encoded inside the critical section.
   */
  immutable?: boolean;
  fs?: DurableFs;
  /** Passed to the log at <dir>/wal (segment size, durability, batching). */
  log?: Omit<LogOptions, "fs">;
  /** Passed to the store at <dir>/snap (protocol, chunk size). */
  store?: Omit<StoreOptions, "fs" | "readOnly">;
  onWarning?: (message: string) => void;
}

export interface StateStats {
  /** Snapshots taken by this handle. */
  snapshots: number;
  /** Time updates were held by the last snapshot's capture (ms): the critical section. */
  lastHoldMs: number;
  maxHoldMs: number;
  /** Log segments removed by truncation. */
  segmentsRemoved: number;
}

type Entry =
  | { kind: "data"; change: Uint8Array; resolve: (seq: number) => void; reject: (e: unknown) => void }
  | { kind: "mark"; resolve: (captured: Captured) => void; reject: (e: unknown) => void };
interface Captured {
  bytes?: Uint8Array;
  ref?: unknown;
  lastSequence: number;
  changes: number;
}

export class State<S> {
  private current: S;
  /** Sequence of the next record to process; every lower one has been processed (invariant 1). */
  private nextApply: number;
  private readonly ready = new Map<number, Entry>();
  private lastSequence: number;
  private changes: number;
  private sinceSnapshot = 0;
  private lastStep: number;
  private snapshotting: Promise<unknown> = Promise.resolve();
  private autoPending = false;
  private failed?: unknown;
  private closed = false;
  readonly stats: StateStats = { snapshots: 0, lastHoldMs: 0, maxHoldMs: 0, segmentsRemoved: 0 };

  private constructor(
    readonly dir: string,
    private readonly store: Store,
    private readonly log: Log,
    private readonly opts: StateOptions<S>,
    /** What opening found and did. */
    readonly recovery: RecoveryReport,
    value: S,
  ) {
    this.current = value;
    this.nextApply = log.nextSequence;
    this.lastSequence = recovery.lastSequence;
    this.changes = recovery.changes;
    this.lastStep = recovery.highestStep;
  }

  static async open<S>(dir: string, opts: StateOptions<S> & WithFs): Promise<State<S>> {
    for (const k of ["apply", "encode", "decode"] as const) {
      if (typeof opts[k] !== "function") throw new UsageError(`openState needs ${k} (a function)`);
    }
    if (opts.snapshotEvery !== undefined && (!Number.isSafeInteger(opts.snapshotEvery) || opts.snapshotEvery < 1)) {
      throw new UsageError(`snapshotEvery must be a whole number ≥ 1, got ${opts.snapshotEvery}`);
    }
    const keep = opts.keepSnapshots ?? 2;
    if (!Number.isSafeInteger(keep) || keep < 1) {
      throw new UsageError(`keepSnapshots must be a whole number ≥ 1, got ${keep}`);
    }
    const fs = requireFs(opts, "openState");
    if (!(await fs.stat(dir))) {
      await fs.mkdir(dir);
      await fs.syncDir(dirname(dir));
    }
    const store = await openStore(join(dir, "snap"), { ...opts.store, fs, onWarning: opts.onWarning });
    let log: Log | undefined;
    try {
      log = await openLog(join(dir, "wal"), { ...opts.log, fs, onWarning: opts.onWarning });
      const fresh = () => opts.decode(opts.encode(opts.initial));
      const { value, report } = await recover(store, log, fresh, opts.apply, opts.decode);
      return new State(dir, store, log, { ...opts, keepSnapshots: keep }, report, value);
    } catch (err) {
      await log?.close();
      await store.close();
      throw err;
    }
  }

  /** The current value: every change whose update resolved, and nothing not yet durable. */
  get value(): S {
    return this.current;
  }

  /** Appends the change (group commit); resolves to its sequence once durable and applied. */
  update(change: Uint8Array): Promise<number> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (!(change instanceof Uint8Array)) return Promise.reject(new UsageError("a change must be a Uint8Array"));
    return new Promise<number>((resolve, reject) =>
      this.enqueue({ kind: "data", change, resolve, reject }, () => this.log.append(change))
    );
  }

  /**
   * Writes a marker, captures the value when the marker comes up in sequence order, saves it
   * as checkpoint `step`, then truncates the log before the oldest retained snapshot's marker.
   * Resolves to the step. Snapshots run one at a time; updates go on meanwhile.
   */
  snapshot(): Promise<number> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    const run = this.snapshotting.then(() => this.snapshotNow(), () => this.snapshotNow());
    this.snapshotting = run.catch(() => {});
    return run;
  }

  private async snapshotNow(): Promise<number> {
    // A snapshot asked for before close() still runs (close waits for it); a failed state refuses.
    if (this.failed) throw this.refusal()!;
    const step = ++this.lastStep;
    let markSequence = 0;
    const captured = await new Promise<Captured>((resolve, reject) => {
      markSequence = this.enqueue({ kind: "mark", resolve, reject }, () => this.log.mark(step));
    });
    // Invariant 2, checked where it would corrupt: the value holds only records before the marker.
    if (captured.lastSequence >= markSequence) {
      throw new CkptError(
        "ESTATE",
        `snapshot ${step} captured sequence ${captured.lastSequence}, at or after its marker ${markSequence}`,
      );
    }
    const data = captured.bytes ?? this.opts.encode(captured.ref as S);
    const meta = encodeSnapshotMeta({ markSequence, lastSequence: captured.lastSequence, changes: captured.changes });
    await this.store.save([{ name: STATE_MEMBER, data }], { step, meta, keep: this.opts.keepSnapshots });
    this.stats.snapshots++;
    // The save returned: the snapshot is durable (save with `keep` forces even a weaker protocol's
    // checkpoint to disk before it prunes) and retention has run. Only
    // now may log segments go, and only those before the oldest snapshot still present.
    await this.truncateLog();
    return step;
  }

  private async truncateLog(): Promise<void> {
    let before = Infinity;
    for (const s of await listSnapshots(this.store)) {
      // A checkpoint with no readable metadata can never be loaded, so it needs no log.
      if (s.state) before = Math.min(before, s.state.markSequence);
    }
    if (!Number.isFinite(before)) return;
    const { removed } = await this.log.truncate({ before });
    this.stats.segmentsRemoved += removed.length;
  }

  /**
   * Hands a record to the log and files its entry under the sequence the log assigns. The log
   * assigns sequences synchronously in call order (nextSequence before the call); a call that
   * did not advance it was refused before taking one (e.g. a record too large) and poisons
   * nothing. A rejection after taking one means the log is poisoned: so is the state.
   */
  private enqueue(entry: Entry, append: () => Promise<number>): number {
    const seq = this.log.nextSequence;
    const p = append();
    if (this.log.nextSequence === seq) {
      p.then(
        () => entry.reject(new CkptError("ESTATE", "the log accepted a record without assigning a sequence")),
        entry.reject,
      );
      return seq;
    }
    p.then((got) => {
      if (this.failed) return entry.reject(this.refusal());
      if (got !== seq) {
        return this.fail(
          new CkptError("ESTATE", `the log gave sequence ${got} to the record expected at ${seq}: another writer?`),
          entry,
        );
      }
      this.ready.set(seq, entry);
      this.drain();
    }, (err) => this.fail(err, entry));
    return seq;
  }

  /** Processes durable records in sequence order (invariant 1). */
  private drain(): void {
    for (let e = this.ready.get(this.nextApply); e && !this.failed; e = this.ready.get(this.nextApply)) {
      const seq = this.nextApply;
      this.ready.delete(seq);
      this.nextApply++;
      if (e.kind === "data") {
        try {
          this.current = this.opts.apply(this.current, e.change);
        } catch (err) {
          // The change is durable: a reopen would replay it and throw again. Stop here.
          this.fail(err, e);
          return;
        }
        this.lastSequence = seq;
        this.changes++;
        e.resolve(seq);
        if (this.opts.snapshotEvery !== undefined && ++this.sinceSnapshot >= this.opts.snapshotEvery) {
          this.autoSnapshot();
        }
      } else {
        // Invariant 2: the critical section. Nothing after the marker is applied until it ends.
        const t0 = performance.now();
        const c: Captured = { lastSequence: this.lastSequence, changes: this.changes };
        if (this.opts.immutable) c.ref = this.current;
        else c.bytes = this.opts.encode(this.current);
        const held = performance.now() - t0;
        this.stats.lastHoldMs = held;
        if (held > this.stats.maxHoldMs) this.stats.maxHoldMs = held;
        this.sinceSnapshot = 0;
        e.resolve(c);
      }
    }
  }

  private autoSnapshot(): void {
    if (this.autoPending || this.closed) return;
    this.autoPending = true;
    this.sinceSnapshot = 0;
    this.snapshot().catch((err) => this.opts.onWarning?.(`automatic snapshot failed: ${(err as Error).message}`))
      .finally(() => {
        this.autoPending = false;
      });
  }

  /** Stops the state: this entry gets the error, every entry waiting for its turn is refused. */
  private fail(err: unknown, entry: Entry): void {
    this.failed ??= err;
    entry.reject(err);
    const waiting = [...this.ready.values()];
    this.ready.clear();
    for (const w of waiting) w.reject(this.refusal());
  }

  private refusal(): Error | undefined {
    if (this.closed) return new UsageError("the state is closed");
    if (this.failed) {
      return new CkptError(
        "EPOISONED",
        `the state at ${this.dir} stopped after an error and refuses changes until reopened: ${
          (this.failed as Error)?.message ?? this.failed
        }`,
      );
    }
    return undefined;
  }

  /** Waits for queued updates and the running snapshot, then releases the log and the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshotting;
    await this.log.close();
    await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export function openState<S>(dir: string, options: StateOptions<S> & WithFs): Promise<State<S>> {
  return State.open(dir, options);
}
