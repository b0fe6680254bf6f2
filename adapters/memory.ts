// The power-loss simulator: an in-memory DurableFs that keeps what is durable apart from what is
// only in the (simulated) page cache.
//
// Model (ext4 data=ordered, the weakest behaviour a POSIX program may rely on):
// - Every mutation is applied to the volatile state at once and appended to `pending`.
// - sync()/datasync() of a file makes its pending data operations (writes, truncates) durable.
// - syncDir(dir) makes the pending entry operations in that directory (create, mkdir, unlink,
//   rename) durable. A rename is one journal transaction: syncing either directory commits it.
// - crash() returns a new fs holding only the durable state, plus, if asked, any subset of the
//   pending operations applied in their original order, with kept writes optionally torn at a
//   512-byte boundary. Inodes outlive their names, so a rename that is undone brings the old
//   file back with its durable contents.
// - crashAfter(k) makes the (k+1)-th mutating operation and every later call throw
//   SimulatedCrash, so a test can stop a workload after exactly k steps and inspect crash().
import { FsError } from "../src/errors.ts";
import type { DurableFs, FileHandle, FileStat, OpenOptions, ProcessIdentity, ProcessState } from "../src/fs.ts";
import { fsError } from "./errno.ts";

export const SECTOR = 512;

interface Inode {
  id: number;
  dir: boolean;
  mode: number;
  mtimeMs: number;
  data: Uint8Array; // volatile contents (files)
  durableData: Uint8Array;
  entries: Map<string, number>; // volatile names (directories)
  durableEntries: Map<string, number>;
}

export type PendingOp =
  | { kind: "write"; ino: number; path: string; offset: number; data: Uint8Array }
  | { kind: "truncate"; ino: number; path: string; length: number }
  | { kind: "link"; dir: number; name: string; ino: number; path: string }
  | { kind: "unlink"; dir: number; name: string; path: string }
  | { kind: "rename"; fromDir: number; fromName: string; toDir: number; toName: string; path: string };

/** For a kept pending op: true keeps it whole; a number keeps only that many bytes of a write. */
export type KeepDecision = boolean | number;

export interface CrashOptions {
  /** Decide, for each pending op in order, whether it reached the disk. Default: none did. */
  keep?: (op: PendingOp, index: number) => KeepDecision;
}

/** Thrown by every call once the simulated power is cut. */
export class SimulatedCrash extends Error {
  readonly code = "ESIMCRASH";
  constructor(step: number) {
    super(`simulated power loss after ${step} operations`);
  }
}

export interface MemoryFsOptions {
  pid?: number;
  hostname?: string;
  /** Pids considered alive by processAlive (this fs's own pid always is). */
  livePids?: Iterable<number>;
  /** This process's simulated start time (default 1). */
  start?: number;
  /** The simulated boot (default "memboot-1"); crash() starts the next one. */
  bootId?: string;
}

function grow(buf: Uint8Array, size: number): Uint8Array {
  if (size <= buf.length) return buf;
  const out = new Uint8Array(size);
  out.set(buf);
  return out;
}

function applyWrite(buf: Uint8Array, offset: number, data: Uint8Array): Uint8Array {
  const out = grow(buf, offset + data.length);
  out.set(data, offset);
  return out;
}

function applyTruncate(buf: Uint8Array, length: number): Uint8Array {
  return length <= buf.length ? buf.slice(0, length) : grow(buf, length);
}

export class MemoryFs implements DurableFs {
  readonly name = "memory";
  readonly capabilities = { dirSync: true, datasync: true, processAlive: true, link: true };
  /** Operations applied but not yet durable, in issue order. */
  pending: PendingOp[] = [];
  /** Human-readable record of every call, for counter-example traces. */
  readonly trace: string[] = [];
  /** Count of mutating operations performed (writes, syncs, renames, ...). */
  steps = 0;
  private inodes = new Map<number, Inode>();
  private nextIno = 2;
  private crashAt = Infinity;
  private crashed = false;
  private readonly myPid: number;
  private readonly host: string;
  readonly livePids: Set<number>;
  /** Start times of live pids, for pid-reuse tests (a pid without one matches any start). */
  readonly startTimes: Map<number, number> = new Map();
  private readonly myStart: number;
  readonly bootId: string;

