// Turns a runtime's native error into an FsError (or DurabilityError for sync primitives).
import { DurabilityError, FsError } from "../src/errors.ts";

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
  return ({ 2: "ENOENT", 5: "EIO", 13: "EACCES", 17: "EEXIST", 20: "ENOTDIR", 21: "EISDIR", 28: "ENOSPC", 30: "EROFS", 39: "ENOTEMPTY", 1: "EPERM" } as Record<number, string>)[n] ?? "EIO";
}

const SYNC_OPS = new Set(["fsync", "fdatasync", "fsync-dir"]);

export function fsError(err: unknown, op: string, path: string): FsError {
  if (err instanceof FsError) return err;
  const errno = errnoOf(err);
  return SYNC_OPS.has(op) ? new DurabilityError(errno, op, path, err) : new FsError(errno, op, path, undefined, err);
}

/** Runs fn, rethrowing any native error as an FsError naming the operation and path. */
export function guard<T>(op: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fsError(err, op, path);
  }
}
