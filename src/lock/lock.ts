// One writer per store (guarantees 5 and 9). The protocol, and why at most one process holds
// `.lock` under any interleaving (docs/LOCK.md has the same argument with the measurements):
//
// A lock names its holder {pid, host, bootId, start, nonce, since}; `nonce` is 128 random bits,
// so no two locks (or tickets) ever carry the same one.
//
// PUBLISH COMPLETE. The holder's record is written into its own temp file `.lock.<nonce>` and
// then linked into place: link(temp, ".lock") fails with EEXIST atomically. So `.lock` is never
// seen empty or half-written while its holder lives: an empty or unparsable `.lock` can only be
// a power loss's leftover (the contents are never fsynced) or another program's, and is stale at
// once, whatever its age. (Without link, on S3, the record is published by one exclusive PUT,
// which is also all or nothing; see publish().)
//
// STALE. A lock is stale when: it is empty/unparsable; or it is from this host and names another
// boot id (a lock from before the last boot); or it names this process's pid but a nonce this
// process does not hold (the pid was reused: a restarted container's pid 1, or our own pid from
// an earlier life); or its pid is dead, a zombie, or alive with another start time (pid reuse).
// A lock from another host, or whose process this system cannot judge, is never stale. A live
// holder is never judged stale: everything above is a property that cannot change back (the dead
// stay dead, a start time never recurs within a boot), so a verdict of "stale" stays true.
//
// TAKE OVER a stale lock with nonce N (key N; a nonce-less lock's key is a hash of its bytes):
//   for k = 0, 1, 2, ...: publish our record as the break ticket `.lock.break-N-k` (the same
//     temp+link, so a ticket is complete when seen). If it exists: its holder alive → refuse
//     (LockedError: another process is taking over); its holder dead → try k+1.
//   The ticket's winner RE-READS `.lock`: still N → rename(temp, ".lock") (atomic replace), then
//     remove the tickets for N. Not N → remove its ticket and start over.
// Why exactly one: tickets for N are removed only once `.lock` is no longer N, and N never comes
// back (nonces are unique), so while `.lock` is N its tickets only accumulate. Suppose A and B
// both passed the re-check for N, A with ticket a < b. B won ticket b only after finding ticket a
// taken and its holder dead; that ticket existed while `.lock` was N (B's re-check came later),
// so it was A's, and A was alive: a live process judged dead, which cannot happen. So one process
// at most replaces N, and it does so only while `.lock` is N; every other taker's re-check fails
// (or its link to `.lock` meets EEXIST), and it restarts against the new holder, who is alive.
// A fresh acquirer never replaces anything: link() only fills an empty name.
//
// RELEASE unlinks `.lock` only if it still holds our nonce. Reading then unlinking is safe: only
// a taker that judged us dead replaces our lock, and a live process is never judged dead, so the
// `.lock` we read as ours is still ours at the unlink.
//
// GARBAGE. A holder, once it holds, removes tickets for other keys (their lock is gone for good,
// so no re-check against them can pass) and temp files of dead processes.
import { FsError, LockedError, UnsupportedError } from "../errors.ts";
import type { DurableFs, FileHandle, ProcessIdentity } from "../fs.ts";
import { attempt, readFully } from "../fs-util.ts";
import { join } from "../path.ts";

/** The writer lock's file name in a store or log directory (store/layout.ts re-exports it). */
export const LOCK_NAME = ".lock";

interface LockInfo {
  pid: number;
  host: string;
  since: number;
  bootId?: string;
  start?: number;
  nonce?: string;
}
interface Seen {
  key: string;
  info?: LockInfo;
}

const TEMP_PREFIX = `${LOCK_NAME}.`;
const TICKET_PREFIX = `${LOCK_NAME}.break-`;
const NONCE_RE = /^[0-9a-f]{32}$/;
/** A lock file is a few hundred bytes; anything longer is not ours and is never read whole. */
const MAX_LOCK_BYTES = 4096;
/** Restarts after losing a race (the lock vanished or changed under us) before giving up. */
const MAX_ROUNDS = 64;
/** Tickets of dead breakers skipped for one stale lock before giving up. */
const MAX_TICKETS = 64;
/** An unreadable temp file younger than this may be a live writer's, between open and write. */
const TEMP_GRACE_MS = 10 * 60_000;

