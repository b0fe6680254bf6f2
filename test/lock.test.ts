// The writer lock on the simulator (guarantees 5 and 9): what is stale (empty, another boot, pid
// reuse by start time or by our own pid), what is live, release that checks ownership, break
// tickets, and the takeover race driven step by step: two takers that both judged one lock
// stale, and exactly one of them ends up holding the store. Also the per-Store mutex and the
// /proc parsing the real adapters use. Real processes race in test/lock-race.test.ts.
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { parseProcStat, procState } from "../adapters/proc.ts";
import { FsError, LockedError, UnsupportedError } from "../src/errors.ts";
import type { DurableFs } from "../src/fs.ts";
import { StoreLock } from "../src/lock/lock.ts";
import { openStore } from "../src/store/store.ts";
import { openLog } from "../src/wal/log.ts";
import { test } from "./kit.ts";
import { freshStoreFs, members, sources } from "./lib/store-helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const N = "0123456789abcdef0123456789abcdef"; // the planted stale lock's nonce

function plant(fs: MemoryFs, path: string, record: Record<string, unknown> | string): Promise<void> {
  return (async () => {
    const h = await fs.open(path, { write: true, create: true, truncate: true });
    await h.write(enc.encode(typeof record === "string" ? record : JSON.stringify(record)), 0);
    await h.close();
  })();
}

function lockText(fs: MemoryFs): string | undefined {
  const b = fs.peek("/store/.lock");
  return b && dec.decode(b);
}

function holderNonce(fs: MemoryFs): string | undefined {
  const t = lockText(fs);
  return t ? (JSON.parse(t) as { nonce?: string }).nonce : undefined;
}

const acquire = (fs: DurableFs, notes: string[] = []) => StoreLock.acquire(fs, "/store", (m) => notes.push(m));
const isLocked = (e: unknown) => e instanceof LockedError;

/** A fs that stops before the first call `when` matches, until release() (one stop). */
function gated(inner: DurableFs, when: (op: string, path: string) => boolean) {
  let release!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  const atGate = new Promise<void>((r) => (reached = r));
  let armed = true;
  const gate = async (op: string, path: string) => {
    if (armed && when(op, path)) {
      armed = false;
      reached();
      await opened;
    }
  };
  const fs: DurableFs = {
    ...inner,
    name: inner.name,
    capabilities: inner.capabilities,
    open: async (p, o) => {
      await gate("open", p);
      return inner.open(p, o);
    },
    link: async (a, b) => {
      await gate("link", b);
      return inner.link(a, b);
    },
    rename: async (a, b) => {
      await gate("rename", b);
      return inner.rename(a, b);
    },
    unlink: async (p) => {
      await gate("unlink", p);
      return inner.unlink(p);
    },
    readdir: (p) => inner.readdir(p),
    mkdir: (p, m) => inner.mkdir(p, m),
    rmdir: (p) => inner.rmdir(p),
    syncDir: (p) => inner.syncDir(p),
    stat: (p) => inner.stat(p),
    chmod: (p, m) => inner.chmod(p, m),
    pid: () => inner.pid(),
    hostname: () => inner.hostname(),
    processAlive: (p) => inner.processAlive(p),
    processIdentity: () => inner.processIdentity(),
    processState: (p, s) => inner.processState(p, s),
  };
  return { fs, atGate, release };
}

const deadLock = (fs: MemoryFs) => ({
  pid: 999_999,
  host: fs.hostname(),
  since: 0,
  bootId: fs.bootId,
  start: 7,
  nonce: N,
});

test("an empty .lock left by a power loss is taken over at once (no grace period)", async () => {
  const fs = await freshStoreFs();
  const s = await openStore("/store", { fs });
  await s.save(sources(members(1, ["a"]))); // syncs /store: the .lock entry is durable, its bytes never were
  const after = fs.crash();
  assert.equal(after.peek("/store/.lock")?.length, 0, "the power loss left a 0-byte lock");
  const notes: string[] = [];
  const s2 = await openStore("/store", { fs: after, onWarning: (m) => notes.push(m) });
  assert.ok(notes.some((n) => /empty or unreadable/.test(n)), notes.join("\n"));
  await s2.close();
  assert.equal(after.peek("/store/.lock"), undefined);
});

test("a garbled .lock (another program's) is stale at once too", async () => {
  const fs = await freshStoreFs();
  await plant(fs, "/store/.lock", "\u0000\u0000{not json");
  await (await acquire(fs)).release();
});

