// One writer per store: `.lock` is created with O_EXCL and holds {pid, host, since}. A lock whose
// holder is a dead process on this host is taken over (a crashed save never blocks the next);
// a live holder, or one on another host we cannot check, is refused with LockedError.
import { FsError, LockedError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { attempt, readFile } from "../fs-util.ts";
import { join } from "../path.ts";
import { LOCK_NAME } from "./layout.ts";

interface LockInfo { pid: number; host: string; since: number }

/** A lock file this young with unreadable contents may be a writer mid-creation: not stale. */
const UNREADABLE_GRACE_MS = 2_000;

export class StoreLock {
  private constructor(private readonly fs: DurableFs, readonly path: string) {}

  static async acquire(fs: DurableFs, dir: string, warn: (msg: string) => void): Promise<StoreLock> {
    const path = join(dir, LOCK_NAME);
    for (let attemptNo = 0; attemptNo < 3; attemptNo++) {
      try {
        const h = await fs.open(path, { write: true, create: true, exclusive: true, mode: 0o644 });
        try {
          const info: LockInfo = { pid: fs.pid(), host: fs.hostname(), since: Date.now() };
          await h.write(new TextEncoder().encode(JSON.stringify(info)), 0);
        } finally {
          await h.close();
        }
        return new StoreLock(fs, path);
      } catch (err) {
        if (!(err instanceof FsError && err.errno === "EEXIST")) throw err;
      }
      const holder = await readHolder(fs, path);
      if (!holder) {
        const st = await fs.stat(path);
        if (st && Date.now() - st.mtimeMs < UNREADABLE_GRACE_MS) throw new LockedError(dir, "a writer is creating the lock");
        warn(`breaking an unreadable lock left by a crashed writer: ${path}`);
      } else if (holder.host === fs.hostname() && fs.capabilities.processAlive && !fs.processAlive(holder.pid)) {
        warn(`taking over the lock of dead process ${holder.pid} on ${holder.host}`);
      } else {
        throw new LockedError(dir, `pid ${holder.pid} on ${holder.host} since ${new Date(holder.since).toISOString()}`);
      }
      await attempt(() => fs.unlink(path));
    }
    throw new LockedError(dir, "lost the race for the lock three times");
  }

  async release(): Promise<void> {
    await attempt(() => this.fs.unlink(this.path));
  }
}

async function readHolder(fs: DurableFs, path: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(new TextDecoder().decode(await readFile(fs, path, 4096))) as Partial<LockInfo>;
    if (typeof info.pid === "number" && typeof info.host === "string") return { pid: info.pid, host: info.host, since: Number(info.since) || 0 };
  } catch {
    // empty or torn lock file: the caller decides by its age
  }
  return undefined;
}

/**
 * Whether the store's writer lock is held by a process that is alive on this host: how a reader
 * tells a live writer's save in progress from the debris of a dead one. A holder on another host,
 * or an fs that cannot check liveness, gives false (the step then reads as incomplete: also not damage).
 */
export async function lockHolderAlive(fs: DurableFs, dir: string): Promise<boolean> {
  if (!fs.capabilities.processAlive) return false;
  const holder = await readHolder(fs, join(dir, LOCK_NAME));
  return !!holder && holder.host === fs.hostname() && fs.processAlive(holder.pid);
}
