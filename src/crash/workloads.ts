// The standard crash workloads, each with its recovery check (guarantee 1 and friends):
//   file       one file replaced through writeFileWithProtocol (the explorer's own self-test)
//   save       a 1-member checkpoint saved over a durable one
//   group      a 4-member checkpoint saved over a durable one
//   save-keep  a save with keep 1 over two durable checkpoints (the new one forced durable first)
//   rollback   a damaged and a torn checkpoint quarantined above a valid one
//   prune      three valid checkpoints pruned to the newest
//   log        appends (concurrent, then sequential) to a log holding durable records
// Properties a check can report:
//   wrong-bytes     recovery returned bytes no operation wrote (silent corruption): never allowed
//   old-lost        something durable before the operation is gone: never allowed
//   acked-lost      an acknowledged effect is missing: allowed only where the protocol permits
//   file-lost       a damaged file rollback moved is in neither place (guarantee 3)
//   log-damage      a crash left damage before the tail (replay reports it, append refuses);
//                   only a log that syncs promises otherwise: with durability "none" unsynced
//                   writes reach the disk out of order and leave holes
import { MemoryFs } from "../../adapters/memory.ts";
import { type Protocol, writeFileWithProtocol } from "../protocol.ts";
import { rng } from "../rng.ts";
import { openStore, type Store } from "../store/store.ts";
import { INLINE_MAX } from "../store/inline.ts";
import { manifestName, memberName } from "../store/layout.ts";
import { QUARANTINE_DIR } from "../store/layout.ts";
import { type Durability, LogDamageError, openLog, replayLog } from "../wal/log.ts";
import type { Verdict, Workload } from "./explorer.ts";
import { stateWorkload } from "./state-workload.ts";

export type Members = Map<string, Uint8Array>;
const DIR = "/store";

export function payload(seed: number, size: number): Uint8Array {
  const next = rng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (next() * 256) | 0;
  return out;
}

export function makeMembers(seed: number, count: number, size: number): Members {
  return new Map(Array.from({ length: count }, (_, i) => [`m${i}.bin`, payload(seed * 100 + i, size + i * 7)]));
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameMembers(a: Members, b: Members): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!sameBytes(v, b.get(k))) return false;
  return true;
}

const sources = (m: Members) => [...m].map(([name, data]) => ({ name, data }));

/** Everything the setup wrote, made durable: the state a clean shutdown leaves. */
async function durable(build: (fs: MemoryFs) => Promise<void>): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await build(fs);
  return fs.crash({ keep: () => true });
}

/**
 * `inlineMax` 0 by default: the classic workloads explore member files and poke them; the
 * `*-inline` ones store their members in the manifest (src/store/inline.ts), one file per save.
 */
async function withStore(
  fs: MemoryFs,
  protocol: Protocol,
  fn: (s: Store) => Promise<void>,
  inlineMax = 0,
): Promise<void> {
  const s = await openStore(DIR, { fs, protocol, chunkSize: 1024, inlineMax });
  await fn(s);
  await s.close();
}

/** Recovery as a restarted process does it: read-only latest + load. */
export async function recoverStore(
  fs: MemoryFs,
): Promise<{ step: number; members: Members; present: number[] } | null> {
  const s = await openStore(DIR, { fs, readOnly: true });
  const present = (await s.steps()).map((x) => x.step);
  const l = await s.latest();
  if (!l) return null;
  const { members } = await s.load(l.step);
  return { step: l.step, members, present };
}

const ALWAYS = ["wrong-bytes", "old-lost", "file-lost"];
const promisesFor = (p: Protocol, ackDurable = p === "atomic_dirsync") =>
  new Set(ackDurable ? [...ALWAYS, "acked-lost", "log-damage"] : ALWAYS);