test("a lock from another boot of this host is stale at once, even if its pid is alive now", async () => {
  const fs = await freshStoreFs();
  fs.livePids.add(777);
  await plant(fs, "/store/.lock", {
    pid: 777,
    host: fs.hostname(),
    since: Date.now(),
    bootId: "another-boot",
    start: 1,
    nonce: N,
  });
  const notes: string[] = [];
  await (await acquire(fs, notes)).release();
  assert.ok(notes.some((n) => /before the last boot/.test(n)), notes.join("\n"));
});

test("a lock whose pid is alive with another start time is stale (pid reuse); with the same start it is live", async () => {
  const fs = await freshStoreFs();
  fs.livePids.add(777);
  fs.startTimes.set(777, 5000);
  const rec = { pid: 777, host: fs.hostname(), since: 0, bootId: fs.bootId, nonce: N };
  await plant(fs, "/store/.lock", { ...rec, start: 5000 });
  await assert.rejects(acquire(fs), (e: unknown) => isLocked(e) && /777/.test((e as Error).message));
  await plant(fs, "/store/.lock", { ...rec, start: 4999 });
  await (await acquire(fs)).release();
});

test("a lock naming our own pid that this process does not hold is stale (a restarted container's pid 1)", async () => {
  const fs = await freshStoreFs();
  const me = fs.processIdentity();
  // Another start time of our pid:
  await plant(fs, "/store/.lock", {
    pid: me.pid,
    host: fs.hostname(),
    since: 0,
    bootId: me.bootId,
    start: me.start! + 1,
    nonce: N,
  });
  await (await acquire(fs)).release();
  // Even the same start time, without a nonce this process holds (an older ckptkit's lock):
  await plant(fs, "/store/.lock", { pid: me.pid, host: fs.hostname(), since: 0, bootId: me.bootId, start: me.start });
  await (await acquire(fs)).release();
  // But a lock this process does hold is live, to a second opener in the same process:
  const held = await acquire(fs);
  await assert.rejects(acquire(fs), isLocked);
  await held.release();
});

test("a live holder is refused however old its lock; a dead one's is taken over", async () => {
  const fs = await freshStoreFs();
  fs.livePids.add(778);
  await plant(fs, "/store/.lock", { pid: 778, host: fs.hostname(), since: 0 }); // an old-format lock
  await assert.rejects(acquire(fs), isLocked);
  await plant(fs, "/store/.lock", { pid: 778, host: "other-host", since: 0, bootId: "x", nonce: N });
  await assert.rejects(acquire(fs), isLocked, "another host's lock is never broken");
  await plant(fs, "/store/.lock", deadLock(fs));
  const notes: string[] = [];
  await (await acquire(fs, notes)).release();
  assert.ok(notes.some((n) => /dead process 999999/.test(n)), notes.join("\n"));
});

test("release leaves alone a lock that is no longer ours", async () => {
  const fs = await freshStoreFs();
  const mine = await acquire(fs);
  assert.equal(holderNonce(fs), mine.nonce);
  const theirs = JSON.stringify({ pid: 31337, host: fs.hostname(), since: 0, bootId: fs.bootId, nonce: N });
  fs.poke("/store/.lock", enc.encode(theirs));
  await mine.release();
  assert.equal(lockText(fs), theirs, "release removed someone else's lock");
});

test("a break ticket left by a dead taker is skipped; a live taker's ticket refuses", async () => {
  const fs = await freshStoreFs();
  await plant(fs, "/store/.lock", deadLock(fs));
  const dead = { pid: 999_998, host: fs.hostname(), since: 0, bootId: fs.bootId, nonce: "f".repeat(32) };
  await plant(fs, `/store/.lock.break-${N}-0`, dead);
  const lock = await acquire(fs);
  assert.equal(holderNonce(fs), lock.nonce);
  assert.deepEqual((await fs.readdir("/store")).sort(), [".lock"], "tickets for the replaced lock are removed");
  await lock.release();

  await plant(fs, "/store/.lock", deadLock(fs));
  fs.livePids.add(4000);
  await plant(fs, `/store/.lock.break-${N}-0`, { ...dead, pid: 4000 });
  await assert.rejects(acquire(fs), (e: unknown) => isLocked(e) && /taking over/.test((e as Error).message));
  assert.equal(holderNonce(fs), N, "the stale lock is left to the live taker");
});

test("the re-check: a taker that judged a lock stale, then finds it replaced, does not replace the new holder", async () => {
  const fs = await freshStoreFs();
  await plant(fs, "/store/.lock", deadLock(fs));
  const a = gated(fs.asProcess(101), (op, p) => op === "link" && p.includes(".lock.break-"));
  const b = fs.asProcess(102);
  const ra = acquire(a.fs).then((l) => l, (e: unknown) => e);
  await a.atGate; // A has read the lock and judged it stale
  const lb = await acquire(b); // B takes it over completely (and clears the tickets)
  assert.equal(holderNonce(fs), lb.nonce);
  a.release(); // A now wins ticket 0 of the old lock: its re-read must see B's lock
  const got = await ra;
  assert.ok(isLocked(got), `A must be refused, got ${String(got)}`);
  assert.equal(holderNonce(fs), lb.nonce, "B still holds the store");
  assert.deepEqual((await fs.readdir("/store")).sort(), [".lock"]);
  await lb.release();
});