  constructor(options: MemoryFsOptions = {}) {
    this.myPid = options.pid ?? 4242;
    this.host = options.hostname ?? "memhost";
    this.livePids = new Set(options.livePids ?? []);
    this.myStart = options.start ?? 1;
    this.bootId = options.bootId ?? "memboot-1";
    this.inodes.set(1, this.newInode(1, true, 0o755));
  }

  private newInode(id: number, dir: boolean, mode: number): Inode {
    return {
      id,
      dir,
      mode,
      mtimeMs: 0,
      data: new Uint8Array(0),
      durableData: new Uint8Array(0),
      entries: new Map(),
      durableEntries: new Map(),
    };
  }

  // ---- crash control -------------------------------------------------------------------

  /** Cut the power once `k` more mutating operations have completed. */
  crashAfter(k: number): void {
    this.crashAt = this.steps + k;
  }

  /** The state a reboot would find, as a fresh MemoryFs (this one is left as it was). */
  crash(options: CrashOptions = {}): MemoryFs {
    // A power loss is a reboot: every process is gone and the boot id changes.
    const boot = /^(.*-)(\d+)$/.exec(this.bootId);
    const bootId = boot ? `${boot[1]}${Number(boot[2]) + 1}` : `${this.bootId}-2`;
    const next = new MemoryFs({ pid: this.myPid + 1, hostname: this.host, livePids: [], bootId });
    next.nextIno = this.nextIno;
    next.inodes = new Map();
    for (const [id, ino] of this.inodes) {
      next.inodes.set(id, {
        ...this.newInode(id, ino.dir, ino.mode),
        data: ino.durableData.slice(),
        durableData: ino.durableData.slice(),
        entries: new Map(ino.durableEntries),
        durableEntries: new Map(ino.durableEntries),
      });
    }
    this.pending.forEach((op, i) => {
      const decision = options.keep ? options.keep(op, i) : false;
      if (decision === false) return;
      next.applyDurably(op, typeof decision === "number" ? decision : undefined);
    });
    return next;
  }

  /** Applies a pending op to both the volatile and durable state of a post-crash fs. */
  private applyDurably(op: PendingOp, tornLength?: number): void {
    const ino = (n: number) => this.inodes.get(n);
    switch (op.kind) {
      case "write": {
        const f = ino(op.ino);
        if (!f) return;
        const data = tornLength === undefined ? op.data : op.data.subarray(0, tornLength);
        f.durableData = applyWrite(f.durableData, op.offset, data);
        f.data = f.durableData.slice();
        return;
      }
      case "truncate": {
        const f = ino(op.ino);
        if (!f) return;
        f.durableData = applyTruncate(f.durableData, op.length);
        f.data = f.durableData.slice();
        return;
      }
      case "link": {
        const d = ino(op.dir);
        if (!d) return;
        d.durableEntries.set(op.name, op.ino);
        d.entries = new Map(d.durableEntries);
        return;
      }
      case "unlink": {
        const d = ino(op.dir);
        if (!d) return;
        d.durableEntries.delete(op.name);
        d.entries = new Map(d.durableEntries);
        return;
      }
      case "rename": {
        const from = ino(op.fromDir);
        const to = ino(op.toDir);
        const target = from?.durableEntries.get(op.fromName);
        if (!from || !to || target === undefined) return;
        from.durableEntries.delete(op.fromName);
        to.durableEntries.set(op.toName, target);
        from.entries = new Map(from.durableEntries);
        to.entries = new Map(to.durableEntries);
        return;
      }
    }
  }

