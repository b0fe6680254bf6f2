// DurableFs over Deno's own APIs (Deno.openSync, FsFile.syncSync/syncDataSync, Deno.renameSync),
// not node:fs. Deno 2 removed Deno.fsyncSync; FsFile.syncSync() is the fsync, FsFile.sync() its
// thread-pool form, used (like read/write/seek) where adapters/offload.ts says a call can be long. FsFile has no
// positional read/write, so each one seeks first (a handle is used by one caller at a time).
// Deno.openSync has no O_NOFOLLOW: `noFollow` is an lstat before the open and, after it, a check
// that the name is still no link and names the inode that was opened (see openNoFollow).
import { FsError } from "../src/errors.ts";
import type { DurableFs, FileHandle, FileStat, OpenOptions, ProcessIdentity } from "../src/fs.ts";
import { guard } from "./errno.ts";
import { guardAsync, Offload } from "./offload.ts";
import { identityOf, procState } from "./proc.ts";

interface DenoFile {
  read(buf: Uint8Array): Promise<number | null>;
  write(buf: Uint8Array): Promise<number>;
  seek(offset: number, whence: number): Promise<number>;
  sync(): Promise<void>;
  syncData(): Promise<void>;
  readSync(buf: Uint8Array): number | null;
  writeSync(buf: Uint8Array): number;
  seekSync(offset: number, whence: number): number;
  syncSync(): void;
  syncDataSync(): void;
  truncateSync(len?: number): void;
  statSync(): { size: number; ino: number | null; dev: number };
  close(): void;
}
interface DenoStat {
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
  size: number;
  mtime: Date | null;
  mode: number | null;
  ino: number | null;
  dev: number;
}
interface DenoApi {
  openSync(
    path: string,
    o: { read?: boolean; write?: boolean; create?: boolean; createNew?: boolean; truncate?: boolean; mode?: number },
  ): DenoFile;
  renameSync(from: string, to: string): void;
  removeSync(path: string): void;
  readDirSync(path: string): Iterable<{ name: string }>;
  mkdirSync(path: string, o: { recursive: boolean; mode?: number }): void;
  statSync(path: string): DenoStat;
  lstatSync(path: string): DenoStat;
  chmodSync(path: string, mode: number): void;
  linkSync(existing: string, newPath: string): void;
  readTextFileSync(path: string): string;
  pid: number;
  hostname(): string;
}

const SEEK_START = 0;

function deno(): DenoApi {
  const d = (globalThis as { Deno?: DenoApi }).Deno;
  if (!d) throw new Error("the Deno adapter needs the Deno runtime");
  return d;
}

class DenoHandle implements FileHandle {
  private readonly offload: Offload;
  constructor(readonly path: string, private readonly f: DenoFile, sizeHint?: number) {
    this.offload = new Offload(sizeHint);
  }
  async read(buf: Uint8Array, position: number): Promise<number> {
    if (this.offload.io(position, buf.length)) {
      return guardAsync("read", this.path, async () => {
        await this.f.seek(position, SEEK_START);
        let got = 0;
        while (got < buf.length) {
          const n = await this.f.read(buf.subarray(got));
          if (n === null || n === 0) break;
          got += n;
        }
        return got;
      });
    }
    return guard("read", this.path, () => {
      this.f.seekSync(position, SEEK_START);
      let got = 0;
      while (got < buf.length) {
        const n = this.f.readSync(buf.subarray(got));
        if (n === null || n === 0) break;
        got += n;
      }
      return got;
    });
  }
  async write(data: Uint8Array, position: number): Promise<void> {
    const pool = this.offload.io(position, data.length);
    this.offload.wrote(position, data.length);
    if (pool) {
      return guardAsync("write", this.path, async () => {
        await this.f.seek(position, SEEK_START);
        let off = 0;
        while (off < data.length) off += await this.f.write(data.subarray(off));
      });
    }
    guard("write", this.path, () => {
      this.f.seekSync(position, SEEK_START);
      let off = 0;
      while (off < data.length) off += this.f.writeSync(data.subarray(off));
    });
  }
  async sync(): Promise<void> {
    const atStart = this.offload.pending;
    if (this.offload.sync()) await guardAsync("fsync", this.path, () => this.f.sync());
    else guard("fsync", this.path, () => this.f.syncSync());
    this.offload.synced(atStart);
  }
  async datasync(): Promise<void> {
    const atStart = this.offload.pending;
    if (this.offload.sync()) await guardAsync("fdatasync", this.path, () => this.f.syncData());
    else guard("fdatasync", this.path, () => this.f.syncDataSync());
    this.offload.synced(atStart);
  }
  async truncate(length: number): Promise<void> {
    guard("truncate", this.path, () => this.f.truncateSync(length));
  }
  async size(): Promise<number> {
    return guard("stat", this.path, () => this.f.statSync().size);
  }
  async close(): Promise<void> {
    guard("close", this.path, () => this.f.close());
  }
}