test("two takers released together on one stale lock: exactly one holds", async () => {
  for (const gateOp of ["link", "rename"] as const) {
    const fs = await freshStoreFs();
    await plant(fs, "/store/.lock", deadLock(fs));
    const takers = [201, 202, 203].map((pid) =>
      gated(fs.asProcess(pid), (op, p) => op === gateOp && (gateOp === "rename" || p.includes(".lock.break-")))
    );
    const results = takers.map((t) => acquire(t.fs).then((l) => l, (e: unknown) => e));
    // Each stops at its gate (at the ticket, or, for the one that won it, before the rename).
    await Promise.race(takers.map((t) => t.atGate));
    await new Promise((r) => setTimeout(r, 5));
    for (const t of takers) t.release();
    const settled = await Promise.all(results);
    const holders = settled.filter((r) => r instanceof StoreLock) as StoreLock[];
    assert.equal(holders.length, 1, `gate at ${gateOp}: ${settled.map(String).join(", ")}`);
    assert.ok(settled.every((r) => r instanceof StoreLock || isLocked(r)));
    assert.equal(holderNonce(fs), holders[0]!.nonce);
    await holders[0]!.release();
  }
});

test("a taker that died holding its ticket does not block the next one", async () => {
  const fs = await freshStoreFs();
  await plant(fs, "/store/.lock", deadLock(fs));
  const a = gated(fs.asProcess(301), (op) => op === "rename");
  void acquire(a.fs).catch(() => {});
  await a.atGate; // A holds ticket 0 and is about to rename: and dies there
  await assert.rejects(acquire(fs.asProcess(302)), isLocked, "a live taker is waited for");
  fs.exitProcess(301);
  const c = await acquire(fs.asProcess(303));
  assert.equal(holderNonce(fs), c.nonce);
  await c.release();
});

test("a taker whose replace fails (EIO) leaves no ticket behind to block the next taker", async () => {
  const fs = await freshStoreFs();
  await plant(fs, "/store/.lock", deadLock(fs));
  const view = fs.asProcess(350);
  const failing: DurableFs = {
    ...view,
    rename: async (a) => {
      throw new FsError("EIO", "rename", a);
    },
  };
  await assert.rejects(acquire(failing), (e: unknown) => e instanceof FsError && e.errno === "EIO");
  assert.deepEqual((await fs.readdir("/store")).sort(), [".lock"], "no ticket, no temp left");
  const next = await acquire(fs.asProcess(351)); // the failed taker is alive: its ticket would refuse this
  assert.equal(holderNonce(fs), next.nonce);
  await next.release();
});

test("a stalled writer does not lose its lock: no age makes a live holder's lock stale", async () => {
  const fs = await freshStoreFs();
  // Stalled before publishing: its temp file is complete but not linked; another writer gets the
  // store; the stalled one, resumed, is refused (it never held the lock, so it lost nothing).
  const a = gated(fs.asProcess(401), (op, p) => op === "link" && p.endsWith("/.lock"));
  const ra = acquire(a.fs).then((l) => l, (e: unknown) => e);
  await a.atGate;
  const lb = await acquire(fs.asProcess(402));
  a.release();
  assert.ok(isLocked(await ra));
  await lb.release();
  // Stalled while holding, with a lock "written" long ago: still refused.
  fs.livePids.add(403);
  await plant(fs, "/store/.lock", { pid: 403, host: fs.hostname(), since: 0, bootId: fs.bootId, nonce: N });
  await assert.rejects(acquire(fs), isLocked);
});

test("the holder clears tickets of replaced locks and temp files of dead processes, nothing else", async () => {
  const fs = await freshStoreFs();
  await plant(fs, `/store/.lock.break-${"e".repeat(32)}-0`, deadLock(fs));
  await plant(fs, `/store/.lock.${"d".repeat(32)}`, deadLock(fs)); // a dead writer's temp
  fs.livePids.add(500);
  const liveTemp = `/store/.lock.${"c".repeat(32)}`;
  await plant(fs, liveTemp, { pid: 500, host: fs.hostname(), since: 0, bootId: fs.bootId, nonce: "c".repeat(32) });
  await plant(fs, "/store/.lock.user-file", ""); // empty and young: might be a writer mid-write
  const l = await acquire(fs);
  assert.deepEqual((await fs.readdir("/store")).sort(), [".lock", `.lock.${"c".repeat(32)}`, ".lock.user-file"]);
  await l.release();
});

