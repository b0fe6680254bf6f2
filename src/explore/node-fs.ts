// A node:fs/promises-shaped facade over the power-loss simulator (adapters/memory.ts), so code
// written for node:fs/promises runs unchanged on it. Paths resolve against a virtual cwd "/".
// Every call that changes the simulator (its `steps` count moves) is reported to `hooks.after`
// with a readable description; `hooks.before` runs before every call that may change it, which
// is where the explorer checks the crash point (so what the workload acknowledged in between is
// known). Calls and
// options the simulator does not model throw ENOTSUP; none is silently accepted.
import type { FileHandle as MemHandle } from "../fs.ts";
import type { MemoryFs } from "../../adapters/memory.ts";
import { NodeFsError, notSupported, toNodeError } from "./node-errors.ts";
import {
  allocBytes,
  checkEncoding,
  type Flags,
  fromBytes,
  options,
  parseFlags,
  position,
  toBytes,
} from "./node-data.ts";

/** The encodings the facade decodes (others throw ENOTSUP). */
type BufferEncoding = "utf8" | "utf-8";

export interface OpHooks {
  /** After a call changed the simulator (a crash point): what it did. */
  after?(description: string): void;
  /** Before a call that may change the simulator: the explorer checks the pending crash point here. */
  before?(): void | Promise<void>;
}

/** The subset of fs.Stats the simulator knows. */
export class Stats {
  readonly dev = 1;
  readonly ino = 0;
  readonly nlink = 1;
  readonly uid = 0;
  readonly gid = 0;
  readonly rdev = 0;
  readonly blksize = 4096;
  readonly blocks: number;
  readonly mode: number;
  readonly atimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;
  constructor(private readonly dir: boolean, readonly size: number, perm: number, readonly mtimeMs: number) {
    this.mode = (dir ? 0o040000 : 0o100000) | perm;
    this.blocks = Math.ceil(size / 512);
    this.atimeMs = this.ctimeMs = this.birthtimeMs = mtimeMs;
    this.atime =
      this.mtime =
      this.ctime =
      this.birthtime =
        new Date(mtimeMs);
  }
  isFile(): boolean {
    return !this.dir;
  }
  isDirectory(): boolean {
    return this.dir;
  }
  isSymbolicLink(): boolean {
    return false;
  }
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
}

export class Dirent {
  constructor(readonly name: string, readonly parentPath: string, private readonly dir: boolean) {}
  get path(): string {
    return this.parentPath;
  }
  isFile(): boolean {
    return !this.dir;
  }
  isDirectory(): boolean {
    return this.dir;
  }
  isSymbolicLink(): boolean {
    return false;
  }
}

const UNSUPPORTED = [
  "access",
  "copyFile",
  "cp",
  "chown",
  "lchown",
  "lchmod",
  "link",
  "symlink",
  "readlink",
  "lutimes",
  "utimes",
  "opendir",
  "watch",
  "statfs",
  "glob",
] as const;

