// Turns a runtime's native error into an FsError (or DurabilityError for sync primitives), or a
// PermissionMissingError when the runtime itself (not the OS) refused.
import { DurabilityError, FsError, PermissionMissingError } from "../src/errors.ts";

const DENO_NAMES: Record<string, string> = {
  NotFound: "ENOENT",
  AlreadyExists: "EEXIST",
  PermissionDenied: "EACCES",
  NotADirectory: "ENOTDIR",
  IsADirectory: "EISDIR",
  DirectoryNotEmpty: "ENOTEMPTY",
  WriteZero: "EIO",
  InvalidData: "EINVAL",
  FilesystemLoop: "ELOOP",
  NotSupported: "ENOTSUP",
};

export function errnoOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown };
  if (typeof e?.code === "string" && /^E[A-Z0-9]+$/.test(e.code)) return e.code;
  if (typeof e?.name === "string" && DENO_NAMES[e.name]) return DENO_NAMES[e.name]!;
  const msg = String((err as Error)?.message ?? err);
  const m = /\b(E[A-Z]{2,})\b/.exec(msg) ?? (/os error (\d+)/.exec(msg) ? ["", osErrno(msg)] : null);
  return m?.[1] ?? "EIO";
}

function osErrno(msg: string): string {
  const n = Number(/os error (\d+)/.exec(msg)?.[1]);
  return ({
    2: "ENOENT",
    5: "EIO",
    13: "EACCES",
    17: "EEXIST",
    20: "ENOTDIR",
    21: "EISDIR",
    28: "ENOSPC",
    30: "EROFS",
    39: "ENOTEMPTY",
    1: "EPERM",
  } as Record<number, string>)[n] ?? "EIO";
}

const SYNC_OPS = new Set(["fsync", "fdatasync", "fsync-dir"]);

export function fsError(err: unknown, op: string, path: string): FsError {
  if (err instanceof FsError) return err;
  const errno = errnoOf(err);
  return SYNC_OPS.has(op) ? new DurabilityError(errno, op, path, err) : new FsError(errno, op, path, undefined, err);
}

/**
 * A runtime permission refusal as a PermissionMissingError naming the flag, or undefined.
 * Deno 2 throws NotCapable ("Requires sys access to "hostname", run again with the --allow-sys
 * flag"); older releases threw PermissionDenied with the same message, which Deno also uses for
 * an OS EACCES: only the "run again with --allow-…" wording marks the runtime's own refusal.
 */
export function permissionError(err: unknown): PermissionMissingError | undefined {
  if (err instanceof PermissionMissingError) return err;
  const name = (err as { name?: unknown })?.name;
  if (name !== "NotCapable" && name !== "PermissionDenied") return undefined;
  const msg = String((err as Error).message ?? "");
  const flag = /run again with the (--allow-[a-z-]+) flag/.exec(msg)?.[1];
  if (!flag) return undefined;
  const what = /Requires (.+?), run again/.exec(msg)?.[1] ?? `${flag.slice("--allow-".length)} access`;
  return new PermissionMissingError(flag, `Deno denied ${what}`, err);
}

/** Runs fn, rethrowing any native error as an FsError naming the operation and path. */
export function guard<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw permissionError(err) ?? fsError(err, op, path);
  }
}
