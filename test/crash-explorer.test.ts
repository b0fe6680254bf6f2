// The crash-state explorer over the standard workloads, per protocol. atomic_dirsync must hold
// every property in every crash state; unsafe and atomic_nodirsync must show the losses they
// permit — the explorer finding them is what shows it can find anything at all.
import assert from "node:assert/strict";
import { MemoryFs, type PendingOp } from "../adapters/memory.ts";
import { crashVariants, explore, type ExploreResult, formatCounterExample } from "../src/crash/explorer.ts";
import { workload, type WorkloadName } from "../src/crash/workloads.ts";
import { type Protocol, PROTOCOLS } from "../src/protocol.ts";
import { byDepth, rng, test } from "./kit.ts";

// Every subset of up to 2^11 pending operations per crash point in CI; beyond that, prefixes and
// seeded samples. The writer lock now publishes through a temp file and a link, which adds
// unsynced entries to every crash point, and the default 2^14 made this file 7x slower (234 s in
// Node). CKPT_LONG=1 (and `ckpt crashtest --mode powerloss`) explores with the default 2^14; the
// Deno and Bun runners run the same explorer over the same workloads to 2^8 (kit.ts: depth).
const EXHAUSTIVE_LIMIT = byDepth(14, 11, 8);

const results = new Map<string, ExploreResult>();
async function run(name: WorkloadName, p: Protocol): Promise<ExploreResult> {
  const key = `${name}/${p}`;
  if (!results.has(key)) {
    results.set(key, await explore(workload(name, p), { seed: 7, exhaustiveLimit: EXHAUSTIVE_LIMIT }));
  }
  return results.get(key)!;
}

function line(r: ExploreResult): string {
  return `${r.workload}: ${r.crashPoints} crash points (${r.exhaustivePoints} exhaustive), ${r.states} states, new ${r.outcomes.new}, old ${r.outcomes.old}, none ${r.outcomes.none}, torn ${r.torn}, broken ${
    JSON.stringify(r.broken)
  }, violations ${r.violations}`;
}

for (const name of ["save", "group", "save-inline", "group-inline", "save-keep", "rollback", "prune", "log"] as const) {
  test(`crash states of ${name} under atomic_dirsync: every property holds in every state`, async () => {
    const r = await run(name, "atomic_dirsync");
    console.log(line(r));
    const shown = Object.values(r.first).map((c) => formatCounterExample(r.workload, c)).join("\n");
    assert.deepEqual(r.broken, {}, shown);
    assert.equal(r.violations, 0);
    assert.ok(r.crashPoints > 5 && r.states > r.crashPoints, "the workload was actually explored");
    assert.ok(r.outcomes.new > 0 && r.outcomes.old > 0, `both outcomes occur: ${JSON.stringify(r.outcomes)}`);
    assert.ok(
      r.afterAck.states > 0 && r.afterAck.kept === r.afterAck.states,
      `acknowledged effects kept: ${JSON.stringify(r.afterAck)}`,
    );
  });
}

for (const p of ["unsafe", "atomic_nodirsync"] as const) {
  for (const name of ["save", "group", "save-inline", "group-inline"] as const) {
    test(`crash states of ${name} under ${p}: never wrong bytes, and the permitted lost acknowledgement is found`, async () => {
      const r = await run(name, p);
      console.log(line(r));
      assert.equal(r.violations, 0, JSON.stringify(r.broken));
      assert.equal(r.broken["wrong-bytes"], undefined);
      assert.equal(r.broken["old-lost"], undefined);
      assert.ok((r.broken["acked-lost"] ?? 0) > 0, "the explorer must find the acknowledged save a crash loses");
      assert.ok(r.afterAck.kept < r.afterAck.states);
    });
  }
  test(`crash states of save with keep under ${p}: the new checkpoint is forced durable before older ones go`, async () => {
    const r = await run("save-keep", p);
    console.log(line(r));
    assert.deepEqual(r.broken, {}, "keep must make even an unsafe save durable before pruning");
    assert.ok(r.afterAck.states > 0 && r.afterAck.kept === r.afterAck.states);
  });
  test(`crash states of rollback, prune and log under ${p}`, async () => {
    for (const name of ["rollback", "prune", "log"] as const) {
      const r = await run(name, p);
      console.log(line(r));
      assert.equal(r.violations, 0, `${name}: ${JSON.stringify(r.broken)}`);
    }
    const log = await run("log", p);
    if (p === "unsafe") {
      assert.ok((log.broken["acked-lost"] ?? 0) > 0, "appends without sync are lost, and the explorer sees it");
    }
  });
}