export class NodeFsFacade {
  readonly constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2 };
  private nextFd = 3;
  private mkdtempCount = 0;
  /** Set once the simulated power is cut: every later call throws the same error. */
  dead: Error | null = null;

  constructor(readonly mem: MemoryFs, private readonly hooks: OpHooks = {}) {
    for (const name of UNSUPPORTED) {
      (this as unknown as Record<string, unknown>)[name] = async () => {
        throw notSupported(name);
      };
    }
  }

  /** Resolves a path against the virtual cwd "/" to a normalized absolute path. */
  resolve(p: unknown, call: string): string {
    if (p instanceof URL) {
      if (p.protocol !== "file:") throw notSupported(`${call} on a ${p.protocol} URL`);
      p = decodeURIComponent(p.pathname);
    }
    if (typeof p !== "string") {
      throw notSupported(`${call} with a path of type ${typeof p} (strings and file URLs only)`);
    }
    if (p === "") throw new NodeFsError("ENOENT", call, p);
    const out: string[] = [];
    for (const part of p.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") out.pop();
      else out.push(part);
    }
    return `/${out.join("/")}`;
  }

  /** Runs one call; reports it to the explorer if it changed the simulator, even when it failed half-way. */
  async run<T>(
    describe: () => string,
    syscall: string,
    path: string | undefined,
    fn: () => Promise<T>,
    dest?: string,
    mutating = true,
  ): Promise<T> {
    if (this.dead) throw this.dead;
    if (mutating && this.hooks.before) await this.hooks.before();
    const before = this.mem.steps;
    try {
      return await fn();
    } catch (err) {
      throw toNodeError(err, syscall, path, dest);
    } finally {
      if (this.mem.steps !== before) this.hooks.after?.(describe());
    }
  }

  fd(): number {
    return this.nextFd++;
  }

  async open(path: unknown, flags?: unknown, mode?: unknown): Promise<NodeFileHandle> {
    const p = this.resolve(path, "open");
    const f = parseFlags(flags, "open");
    if (mode !== undefined && typeof mode !== "number") throw notSupported(`open with mode ${String(mode)}`);
    const st = await this.mem.stat(p);
    if (st?.isDirectory) {
      if (f.write) throw new NodeFsError("EISDIR", "open", p);
      return new NodeFileHandle(this, null, p, f);
    }
    const h = await this.run(
      () => `open ${p} ${String(flags ?? "r")}`,
      "open",
      p,
      () =>
        this.mem.open(p, {
          write: f.write,
          create: f.create,
          exclusive: f.exclusive,
          truncate: f.truncate,
          mode: mode as number | undefined,
        }),
    );
    return new NodeFileHandle(this, h, p, f);
  }

  readFile(
    path: unknown,
    opts: BufferEncoding | { encoding: BufferEncoding; flag?: string; signal?: AbortSignal },
  ): Promise<string>;
  readFile(path: unknown, opts?: { encoding?: null; flag?: string; signal?: AbortSignal } | null): Promise<Uint8Array>;
  async readFile(path: unknown, opts?: unknown): Promise<Uint8Array | string> {
    if (path instanceof NodeFileHandle) return path.readFile(opts as null);
    const o = options(opts, ["encoding", "flag", "signal"], "readFile");
    const encoding = checkEncoding(o.encoding, "readFile");
    (o.signal as AbortSignal | undefined)?.throwIfAborted();
    const h = await this.open(path, o.flag ?? "r");
    try {
      return encoding ? await h.readFile({ encoding }) : await h.readFile();
    } finally {
      await h.close();
    }
  }

  async writeFile(path: unknown, data: unknown, opts?: unknown): Promise<void> {
    if (path instanceof NodeFileHandle) return path.writeFile(data, opts);
    const o = options(opts, ["encoding", "mode", "flag", "flush", "signal"], "writeFile");
    (o.signal as AbortSignal | undefined)?.throwIfAborted();
    const bytes = toBytes(data, o.encoding, "writeFile");
    const h = await this.open(path, o.flag ?? "w", o.mode);
    try {
      await h.writeFile(bytes);
      if (o.flush === true) await h.sync(); // Node ≥ 21: flush: true fsyncs the data before closing
    } finally {
      await h.close();
    }
  }

  async appendFile(path: unknown, data: unknown, opts?: unknown): Promise<void> {
    const o = options(opts, ["encoding", "mode", "flag", "flush"], "appendFile");
    await this.writeFile(path, data, { ...o, flag: o.flag ?? "a" });
  }

  async truncate(path: unknown, len = 0): Promise<void> {
    const h = await this.open(path, "r+");
    try {
      await h.truncate(len);
    } finally {
      await h.close();
    }
  }

  async rename(from: unknown, to: unknown): Promise<void> {
    const a = this.resolve(from, "rename");
    const b = this.resolve(to, "rename");
    const src = await this.mem.stat(a);
    const dst = await this.mem.stat(b);
    if (src?.isDirectory && dst?.isDirectory && (await this.mem.readdir(b)).length > 0) {
      throw new NodeFsError("ENOTEMPTY", "rename", a, b);
    }
    if (src?.isDirectory && (b + "/").startsWith(a + "/") && a !== b) throw new NodeFsError("EINVAL", "rename", a, b);
    if (a === b && src) return;
    await this.run(() => `rename ${a} -> ${b}`, "rename", a, () => this.mem.rename(a, b), b);
  }

  async unlink(path: unknown): Promise<void> {
    const p = this.resolve(path, "unlink");
    await this.run(() => `unlink ${p}`, "unlink", p, () => this.mem.unlink(p));
  }

  async mkdir(path: unknown, opts?: unknown): Promise<string | undefined> {
    const o = typeof opts === "number" ? { mode: opts } : options(opts, ["recursive", "mode"], "mkdir");
    const p = this.resolve(path, "mkdir");
    const mode = typeof o.mode === "number" ? o.mode : 0o777;
    const st = await this.mem.stat(p);
    if (o.recursive === true) {
      if (st?.isDirectory) return undefined;
      let first = p;
      for (let up = p; up !== "/"; up = up.slice(0, up.lastIndexOf("/")) || "/") {
        if (await this.mem.stat(up)) break;
        first = up;
      }
      await this.run(() => `mkdir -p ${p}`, "mkdir", p, () => this.mem.mkdir(p, mode));
      return first;
    }
    if (st) throw new NodeFsError("EEXIST", "mkdir", p);
    const parent = await this.mem.stat(p.slice(0, p.lastIndexOf("/")) || "/");
    if (!parent) throw new NodeFsError("ENOENT", "mkdir", p);
    if (!parent.isDirectory) throw new NodeFsError("ENOTDIR", "mkdir", p);
    await this.run(() => `mkdir ${p}`, "mkdir", p, () => this.mem.mkdir(p, mode));
    return undefined;
  }

  async mkdtemp(prefix: unknown): Promise<string> {
    if (typeof prefix !== "string") throw notSupported("mkdtemp with a non-string prefix");
    const p = `${this.resolve(prefix, "mkdtemp")}${(this.mkdtempCount++).toString(36).padStart(6, "0")}`;
    await this.mkdir(p);
    return p;
  }

  readdir(path: unknown, opts: { withFileTypes: true; encoding?: BufferEncoding }): Promise<Dirent[]>;
  readdir(
    path: unknown,
    opts?: BufferEncoding | { withFileTypes?: false; encoding?: BufferEncoding } | null,
  ): Promise<string[]>;
  async readdir(path: unknown, opts?: unknown): Promise<string[] | Dirent[]> {
    const o = options(opts, ["encoding", "withFileTypes"], "readdir");
    checkEncoding(o.encoding, "readdir");
    const p = this.resolve(path, "readdir");
    const names = await this.run(() => `readdir ${p}`, "scandir", p, () => this.mem.readdir(p), undefined, false);
    names.sort(); // the simulator's order is insertion order; a sorted listing is deterministic
    if (o.withFileTypes !== true) return names;
    const out: Dirent[] = [];
    for (const n of names) out.push(new Dirent(n, p, !!(await this.mem.stat(`${p}/${n}`))?.isDirectory));
    return out;
  }

  async stat(path: unknown, opts?: unknown): Promise<Stats> {
    const o = options(opts, ["bigint"], "stat");
    if (o.bigint === true) throw notSupported("stat with bigint: true");
    const p = this.resolve(path, "stat");
    const st = await this.mem.stat(p);
    if (!st) throw new NodeFsError("ENOENT", "stat", p);
    return new Stats(st.isDirectory, st.size, st.mode, st.mtimeMs);
  }

  /** No symlinks in the simulator: lstat is stat. */
  lstat(path: unknown, opts?: unknown): Promise<Stats> {
    return this.stat(path, opts);
  }

  async realpath(path: unknown): Promise<string> {
    const p = this.resolve(path, "realpath");
    if (!(await this.mem.stat(p))) throw new NodeFsError("ENOENT", "realpath", p);
    return p;
  }

  async chmod(path: unknown, mode: unknown): Promise<void> {
    const p = this.resolve(path, "chmod");
    if (typeof mode !== "number") throw notSupported("chmod with a string mode");
    await this.run(() => `chmod ${p} ${mode.toString(8)}`, "chmod", p, () => this.mem.chmod(p, mode));
  }

  async rmdir(path: unknown, opts?: unknown): Promise<void> {
    options(opts, [], "rmdir");
    const p = this.resolve(path, "rmdir");
    await this.run(() => `rmdir ${p}`, "rmdir", p, () => this.mem.rmdir(p));
  }

  async rm(path: unknown, opts?: unknown): Promise<void> {
    const o = options(opts, ["recursive", "force", "maxRetries", "retryDelay"], "rm");
    const p = this.resolve(path, "rm");
    const st = await this.mem.stat(p);
    if (!st) {
      if (o.force === true) return;
      throw new NodeFsError("ENOENT", "lstat", p);
    }
    if (st.isDirectory && o.recursive !== true) {
      const e = new NodeFsError(
        "ERR_FS_EISDIR",
        "rm",
        p,
        undefined,
        `Path is a directory: rm returned EISDIR (is a directory) ${p}`,
      );
      throw e;
    }
    await this.run(() => `rm ${o.recursive === true ? "-r " : ""}${p}`, "rm", p, () => this.removeTree(p));
  }

  private async removeTree(p: string): Promise<void> {
    const st = await this.mem.stat(p);
    if (!st?.isDirectory) return this.mem.unlink(p);
    for (const n of (await this.mem.readdir(p)).sort()) await this.removeTree(`${p}/${n}`);
    await this.mem.rmdir(p);
  }
}