/**
 * Nonces of the locks and tickets this process holds or is taking, shared by every copy of this
 * module in the process (a bundle and the sources): a lock naming our pid and one of these is
 * live; one naming our pid and another nonce is a previous process's.
 */
const held: Set<string> =
  ((globalThis as Record<symbol, Set<string>>)[Symbol.for("ckptkit.heldLocks")] ??= new Set<string>());

const enc = new TextEncoder();

export class StoreLock {
  private constructor(
    private readonly fs: DurableFs,
    readonly path: string,
    readonly nonce: string,
    private readonly own?: { release(): Promise<void> },
  ) {}

  static async acquire(fs: DurableFs, dir: string, warn: (msg: string) => void): Promise<StoreLock> {
    // A storage with its own lock (OPFS: Web Locks) uses it; no `.lock` file is written.
    if (fs.writerLock) return new StoreLock(fs, join(dir, LOCK_NAME), "", await fs.writerLock.acquire(dir));
    const taker = new Taker(fs, dir, warn);
    held.add(taker.nonce);
    try {
      await taker.run();
    } catch (err) {
      held.delete(taker.nonce);
      await attempt(() => fs.unlink(taker.temp));
      throw err;
    }
    return new StoreLock(fs, join(dir, LOCK_NAME), taker.nonce);
  }

  /** Removes `.lock` if it is still ours (see RELEASE above); anything else is left alone. */
  async release(): Promise<void> {
    if (this.own) return this.own.release();
    try {
      const cur = await readLock(this.fs, this.path);
      if (cur?.key === this.nonce) await attempt(() => this.fs.unlink(this.path));
    } catch {
      // best effort, as before: a lock we cannot read is not removed
    } finally {
      held.delete(this.nonce);
    }
  }
}

class Taker {
  readonly nonce = randomNonce();
  readonly temp: string;
  private readonly lockPath: string;
  private readonly self: ProcessIdentity;
  private readonly host: string;
  private readonly record: Uint8Array;
  private useLink: boolean;

  constructor(
    private readonly fs: DurableFs,
    private readonly dir: string,
    private readonly warn: (msg: string) => void,
  ) {
    this.temp = join(dir, `${TEMP_PREFIX}${this.nonce}`);
    this.lockPath = join(dir, LOCK_NAME);
    this.self = fs.processIdentity();
    this.host = fs.hostname();
    this.useLink = fs.capabilities.link;
    const info: LockInfo = { pid: this.self.pid, host: this.host, since: Date.now(), nonce: this.nonce };
    if (this.self.bootId !== undefined) info.bootId = this.self.bootId;
    if (this.self.start !== undefined) info.start = this.self.start;
    this.record = enc.encode(JSON.stringify(info));
  }

