// DurableFs over the Origin Private File System, for a dedicated worker (the only place where
// FileSystemSyncAccessHandle exists). What the platform promises, and how each primitive maps:
//
// - FILE DATA. `sah.flush()` is the fsync: the spec says it persists the handle's writes
//   (https://fs.spec.whatwg.org/#api-filesystemsyncaccesshandle-flush); Chromium's
//   FileSystemAccessRegularFileDelegate::Flush calls base::File::Flush on the backing file, which
//   is fdatasync(2) on Linux and fsync(2) elsewhere (base/files/file_posix.cc). So sync() and
//   datasync() are both flush(), and a flushed file's bytes and size survive a power loss.
//   capabilities.datasync is false: there is no separate, cheaper primitive.
// - DIRECTORY ENTRIES (create, move, remove). Chromium keeps OPFS's tree in a LevelDB database
//   (storage/browser/file_system/sandbox_directory_database.cc); every change is one
//   leveldb::WriteBatch written with default WriteOptions, i.e. without sync. A batch is atomic
//   (LevelDB drops a torn batch on recovery) and is handed to the OS before the call returns, so
//   an entry survives a tab or browser crash at once, but nothing can make it survive a power
//   loss: there is no directory fsync. capabilities.dirSync is false; syncDir() is the barrier
//   the platform has (the entries are already with the OS) and says so; the protocol layer
//   refuses atomic_dirsync on such a fs (UnsupportedError) instead of promising it.
// - RENAME is FileSystemHandle.move(parent, name). Onto an existing file Chromium uses
//   SandboxDirectoryDatabase::OverwritingMoveFile: one WriteBatch that drops the source entry and
//   points the target at the source's data: an atomic replace, as rename(2).
// - Protocols: unsafe as everywhere; atomic_nodirsync = temp + flush + atomic move, which leaves
//   the old or the new file after a browser crash or a power loss; atomic_dirsync: refused.
// - LOCK: no link(2), no processes. One writer per store across tabs and workers of the origin
//   comes from the Web Locks API (held until released or until the holder's worker or tab dies,
//   so a crashed writer never blocks the next): `writerLock` below, used by src/lock/lock.ts.
// - No modes: every OPFS file is private to its origin, reported as 0o600 (dirs 0o700); chmod to
//   what is already reported is a no-op, anything else UnsupportedError. No symlinks (noFollow has
//   nothing to do), no hard links (UnsupportedError).
// - Exclusive create is check-then-create: atomic within this adapter (one worker's calls are
//   serialized per path below), across workers only under the store's writer lock, which every
//   writer of a store holds.
// - A sync access handle is exclusive per file in "readwrite" mode; reads use "read-only", which
//   Chromium lets several agents share. A second open of a file this adapter already has open
//   shares the open handle (refcounted).
import { DurabilityError, FsError, LockedError, UnsupportedError } from "../src/errors.ts";
import type {
  DurableFs,
  FileHandle,
  FileStat,
  FsCapabilities,
  OpenOptions,
  ProcessIdentity,
  ProcessState,
  StatOptions,
  WriterLock,
} from "../src/fs.ts";

/** The part of FileSystemSyncAccessHandle we use (lib.dom's types lag behind the browsers). */
interface SyncAccessHandle {
  read(buf: Uint8Array, o: { at: number }): number;
  write(buf: Uint8Array, o: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}
type Dir = FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
type FileH = FileSystemFileHandle & {
  createSyncAccessHandle(o?: { mode?: "readwrite" | "read-only" | "readwrite-unsafe" }): Promise<SyncAccessHandle>;
  move?(parent: FileSystemDirectoryHandle, name: string): Promise<void>;
};

const NAME = "opfs";

/** The adapter; `root` is the OPFS directory paths resolve against (default: the origin's root). */
export function opfsFs(root?: FileSystemDirectoryHandle): DurableFs & { writerLock: WriterLock } {
  return new OpfsFs(root);
}

interface Open {
  sah: SyncAccessHandle;
  writable: boolean;
  refs: number;
}

class OpfsFs implements DurableFs {
  readonly name = NAME;
  readonly capabilities: FsCapabilities = { dirSync: false, datasync: false, processAlive: true, link: false };
  /** A per-agent id: temp names carry it; no other agent ever shares our locks (Web Locks). */
  private readonly id = 1 + Math.floor(Math.random() * 0x7ffffffe);
  private rootP: Promise<FileSystemDirectoryHandle> | undefined;
  private readonly open_ = new Map<string, Open>();
  readonly writerLock: WriterLock = webLocks();

