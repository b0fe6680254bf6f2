// DurableFs: the only way src/ touches storage. Core code never imports node:fs or Deno; the
// runtime is detected once (adapters/detect.ts) and an implementation handed in. The protocols
// are written against these primitives so the same steps run in Node, Deno, Bun and the
// power-loss simulator.
//
// Paths are strings with "/" separators. Every failure is an FsError whose `errno` is the
// system's code (ENOENT, EEXIST, EIO, ENOSPC, EACCES, ...); sync/datasync/syncDir failures are
// DurabilityErrors. A primitive an adapter cannot do throws UnsupportedError: nothing is
// silently skipped.

export interface OpenOptions {
  /** Open for writing (default: read-only). */
  write?: boolean;
  /** Create if missing. */
  create?: boolean;
  /** With create: fail with EEXIST if the path exists (O_EXCL). */
  exclusive?: boolean;
  /** Truncate to zero on open (O_TRUNC). */
  truncate?: boolean;
  /** Permission bits for a created file (default 0o666 before umask). */
  mode?: number;
  /**
   * Fail with ELOOP if the last path component is a symbolic link (O_NOFOLLOW), instead of
   * opening what it points to. Adapters without symlinks (memory, s3) have nothing to do.
   */
  noFollow?: boolean;
  /**
   * About how many bytes the caller will read or write through this handle. Only a hint for how
   * to do the I/O: a file known to be large leaves the caller's thread from its first byte
   * (adapters/offload.ts). It never changes what is read or written.
   */
  sizeHint?: number;
}

export interface StatOptions {
  /** Describe a symbolic link itself (lstat): a link is then neither a file nor a directory. */
  noFollow?: boolean;
}

export interface FileHandle {
  readonly path: string;
  /** Reads up to buf.length bytes at `position`; returns how many were read (0 at EOF). */
  read(buf: Uint8Array, position: number): Promise<number>;
  /** Writes all of `data` at `position`. The caller may reuse `data` once this resolves: no adapter keeps it. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Flushes data and metadata to stable storage (fsync). */
  sync(): Promise<void>;
  /** Flushes data (and the size) to stable storage (fdatasync). */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
  /** Modification time, ms since the epoch. */
  mtimeMs: number;
  mode: number;
  /** Only from stat(path, { noFollow: true }): the path is a symbolic link. */
  isSymlink?: boolean;
}

export interface FsCapabilities {
  /** Can fsync a directory, making creates/renames/unlinks in it durable. */
  dirSync: boolean;
  /** Has a real fdatasync (otherwise datasync() does a full fsync). */
  datasync: boolean;
  /** Reports the liveness of a process id on this host (for stale-lock takeover). */
  processAlive: boolean;
  /** Has link(): a hard link that fails with EEXIST atomically (the writer lock publishes through it). */
  link: boolean;
  /**
   * Overwriting bytes already written in place is cheaper to make durable than appending (a local
   * file system: the fdatasync has no new size to journal). Where true, the log preallocates its
   * segments by default (LogOptions.preallocate, docs/LOG.md). Absent: false.
   */
  preallocate?: boolean;
  /**
   * A datasync may run on the thread pool while later writes to the same handle go on, and costs
   * only the flush: a large file written in a stream is flushed as it goes, so its closing fsync
   * covers only the tail (src/store/flush-behind.ts). A local file system. Absent: false.
   */
  flushBehind?: boolean;
}

/**
 * Who this process is, precisely enough that a lock naming it is never mistaken for another
 * process's: the pid alone is reused (after the process exits, or as pid 1 of every restarted
 * container). `start` is the process start time in the kernel's own unit (Linux: clock ticks
 * since boot, /proc/<pid>/stat field 22) and `bootId` names the boot (Linux:
 * /proc/sys/kernel/random/boot_id); both are absent where the system cannot tell them.
 */
export interface ProcessIdentity {
  pid: number;
  start?: number;
  bootId?: string;
}

/** "unknown": this host cannot tell (then a lock must be treated as held). */
export type ProcessState = "alive" | "dead" | "unknown";

/**
 * A writer lock the storage itself provides (OPFS: the Web Locks API), for adapters without
 * link() and process ids: held by at most one agent, dropped when its holder dies.
 */
export interface WriterLock {
  /** Resolves once this agent holds `dir`'s writer lock; LockedError if another one holds it. */
  acquire(dir: string): Promise<{ release(): Promise<void> }>;
  /** Whether some live agent holds `dir`'s writer lock. */
  held(dir: string): Promise<boolean>;
}

export interface DurableFs {
  /** "node", "deno", "bun", "memory", ... */
  readonly name: string;
  readonly capabilities: FsCapabilities;
  open(path: string, options?: OpenOptions): Promise<FileHandle>;
  /** Atomically replaces `to` with `from` (rename(2)). Durable only after syncDir of both parents. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Names in a directory (not "." or ".."), unsorted. */
  readdir(path: string): Promise<string[]>;
  /** mkdir -p. */
  mkdir(path: string, mode?: number): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** fsync of the directory itself: makes its entries durable. */
  syncDir(path: string): Promise<void>;
  /** stat (lstat with noFollow), or null if the path does not exist. */
  stat(path: string, options?: StatOptions): Promise<FileStat | null>;
  chmod(path: string, mode: number): Promise<void>;
  /**
   * A second name for an existing file (link(2)): fails with EEXIST, atomically, if `newPath`
   * exists. Durable only after syncDir of its parent. capabilities.link false: UnsupportedError.
   */
  link(existing: string, newPath: string): Promise<void>;
  /** This process's id and host name, written into lock files. */
  pid(): number;
  hostname(): string;
  /** Whether a process with this id is alive on this host (capabilities.processAlive). */
  processAlive(pid: number): boolean;
  /** This process's identity, written into lock files. */
  processIdentity(): ProcessIdentity;
  /**
   * Whether the process `pid` on this host is alive and, when `start` is given, is the same
   * process that had that start time (a different start time: the pid was reused, so "dead").
   * A zombie is dead: it can no longer act.
   */
  processState(pid: number, start?: number): ProcessState;
  /**
   * Optional. Called by the holder of `dir`'s writer lock, when no write into `dir` can be live:
   * drops writes that never finished and that no readdir shows (on S3: multipart uploads of
   * files directly in `dir` whose name `ours` recognizes). Returns one note per action. A local
   * fs has nothing of the kind (its dead temps are files, removed by the store) and omits it.
   */
  dropUnfinishedWrites?(dir: string, ours: (name: string) => boolean): Promise<string[]>;
  /** Optional: the store's writer lock comes from here instead of the `.lock` file protocol (src/store/lock.ts). */
  writerLock?: WriterLock;
}