  /** Offsets at which a pending write may be torn: each 512-byte boundary inside it. */
  static tearPoints(op: PendingOp): number[] {
    if (op.kind !== "write") return [];
    const points: number[] = [];
    const first = Math.ceil(op.offset / SECTOR) * SECTOR - op.offset;
    for (let cut = first === 0 ? SECTOR : first; cut < op.data.length; cut += SECTOR) points.push(cut);
    return points;
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  private step(desc: string, mutating: boolean): void {
    if (this.crashed) throw new SimulatedCrash(this.steps);
    if (mutating) {
      if (this.steps >= this.crashAt) {
        this.crashed = true;
        throw new SimulatedCrash(this.steps);
      }
      this.steps++;
    }
    this.trace.push(desc);
  }

  private parts(path: string): string[] {
    const out: string[] = [];
    for (const p of path.split("/")) {
      if (p === "" || p === ".") continue;
      if (p === "..") out.pop();
      else out.push(p);
    }
    return out;
  }

  private lookup(path: string): Inode | undefined {
    let cur = this.inodes.get(1)!;
    for (const p of this.parts(path)) {
      if (!cur.dir) return undefined;
      const id = cur.entries.get(p);
      if (id === undefined) return undefined;
      cur = this.inodes.get(id)!;
    }
    return cur;
  }

  private parentOf(path: string, op: string): { dir: Inode; name: string } {
    const parts = this.parts(path);
    const name = parts.pop();
    if (name === undefined) throw new FsError("EINVAL", op, path);
    const dir = this.lookup(parts.join("/"));
    if (!dir) throw new FsError("ENOENT", op, path);
    if (!dir.dir) throw new FsError("ENOTDIR", op, path);
    return { dir, name };
  }

  private file(path: string, op: string): Inode {
    const node = this.lookup(path);
    if (!node) throw new FsError("ENOENT", op, path);
    return node;
  }

  // ---- DurableFs ----------------------------------------------------------------------------

  // The simulator has no symbolic links: OpenOptions.noFollow and stat's noFollow change nothing.
  async open(path: string, o: OpenOptions = {}): Promise<FileHandle> {
    let node = this.lookup(path);
    if (node && o.create && o.exclusive) throw new FsError("EEXIST", "open", path);
    if (node?.dir && o.write) throw new FsError("EISDIR", "open", path);
    if (!node) {
      if (!o.create) throw new FsError("ENOENT", "open", path);
      const { dir, name } = this.parentOf(path, "open");
      this.step(`create ${path}`, true);
      node = this.newInode(this.nextIno++, false, (o.mode ?? 0o666) & 0o7777);
      this.inodes.set(node.id, node);
      dir.entries.set(name, node.id);
      this.pending.push({ kind: "link", dir: dir.id, name, ino: node.id, path });
    } else {
      this.step(`open ${path}`, false);
    }
    if (o.truncate && o.write && node.data.length > 0) {
      this.step(`truncate ${path} 0`, true);
      node.data = new Uint8Array(0);
      this.pending.push({ kind: "truncate", ino: node.id, path, length: 0 });
    }
    return new MemoryHandle(this, node, path, !!o.write);
  }

  /** Called by handles. */
  fileOp(node: Inode, path: string, op: PendingOp | { kind: "sync" } | { kind: "read" }): void {
    switch (op.kind) {
      case "write":
        this.step(`write ${path} @${op.offset} +${op.data.length}`, true);
        node.data = applyWrite(node.data, op.offset, op.data);
        node.mtimeMs = Date.now();
        this.pending.push({ ...op, data: op.data.slice() });
        return;
      case "truncate":
        this.step(`truncate ${path} ${op.length}`, true);
        node.data = applyTruncate(node.data, op.length);
        this.pending.push(op);
        return;
      case "sync": {
        this.step(`fsync ${path}`, true);
        const keep: PendingOp[] = [];
        for (const p of this.pending) {
          if ((p.kind === "write" || p.kind === "truncate") && p.ino === node.id) this.applyDataDurably(node, p);
          else keep.push(p);
        }
        this.pending = keep;
        return;
      }
      case "read":
        this.step(`read ${path}`, false);
        return;
    }
  }

  private applyDataDurably(node: Inode, p: PendingOp): void {
    if (p.kind === "write") node.durableData = applyWrite(node.durableData, p.offset, p.data);
    else if (p.kind === "truncate") node.durableData = applyTruncate(node.durableData, p.length);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = this.parentOf(from, "rename");
    const dst = this.parentOf(to, "rename");
    const id = src.dir.entries.get(src.name);
    if (id === undefined) throw new FsError("ENOENT", "rename", from);
    const existing = dst.dir.entries.get(dst.name);
    if (existing !== undefined && this.inodes.get(existing)!.dir !== this.inodes.get(id)!.dir) {
      throw new FsError(this.inodes.get(existing)!.dir ? "EISDIR" : "ENOTDIR", "rename", to);
    }
    this.step(`rename ${from} -> ${to}`, true);
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, id);
    this.pending.push({
      kind: "rename",
      fromDir: src.dir.id,
      fromName: src.name,
      toDir: dst.dir.id,
      toName: dst.name,
      path: `${from} -> ${to}`,
    });
  }