/** A FileHandle as node:fs/promises returns from open(); `mem` is null for a directory. */
export class NodeFileHandle {
  readonly fd: number;
  private pos = 0;
  private closed = false;

  constructor(
    private readonly fs: NodeFsFacade,
    private readonly mem: MemHandle | null,
    private readonly path: string,
    private readonly flags: Flags,
  ) {
    this.fd = fs.fd();
    for (
      const name of [
        "chown",
        "utimes",
        "readv",
        "writev",
        "readLines",
        "readableWebStream",
        "createReadStream",
        "createWriteStream",
      ]
    ) {
      (this as unknown as Record<string, unknown>)[name] = () => {
        throw notSupported(`FileHandle.${name}`);
      };
    }
  }

  private file(syscall: string, write = false): MemHandle {
    if (this.closed) throw new NodeFsError("EBADF", syscall);
    if (!this.mem) throw new NodeFsError("EISDIR", syscall);
    if (write && !this.flags.write) throw new NodeFsError("EBADF", syscall);
    if (!write && !this.flags.read) throw new NodeFsError("EBADF", syscall);
    return this.mem;
  }

  async write(
    data: unknown,
    a?: unknown,
    b?: unknown,
    c?: unknown,
  ): Promise<{ bytesWritten: number; buffer: unknown }> {
    let bytes: Uint8Array;
    let at: number | null;
    if (typeof data === "string") {
      bytes = toBytes(data, b, "write");
      at = position(a, "write");
    } else {
      const whole = toBytes(data, undefined, "write");
      const o = a !== null && typeof a === "object"
        ? options(a, ["offset", "length", "position"], "write")
        : { offset: a, length: b, position: c };
      const off = (o.offset as number | undefined) ?? 0;
      const len = (o.length as number | undefined) ?? whole.length - off;
      if (off < 0 || len < 0 || off + len > whole.length) throw new NodeFsError("EINVAL", "write");
      bytes = whole.subarray(off, off + len);
      at = position(o.position, "write");
    }
    const h = this.file("write", true);
    const where = this.flags.append ? await h.size() : at ?? this.pos;
    await this.fs.run(
      () => `write ${this.path} ${bytes.length} bytes at ${where}`,
      "write",
      undefined,
      () => h.write(bytes, where),
    );
    if (at === null || this.flags.append) this.pos = where + bytes.length;
    return { bytesWritten: bytes.length, buffer: data };
  }

