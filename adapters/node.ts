// DurableFs over node:fs. Small-file primitives are one synchronous syscall wrapped in a resolved
// promise: on this VM the async (thread-pool) variants add ~50 µs per call, a third of the cost
// of an atomic save of a small file. What can take longer than a few ms (an fsync after more
// than 1 MiB written, reads and writes of a large file) runs on libuv's thread pool instead, so
// the event loop keeps turning (adapters/offload.ts, guarantee 12). Group commit in the log
// still works: appends issued while a batch is being written queue up and share the next fsync.
import * as fs from "node:fs";
import * as os from "node:os";
import type { DurableFs, FileHandle, FileStat, OpenOptions, ProcessIdentity } from "../src/fs.ts";
import { guard } from "./errno.ts";
import { guardAsync, Offload } from "./offload.ts";
import { identityOf, procState, type ReadText } from "./proc.ts";

const readText: ReadText = (path) => {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

function flagsOf(o: OpenOptions): number {
  const C = fs.constants;
  let f = o.write ? C.O_RDWR : C.O_RDONLY;
  if (o.create) f |= C.O_CREAT;
  if (o.exclusive) f |= C.O_EXCL;
  if (o.truncate) f |= C.O_TRUNC;
  if (o.noFollow) f |= C.O_NOFOLLOW; // ELOOP when the last component is a symlink
  return f;
}

/**
 * mkdir -p, one level at a time. Node 20's own `recursive: true` retries forever when a parent
 * exists but refuses children with ENOENT (`/proc/x`): a hang on bad input. Here each level is
 * tried at most twice, so every failure surfaces as the syscall's own errno.
 */
function mkdirp(path: string, mode?: number): void {
  const made = (): boolean => {
    try {
      fs.mkdirSync(path, { mode });
      return true;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "EEXIST" && fs.statSync(path, { throwIfNoEntry: false })?.isDirectory()) return true;
      if (code === "ENOENT") return false;
      throw err;
    }
  };
  const enoent = () =>
    Object.assign(new Error(`ENOENT: no such file or directory, mkdir '${path}'`), { code: "ENOENT", errno: -2 });
  if (made()) return;
  const parent = path.replace(/\/+[^/]*\/*$/, "") || "/";
  // A parent that must already exist (the root, the working directory) cannot be made.
  if (parent === path || parent === "/" || parent === ".") throw enoent();
  mkdirp(parent, mode);
  if (!made()) throw enoent();
}

/** A node:fs callback call as a promise (the thread pool). */
function pooled<T>(call: (cb: (err: Error | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, v) => (err ? reject(err) : resolve(v))));
}

class NodeFile implements FileHandle {
  private readonly offload: Offload;
  constructor(readonly path: string, private readonly fd: number, sizeHint?: number) {
    this.offload = new Offload(sizeHint);
  }
  async read(buf: Uint8Array, position: number): Promise<number> {
    if (this.offload.io(position, buf.length)) {
      return guardAsync(
        "read",
        this.path,
        () => pooled<number>((cb) => fs.read(this.fd, buf, 0, buf.length, position, cb)),
      );
    }
    return guard("read", this.path, () => fs.readSync(this.fd, buf, 0, buf.length, position));
  }
  async write(data: Uint8Array, position: number): Promise<void> {
    const pool = this.offload.io(position, data.length);
    this.offload.wrote(position, data.length);
    if (pool) {
      return guardAsync("write", this.path, async () => {
        let off = 0;
        while (off < data.length) {
          off += await pooled<number>((cb) => fs.write(this.fd, data, off, data.length - off, position + off, cb));
        }
      });
    }
    guard("write", this.path, () => {
      let off = 0;
      while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off, position + off);
    });
  }
  async sync(): Promise<void> {
    const atStart = this.offload.pending;
    if (this.offload.sync()) await guardAsync("fsync", this.path, () => pooled<void>((cb) => fs.fsync(this.fd, cb)));
    else guard("fsync", this.path, () => fs.fsyncSync(this.fd));
    this.offload.synced(atStart);
  }
  async datasync(): Promise<void> {
    const atStart = this.offload.pending;
    if (this.offload.sync()) {
      await guardAsync("fdatasync", this.path, () => pooled<void>((cb) => fs.fdatasync(this.fd, cb)));
    } else guard("fdatasync", this.path, () => fs.fdatasyncSync(this.fd));
    this.offload.synced(atStart);
  }
  async truncate(length: number): Promise<void> {
    guard("truncate", this.path, () => fs.ftruncateSync(this.fd, length));
  }
  async size(): Promise<number> {
    return guard("stat", this.path, () => fs.fstatSync(this.fd).size);
  }
  async close(): Promise<void> {
    guard("close", this.path, () => fs.closeSync(this.fd));
  }
}

export function nodeFs(name = "node"): DurableFs {
  let self: ProcessIdentity | undefined;
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as { code?: string }).code === "EPERM";
    }
  };
  return {
    name,
    capabilities: {
      dirSync: true,
      datasync: true,
      processAlive: true,
      link: true,
      preallocate: true,
      flushBehind: true,
    },
    async open(path, options = {}) {
      const fd = guard("open", path, () => fs.openSync(path, flagsOf(options), options.mode ?? 0o666));
      return new NodeFile(path, fd, options.sizeHint);
    },
    async rename(from, to) {
      guard("rename", `${from} -> ${to}`, () => fs.renameSync(from, to));
    },
    async unlink(path) {
      guard("unlink", path, () => fs.unlinkSync(path));
    },
    async readdir(path) {
      return guard("readdir", path, () => fs.readdirSync(path));
    },
    async mkdir(path, mode) {
      guard("mkdir", path, () => mkdirp(path, mode));
    },
    async rmdir(path) {
      guard("rmdir", path, () => fs.rmdirSync(path));
    },
    async syncDir(path) {
      // A directory opened read-only can be fsynced on Linux; that makes its entries durable.
      const fd = guard("open", path, () => fs.openSync(path, fs.constants.O_RDONLY));
      try {
        guard("fsync-dir", path, () => fs.fsyncSync(fd));
      } finally {
        fs.closeSync(fd);
      }
    },
    async stat(path, o = {}): Promise<FileStat | null> {
      const s = guard("stat", path, () => (o.noFollow ? fs.lstatSync : fs.statSync)(path, { throwIfNoEntry: false }));
      if (!s) return null;
      return {
        isFile: s.isFile(),
        isDirectory: s.isDirectory(),
        size: s.size,
        mtimeMs: s.mtimeMs,
        mode: s.mode & 0o7777,
        isSymlink: s.isSymbolicLink(),
      };
    },
    async chmod(path, mode) {
      guard("chmod", path, () => fs.chmodSync(path, mode));
    },
    async link(existing, newPath) {
      guard("link", `${existing} -> ${newPath}`, () => fs.linkSync(existing, newPath));
    },
    pid: () => process.pid,
    hostname: () => os.hostname(),
    processAlive: alive,
    // Read once: neither the start time nor the boot changes while this process runs.
    processIdentity: () => (self ??= identityOf(process.pid, readText)),
    processState(pid, start) {
      // kill(pid, 0) first: ESRCH is dead on every system; /proc then tells reuse and zombies.
      if (!alive(pid)) return "dead";
      return procState(pid, start, readText) ?? "alive";
    },
  };
}