  async unlink(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path, "unlink");
    const id = dir.entries.get(name);
    if (id === undefined) throw new FsError("ENOENT", "unlink", path);
    if (this.inodes.get(id)!.dir) throw new FsError("EISDIR", "unlink", path);
    this.step(`unlink ${path}`, true);
    dir.entries.delete(name);
    this.pending.push({ kind: "unlink", dir: dir.id, name, path });
  }

  async rmdir(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path, "rmdir");
    const id = dir.entries.get(name);
    if (id === undefined) throw new FsError("ENOENT", "rmdir", path);
    const node = this.inodes.get(id)!;
    if (!node.dir) throw new FsError("ENOTDIR", "rmdir", path);
    if (node.entries.size > 0) throw new FsError("ENOTEMPTY", "rmdir", path);
    this.step(`rmdir ${path}`, true);
    dir.entries.delete(name);
    this.pending.push({ kind: "unlink", dir: dir.id, name, path });
  }

  async readdir(path: string): Promise<string[]> {
    const node = this.file(path, "readdir");
    if (!node.dir) throw new FsError("ENOTDIR", "readdir", path);
    this.step(`readdir ${path}`, false);
    return [...node.entries.keys()];
  }

  async mkdir(path: string, mode = 0o777): Promise<void> {
    const parts = this.parts(path);
    let cur = this.inodes.get(1)!;
    let sofar = "";
    for (const p of parts) {
      sofar += `/${p}`;
      const id = cur.entries.get(p);
      if (id !== undefined) {
        cur = this.inodes.get(id)!;
        if (!cur.dir) throw new FsError("ENOTDIR", "mkdir", sofar);
        continue;
      }
      this.step(`mkdir ${sofar}`, true);
      const node = this.newInode(this.nextIno++, true, mode & 0o7777);
      this.inodes.set(node.id, node);
      cur.entries.set(p, node.id);
      this.pending.push({ kind: "link", dir: cur.id, name: p, ino: node.id, path: sofar });
      cur = node;
    }
  }

  async syncDir(path: string): Promise<void> {
    const node = this.file(path, "fsync-dir");
    if (!node.dir) throw new FsError("ENOTDIR", "fsync-dir", path);
    this.step(`fsync-dir ${path}`, true);
    const keep: PendingOp[] = [];
    for (const p of this.pending) {
      const touches = ((p.kind === "link" || p.kind === "unlink") && p.dir === node.id) ||
        (p.kind === "rename" && (p.fromDir === node.id || p.toDir === node.id));
      if (!touches) {
        keep.push(p);
        continue;
      }
      if (p.kind === "link") node.durableEntries.set(p.name, p.ino);
      else if (p.kind === "unlink") node.durableEntries.delete(p.name);
      else if (p.kind === "rename") {
        const from = this.inodes.get(p.fromDir)!;
        const to = this.inodes.get(p.toDir)!;
        const id = from.durableEntries.get(p.fromName) ?? from.entries.get(p.fromName) ?? to.entries.get(p.toName);
        from.durableEntries.delete(p.fromName);
        if (id !== undefined) to.durableEntries.set(p.toName, id);
      }
    }
    this.pending = keep;
  }

  async stat(path: string): Promise<FileStat | null> {
    const node = this.lookup(path);
    if (!node) return null;
    return { isFile: !node.dir, isDirectory: node.dir, size: node.data.length, mtimeMs: node.mtimeMs, mode: node.mode };
  }

  async chmod(path: string, mode: number): Promise<void> {
    const node = this.file(path, "chmod");
    this.step(`chmod ${path} ${mode.toString(8)}`, true);
    node.mode = mode & 0o7777;
  }

  async link(existing: string, newPath: string): Promise<void> {
    const node = this.file(existing, "link");
    if (node.dir) throw new FsError("EPERM", "link", existing);
    const { dir, name } = this.parentOf(newPath, "link");
    if (dir.entries.has(name)) throw new FsError("EEXIST", "link", newPath);
    this.step(`link ${existing} -> ${newPath}`, true);
    // A new name for the same inode: pending like a create, durable once its directory is synced.
    dir.entries.set(name, node.id);
    this.pending.push({ kind: "link", dir: dir.id, name, ino: node.id, path: newPath });
  }

  pid(): number {
    return this.myPid;
  }
  hostname(): string {
    return this.host;
  }
  processAlive(pid: number): boolean {
    return pid === this.myPid || this.livePids.has(pid);
  }
  processIdentity(): ProcessIdentity {
    return { pid: this.myPid, start: this.myStart, bootId: this.bootId };
  }
  processState(pid: number, start?: number): ProcessState {
    if (pid === this.myPid) return start === undefined || start === this.myStart ? "alive" : "dead";
    if (!this.livePids.has(pid)) return "dead";
    const known = this.startTimes.get(pid);
    return start !== undefined && known !== undefined && known !== start ? "dead" : "alive";
  }

  /**
   * Another simulated process on this machine, sharing this file system: its own pid and start
   * time, alive (to every view) until exitProcess(pid). For races between lock takers.
   */
  asProcess(pid: number, start = 1): DurableFs {
    this.livePids.add(pid);
    this.startTimes.set(pid, start);
    const fs = this;
    return {
      name: this.name,
      capabilities: this.capabilities,
      open: (p, o) => fs.open(p, o),
      rename: (a, b) => fs.rename(a, b),
      unlink: (p) => fs.unlink(p),
      readdir: (p) => fs.readdir(p),
      mkdir: (p, m) => fs.mkdir(p, m),
      rmdir: (p) => fs.rmdir(p),
      syncDir: (p) => fs.syncDir(p),
      stat: (p) => fs.stat(p),
      chmod: (p, m) => fs.chmod(p, m),
      link: (a, b) => fs.link(a, b),
      pid: () => pid,
      hostname: () => fs.hostname(),
      processAlive: (p) => fs.processState(p) !== "dead",
      processIdentity: () => ({ pid, start, bootId: fs.bootId }),
      processState: (p, s) => fs.processState(p, s),
    };
  }

  /** The simulated process `pid` exits (its view keeps working, as a zombie's fs would not). */
  exitProcess(pid: number): void {
    this.livePids.delete(pid);
    this.startTimes.delete(pid);
  }

  // ---- test helpers (not part of DurableFs) ---------------------------------------------

  /** Current (volatile) contents of a file, or undefined. */
  peek(path: string): Uint8Array | undefined {
    const node = this.lookup(path);
    return node && !node.dir ? node.data : undefined;
  }

  /** Replaces a file's contents in place, durably, as disk corruption would. */
  poke(path: string, data: Uint8Array): void {
    const node = this.file(path, "poke");
    node.data = data.slice();
    node.durableData = data.slice();
  }
}

