// The three single-file write protocols, one readable function each, the same steps in every
// runtime (DESIGN.md):
//   unsafe            open final path (truncate), write, close
//   atomic_nodirsync  write a temp (O_EXCL), fsync, close, chmod if a mode is kept, rename onto path
//   atomic_dirsync    as above, then fsync the directory: once it returns, the file is durable
// Under the store these write the manifest, the commit point.
import { UnsupportedError, UsageError } from "./errors.ts";
import type { DurableFs } from "./fs.ts";
import { attempt } from "./fs-util.ts";
import { basename, dirname, join } from "./path.ts";

export const PROTOCOLS = ["unsafe", "atomic_nodirsync", "atomic_dirsync"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export function parseProtocol(p: string): Protocol {
  if ((PROTOCOLS as readonly string[]).includes(p)) return p as Protocol;
  throw new UsageError(`unknown protocol '${p}' (expected ${PROTOCOLS.join(", ")})`);
}

/**
 * Temp files are named `.tmp-<pid>-<random>-<target>`: the pid lets recovery tell a live
 * writer's temp from a dead one's, and the prefix lets it touch only files that are ours.
 */
export const TEMP_PREFIX = ".tmp-";
const TEMP_RE = /^\.tmp-(\d+)-[0-9a-z]+-/;

export function tempName(fs: DurableFs, target: string): string {
  const rand = Math.floor(Math.random() * 2 ** 32).toString(36);
  return join(dirname(target), `${TEMP_PREFIX}${fs.pid()}-${rand}-${basename(target)}`);
}

/** The pid that created a temp file, or undefined if the name is not one of our temps. */
export function tempOwner(name: string): number | undefined {
  const m = TEMP_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

export interface WriteOptions {
  /**
   * Final permission bits. Default, as write-file-atomic: an existing target's mode is kept
   * (permission bits only, never set-uid/set-gid); a new file gets 0o666 less the umask.
   */
  mode?: number;
}

/** The protocol a store uses when none is named: the strongest the fs can keep. */
export function defaultProtocol(fs: DurableFs): Protocol {
  return fs.capabilities.dirSync ? "atomic_dirsync" : "atomic_nodirsync";
}

/** atomic_dirsync promises survival of a power loss: refused where directories cannot be fsynced (OPFS). */
export function checkProtocol(fs: DurableFs, protocol: Protocol): void {
  if (protocol === "atomic_dirsync" && !fs.capabilities.dirSync) {
    throw new UnsupportedError("keep atomic_dirsync's promise (no directory fsync); use atomic_nodirsync", fs.name);
  }
}

/** Writes `data` (one buffer or a sequence of pieces) to `path` under `protocol`. */
export async function writeFileWithProtocol(
  fs: DurableFs,
  path: string,
  data: Uint8Array | Uint8Array[],
  protocol: Protocol,
  options: WriteOptions = {},
): Promise<void> {
  checkProtocol(fs, protocol);
  const pieces = Array.isArray(data) ? data : [data];
  if (protocol === "unsafe") return writeUnsafe(fs, path, pieces);
  // An existing target's mode is kept: replacing a 0600 secret must not publish it as 0644.
  const mode = options.mode ?? ((await fs.stat(path))?.mode ?? -1);
  return writeAtomic(fs, path, pieces, protocol === "atomic_dirsync", mode < 0 ? undefined : mode & 0o777);
}

async function writeUnsafe(fs: DurableFs, path: string, pieces: Uint8Array[]): Promise<void> {
  const h = await fs.open(path, { write: true, create: true, truncate: true });
  try {
    let pos = 0;
    for (const p of pieces) {
      await h.write(p, pos);
      pos += p.length;
    }
  } finally {
    await h.close();
  }
}

/** `mode` undefined: a new file, 0o666 less the umask (the OS applies it at create, no chmod). */
async function writeAtomic(
  fs: DurableFs,
  path: string,
  pieces: Uint8Array[],
  dirSync: boolean,
  mode: number | undefined,
): Promise<void> {
  const tmp = tempName(fs, path);
  // A mode to keep is set by chmod after the write; until then the temp stays private.
  const h = await fs.open(tmp, {
    write: true,
    create: true,
    exclusive: true,
    mode: mode === undefined ? 0o666 : 0o600,
  });
  let closed = false;
  let renamed = false;
  try {
    let pos = 0;
    for (const p of pieces) {
      await h.write(p, pos);
      pos += p.length;
    }
    await h.sync();
    closed = true; // a failed close must not be retried: the fd number may be reused
    await h.close();
    if (mode !== undefined && mode !== 0o600) await fs.chmod(tmp, mode);
    await fs.rename(tmp, path);
    renamed = true;
    if (dirSync) await fs.syncDir(dirname(path));
  } catch (err) {
    if (!closed) await attempt(() => h.close());
    if (!renamed) await attempt(() => fs.unlink(tmp));
    throw err;
  }
}