  async run(): Promise<void> {
    if (this.useLink) await this.probeLink();
    if (this.useLink) await this.writeTemp();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (await this.publish(this.lockPath)) return this.won(false);
      const cur = await readLock(this.fs, this.lockPath);
      if (!cur) continue; // released between our link and our read: try again
      const why = this.staleness(cur.info);
      if (why === undefined) throw new LockedError(this.dir, describe(cur.info));
      if (await this.takeOver(cur, why)) return this.won(true);
    }
    throw new LockedError(this.dir, `lost the race for the lock ${MAX_ROUNDS} times`);
  }

  /**
   * A fs may route some paths to storage without links (the CLI's routing fs with the store on
   * S3). link(temp, temp) before temp exists answers ENOENT where links work and UnsupportedError
   * where they do not, before a request is spent on a temp object there.
   */
  private async probeLink(): Promise<void> {
    try {
      await this.fs.link(this.temp, this.temp);
    } catch (err) {
      if (err instanceof UnsupportedError) this.useLink = false;
    }
  }

  /** Our record in our own temp file: linked, complete, into `.lock` or a ticket. Not fsynced:
   *  after a power loss a lock is stale anyway (another boot, or empty). */
  private async writeTemp(): Promise<void> {
    let h: FileHandle;
    try {
      h = await this.fs.open(this.temp, { write: true, create: true, exclusive: true, mode: 0o644 });
    } catch (err) {
      // A store the user cannot write (EACCES, EROFS, ENOSPC): name the lock, as users know it.
      if (err instanceof FsError) throw new FsError(err.errno, err.op, this.lockPath, undefined, err);
      throw err;
    }
    try {
      await h.write(this.record, 0);
    } finally {
      await h.close();
    }
  }

  /** Makes `target` hold our complete record if it does not exist; false if it does. */
  private async publish(target: string): Promise<boolean> {
    if (this.useLink) {
      try {
        await this.fs.link(this.temp, target);
        return true;
      } catch (err) {
        if (isExists(err)) return false;
        if (!(err instanceof UnsupportedError)) throw err;
        this.useLink = false; // e.g. a routing fs whose store is on S3
        await attempt(() => this.fs.unlink(this.temp));
      }
    }
    // No hard links (S3): one exclusive create. It is correct only where the object appears
    // with all its bytes at once and the create is refused atomically (a conditional PUT).
    try {
      const h = await this.fs.open(target, { write: true, create: true, exclusive: true, mode: 0o644 });
      try {
        await h.write(this.record, 0);
      } finally {
        await h.close();
      }
      return true;
    } catch (err) {
      if (isExists(err)) return false;
      throw err;
    }
  }

  private async takeOver(cur: Seen, why: string): Promise<boolean> {
    for (let k = 0; k < MAX_TICKETS; k++) {
      const ticket = join(this.dir, `${TICKET_PREFIX}${cur.key}-${k}`);
      if (await this.publish(ticket)) {
        let replaced = false;
        try {
          // The re-check: only a winner of a ticket for this key may replace the lock, and only
          // while it is still the lock we judged stale.
          const again = await readLock(this.fs, this.lockPath);
          if (again?.key !== cur.key) return false;
          if (this.useLink) {
            await this.fs.rename(this.temp, this.lockPath);
          } else {
            await this.fs.unlink(this.lockPath);
            if (!(await this.publish(this.lockPath))) return false;
          }
          replaced = true;
        } finally {
          // A ticket names a live taker and stops every other one: never leave ours behind.
          if (!replaced) await attempt(() => this.fs.unlink(ticket));
        }
        this.warn(why);
        await attempt(() => this.removeTickets((key) => key === cur.key));
        return true;
      }
      const breaker = await readLock(this.fs, ticket);
      if (!breaker) return false; // tickets removed: the lock was replaced; start over
      if (this.staleness(breaker.info) === undefined) {
        throw new LockedError(this.dir, `another process is taking over a stale lock (${describe(breaker.info)})`);
      }
    }
    throw new LockedError(this.dir, `${MAX_TICKETS} takers of the stale lock died while taking it over`);
  }

  /** Garbage is looked for on disk (one readdir) and, on S3, only after a takeover (one LIST). */
  private async won(tookOver: boolean): Promise<void> {
    if (this.useLink) await attempt(() => this.fs.unlink(this.temp));
    if (this.useLink || tookOver) await attempt(() => this.collectGarbage());
  }

  /** Tickets for other keys, and temp files of dead processes (see GARBAGE above). */
  private async collectGarbage(): Promise<void> {
    await this.removeTickets((key) => key !== this.nonce);
    for (const name of await this.fs.readdir(this.dir)) {
      if (!name.startsWith(TEMP_PREFIX) || name.startsWith(TICKET_PREFIX) || name === `${TEMP_PREFIX}${this.nonce}`) {
        continue;
      }
      const path = join(this.dir, name);
      const seen = await readLock(this.fs, path);
      if (!seen) continue;
      const st = await this.fs.stat(path);
      const young = st !== null && Date.now() - st.mtimeMs < TEMP_GRACE_MS;
      if (seen.info ? this.staleness(seen.info) !== undefined : !young) await attempt(() => this.fs.unlink(path));
    }
  }

  private async removeTickets(match: (key: string) => boolean): Promise<void> {
    for (const name of await this.fs.readdir(this.dir)) {
      if (!name.startsWith(TICKET_PREFIX)) continue;
      const rest = name.slice(TICKET_PREFIX.length);
      const key = rest.slice(0, rest.lastIndexOf("-"));
      if (match(key)) await attempt(() => this.fs.unlink(join(this.dir, name)));
    }
  }

  /** Why a lock (or ticket) is stale, or undefined if its holder may be alive (see STALE). */
  private staleness(info: LockInfo | undefined): string | undefined {
    return staleness(this.fs, this.self, this.host, this.dir, info);
  }
}