  constructor(private readonly rootHandle?: FileSystemDirectoryHandle) {}

  private root(): Promise<FileSystemDirectoryHandle> {
    if (this.rootHandle) return Promise.resolve(this.rootHandle);
    const storage =
      (globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<FileSystemDirectoryHandle> } } })
        .navigator?.storage;
    if (!storage?.getDirectory) {
      throw new UnsupportedError(
        "run here: no navigator.storage.getDirectory (OPFS needs a secure context, e.g. http://127.0.0.1 or https)",
        NAME,
      );
    }
    return (this.rootP ??= storage.getDirectory());
  }

  /** The directory handle for `parts` (every segment a directory), or an FsError. */
  private async dir(parts: string[], op: string, path: string, create = false): Promise<Dir> {
    let d = await this.root();
    for (const p of parts) d = await this.call(op, path, () => d.getDirectoryHandle(p, { create }));
    return d as Dir;
  }

  private async entry(
    path: string,
    op: string,
  ): Promise<{ parent: Dir; name: string; kind: "file" | "directory" } | null> {
    const parts = split(path);
    if (parts.length === 0) return { parent: (await this.root()) as Dir, name: "", kind: "directory" };
    const name = parts.pop()!;
    let parent: Dir;
    try {
      parent = await this.dir(parts, op, path);
    } catch (err) {
      if (err instanceof FsError && (err.errno === "ENOENT" || err.errno === "ENOTDIR")) return null;
      throw err;
    }
    for (const kind of ["file", "directory"] as const) {
      try {
        if (kind === "file") await parent.getFileHandle(name);
        else await parent.getDirectoryHandle(name);
        return { parent, name, kind };
      } catch (err) {
        const n = (err as { name?: string }).name;
        if (n !== "TypeMismatchError" && n !== "NotFoundError") throw mapError(err, op, path);
        if (n === "NotFoundError") return null;
      }
    }
    return null;
  }

  async open(path: string, o: OpenOptions = {}): Promise<FileHandle> {
    const parts = split(path);
    const name = parts.pop();
    if (name === undefined) throw new FsError("EISDIR", "open", path);
    const parent = await this.dir(parts, "open", path);
    return this.serialized(path, async () => {
      let fh: FileH;
      try {
        fh = (await parent.getFileHandle(name)) as FileH;
        if (o.create && o.exclusive) throw new FsError("EEXIST", "open", path);
      } catch (err) {
        if (err instanceof FsError) throw err;
        const n = (err as { name?: string }).name;
        if (n === "TypeMismatchError") throw new FsError("EISDIR", "open", path);
        if (n !== "NotFoundError" || !o.create) throw mapError(err, "open", path);
        fh = (await this.call("open", path, () => parent.getFileHandle(name, { create: true }))) as FileH;
      }
      if (typeof fh.createSyncAccessHandle !== "function") {
        throw new UnsupportedError(
          `open ${path}: OPFS sync access handles exist only in a dedicated worker (run the store there: serveWorker / connectWorker)`,
          NAME,
        );
      }
      const writable = !!o.write;
      let cur = this.open_.get(path);
      if (cur && writable && !cur.writable) {
        throw new FsError("EBUSY", "open", path, "open read-only in this worker; OPFS allows one writer per file");
      }
      if (!cur) {
        const sah = await this.call(
          "open",
          path,
          () => fh.createSyncAccessHandle({ mode: writable ? "readwrite" : "read-only" }),
        );
        cur = { sah, writable, refs: 0 };
        this.open_.set(path, cur);
      }
      cur.refs++;
      if (o.truncate && writable) this.sync("truncate", path, () => cur.sah.truncate(0));
      return new OpfsHandle(this, path, cur, writable);
    });
  }

  /** Drops one reference to an open sync access handle; the last one closes it. */
  release(path: string, cur: Open): void {
    if (--cur.refs > 0) return;
    if (this.open_.get(path) === cur) this.open_.delete(path);
    cur.sah.close();
  }

  async rename(from: string, to: string): Promise<void> {
    const src = await this.entry(from, "rename");
    if (!src) throw new FsError("ENOENT", "rename", from);
    if (this.open_.has(from)) throw new FsError("EBUSY", "rename", from, "the file is open");
    const toParts = split(to);
    const toName = toParts.pop();
    if (toName === undefined) throw new FsError("EBUSY", "rename", to);
    const dest = await this.dir(toParts, "rename", to);
    const h =
      (src.kind === "file"
        ? await src.parent.getFileHandle(src.name)
        : await src.parent.getDirectoryHandle(src.name)) as FileH;
    // Chromium has move() on files only: a directory cannot be renamed at all, let alone
    // atomically, so it is refused (store.restore() into an existing empty directory needs none).
    if (typeof h.move !== "function") {
      throw new UnsupportedError(
        `rename ${
          src.kind === "directory" ? "a directory" : "a file"
        } (${from}): this browser has no FileSystemHandle.move for it${
          src.kind === "directory" ? "; restore into an existing empty directory instead" : ""
        }`,
        NAME,
      );
    }
    await this.call("rename", from, () => h.move!(dest, toName));
  }

  async unlink(path: string): Promise<void> {
    const e = await this.entry(path, "unlink");
    if (!e) throw new FsError("ENOENT", "unlink", path);
    if (e.kind === "directory") throw new FsError("EISDIR", "unlink", path);
    if (this.open_.has(path)) throw new FsError("EBUSY", "unlink", path, "the file is open");
    await this.call("unlink", path, () => e.parent.removeEntry(e.name));
  }

  async readdir(path: string): Promise<string[]> {
    const d = await this.dir(split(path), "readdir", path);
    const names: string[] = [];
    for await (const n of d.keys()) names.push(n);
    return names;
  }

  async mkdir(path: string): Promise<void> {
    await this.dir(split(path), "mkdir", path, true);
  }

  async rmdir(path: string): Promise<void> {
    const e = await this.entry(path, "rmdir");
    if (!e) throw new FsError("ENOENT", "rmdir", path);
    if (e.kind !== "directory") throw new FsError("ENOTDIR", "rmdir", path);
    if (e.name === "") throw new FsError("EBUSY", "rmdir", path, "the OPFS root");
    await this.call("rmdir", path, () => e.parent.removeEntry(e.name));
  }

  /**
   * Chromium has already handed every entry change in `path` to the OS (see DIRECTORY ENTRIES):
   * durable against a browser crash, never against a power loss, which no call can change. So
   * this checks the directory and returns; capabilities.dirSync = false tells the callers that
   * promise more (atomic_dirsync) to refuse.
   */
  async syncDir(path: string): Promise<void> {
    const e = await this.entry(path, "syncDir");
    if (!e) throw new FsError("ENOENT", "syncDir", path);
    if (e.kind !== "directory") throw new FsError("ENOTDIR", "syncDir", path);
  }

  async stat(path: string, _o?: StatOptions): Promise<FileStat | null> {
    const e = await this.entry(path, "stat");
    if (!e) return null;
    if (e.kind === "directory") return { isFile: false, isDirectory: true, size: 0, mtimeMs: 0, mode: 0o40700 };
    const cur = this.open_.get(path);
    if (cur) return { isFile: true, isDirectory: false, size: cur.sah.getSize(), mtimeMs: Date.now(), mode: 0o100600 };
    const f = await this.call("stat", path, async () => (await e.parent.getFileHandle(e.name)).getFile());
    return { isFile: true, isDirectory: false, size: f.size, mtimeMs: f.lastModified, mode: 0o100600 };
  }

  async chmod(path: string, mode: number): Promise<void> {
    const st = await this.stat(path);
    if (!st) throw new FsError("ENOENT", "chmod", path);
    if ((mode & 0o777) !== (st.mode & 0o777)) {
      throw new UnsupportedError(
        `chmod ${path} to ${(mode & 0o777).toString(8)} (OPFS files are origin-private, always 600)`,
        NAME,
      );
    }
  }

  async link(): Promise<void> {
    throw new UnsupportedError("link (OPFS has no hard links; the writer lock uses Web Locks)", NAME);
  }

  pid(): number {
    return this.id;
  }
  hostname(): string {
    return (globalThis as { location?: { origin?: string } }).location?.origin ?? "browser";
  }
  processAlive(pid: number): boolean {
    return pid === this.id;
  }
  processIdentity(): ProcessIdentity {
    return { pid: this.id };
  }
  /** Only this agent can be judged (alive); the liveness of other agents is the Web Locks' business. */
  processState(pid: number): ProcessState {
    return pid === this.id ? "alive" : "unknown";
  }

  /** OPFS calls that reject with DOMExceptions, as FsErrors. */
  async call<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapError(err, op, path);
    }
  }

  /** Sync-access-handle calls that throw DOMExceptions, as FsErrors. */
  sync<T>(op: string, path: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw mapError(err, op, path);
    }
  }

  private readonly queues = new Map<string, Promise<unknown>>();
  /** One open at a time per path in this agent: exclusive create and handle sharing stay atomic here. */
  private serialized<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(path) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.queues.set(path, tail);
    void tail.then(() => {
      if (this.queues.get(path) === tail) this.queues.delete(path);
    });
    return next;
  }
}

