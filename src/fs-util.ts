// Small compositions of DurableFs primitives used across the store, log and CLI.
import { FsError } from "./errors.ts";
import type { DurableFs, FileHandle } from "./fs.ts";
import { dirname } from "./path.ts";

/** Reads exactly buf.length bytes at `position`, or fewer only at end of file. */
export async function readFully(h: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const n = await h.read(buf.subarray(got), position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * Reads a whole file. `limit` bounds the allocation: a file larger than it is refused rather
 * than read, so a hostile or damaged file cannot make us allocate by its size.
 */
export async function readFile(fs: DurableFs, path: string, limit = 256 * 1024 * 1024): Promise<Uint8Array> {
  const h = await fs.open(path);
  try {
    const size = await h.size();
    if (size > limit) throw new FsError("EFBIG", "read", path, `${size} bytes exceeds the ${limit}-byte limit`);
    const buf = new Uint8Array(size);
    const n = await readFully(h, buf, 0);
    return n === size ? buf : buf.subarray(0, n);
  } finally {
    await h.close();
  }
}

/**
 * mkdir -p whose every created level survives a power loss: a new directory's entry lives in
 * its parent, so each created level's parent is fsynced (top-down, from the deepest ancestor
 * that already existed), and the new leaf itself too. Plain mkdir -p plus one fsync of the
 * immediate parent leaves the upper new levels in the page cache only: after a power loss the
 * whole new subtree is gone although the call returned. Directory creation is rare, so this is
 * done whatever the write protocol. Returns the directories it created, top-down (empty when
 * `path` already existed).
 */
export async function mkdirDurable(fs: DurableFs, path: string): Promise<string[]> {
  const created: string[] = [];
  for (let p = path; !(await fs.stat(p));) {
    created.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  if (created.length === 0) return created;
  await fs.mkdir(path);
  // Invariant: when this returns, created[i]'s entry in its parent is durable for every i.
  for (const dir of created) await fs.syncDir(dirname(dir));
  await fs.syncDir(path);
  return created;
}

/** Runs a best-effort cleanup step: its failure must not mask the error being reported. */
export async function attempt(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch {
    // best effort by definition: the caller is already failing or the step is optional
  }
}
