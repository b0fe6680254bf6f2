// An I/O error at every call site: for save, group save, save --keep, rollback, prune and log
// append, each write, fsync, fdatasync, rename, directory fsync (and open, chmod, unlink,
// truncate) call is made to fail in turn. The operation must reject with a typed error (or, if the failing call was
// best-effort cleanup, succeed correctly), and what was there before — the previous checkpoint,
// the acknowledged records — must remain intact and verify, both as the live fs sees it and
// after a power loss right then (a failed fsync having lost its data, Linux-style).
import assert from "node:assert/strict";
import { type FaultOp, FaultyFs } from "../adapters/faulty.ts";
import { MemoryFs } from "../adapters/memory.ts";
import { CkptError } from "../src/errors.ts";
import { makeMembers, type Members, payload, recoverStore, sameBytes, sameMembers } from "../src/crash/workloads.ts";
import { openStore } from "../src/store/store.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { test } from "./kit.ts";

const SITES: FaultOp[] = ["write", "fsync", "fdatasync", "rename", "fsync-dir", "open", "chmod", "unlink", "truncate"];
const sources = (m: Members) => [...m].map(([name, data]) => ({ name, data }));

interface Case {
  base: () => Promise<MemoryFs>;
  op: (fs: FaultyFs) => Promise<unknown>;
  check: (fs: MemoryFs, resolved: boolean) => Promise<void>;
}

/** Counts the calls the operation makes, then fails each one in turn. Returns sites tried. */
async function everySite(
  c: Case,
): Promise<{ tried: number; rejected: number; bySite: Record<string, number>; resolvedAt: string[] }> {
  const probe = new FaultyFs(await c.base());
  await c.op(probe);
  let tried = 0;
  let rejected = 0;
  const bySite: Record<string, number> = {};
  const resolvedAt: string[] = [];
  for (const op of SITES) {
    for (let nth = 1; nth <= probe.counts[op]; nth++) {
      for (const errno of ["EIO", "ENOSPC"] as const) {
        const inner = await c.base();
        const fs = new FaultyFs(inner, [{ op, nth, errno }]);
        let resolved = true;
        try {
          await c.op(fs);
        } catch (err) {
          resolved = false;
          assert.ok(err instanceof CkptError, `${op} #${nth}: untyped rejection ${String(err)}`);
        }
        assert.equal(fs.failures.length, 1, `${op} #${nth} was reached`);
        tried++;
        if (!resolved) rejected++;
        else resolvedAt.push(`${op} #${nth} ${fs.failures[0]!.path}`);
        bySite[op] = (bySite[op] ?? 0) + 1;
        const where = `${op} #${nth} ${errno} (${resolved ? "resolved" : "rejected"})`;
        await c.check(inner, resolved).catch((e) => {
          throw new Error(`${where}: live state: ${(e as Error).message}`);
        });
        await c.check(inner.crash(), resolved)
          .catch((e) => {
            throw new Error(`${where}: after power loss: ${(e as Error).message}`);
          });
      }
    }
  }
  // Only best-effort cleanup may fail without failing the operation: releasing the lock (reading
  // it to check it is still ours, then unlinking it) and removing the lock's own publish temp
  // (.lock.<nonce>, which the next holder removes as garbage).
  for (const r of resolvedAt) {
    assert.match(
      r,
      /^((unlink|open) #\d+ .*\.lock|unlink #\d+ .*\.lock\.[0-9a-f]{32})$/,
      `the operation succeeded despite a failed ${r}`,
    );
  }
  return { tried, rejected, bySite, resolvedAt };
}

async function durableStore(saves: Members[]): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const s = await openStore("/store", { fs, chunkSize: 1024, inlineMax: 0 }); // member files: the rollback test damages them
  for (const m of saves) await s.save(sources(m));
  await s.close();
  return fs.crash({ keep: () => true });
}

async function expectLatest(fs: MemoryFs, step: number, m: Members): Promise<void> {
  const got = await recoverStore(fs);
  assert.equal(got?.step, step, `latest should be step ${step}, found ${got?.step ?? "none"}`);
  assert.ok(sameMembers(got!.members, m), `step ${step} holds other bytes`);
}

for (const count of [1, 4]) {
  test(`${count === 1 ? "save" : "group save"}: an I/O error at every call site rejects typed and leaves the previous checkpoint intact`, async () => {
    const oldM = makeMembers(1, count, 2000);
    const newM = makeMembers(2, count, 2100);
    const r = await everySite({
      base: () => durableStore([oldM]),
      op: async (fs) => {
        const s = await openStore("/store", { fs, chunkSize: 1024 });
        try {
          await s.save(sources(newM));
        } finally {
          await s.close().catch(() => {});
        }
      },
      check: async (fs, resolved) => {
        const got = await recoverStore(fs);
        if (resolved) return expectLatest(fs, 2, newM);
        assert.ok(
          got && (got.step === 1 ? sameMembers(got.members, oldM) : got.step === 2 && sameMembers(got.members, newM)),
          "old (or complete new) checkpoint",
        );
        assert.equal(
          (await (await openStore("/store", { fs, readOnly: true })).check(1)).status,
          "valid",
          "step 1 verifies",
        );
      },
    });
    console.log(
      `faults ${count === 1 ? "save" : "group save"}: ${r.tried} injected, ${r.rejected} rejected, sites ${
        JSON.stringify(r.bySite)
      }`,
    );
    assert.ok(r.bySite.write && r.bySite.fsync && r.bySite.rename && r.bySite["fsync-dir"], JSON.stringify(r.bySite));
  });
}