test("explorer self-test: an unsafe in-place write is caught tearing the file, a missing dir fsync losing it", async () => {
  const unsafe = await explore(workload("file", "unsafe"));
  const c = unsafe.first["wrong-bytes"];
  assert.ok(c, "in-place truncate+write must expose bytes neither version had");
  const text = formatCounterExample(unsafe.workload, c);
  assert.match(text, /truncate \/d\/f 0/);
  assert.match(text, /power cut after operation \d+/);
  const nodir = await explore(workload("file", "atomic_nodirsync"));
  assert.equal(nodir.broken["wrong-bytes"], undefined);
  assert.ok(nodir.first["acked-lost"], "the rename without a directory fsync can be lost");
  assert.ok(nodir.first["acked-lost"]!.trace.some((t) => t.startsWith("rename ")));
  const safe = await explore(workload("file", "atomic_dirsync"));
  assert.deepEqual(safe.broken, {});
});

test("explorer self-test on the store: with member fsyncs silently dropped, atomic_dirsync's promise breaks and is reported", async () => {
  const w = workload("save", "atomic_dirsync");
  const broken = {
    ...w,
    setup: async () => {
      const fs = await w.setup();
      const open = fs.open.bind(fs);
      fs.open = async (p, o) => {
        const h = await open(p, o);
        if (p.includes(".member-")) h.sync = h.datasync = async () => {};
        return h;
      };
      return fs;
    },
  };
  const r = await explore(broken);
  assert.ok(
    r.violations > 0 && r.first["acked-lost"],
    `expected a lost acknowledged save, got ${JSON.stringify(r.broken)}`,
  );
  assert.equal(r.broken["wrong-bytes"], undefined, "verification still refuses the empty members");
  assert.match(formatCounterExample(r.workload, r.first["acked-lost"]!), /fsync-dir \/store/);
});

test("crash variants: every subset when few ops are pending, prefixes and samples when many, torn writes in both", () => {
  const w = (offset: number, n: number): PendingOp => ({
    kind: "write",
    ino: 2,
    path: "/f",
    offset,
    data: new Uint8Array(n),
  });
  const few = [w(0, 1500), { kind: "link", dir: 1, name: "f", ino: 2, path: "/f" } as PendingOp, w(1500, 10)];
  const o = { exhaustiveLimit: 8, samples: 5, tearsPerWrite: 3 };
  const a = crashVariants(few, rng(1), o);
  assert.equal(a.exhaustive, true);
  // 2^3 subsets + the 1500-byte write torn at 512 and 1024, two ways each.
  assert.equal(a.variants.length, 8 + 2 * 2);
  const many = Array.from({ length: 12 }, (_, i) => w(i * 512, 100));
  const b = crashVariants(many, rng(1), o);
  assert.equal(b.exhaustive, false);
  assert.equal(b.variants.length, 13 + 5);
  const torn = a.variants.map((v) => v.label(few)).filter((l) => l.some((s) => s.includes("torn after")));
  assert.equal(torn.length, 4);
  assert.equal(MemoryFs.tearPoints(few[0]!).length, 2);
});

test("every protocol was explored", () => {
  for (const p of PROTOCOLS) assert.ok([...results.keys()].some((k) => k.endsWith(`/${p}`)), p);
});