  async read(a?: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    let o: Record<string, unknown>;
    if (a instanceof Uint8Array) {
      o = b !== null && typeof b === "object"
        ? { ...options(b, ["offset", "length", "position"], "read"), buffer: a }
        : { buffer: a, offset: b, length: c, position: d };
    } else o = options(a, ["buffer", "offset", "length", "position"], "read");
    const buffer = (o.buffer as Uint8Array | undefined) ?? allocBytes(16384);
    if (!(buffer instanceof Uint8Array)) throw notSupported("read into anything but a Uint8Array");
    const off = (o.offset as number | undefined) ?? 0;
    const len = (o.length as number | undefined) ?? buffer.length - off;
    if (off < 0 || len < 0 || off + len > buffer.length) throw new NodeFsError("EINVAL", "read");
    const at = position(o.position, "read");
    const h = this.file("read");
    const n = await this.fs.run(
      () => `read ${this.path}`,
      "read",
      undefined,
      () => h.read(buffer.subarray(off, off + len), at ?? this.pos),
      undefined,
      false,
    );
    if (at === null) this.pos += n;
    return { bytesRead: n, buffer };
  }

  readFile(opts: BufferEncoding | { encoding: BufferEncoding; signal?: AbortSignal }): Promise<string>;
  readFile(opts?: { encoding?: null; signal?: AbortSignal } | null): Promise<Uint8Array>;
  async readFile(opts?: unknown): Promise<Uint8Array | string> {
    const o = options(opts, ["encoding", "signal"], "FileHandle.readFile");
    const encoding = checkEncoding(o.encoding, "readFile");
    const h = this.file("read");
    const size = await h.size();
    const out = new Uint8Array(Math.max(0, size - this.pos));
    const n = await this.fs.run(
      () => `read ${this.path}`,
      "read",
      undefined,
      () => h.read(out, this.pos),
      undefined,
      false,
    );
    this.pos += n;
    return fromBytes(out.subarray(0, n), encoding);
  }

