// Errors shaped like Node's system errors, so code written for node:fs/promises branches on them
// unchanged: `err.code` ("ENOENT"...), `err.errno` (negative, as libuv reports it), `err.syscall`,
// `err.path` (and `err.dest` for rename), message "ENOENT: no such file or directory, open '/x'".
import { FsError } from "../errors.ts";

const ERRNO: Record<string, [number, string]> = {
  EPERM: [-1, "operation not permitted"],
  ENOENT: [-2, "no such file or directory"],
  EIO: [-5, "i/o error"],
  EBADF: [-9, "bad file descriptor"],
  EACCES: [-13, "permission denied"],
  EEXIST: [-17, "file already exists"],
  ENOTDIR: [-20, "not a directory"],
  EISDIR: [-21, "illegal operation on a directory"],
  EINVAL: [-22, "invalid argument"],
  ENOSPC: [-28, "no space left on device"],
  ENOTEMPTY: [-39, "directory not empty"],
  ENOTSUP: [-95, "operation not supported on socket"],
};

export class NodeFsError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  readonly dest?: string;
  constructor(code: string, syscall: string, path?: string, dest?: string, detail?: string) {
    const [errno, text] = ERRNO[code] ?? [-1, code.toLowerCase()];
    const where = path === undefined ? "" : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`;
    super(`${code}: ${detail ?? text}, ${syscall}${where}`);
    this.name = "Error";
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
    if (dest !== undefined) this.dest = dest;
  }
}

/** A call or option the simulator does not model: refused, never silently accepted. */
export function notSupported(what: string): NodeFsError {
  return new NodeFsError(
    "ENOTSUP",
    what,
    undefined,
    undefined,
    `${what} is not supported by the explore simulator (ckptkit docs/EXPLORE.md)`,
  );
}

/** Re-shapes an error from the simulator (FsError) as Node would report it; anything else passes through. */
export function toNodeError(err: unknown, syscall: string, path?: string, dest?: string): unknown {
  if (err instanceof NodeFsError) return err;
  if (err instanceof FsError) return new NodeFsError(err.errno, syscall, path ?? err.path, dest);
  return err;
}
