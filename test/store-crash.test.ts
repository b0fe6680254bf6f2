// Crash after every step of a save, for each protocol, on the power-loss simulator; at each
// crash point also keep seeded random subsets of the pending operations (with torn writes).
// Guarantee 1: recovery returns exactly the old or the new checkpoint, never other bytes; under
// atomic_dirsync an acknowledged save is never lost. For unsafe and atomic_nodirsync the test
// must FIND the loss those protocols permit — a check that cannot fail proves nothing.
import assert from "node:assert/strict";
import { MemoryFs, SimulatedCrash } from "../adapters/memory.ts";
import type { Protocol } from "../src/protocol.ts";
import { rng, test } from "./kit.ts";
import { equalMembers, freshStoreFs, type Members, members, memStore, recover, sources } from "./lib/store-helpers.ts";

interface Outcome {
  states: number;
  old: number;
  fresh: number;
  none: number;
  ackedLost: number;
  mixed: string[];
}

async function base(oldM: Members): Promise<MemoryFs> {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await s.save(sources(oldM));
  await s.close();
  return fs;
}

async function explore(protocol: Protocol, memberCount: number, subsetsPerPoint: number): Promise<Outcome> {
  const names = Array.from({ length: memberCount }, (_, i) => `m${i}.bin`);
  const oldM = members(1, names, 2500);
  const newM = members(2, names, 2600);
  // Measure the workload's length once, without a crash.
  const probe = await base(oldM);
  const before = probe.steps;
  const s0 = await memStore(probe, protocol);
  await s0.save(sources(newM));
  const total = probe.steps - before;

  const out: Outcome = { states: 0, old: 0, fresh: 0, none: 0, ackedLost: 0, mixed: [] };
  const next = rng(99);
  for (let k = 0; k <= total; k++) {
    const fs = await base(oldM);
    fs.crashAfter(k);
    let acked = false;
    try {
      const s = await memStore(fs, protocol);
      await s.save(sources(newM));
      acked = true;
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
    }
    const variants: Parameters<MemoryFs["crash"]>[0][] = [{}, { keep: () => true }];
    for (let v = 0; v < subsetsPerPoint; v++) {
      variants.push({
        keep: (op) => {
          if (next() < 0.5) return false;
          const tears = MemoryFs.tearPoints(op);
          return tears.length > 0 && next() < 0.5 ? tears[(next() * tears.length) | 0]! : true;
        },
      });
    }
    for (const variant of variants) {
      const got = await recover(fs.crash(variant));
      out.states++;
      if (!got) out.none++;
      else if (got.step === 1 && equalMembers(got.members, oldM)) out.old++;
      else if (got.step === 2 && equalMembers(got.members, newM)) out.fresh++;
      else out.mixed.push(`k=${k}: step ${got.step} with other bytes; trace tail: ${fs.trace.slice(-4).join(" | ")}`);
      if (acked && !(got?.step === 2)) out.ackedLost++;
    }
  }
  return out;
}

function report(protocol: string, what: string, o: Outcome): void {
  console.log(
    `crash states ${protocol} ${what}: ${o.states} states, old ${o.old}, new ${o.fresh}, none ${o.none}, acked-lost ${o.ackedLost}, mixed ${o.mixed.length}`,
  );
}

for (const members of [1, 4]) {
  const what = members === 1 ? "save" : "group save of 4";
  test(`atomic_dirsync ${what}: every crash point yields old or new, and an acknowledged save survives`, async () => {
    const o = await explore("atomic_dirsync", members, 30);
    report("atomic_dirsync", what, o);
    assert.deepEqual(o.mixed, []);
    assert.equal(o.none, 0, "the old checkpoint must never be lost");
    assert.equal(o.ackedLost, 0, "an acknowledged atomic_dirsync save was lost");
    assert.ok(o.old > 0 && o.fresh > 0, `both outcomes occur (old ${o.old}, new ${o.fresh})`);
  });

  test(`atomic_nodirsync ${what}: never mixed, but an acknowledged save can be lost (found)`, async () => {
    const o = await explore("atomic_nodirsync", members, 30);
    report("atomic_nodirsync", what, o);
    assert.deepEqual(o.mixed, []);
    assert.equal(o.none, 0);
    assert.ok(o.ackedLost > 0, "the explorer must find the lost rename that atomic_nodirsync permits");
  });

  test(`unsafe ${what}: never silently wrong, but acknowledged saves are lost (found)`, async () => {
    const o = await explore("unsafe", members, 30);
    report("unsafe", what, o);
    assert.deepEqual(o.mixed, [], "even unsafe must never return bytes no save wrote: verification catches torn files");
    assert.equal(o.none, 0);
    assert.ok(o.ackedLost > 0, "the explorer must find the loss unsafe permits");
  });
}

test("a dropped directory fsync is caught: atomic_dirsync without its final syncDir loses saves", async () => {
  // Same workload with the store's directory fsyncs suppressed: the guarantee must then fail,
  // which shows the test above depends on that fsync (it would fail if the step were removed).
  const oldM = members(1, ["a"], 1000);
  const newM = members(2, ["a"], 1000);
  const fs = await base(oldM);
  const realSyncDir = fs.syncDir.bind(fs);
  let suppressed = 0;
  fs.syncDir = async (p: string) => {
    if (p === "/store") {
      suppressed++;
      return;
    }
    return realSyncDir(p);
  };
  const s = await memStore(fs, "atomic_dirsync");
  await s.save(sources(newM));
  assert.ok(suppressed > 0);
  const got = await recover(fs.crash());
  assert.equal(got?.step, 1, "without the directory fsync the acknowledged save is gone");
});

test("a dropped member fsync is caught: the manifest commits over empty members", async () => {
  const oldM = members(1, ["a"], 1000);
  const newM = members(2, ["a"], 1000);
  const fs = await base(oldM);
  const s = await memStore(fs, "atomic_dirsync");
  const realOpen = fs.open.bind(fs);
  fs.open = async (p, o) => {
    const h = await realOpen(p, o);
    if (p.includes(".member-")) h.sync = async () => {};
    return h;
  };
  await s.save(sources(newM));
  const got = await recover(fs.crash());
  // The manifest is durable but the member's data never was: recovery must fall back to step 1.
  assert.equal(got?.step, 1);
  assert.ok(equalMembers(got!.members, oldM));
});