  async writeFile(data: unknown, opts?: unknown): Promise<void> {
    const o = options(opts, ["encoding", "signal"], "FileHandle.writeFile");
    const bytes = toBytes(data, o.encoding, "writeFile");
    if (bytes.length > 0) await this.write(bytes, 0, bytes.length, null);
  }

  appendFile(data: unknown, opts?: unknown): Promise<void> {
    return this.writeFile(data, opts);
  }

  async sync(): Promise<void> {
    if (this.closed) throw new NodeFsError("EBADF", "fsync");
    if (!this.mem) {
      return this.fs.run(() => `fsync dir ${this.path}`, "fsync", undefined, () => this.fs.mem.syncDir(this.path));
    }
    const h = this.mem;
    await this.fs.run(() => `fsync ${this.path}`, "fsync", undefined, () => h.sync());
  }

  async datasync(): Promise<void> {
    if (this.closed) throw new NodeFsError("EBADF", "fdatasync");
    if (!this.mem) {
      return this.fs.run(
        () => `fdatasync dir ${this.path}`,
        "fdatasync",
        undefined,
        () => this.fs.mem.syncDir(this.path),
      );
    }
    const h = this.mem;
    await this.fs.run(() => `fdatasync ${this.path}`, "fdatasync", undefined, () => h.datasync());
  }

  async truncate(len = 0): Promise<void> {
    const h = this.file("ftruncate", true);
    await this.fs.run(() => `truncate ${this.path} to ${len}`, "ftruncate", undefined, () => h.truncate(len));
  }

  async stat(): Promise<Stats> {
    if (this.closed) throw new NodeFsError("EBADF", "fstat");
    // A file handle follows its inode, not its name (the file may have been renamed since).
    if (this.mem) return new Stats(false, await this.mem.size(), 0o644, 0);
    return this.fs.stat(this.path);
  }

  async chmod(mode: number): Promise<void> {
    return this.fs.chmod(this.path, mode);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.mem?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