class MemoryHandle implements FileHandle {
  private closed = false;
  constructor(
    private readonly fs: MemoryFs,
    private readonly node: Inode,
    readonly path: string,
    private readonly writable: boolean,
  ) {}

  private check(op: string, write = false): void {
    if (this.closed) throw new FsError("EBADF", op, this.path);
    if (write && !this.writable) throw new FsError("EBADF", op, this.path);
  }

  async read(buf: Uint8Array, position: number): Promise<number> {
    this.check("read");
    this.fs.fileOp(this.node, this.path, { kind: "read" });
    const src = this.node.data;
    if (position >= src.length) return 0;
    const n = Math.min(buf.length, src.length - position);
    buf.set(src.subarray(position, position + n));
    return n;
  }
  async write(data: Uint8Array, position: number): Promise<void> {
    this.check("write", true);
    try {
      this.fs.fileOp(this.node, this.path, {
        kind: "write",
        ino: this.node.id,
        path: this.path,
        offset: position,
        data,
      });
    } catch (err) {
      throw err instanceof FsError || (err as { code?: string }).code === "ESIMCRASH"
        ? err
        : fsError(err, "write", this.path);
    }
  }
  async sync(): Promise<void> {
    this.check("fsync");
    this.fs.fileOp(this.node, this.path, { kind: "sync" });
  }
  async datasync(): Promise<void> {
    this.check("fdatasync");
    this.fs.fileOp(this.node, this.path, { kind: "sync" });
  }
  async truncate(length: number): Promise<void> {
    this.check("truncate", true);
    this.fs.fileOp(this.node, this.path, { kind: "truncate", ino: this.node.id, path: this.path, length });
  }
  async size(): Promise<number> {
    this.check("stat");
    return this.node.data.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