/** Judges a recovered store against the checkpoints each step was asked to hold. */
async function judgeStore(
  fs: MemoryFs,
  expected: Map<number, Members>,
  oldStep: number | null,
  newStep: number,
  acked: boolean,
): Promise<Verdict> {
  const got = await recoverStore(fs);
  const violations: Verdict["violations"] = [];
  const v: Verdict = { outcome: "none", violations };
  if (got) {
    const want = expected.get(got.step);
    if (!want || !sameMembers(want, got.members)) {
      const message = `latest is step ${got.step} but its bytes are not what that save wrote`;
      violations.push({ property: "wrong-bytes", message });
    }
    v.outcome = got.step === newStep ? "new" : got.step === oldStep ? "old" : "none";
    v.torn = got.present[0] !== undefined && got.present[0] > got.step;
  }
  if (oldStep !== null && (!got || got.step < oldStep)) {
    const message = `step ${oldStep} was durable before the save, recovery found ${got ? `step ${got.step}` : "none"}`;
    violations.push({ property: "old-lost", message });
  }
  if (acked && got?.step !== newStep) {
    const message = `the save of step ${newStep} was acknowledged, recovery found ${got ? `step ${got.step}` : "none"}`;
    violations.push({ property: "acked-lost", message });
  }
  return v;
}

export function fileWorkload(protocol: Protocol, size = 1300): Workload<true> {
  const oldData = payload(1, size);
  const newData = payload(2, size + 100);
  return {
    name: `file/${protocol}`,
    promises: promisesFor(protocol),
    setup: () =>
      durable(async (fs) => {
        await fs.mkdir("/d");
        await writeFileWithProtocol(fs, "/d/f", oldData, "atomic_dirsync");
      }),
    run: async (fs, ack) => {
      await writeFileWithProtocol(fs, "/d/f", newData, protocol);
      ack(true);
    },
    check: async (fs, acked) => {
      const got = fs.peek("/d/f");
      const isNew = sameBytes(got, newData);
      const isOld = sameBytes(got, oldData);
      const violations: Verdict["violations"] = [];
      if (!isNew && !isOld) {
        const message = got ? `/d/f holds ${got.length} bytes that neither write produced` : "/d/f is gone";
        violations.push({ property: "wrong-bytes", message });
      }
      if (acked.length > 0 && !isNew) {
        violations.push({ property: "acked-lost", message: "the acknowledged write is not on disk" });
      }
      return { outcome: isNew ? "new" : isOld ? "old" : "none", torn: !isNew && !isOld, violations };
    },
  };
}

export function saveWorkload(protocol: Protocol, memberCount = 1, size = 2500, inline = false): Workload<number> {
  const oldM = makeMembers(1, memberCount, size);
  const newM = makeMembers(2, memberCount, size + 100);
  const expected = new Map([[1, oldM], [2, newM]]);
  const inlineMax = inline ? INLINE_MAX : 0;
  return {
    name: `${memberCount === 1 ? "save" : `group-save(${memberCount})`}${inline ? "-inline" : ""}/${protocol}`,
    promises: promisesFor(protocol),
    setup: () =>
      durable((fs) =>
        withStore(fs, "atomic_dirsync", async (s) => {
          await s.save(sources(oldM));
        }, inlineMax)
      ),
    run: (fs, ack) =>
      withStore(fs, protocol, async (s) => {
        ack((await s.save(sources(newM))).step);
      }, inlineMax),
    check: (fs, acked) => judgeStore(fs, expected, 1, 2, acked.length > 0),
  };
}

/**
 * Steps 1 and 2 durable, then a save of step 3 with keep 1: under every protocol the new
 * checkpoint is forced to disk before older ones are deleted, so recovery finds step 2 or 3 —
 * never less — and once the save returned, step 3.
 */
export function saveKeepWorkload(protocol: Protocol): Workload<number> {
  const ms = [1, 2, 3].map((s) => makeMembers(s, 2, 1500));
  const expected = new Map(ms.map((m, i) => [i + 1, m]));
  return {
    name: `save-keep/${protocol}`,
    promises: promisesFor(protocol, true),
    setup: () =>
      durable((fs) =>
        withStore(fs, "atomic_dirsync", async (s) => {
          for (const m of ms.slice(0, 2)) await s.save(sources(m));
        })
      ),
    run: (fs, ack) =>
      withStore(fs, protocol, async (s) => {
        ack((await s.save(sources(ms[2]!), { keep: 1 })).step);
      }),
    check: (fs, acked) => judgeStore(fs, expected, 2, 3, acked.length > 0),
  };
}