class OpfsHandle implements FileHandle {
  private closed = false;
  constructor(
    private readonly fs: OpfsFs,
    readonly path: string,
    private readonly cur: Open,
    private readonly writable: boolean,
  ) {}

  private live(op: string): SyncAccessHandle {
    if (this.closed) throw new FsError("EBADF", op, this.path, "the handle is closed");
    return this.cur.sah;
  }

  async read(buf: Uint8Array, position: number): Promise<number> {
    const sah = this.live("read");
    return this.fs.sync("read", this.path, () => sah.read(buf, { at: position }));
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    const sah = this.live("write");
    if (!this.writable) throw new FsError("EBADF", "write", this.path, "opened read-only");
    let done = 0;
    while (done < data.length) {
      const n = this.fs.sync("write", this.path, () => sah.write(data.subarray(done), { at: position + done }));
      if (n <= 0) throw new FsError("EIO", "write", this.path, `wrote ${done} of ${data.length} bytes`);
      done += n;
    }
  }

  async sync(): Promise<void> {
    const sah = this.live("sync");
    try {
      sah.flush();
    } catch (err) {
      throw new DurabilityError(mapError(err, "sync", this.path).errno, "sync", this.path, err);
    }
  }

  datasync(): Promise<void> {
    return this.sync();
  }

