// Fault injection: a DurableFs that wraps any other one and makes chosen calls fail, the way a
// dying disk, a full volume or a read-only remount would. Deterministic: a rule fires by call
// count and path, never by time or chance, so every failing test replays exactly.
//
// Rules (checked in order; the first that fires throws):
//   { op: "write", nth: 3 }                    the 3rd write (counted from when the rule was added)
//   { op: "write", after: 10 }                 every write after the first 10 (FailingBlockDevice)
//   { path: /\.manifest/ }                     every call on a matching path
//   { op: "write", path: "m0", after: 2 }      every write to matching files after 2 of them
// A failure is an FsError with the chosen errno (EIO by default); fsync, fdatasync and fsync-dir
// failures are DurabilityErrors, as the real adapters report them.
//
// `when: "before"` (default) fails without touching the inner fs; `when: "after"` performs the
// call and then reports failure (a rename that happened but whose reply was lost, a write that
// reached the page cache but was reported as failed).
//
// Linux semantics of a failed fsync (the "fsyncgate" behaviour): the kernel marks the file's
// dirty pages clean and forgets them, so the unsynced data is lost even though reads may still
// return it, and a later fsync that succeeds does NOT bring it back. When the inner fs is the
// power-loss simulator (MemoryFs) we model exactly that: the file's pending writes and truncates
// are dropped from its pending list (its volatile contents stay as they were), so a crash can
// never keep them and no later sync makes them durable.
import { DurabilityError, FsError } from "../src/errors.ts";
import type {
  DurableFs,
  FileHandle,
  FileStat,
  OpenOptions,
  ProcessIdentity,
  ProcessState,
  StatOptions,
} from "../src/fs.ts";
import { MemoryFs } from "./memory.ts";

export const FAULT_OPS = [
  "open",
  "read",
  "write",
  "fsync",
  "fdatasync",
  "truncate",
  "size",
  "close",
  "rename",
  "unlink",
  "readdir",
  "mkdir",
  "rmdir",
  "fsync-dir",
  "stat",
  "chmod",
  "link",
] as const;
export type FaultOp = (typeof FAULT_OPS)[number];
export type FaultErrno = "EIO" | "ENOSPC" | "EPERM" | "EROFS";

const SYNC_OPS: ReadonlySet<FaultOp> = new Set(["fsync", "fdatasync", "fsync-dir"]);

export interface FaultRule {
  /** Operation(s) the rule watches (default: all). */
  op?: FaultOp | FaultOp[];
  /** Only calls on paths containing this string / matching this pattern (rename: either path). */
  path?: string | RegExp;
  /** Fail the nth matching call (1-based), once. */
  nth?: number;
  /** Fail every matching call after the first `after` (0: all of them). */
  after?: number;
  /** Stop firing after this many failures (default: 1 with `nth`, unlimited otherwise). */
  times?: number;
  errno?: FaultErrno;
  when?: "before" | "after";
}

export interface FaultRecord {
  op: FaultOp;
  path: string;
  errno: FaultErrno;
  call: number;
}

interface Armed {
  rule: FaultRule;
  seen: number;
  fired: number;
}

export class FaultyFs implements DurableFs {
  readonly name: string;
  /** Calls per operation, failed ones included. */
  readonly counts: Record<FaultOp, number>;
  /** Every injected failure, in order. */
  readonly failures: FaultRecord[] = [];
  private armed: Armed[] = [];