test("without link (S3): the lock publishes by exclusive create and takes over the same way", async () => {
  const mem = await freshStoreFs();
  const noLink = (view: DurableFs): DurableFs => ({
    ...view,
    capabilities: { ...view.capabilities, link: false },
    link: async () => {
      throw new UnsupportedError("make hard links", "test");
    },
  });
  const a = await acquire(noLink(mem.asProcess(601)));
  await assert.rejects(acquire(noLink(mem.asProcess(602))), isLocked);
  mem.exitProcess(601);
  const b = await acquire(noLink(mem.asProcess(603)));
  assert.equal(holderNonce(mem), b.nonce);
  await a.release(); // a dead holder's late release does not remove b's lock
  assert.equal(holderNonce(mem), b.nonce);
  await b.release();
  assert.equal(lockText(mem), undefined);
  // A fs that claims link but cannot (a routing fs whose store is on S3) falls back too, and
  // never writes a temp file there.
  const opened: string[] = [];
  const base = noLink(mem.asProcess(604));
  const lying: DurableFs = {
    ...base,
    capabilities: mem.capabilities,
    open: (p, o) => {
      opened.push(p);
      return base.open(p, o);
    },
  };
  await (await acquire(lying)).release();
  assert.deepEqual(opened.filter((p) => p.startsWith("/store/.lock.")), [], "no temp object written where links fail");
  assert.deepEqual(await mem.readdir("/store"), []);
});

test("a lock that is a directory, or unreadable, fails with the fs error (never taken)", async () => {
  const fs = await freshStoreFs();
  await fs.mkdir("/store/.lock");
  await assert.rejects(acquire(fs), (e: unknown) => e instanceof FsError);
});

test("one Store object: rollback() during save() does not quarantine the in-flight save", async () => {
  const fs = await freshStoreFs();
  // The save stops after its members are written, before its manifest (the commit point).
  const g = gated(fs, (op, p) => op === "open" && p.includes("manifest"));
  const s = await openStore("/store", { fs: g.fs, chunkSize: 1024 });
  const m = members(7, ["w.bin", "opt.bin", "cfg"], 64 * 1024);
  const saving = s.save(sources(m));
  await g.atGate;
  const rolling = s.rollback();
  await new Promise((r) => setTimeout(r, 20)); // room for an unserialized rollback to act
  g.release();
  const [saved, rolled] = await Promise.all([saving, rolling]);
  assert.deepEqual(rolled.moved, [], "rollback moved the save's members");
  const loaded = await s.load(saved.step);
  for (const [name, data] of m) assert.deepEqual(loaded.members.get(name), data, name);
  // And prune/close wait for the save too.
  const second = s.save(sources(m), { keep: 1 });
  await s.close();
  assert.equal((await second).step, saved.step + 1);
  const r = await openStore("/store", { fs, readOnly: true });
  assert.equal((await r.latest())?.step, saved.step + 1);
});

test("the log takes the same lock: a second opener is refused, a dead one's lock taken over", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/log");
  const log = await openLog("/log", { fs });
  await assert.rejects(openLog("/log", { fs }), isLocked);
  await log.append(enc.encode("x"));
  await log.close();
  await plant(fs, "/log/.lock", { ...deadLock(fs) });
  const again = await openLog("/log", { fs });
  await again.close();
  assert.equal(fs.peek("/log/.lock"), undefined);
});

test("/proc/<pid>/stat: fields are counted after the last ')' (comm may hold spaces and parentheses)", () => {
  const tail = "S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
  assert.deepEqual(parseProcStat(`42 (node) ${tail}`), { state: "S", start: 123456 });
  assert.deepEqual(parseProcStat(`42 (a) b) (c) ${tail}`), { state: "S", start: 123456 });
  assert.deepEqual(parseProcStat(`42 (x) 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21) ${tail}`), {
    state: "S",
    start: 123456,
  });
  assert.equal(parseProcStat("garbage"), undefined);
  assert.equal(parseProcStat("42 (x) S 1 2"), undefined);
  const read = (text: string | undefined) => (p: string) => (p === "/proc/42/stat" ? text : undefined);
  assert.equal(procState(42, 123456, read(`42 (w) ${tail}`)), "alive");
  assert.equal(procState(42, 123455, read(`42 (w) ${tail}`)), "dead", "another start time: pid reuse");
  assert.equal(procState(42, undefined, read(`42 (w) ${tail.replace(/^S/, "Z")}`)), "dead", "a zombie");
  assert.equal(procState(42, 1, read(undefined)), undefined, "no entry: the adapter's own probe decides");
});
