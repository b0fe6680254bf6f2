// Every error ckptkit throws is a CkptError with a stable string `code`. Subclasses exist only
// where callers branch on them: corruption (with where and why), durability (an fsync that
// failed: fatal, never retried), unsupported primitives, kernel aborts, usage, locks, I/O.

export class CkptError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bytes on disk are not what a writer wrote: checksum mismatch, truncation, bad header. */
export class CorruptionError extends CkptError {
  readonly path: string;
  readonly offset: number;
  readonly reason: string;
  constructor(path: string, offset: number, reason: string, message?: string) {
    super("ECORRUPT", message ?? `${path}: ${reason} at byte ${offset}`);
    this.path = path;
    this.offset = offset;
    this.reason = reason;
  }
}

/** A file written by another format version: rejected, not guessed at. */
export class FormatVersionError extends CkptError {
  constructor(path: string, found: number, supported: number | string) {
    super(
      "EVERSION",
      `${path}: format version ${found} is not supported (this reader handles version${
        typeof supported === "string" ? "s" : ""
      } ${supported})`,
    );
  }
}

/** An I/O primitive failed. `errno` is the system's code (ENOENT, EIO, ENOSPC, EACCES, ...). */
export class FsError extends CkptError {
  readonly errno: string;
  readonly op: string;
  readonly path: string;
  constructor(errno: string, op: string, path: string, detail?: string, cause?: unknown) {
    super(errno, `${op} ${path}: ${errno}${detail ? ` (${detail})` : ""}`, { cause });
    this.errno = errno;
    this.op = op;
    this.path = path;
  }
}

/** fsync/fdatasync/directory fsync failed: the data it covered must be presumed lost. */
export class DurabilityError extends FsError {
  constructor(errno: string, op: string, path: string, cause?: unknown) {
    super(errno, op, path, "durability not guaranteed; the operation is abandoned", cause);
  }
}

/** The adapter cannot perform a primitive the protocol needs (it never silently skips it). */
export class UnsupportedError extends CkptError {
  constructor(what: string, adapter: string) {
    super("EUNSUPPORTED", `${adapter} adapter cannot ${what}`);
  }
}

/** The WebAssembly kernel called abort(): a bug or a broken binary, never bad input. */
export class WasmAbortError extends CkptError {
  constructor(message: string) {
    super("EWASMABORT", `kernel aborted: ${message}`);
  }
}

/** Another live process holds the store's writer lock. */
export class LockedError extends CkptError {
  constructor(path: string, holder: string) {
    super("ELOCKED", `${path} is locked by a live writer (${holder})`);
  }
}

/** The requested checkpoint does not exist (or none is valid). */
export class NoCheckpointError extends CkptError {
  constructor(message: string) {
    super("ENOCHECKPOINT", message);
  }
}

/** A caller passed an invalid argument (bad member name, step not above the newest, ...). */
export class UsageError extends CkptError {
  constructor(message: string) {
    super("EUSAGE", message);
  }
}

/** What a command needs from its surroundings is not there (a runtime to run children in, a child that failed to start). */
export class EnvironmentError extends CkptError {}

/**
 * The runtime refused a permission the call needs (Deno without `--allow-sys`, `--allow-write`,
 * ...). Not an I/O error on a file: the fix is the flag named in `flag`.
 */
export class PermissionMissingError extends EnvironmentError {
  constructor(readonly flag: string, what: string, cause?: unknown) {
    super("ENOTCAPABLE", `${what}: run again with ${flag} (or -A)`, { cause });
  }
}