/** Step 1 valid, step 2 with a flipped member byte, step 3 with a torn manifest; then rollback. */
export function rollbackWorkload(protocol: Protocol): Workload<true> {
  const ms = [1, 2, 3].map((s) => makeMembers(s, 2, 1500));
  const expected = new Map([[1, ms[0]!]]);
  const damaged = [
    memberName(2, 0),
    memberName(2, 1),
    manifestName(2),
    memberName(3, 0),
    memberName(3, 1),
    manifestName(3),
  ];
  return {
    name: `rollback/${protocol}`,
    promises: promisesFor(protocol, true), // rollback always fsyncs both directories
    setup: async () => {
      // Damage goes onto the durable state (poking before would be undone by replayed writes).
      const fs = await durable((f) =>
        withStore(f, protocol, async (s) => {
          for (const m of ms) await s.save(sources(m));
        })
      );
      const member = fs.peek(`${DIR}/${memberName(2, 0)}`)!.slice();
      const mid = member.length >> 1;
      member[mid] = member[mid]! ^ 0x10;
      fs.poke(`${DIR}/${memberName(2, 0)}`, member);
      const man = fs.peek(`${DIR}/${manifestName(3)}`)!;
      fs.poke(`${DIR}/${manifestName(3)}`, man.slice(0, man.length - 20));
      return fs;
    },
    run: (fs, ack) =>
      withStore(fs, protocol, async (s) => {
        await s.rollback();
        ack(true);
      }),
    check: async (fs, acked) => {
      const v = await judgeStore(fs, expected, 1, 1, false);
      const inStore = new Set(await fs.readdir(DIR));
      const q = (await fs.stat(`${DIR}/${QUARANTINE_DIR}`))
        ? new Set(await fs.readdir(`${DIR}/${QUARANTINE_DIR}`))
        : new Set<string>();
      for (const f of damaged) {
        if (!inStore.has(f) && !q.has(f)) {
          v.violations.push({ property: "file-lost", message: `${f} is neither in the store nor in quarantine` });
        }
      }
      if (acked.length > 0 && damaged.some((f) => inStore.has(f))) {
        const message = "rollback returned but damaged steps are back in the store";
        v.violations.push({ property: "acked-lost", message });
      }
      v.outcome = acked.length > 0 || damaged.every((f) => q.has(f)) ? "new" : "old";
      return v;
    },
  };
}

/** Three valid checkpoints pruned to the newest. */
export function pruneWorkload(protocol: Protocol): Workload<number[]> {
  const ms = [1, 2, 3].map((s) => makeMembers(s, 2, 1500));
  const expected = new Map(ms.map((m, i) => [i + 1, m]));
  return {
    name: `prune/${protocol}`,
    promises: promisesFor(protocol, true), // prune always fsyncs the directory
    setup: () =>
      durable((fs) =>
        withStore(fs, protocol, async (s) => {
          for (const m of ms) await s.save(sources(m));
        })
      ),
    run: (fs, ack) =>
      withStore(fs, protocol, async (s) => {
        ack((await s.prune(1)).removed);
      }),
    check: async (fs, acked) => {
      const v = await judgeStore(fs, expected, 3, 3, false);
      const got = await recoverStore(fs);
      if (acked.length > 0 && got && got.present.some((s) => s < 3)) {
        const message = `prune returned but steps ${got.present.filter((s) => s < 3).join(",")} are back`;
        v.violations.push({ property: "acked-lost", message });
      }
      v.outcome = got && got.present.length === 1 ? "new" : got ? "old" : "none";
      return v;
    },
  };
}

export const LOG_DURABILITY: Record<Protocol, Durability> = {
  unsafe: "none",
  atomic_nodirsync: "fdatasync",
  atomic_dirsync: "fsync",
};