function openOptions(o: OpenOptions) {
  return {
    read: true,
    write: !!o.write,
    create: !!o.create && !o.exclusive,
    createNew: !!o.create && !!o.exclusive,
    truncate: !!o.truncate,
    mode: o.create ? (o.mode ?? 0o666) : undefined,
  };
}

function lstatOrNull(D: DenoApi, path: string): DenoStat | null {
  try {
    return D.lstatSync(path);
  } catch (err) {
    if ((err as { name?: string }).name === "NotFound") return null;
    return guard("lstat", path, () => {
      throw err;
    });
  }
}

/**
 * O_NOFOLLOW without the flag. Refused (ELOOP) when the name is a link before the open, or when
 * after it the name is a link or names another inode than the one opened. Residual race, which
 * only O_NOFOLLOW closes: a link swapped in between the lstat and the open and swapped out again
 * before the check is followed by the open itself; with `truncate` or a non-exclusive `create`
 * that open may already have truncated or created the link's target (its contents are never
 * written: the handle is closed unused). An exclusive create is safe: O_EXCL never follows.
 */
function openNoFollow(D: DenoApi, path: string, o: OpenOptions): DenoHandle {
  const loop = () => new FsError("ELOOP", "open", path, "a symbolic link (noFollow)");
  if (lstatOrNull(D, path)?.isSymlink) throw loop();
  const f = guard("open", path, () => D.openSync(path, openOptions(o)));
  let ok = false;
  try {
    const now = lstatOrNull(D, path);
    const opened = guard("stat", path, () => f.statSync());
    ok = !!now && !now.isSymlink && now.ino === opened.ino && now.dev === opened.dev;
  } finally {
    if (!ok) f.close();
  }
  if (!ok) throw loop();
  return new DenoHandle(path, f, o.sizeHint);
}

export function denoFs(): DurableFs {
  const D = deno();
  const hasProc = (() => {
    try {
      return D.statSync("/proc/self").isDirectory;
    } catch {
      return false;
    }
  })();
  const readText = (path: string): string | undefined => {
    try {
      return D.readTextFileSync(path);
    } catch {
      return undefined;
    }
  };
  let self: ProcessIdentity | undefined;
  const alive = (pid: number): boolean => {
    // No signal-0 probe in Deno's API; /proc/<pid> is the Linux answer.
    if (!hasProc) return true;
    try {
      D.statSync(`/proc/${pid}`);
      return true;
    } catch {
      return false;
    }
  };
  return {
    name: "deno",
    capabilities: {
      dirSync: true,
      datasync: true,
      processAlive: hasProc,
      link: true,
      preallocate: true,
      flushBehind: true,
    },
    async open(path, o = {}) {
      if (o.noFollow) return openNoFollow(D, path, o);
      const f = guard("open", path, () => D.openSync(path, openOptions(o)));
      return new DenoHandle(path, f, o.sizeHint);
    },
    async rename(from, to) {
      guard("rename", `${from} -> ${to}`, () => D.renameSync(from, to));
    },
    async unlink(path) {
      guard("unlink", path, () => D.removeSync(path));
    },
    async readdir(path) {
      return guard("readdir", path, () => Array.from(D.readDirSync(path), (e) => e.name));
    },
    async mkdir(path, mode) {
      guard("mkdir", path, () => D.mkdirSync(path, { recursive: true, mode }));
    },
    async rmdir(path) {
      guard("rmdir", path, () => D.removeSync(path));
    },
    async syncDir(path) {
      const f = guard("open", path, () => D.openSync(path, { read: true }));
      try {
        guard("fsync-dir", path, () => f.syncSync());
      } finally {
        f.close();
      }
    },
    async stat(path, o = {}): Promise<FileStat | null> {
      try {
        const s = o.noFollow ? D.lstatSync(path) : D.statSync(path);
        return {
          isFile: s.isFile,
          isDirectory: s.isDirectory,
          size: s.size,
          mtimeMs: s.mtime?.getTime() ?? 0,
          mode: (s.mode ?? 0) & 0o7777,
          isSymlink: s.isSymlink,
        };
      } catch (err) {
        if ((err as { name?: string }).name === "NotFound") return null;
        return guard("stat", path, () => {
          throw err;
        });
      }
    },
    async chmod(path, mode) {
      guard("chmod", path, () => D.chmodSync(path, mode));
    },
    async link(existing, newPath) {
      guard("link", `${existing} -> ${newPath}`, () => D.linkSync(existing, newPath));
    },
    pid: () => D.pid,
    hostname: () => guard("hostname", "", () => D.hostname()), // Deno without --allow-sys: PermissionMissingError
    processAlive: alive,
    processIdentity: () => (self ??= identityOf(D.pid, readText)),
    processState(pid, start) {
      if (!hasProc) return "unknown";
      if (!alive(pid)) return "dead";
      return procState(pid, start, readText) ?? "alive";
    },
  };
}