/**
 * Why a lock (or ticket) is stale, judged by `self` on `host`, or undefined if its holder may be
 * alive (see STALE). The one judgement both a taker and a reader (lockHolderAlive) use.
 */
function staleness(
  fs: DurableFs,
  self: ProcessIdentity,
  host: string,
  dir: string,
  info: LockInfo | undefined,
): string | undefined {
  if (!info) {
    return `taking over an empty or unreadable lock in ${dir}: a lock is only published complete, so only a power loss (or another program) leaves one`;
  }
  const who = `process ${info.pid} on ${info.host}`;
  if (info.host !== host) return undefined;
  if (info.bootId !== undefined && self.bootId !== undefined && info.bootId !== self.bootId) {
    return `taking over the lock of ${who}, left before the last boot`;
  }
  if (info.pid === self.pid) {
    if (info.nonce !== undefined && held.has(info.nonce)) return undefined;
    return `taking over the lock of dead process ${info.pid} on ${info.host}: it names this process's pid, but this process does not hold it (pid reuse)`;
  }
  if (!fs.capabilities.processAlive) return undefined;
  const state = fs.processState(info.pid, info.start);
  if (state !== "dead") return undefined;
  return `taking over the lock of dead process ${info.pid} on ${info.host}${
    info.start !== undefined ? ` (or of a process whose pid was reused)` : ""
  }`;
}

/** `.lock` (or a ticket, or a temp): its key and parsed record, or undefined if it does not exist. */
async function readLock(fs: DurableFs, path: string): Promise<Seen | undefined> {
  let bytes: Uint8Array;
  let size: number;
  try {
    const h = await fs.open(path);
    try {
      size = await h.size();
      const buf = new Uint8Array(Math.min(size, MAX_LOCK_BYTES));
      bytes = buf.subarray(0, await readFully(h, buf, 0));
    } finally {
      await attempt(() => h.close());
    }
  } catch (err) {
    if (err instanceof FsError && err.errno === "ENOENT") return undefined;
    throw err;
  }
  const info = size <= MAX_LOCK_BYTES ? parseLock(bytes) : undefined;
  return { key: info?.nonce ?? `x${fnv1a(bytes).toString(16)}${size.toString(16)}`, info };
}

function parseLock(bytes: Uint8Array): LockInfo | undefined {
  let v: Partial<LockInfo>;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LockInfo>;
  } catch {
    return undefined;
  }
  if (
    typeof v !== "object" || v === null || !Number.isSafeInteger(v.pid) || (v.pid as number) <= 0 ||
    typeof v.host !== "string"
  ) return undefined;
  const since = Number(v.since);
  const info: LockInfo = {
    pid: v.pid as number,
    host: v.host,
    since: Number.isFinite(since) && Math.abs(since) <= 8.64e15 ? since : 0,
  };
  if (typeof v.nonce === "string" && NONCE_RE.test(v.nonce)) info.nonce = v.nonce;
  if (typeof v.bootId === "string" && v.bootId.length <= 64) info.bootId = v.bootId;
  if (Number.isSafeInteger(v.start)) info.start = v.start;
  return info;
}

function describe(info: LockInfo | undefined): string {
  if (!info) return "unreadable lock";
  return `pid ${info.pid} on ${info.host} since ${new Date(info.since).toISOString()}`;
}

function isExists(err: unknown): boolean {
  return err instanceof FsError && err.errno === "EEXIST";
}

function randomNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** FNV-1a: names a nonce-less lock by its bytes, for its tickets (not a checksum). */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/**
 * Whether the store's writer lock is held by a process that is alive on this host: how a reader
 * tells a live writer's save in progress from the debris of a dead one. A holder on another host,
 * or an fs that cannot check liveness, gives false (the step then reads as incomplete: also not damage).
 */
export async function lockHolderAlive(fs: DurableFs, dir: string): Promise<boolean> {
  if (fs.writerLock) return fs.writerLock.held(dir);
  const info = (await readLock(fs, join(dir, LOCK_NAME)))?.info;
  if (!info || !fs.capabilities.processAlive || info.host !== fs.hostname()) return false;
  // The same judgement a taker makes (boot id, pid reuse, our own pid): not stale = alive.
  return staleness(fs, fs.processIdentity(), fs.hostname(), dir, info) === undefined;
}