/** Two durable records, then three concurrent appends (one group commit) and two sequential. */
export function logWorkload(protocol: Protocol): Workload<number> {
  const durability = LOG_DURABILITY[protocol];
  const rec = (seq: number) => payload(1000 + seq, 200 + seq * 150);
  const LOG = "/log";
  return {
    name: `log-append/${protocol}`,
    promises: promisesFor(protocol, durability !== "none"),
    setup: () =>
      durable(async (fs) => {
        const log = await openLog(LOG, { fs });
        await log.append(rec(1));
        await log.append(rec(2));
        await log.close();
      }),
    run: async (fs, ack) => {
      const log = await openLog(LOG, { fs, durability });
      await Promise.all([3, 4, 5].map(async (s) => ack(await log.append(rec(s)))));
      ack(await log.append(rec(6)));
      ack(await log.append(rec(7)));
      await log.close();
    },
    check: async (fs, acked) => {
      const seen: number[] = [];
      const violations: Verdict["violations"] = [];
      const report = await replayLog(LOG, {
        fs,
        onRecord: (r) => {
          seen.push(r.sequence);
          if (r.sequence !== seen.length || !sameBytes(r.payload, rec(r.sequence))) {
            const message = `record #${seen.length} has sequence ${r.sequence} and bytes no append wrote`;
            violations.push({ property: "wrong-bytes", message });
          }
        },
      });
      if (report.damage) {
        violations.push({ property: "log-damage", message: `replay reports damage: ${JSON.stringify(report.damage)}` });
      }
      if (seen.length < 2) {
        violations.push({ property: "old-lost", message: `only ${seen.length} of the 2 durable records replay` });
      }
      const missing = acked.filter((s) => s > seen.length);
      if (missing.length > 0) {
        const message = `acknowledged sequences ${missing.join(",")} are missing (replay ends at ${seen.length})`;
        violations.push({ property: "acked-lost", message });
      }
      // The log must stay usable: reopening for append (which cuts a torn tail) succeeds.
      try {
        const reopened = await openLog(LOG, { fs });
        await reopened.append(rec(seen.length + 1));
        await reopened.close();
      } catch (err) {
        if (!(err instanceof LogDamageError)) throw err;
        violations.push({ property: "log-damage", message: `reopening for append refuses: ${err.message}` });
      }
      return {
        outcome: seen.length >= 7 ? "new" : seen.length >= 2 ? "old" : "none",
        torn: report.truncatedBytes > 0,
        violations,
      };
    },
  };
}

export const WORKLOADS = [
  "save",
  "group",
  "save-inline",
  "group-inline",
  "save-keep",
  "rollback",
  "prune",
  "log",
  "state",
] as const;
export type WorkloadName = (typeof WORKLOADS)[number] | "file";

export function workload(name: WorkloadName, protocol: Protocol): Workload<unknown> {
  switch (name) {
    case "file":
      return fileWorkload(protocol) as Workload<unknown>;
    case "save":
      return saveWorkload(protocol, 1) as Workload<unknown>;
    case "group":
      return saveWorkload(protocol, 4) as Workload<unknown>;
    // Members below the inline threshold, in the manifest: a save is one file (src/store/inline.ts).
    case "save-inline":
      return saveWorkload(protocol, 1, 2500, true) as Workload<unknown>;
    case "group-inline":
      return saveWorkload(protocol, 4, 2500, true) as Workload<unknown>;
    case "save-keep":
      return saveKeepWorkload(protocol) as Workload<unknown>;
    case "rollback":
      return rollbackWorkload(protocol) as Workload<unknown>;
    case "prune":
      return pruneWorkload(protocol) as Workload<unknown>;
    case "log":
      return logWorkload(protocol) as Workload<unknown>;
    case "state":
      return stateWorkload(
        protocol,
        LOG_DURABILITY[protocol],
        durable,
        protocol === "unsafe" ? new Set(["wrong-bytes"]) : promisesFor(protocol, true),
      ) as Workload<unknown>;
  }
}