  async truncate(length: number): Promise<void> {
    const sah = this.live("truncate");
    this.fs.sync("truncate", this.path, () => sah.truncate(length));
  }

  async size(): Promise<number> {
    const sah = this.live("size");
    return this.fs.sync("size", this.path, () => sah.getSize());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fs.sync("close", this.path, () => this.fs.release(this.path, this.cur));
  }
}

/** "/a/b", "a/b/", "./a" → ["a", "b"]; "", "/", "." → the root. */
function split(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new FsError("EINVAL", "resolve", path, "OPFS paths have no '..'");
  return parts;
}

const ERRNO: Record<string, string> = {
  NotFoundError: "ENOENT",
  TypeMismatchError: "ENOTDIR",
  NoModificationAllowedError: "EBUSY",
  InvalidModificationError: "ENOTEMPTY",
  QuotaExceededError: "ENOSPC",
  InvalidStateError: "EBADF",
  NotAllowedError: "EACCES",
  SecurityError: "EACCES",
  TypeError: "EINVAL",
};

function mapError(err: unknown, op: string, path: string): FsError {
  if (err instanceof FsError) return err;
  const name = (err as { name?: string }).name ?? "Error";
  return new FsError(
    ERRNO[name] ?? "EIO",
    op,
    path,
    `${name}: ${(err as { message?: string }).message ?? String(err)}`,
    err,
  );
}

interface LockManager {
  request(name: string, o: { ifAvailable: boolean }, cb: (lock: unknown) => Promise<void> | void): Promise<void>;
  query(): Promise<{ held?: { name?: string }[] }>;
}

/** The Web Locks API: a lock per store, held by one agent of the origin, dropped when it dies. */
function webLocks(): WriterLock {
  const locks = (): LockManager => {
    const l = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (!l) throw new UnsupportedError("lock a store: no navigator.locks (Web Locks need a secure context)", NAME);
    return l;
  };
  const key = (dir: string) => `ckptkit:${split(dir).join("/")}`;
  return {
    acquire(dir) {
      return new Promise((resolve, reject) => {
        locks().request(key(dir), { ifAvailable: true }, (lock) => {
          if (!lock) {
            reject(new LockedError(dir, "another tab or worker of this origin (Web Locks)"));
            return;
          }
          // Held until release() settles this promise, or until this agent dies.
          return new Promise<void>((done) => resolve({ release: async () => done() }));
        }).catch(reject);
      });
    },
    async held(dir) {
      const q = await locks().query();
      return (q.held ?? []).some((l) => l.name === key(dir));
    },
  };
}