  constructor(readonly inner: DurableFs, rules: FaultRule[] = []) {
    this.name = `faulty:${inner.name}`;
    this.counts = Object.fromEntries(FAULT_OPS.map((o) => [o, 0])) as Record<FaultOp, number>;
    for (const r of rules) this.addRule(r);
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  /** Adds a rule; its call counting starts now. */
  addRule(rule: FaultRule): this {
    if (rule.nth !== undefined && (!Number.isSafeInteger(rule.nth) || rule.nth < 1)) {
      throw new RangeError(`nth must be ≥ 1, got ${rule.nth}`);
    }
    if (rule.after !== undefined && (!Number.isSafeInteger(rule.after) || rule.after < 0)) {
      throw new RangeError(`after must be ≥ 0, got ${rule.after}`);
    }
    this.armed.push({ rule, seen: 0, fired: 0 });
    return this;
  }

  /** Removes every rule (counters are kept). */
  clearRules(): this {
    this.armed = [];
    return this;
  }

  resetCounts(): this {
    for (const o of FAULT_OPS) this.counts[o] = 0;
    return this;
  }

  /** Total calls over the given operations (all, if none given). */
  total(...ops: FaultOp[]): number {
    let n = 0;
    for (const o of ops.length ? ops : FAULT_OPS) n += this.counts[o];
    return n;
  }

  /** Counts the call and returns the rule that fires on it, if any. */
  private decide(op: FaultOp, paths: string[]): Armed | undefined {
    this.counts[op]++;
    let hit: Armed | undefined;
    for (const a of this.armed) {
      const r = a.rule;
      const ops = r.op === undefined ? undefined : Array.isArray(r.op) ? r.op : [r.op];
      if (ops && !ops.includes(op)) continue;
      if (
        r.path !== undefined && !paths.some((p) => (typeof r.path === "string" ? p.includes(r.path) : r.path!.test(p)))
      ) continue;
      a.seen++;
      if (hit) continue; // later rules still count the call, so their nth stays meaningful
      const limit = r.times ?? (r.nth !== undefined ? 1 : Infinity);
      if (a.fired >= limit) continue;
      const fires = r.nth !== undefined ? a.seen === r.nth : a.seen > (r.after ?? 0);
      if (fires) hit = a;
    }
    return hit;
  }

  private error(a: Armed, op: FaultOp, path: string): FsError {
    a.fired++;
    const errno = a.rule.errno ?? "EIO";
    this.failures.push({ op, path, errno, call: this.counts[op] });
    return SYNC_OPS.has(op) ? new DurabilityError(errno, op, path) : new FsError(errno, op, path, "injected fault");
  }

  /** Runs one call through the rules. */
  async call<T>(op: FaultOp, paths: string[], fn: () => Promise<T>, onFail?: () => void): Promise<T> {
    const a = this.decide(op, paths);
    if (!a) return fn();
    if (a.rule.when === "after") await fn();
    onFail?.();
    throw this.error(a, op, paths[0]!);
  }

  /** Linux fsync-failure semantics on the simulator: the file's unsynced data is forgotten. */
  dropUnsynced(path: string): void {
    if (!(this.inner instanceof MemoryFs)) return;
    const mem = this.inner;
    mem.pending = mem.pending.filter((p) => !((p.kind === "write" || p.kind === "truncate") && p.path === path));
  }

  async open(path: string, options?: OpenOptions): Promise<FileHandle> {
    const h = await this.call("open", [path], () => this.inner.open(path, options));
    return new FaultyHandle(this, h);
  }
  rename(from: string, to: string): Promise<void> {
    return this.call("rename", [from, to], () => this.inner.rename(from, to));
  }
  unlink(path: string): Promise<void> {
    return this.call("unlink", [path], () => this.inner.unlink(path));
  }
  readdir(path: string): Promise<string[]> {
    return this.call("readdir", [path], () => this.inner.readdir(path));
  }
  mkdir(path: string, mode?: number): Promise<void> {
    return this.call("mkdir", [path], () => this.inner.mkdir(path, mode));
  }
  rmdir(path: string): Promise<void> {
    return this.call("rmdir", [path], () => this.inner.rmdir(path));
  }
  syncDir(path: string): Promise<void> {
    return this.call("fsync-dir", [path], () => this.inner.syncDir(path));
  }
  stat(path: string, options?: StatOptions): Promise<FileStat | null> {
    return this.call("stat", [path], () => this.inner.stat(path, options));
  }
  chmod(path: string, mode: number): Promise<void> {
    return this.call("chmod", [path], () => this.inner.chmod(path, mode));
  }
  pid(): number {
    return this.inner.pid();
  }
  hostname(): string {
    return this.inner.hostname();
  }
  processAlive(pid: number): boolean {
    return this.inner.processAlive(pid);
  }
  link(existing: string, newPath: string): Promise<void> {
    return this.call("link", [existing, newPath], () => this.inner.link(existing, newPath));
  }
  processIdentity(): ProcessIdentity {
    return this.inner.processIdentity();
  }
  processState(pid: number, start?: number): ProcessState {
    return this.inner.processState(pid, start);
  }
  async dropUnfinishedWrites(dir: string, ours: (name: string) => boolean): Promise<string[]> {
    return (await this.inner.dropUnfinishedWrites?.(dir, ours)) ?? [];
  }
}

class FaultyHandle implements FileHandle {
  constructor(private readonly fs: FaultyFs, private readonly h: FileHandle) {}
  get path(): string {
    return this.h.path;
  }
  read(buf: Uint8Array, position: number): Promise<number> {
    return this.fs.call("read", [this.path], () => this.h.read(buf, position));
  }
  write(data: Uint8Array, position: number): Promise<void> {
    return this.fs.call("write", [this.path], () => this.h.write(data, position));
  }
  sync(): Promise<void> {
    return this.fs.call("fsync", [this.path], () => this.h.sync(), () => this.fs.dropUnsynced(this.path));
  }
  datasync(): Promise<void> {
    return this.fs.call("fdatasync", [this.path], () => this.h.datasync(), () => this.fs.dropUnsynced(this.path));
  }
  truncate(length: number): Promise<void> {
    return this.fs.call("truncate", [this.path], () => this.h.truncate(length));
  }
  size(): Promise<number> {
    return this.fs.call("size", [this.path], () => this.h.size());
  }
  /** A failed close still releases the inner handle: a close is never retried (fd reuse). */
  close(): Promise<void> {
    return this.fs.call("close", [this.path], () => this.h.close(), () => void this.h.close().catch(() => {}));
  }
}

// ---- policies (the seeds' FailingBlockDevice, and the common single faults) -----------------

/** Every write after the first n fails (a device that fills up or dies). */
export function failAfterWrites(n: number, errno: FaultErrno = "EIO"): FaultRule {
  return { op: "write", after: n, errno };
}

/** Every call touching a path matching the pattern fails. */
export function failOnPaths(pattern: string | RegExp, errno: FaultErrno = "EIO", op?: FaultOp | FaultOp[]): FaultRule {
  return { path: pattern, errno, op };
}

/** Writes to matching files fail after the first n of them. */
export function failAfterWritesTo(n: number, pattern: string | RegExp, errno: FaultErrno = "EIO"): FaultRule {
  return { op: "write", path: pattern, after: n, errno };
}

/** Only the nth call of one operation fails. */
export function failNth(op: FaultOp, nth: number, errno: FaultErrno = "EIO"): FaultRule {
  return { op, nth, errno };
}