test("save with keep: an I/O error at every call site (forced durability, pruning) leaves step 2 or the new step 3", async () => {
  const ms = [1, 2, 3].map((s) => makeMembers(s, 2, 1500));
  for (const protocol of ["unsafe", "atomic_dirsync"] as const) {
    const r = await everySite({
      base: () => durableStore(ms.slice(0, 2)),
      op: async (fs) => {
        const s = await openStore("/store", { fs, protocol, chunkSize: 1024 });
        try {
          await s.save(sources(ms[2]!), { keep: 1 });
        } finally {
          await s.close().catch(() => {});
        }
      },
      check: async (fs, resolved) => {
        if (resolved) return expectLatest(fs, 3, ms[2]!);
        const got = await recoverStore(fs);
        assert.ok(
          got && (got.step === 2 || got.step === 3) && sameMembers(got.members, ms[got.step - 1]!),
          `found ${got?.step ?? "none"}`,
        );
      },
    });
    console.log(
      `faults save --keep 1 (${protocol}): ${r.tried} injected, ${r.rejected} rejected, sites ${
        JSON.stringify(r.bySite)
      }`,
    );
    assert.ok(r.bySite.fsync && r.bySite.unlink && r.bySite["fsync-dir"]);
  }
});

test("rollback: an I/O error at every call site rejects typed, the valid checkpoint stays, no damaged file vanishes", async () => {
  const ms = [1, 2, 3].map((s) => makeMembers(s, 2, 1500));
  const damaged = [
    memberName(2, 0),
    memberName(2, 1),
    manifestName(2),
    memberName(3, 0),
    memberName(3, 1),
    manifestName(3),
  ];
  const r = await everySite({
    base: async () => {
      const fs = await durableStore(ms);
      const b = fs.peek(`/store/${memberName(2, 0)}`)!.slice();
      b[100] = b[100]! ^ 1;
      fs.poke(`/store/${memberName(2, 0)}`, b);
      const man = fs.peek(`/store/${manifestName(3)}`)!;
      fs.poke(`/store/${manifestName(3)}`, man.slice(0, man.length - 9));
      return fs;
    },
    op: async (fs) => {
      const s = await openStore("/store", { fs });
      try {
        await s.rollback();
      } finally {
        await s.close().catch(() => {});
      }
    },
    check: async (fs) => {
      await expectLatest(fs, 1, ms[0]!);
      const here = new Set(await fs.readdir("/store"));
      const q = (await fs.stat("/store/.quarantine"))
        ? new Set(await fs.readdir("/store/.quarantine"))
        : new Set<string>();
      for (const f of damaged) assert.ok(here.has(f) || q.has(f), `${f} vanished`);
    },
  });
  console.log(`faults rollback: ${r.tried} injected, ${r.rejected} rejected, sites ${JSON.stringify(r.bySite)}`);
  assert.ok(r.bySite.rename && r.bySite["fsync-dir"]);
});

test("prune: an I/O error at every call site rejects typed and the newest checkpoint is untouched", async () => {
  const ms = [1, 2, 3].map((s) => makeMembers(s, 2, 1500));
  const r = await everySite({
    base: () => durableStore(ms),
    op: async (fs) => {
      const s = await openStore("/store", { fs });
      try {
        await s.prune(1);
      } finally {
        await s.close().catch(() => {});
      }
    },
    check: (fs) => expectLatest(fs, 3, ms[2]!),
  });
  console.log(`faults prune: ${r.tried} injected, ${r.rejected} rejected, sites ${JSON.stringify(r.bySite)}`);
  assert.ok(r.bySite.unlink && r.bySite["fsync-dir"]);
});

test("log append: an I/O error at every call site rejects typed; durable and acknowledged records replay exactly", async () => {
  const rec = (seq: number) => payload(500 + seq, 100 + seq * 40);
  const acked = new Set<number>();
  const r = await everySite({
    base: async () => {
      const fs = new MemoryFs();
      const log = await openLog("/log", { fs, maxSegmentBytes: 1200 });
      for (let i = 1; i <= 3; i++) await log.append(rec(i));
      await log.close();
      return fs.crash({ keep: () => true });
    },
    op: async (fs) => {
      acked.clear();
      const log = await openLog("/log", { fs, maxSegmentBytes: 1200 });
      try {
        await Promise.all([4, 5, 6].map(async (s) => acked.add(await log.append(rec(s)))));
        for (const s of [7, 8, 9]) acked.add(await log.append(rec(s)));
      } finally {
        await log.close().catch(() => {});
      }
    },
    check: async (fs) => {
      const seen: number[] = [];
      const rep = await replayLog("/log", {
        fs,
        onRecord: (x) => {
          seen.push(x.sequence);
          assert.ok(sameBytes(x.payload, rec(x.sequence)), `record ${x.sequence} bytes`);
        },
      });
      assert.equal(rep.damage, null);
      assert.deepEqual(seen, seen.map((_, i) => i + 1), "a gapless prefix");
      assert.ok(seen.length >= 3, "the durable records remain");
      for (const s of acked) assert.ok(s <= seen.length, `acknowledged record ${s} is missing`);
    },
  });
  console.log(`faults log append: ${r.tried} injected, ${r.rejected} rejected, sites ${JSON.stringify(r.bySite)}`);
  assert.ok(r.bySite.write && r.bySite.fdatasync && r.bySite["fsync-dir"]);
});
