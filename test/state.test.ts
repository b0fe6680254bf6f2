// Durable state (src/state/): concurrent updates with snapshots taken through the API, a power
// loss after every operation (and over subsets of the unsynced ones, with torn writes), and a
// reopen: the recovered value must be `apply` folded over an exact prefix of the changes in the
// order they were issued (= sequence order), containing every acknowledged one. Then the damaged
// newest snapshot (fallback with a longer suffix) and the truncation policy that makes it work.
import assert from "node:assert/strict";
import { MemoryFs, SimulatedCrash } from "../adapters/memory.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { type StateOptions, StateRecoveryError } from "../src/state/state.ts";
import { openState } from "../src/open.ts";
import { MAX_RECORD_PAYLOAD } from "../src/wal/format.ts";
import { ckpt, noCrash } from "./lib/cli.ts";
import { rng, test } from "./kit.ts";
import { flipInFile } from "./lib/damage.ts";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { main } from "../src/cli/main.ts";
import { tmpdir } from "node:os";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The state: the changes applied, in order, as strings. Mutated in place by apply. */
function listState(fs: MemoryFs | undefined, extra: Partial<StateOptions<string[]>> = {}): StateOptions<string[]> {
  return {
    initial: [],
    apply: (s, c) => {
      s.push(dec.decode(c));
      return s;
    },
    encode: (s) => enc.encode(JSON.stringify(s)),
    decode: (b) => JSON.parse(dec.decode(b)) as string[],
    ...(fs ? { fs } : {}),
    // Tiny segments: every group commit starts one, so truncation really removes some.
    log: { maxSegmentBytes: 64 },
    store: { chunkSize: 256 },
    ...extra,
  };
}

async function freshFs(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/db");
  await fs.syncDir("/");
  return fs;
}

/** Three writers, a snapshot after the first updates and another later, all through the API. */
async function workload(fs: MemoryFs, issued: string[], acked: Set<string>, keepSnapshots: number): Promise<void> {
  const st = await openState("/db/s", listState(fs, { keepSnapshots }));
  try {
    const writer = async (w: number) => {
      for (let i = 0; i < 5; i++) {
        const c = `w${w}-${i}`;
        const p = st.update(enc.encode(c));
        issued.push(c); // update() hands the record to the log synchronously: issue order = sequence order
        await p;
        acked.add(c);
      }
    };
    const snapshots = async () => {
      for (let r = 0; r < 3; r++) {
        for (let y = 0; y < 3; y++) await Promise.resolve();
        await st.snapshot();
      }
    };
    await Promise.all([writer(0), writer(1), writer(2), snapshots()]);
  } finally {
    await st.close().catch(() => {});
  }
}

/** Recovered value vs what was issued: an exact prefix holding every acknowledged change. */
function checkPrefix(got: string[], issued: string[], acked: Set<string>, where: string): void {
  assert.deepEqual(
    got,
    issued.slice(0, got.length),
    `${where}: recovered ${JSON.stringify(got)} is not a prefix of ${JSON.stringify(issued)}`,
  );
  for (const a of acked) {
    assert.ok(got.includes(a), `${where}: acknowledged change ${a} lost (recovered ${got.length})`);
  }
}

async function reopen(fs: MemoryFs, keepSnapshots = 2) {
  return openState("/db/s", listState(fs, { keepSnapshots }));
}

test("SnapshotsUnderConcurrentUpdatesRecoverAnExactPrefixAtEveryCrashPoint", async () => {
  for (const keepSnapshots of [1, 2]) {
    let k = 0;
    let states = 0;
    let fromSnapshot = 0;
    let longest = 0;
    const next = rng(18 + keepSnapshots);
    for (; k < 5000; k++) {
      const fs = await freshFs();
      fs.crashAfter(k);
      const issued: string[] = [];
      const acked = new Set<string>();
      let finished = false;
      try {
        await workload(fs, issued, acked, keepSnapshots);
        finished = true;
      } catch (err) {
        if (!(err instanceof SimulatedCrash) && (err as { code?: string }).code !== "EPOISONED") throw err;
      }
      const variants: Parameters<MemoryFs["crash"]>[0][] = [{}, { keep: () => true }];
      for (let v = 0; v < 2; v++) {
        variants.push({
          keep: (op) => {
            if (next() < 0.5) return false;
            const tears = MemoryFs.tearPoints(op);
            return tears.length > 0 && next() < 0.5 ? tears[(next() * tears.length) | 0]! : true;
          },
        });
      }
      for (const [vi, variant] of variants.entries()) {
        const st = await reopen(fs.crash(variant), keepSnapshots);
        try {
          checkPrefix(
            st.value,
            issued,
            acked,
            `keep=${keepSnapshots} k=${k} variant=${vi} (from step ${st.recovery.step}, replayed ${st.recovery.replayed})`,
          );
          if (st.recovery.step !== null) fromSnapshot++;
          longest = Math.max(longest, st.value.length);
        } finally {
          await st.close();
        }
        states++;
      }
      if (finished) {
        assert.equal(acked.size, 15);
        break;
      }
    }
    console.log(
      `state crash states keep=${keepSnapshots}: ${
        k + 1
      } crash points, ${states} states, ${fromSnapshot} recovered from a snapshot`,
    );
    assert.ok(k > 50, `the workload ran ${k} steps`);
    assert.ok(fromSnapshot > states / 4, `only ${fromSnapshot} of ${states} recoveries used a snapshot`);
    assert.equal(longest, 15);
  }
});

test("UpdatesResolveInSequenceOrderAndTheValueHoldsOnlyDurableChanges", async () => {
  const fs = await freshFs();
  const st = await openState("/db/s", listState(fs));
  const order: number[] = [];
  const ps = Array.from({ length: 50 }, (_, i) =>
    st.update(enc.encode(`c${i}`)).then((seq) => {
      order.push(seq);
      // Applied by the time it resolves, and nothing after it yet beyond what already resolved.
      assert.equal(st.value[st.value.length - 1] !== undefined, true);
      assert.ok(st.value.includes(`c${i}`));
      return seq;
    }));
  assert.equal(st.value.length, 0, "nothing is applied before it is durable");
  const seqs = await Promise.all(ps);
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => i + 1));
  assert.deepEqual(st.value, Array.from({ length: 50 }, (_, i) => `c${i}`));
  const step = await st.snapshot();
  assert.equal(step, 1);
  assert.equal(st.stats.snapshots, 1);
  assert.ok(st.stats.maxHoldMs >= 0 && st.stats.maxHoldMs < 50, `critical section ${st.stats.maxHoldMs} ms`);
  await st.close();
  await assert.rejects(st.update(enc.encode("late")), /closed/);
  const again = await reopen(fs);
  assert.equal(again.recovery.step, 1);
  assert.equal(again.recovery.replayed, 0);
  assert.equal(again.value.length, 50);
  await again.close();
});

test("SnapshotEveryTakesSnapshotsAutomaticallyAndTruncatesTheLog", async () => {
  const fs = await freshFs();
  const st = await openState("/db/s", listState(fs, { snapshotEvery: 20 }));
  for (let i = 0; i < 100; i++) {
    await st.update(enc.encode(`c${i}`));
    // An automatic snapshot runs beside the updates and the next is not started while one is in
    // flight (a slow machine would otherwise take fewer than the count asks): let each one end.
    if ((i + 1) % 20 === 0) {
      for (const t0 = Date.now(); st.stats.snapshots < (i + 1) / 20 && Date.now() - t0 < 20_000;) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }
  await st.close();
  assert.ok(st.stats.snapshots >= 4, `${st.stats.snapshots} automatic snapshots`);
  assert.ok(st.stats.segmentsRemoved > 0, "no log segment was truncated");
  const again = await reopen(fs);
  assert.ok(again.recovery.step !== null && again.recovery.replayed < 20);
  assert.deepEqual(again.value, Array.from({ length: 100 }, (_, i) => `c${i}`));
  await again.close();
});

test("ASnapshotAskedForBeforeCloseCompletesAndCloseWaitsForIt", async () => {
  const fs = await freshFs();
  const st = await openState("/db/s", listState(fs));
  const ups = [st.update(enc.encode("a")), st.update(enc.encode("b"))];
  const snap = st.snapshot();
  await st.close();
  assert.deepEqual(await Promise.all(ups), [1, 2]);
  assert.equal(await snap, 1);
  const again = await reopen(fs);
  assert.equal(again.recovery.step, 1);
  assert.deepEqual(again.value, ["a", "b"]);
  await again.close();
});

/** Three snapshots with updates between them; returns the steps, newest last. */
async function threeSnapshots(
  fs: MemoryFs,
  keepSnapshots: number,
): Promise<{ steps: number[]; issued: string[]; removed: number }> {
  const st = await openState("/db/s", listState(fs, { keepSnapshots }));
  const issued: string[] = [];
  const steps: number[] = [];
  for (let r = 0; r < 3; r++) {
    await Promise.all(Array.from({ length: 8 }, (_, i) => {
      const c = `r${r}-${i}`;
      issued.push(c);
      return st.update(enc.encode(c));
    }));
    // A snapshot racing a burst of updates: its value is exactly what precedes its marker.
    const burst = Array.from({ length: 4 }, (_, i) => `r${r}-b${i}`);
    const snap = st.snapshot();
    const ups = burst.map((c) => {
      issued.push(c);
      return st.update(enc.encode(c));
    });
    steps.push(await snap);
    await Promise.all(ups);
  }
  for (let i = 0; i < 5; i++) {
    const c = `tail-${i}`;
    issued.push(c);
    await st.update(enc.encode(c));
  }
  await st.close();
  return { steps, issued, removed: st.stats.segmentsRemoved };
}

const flipByte = flipInFile;

/** The file that holds snapshot `step`'s bytes: its member file, or its manifest when the snapshot is small enough to be inline. */
async function snapFile(fs: { stat(p: string): Promise<unknown> }, dir: string, step: number): Promise<string> {
  const member = `${dir}/${memberName(step, 0)}`;
  return (await fs.stat(member)) ? member : `${dir}/${manifestName(step)}`;
}

test("DamagedNewestSnapshotFallsBackToTheOlderOneAndALongerSuffix", async () => {
  const fs = await freshFs();
  const { steps, issued, removed } = await threeSnapshots(fs, 2);
  assert.ok(removed > 0, "the log was never truncated: the test would not show the policy");
  const newest = steps[2]!;
  const file = await snapFile(fs, "/db/s/snap", newest);
  await flipByte(fs, file, ((await fs.stat(file))!.size / 2) | 0);
  const st = await reopen(fs);
  assert.equal(st.recovery.step, steps[1], `recovered from step ${st.recovery.step}`);
  assert.equal(st.recovery.skipped[0]?.step, newest);
  assert.deepEqual(st.value, issued, "the fallback lost or repeated changes");
  assert.ok(st.recovery.replayed > 5);
  await st.close();
});

test("TruncationKeepsTheLogTheOldestRetainedSnapshotNeeds", async () => {
  const fs = await freshFs();
  const { steps } = await threeSnapshots(fs, 2);
  const st = await reopen(fs);
  const older = steps[1]!;
  await st.close();
  // The oldest retained snapshot's marker is still in the log, and nothing before the oldest
  // retained snapshot is needed: step 1 (pruned) had its part of the log removed.
  const segs = (await fs.readdir("/db/s/wal")).filter((n) => n.endsWith(".wal")).sort();
  const firstSeq = Number(/(\d+)/.exec(segs[0]!)![1]);
  const snaps = (await fs.readdir("/db/s/snap")).filter((n) => n.endsWith(".manifest"));
  assert.equal(snaps.length, 2, `retained ${snaps.join(", ")}`);
  const inspect = await import("../src/state/inspect.ts");
  const plan = await inspect.inspectState("/db/s", { fs });
  const olderSnap = plan.snapshots.find((s) => s.step === older)!;
  assert.ok(
    firstSeq <= olderSnap.markSequence!,
    `log starts at ${firstSeq}, after the older snapshot's marker ${olderSnap.markSequence}`,
  );
  assert.ok(firstSeq > 1, "nothing was truncated");
});

test("OnlySnapshotDamagedAfterTruncationIsATypedErrorNotAWrongValue", async () => {
  const fs = await freshFs();
  const { steps } = await threeSnapshots(fs, 1);
  const file = await snapFile(fs, "/db/s/snap", steps[2]!);
  await flipByte(fs, file, ((await fs.stat(file))!.size / 2) | 0);
  await assert.rejects(reopen(fs, 1), (e) => e instanceof StateRecoveryError && e.code === "ESTATE");
});

test("UpdateAfterAFailedAppendIsRefusedAndNothingHangs", async () => {
  const fs = await freshFs();
  const st = await openState("/db/s", listState(fs));
  await st.update(enc.encode("a"));
  fs.crashAfter(0);
  const results = await Promise.allSettled([st.update(enc.encode("b")), st.update(enc.encode("c")), st.snapshot()]);
  assert.ok(results.every((r) => r.status === "rejected"), JSON.stringify(results.map((r) => r.status)));
  await assert.rejects(st.update(enc.encode("d")), (e) => (e as { code?: string }).code === "EPOISONED");
  assert.deepEqual(st.value, ["a"]);
});

test("AChangeTooLargeForTheLogIsRefusedWithoutStoppingTheState", async () => {
  const fs = await freshFs();
  const st = await openState("/db/s", listState(fs));
  await st.update(enc.encode("a"));
  await assert.rejects(
    st.update(new Uint8Array(MAX_RECORD_PAYLOAD + 1)),
    (e) => (e as { code?: string }).code === "EUSAGE",
  );
  assert.equal(await st.update(enc.encode("b")), 2, "the refused change took no sequence");
  assert.deepEqual(st.value, ["a", "b"]);
  await st.close();
  const again = await reopen(fs);
  assert.deepEqual(again.value, ["a", "b"]);
  await again.close();
});

test("StateInspectReportsSnapshotsTheLogAndTheRecoveryPlan", async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-state-`);
  try {
    const st = await openState(`${dir}/s`, { ...listState(undefined), keepSnapshots: 2 });
    for (let i = 0; i < 30; i++) await st.update(enc.encode(`c${i}`));
    await st.snapshot();
    for (let i = 30; i < 40; i++) await st.update(enc.encode(`c${i}`));
    const newest = await st.snapshot();
    for (let i = 40; i < 47; i++) await st.update(enc.encode(`c${i}`));
    await st.close();
    let r = ckpt(["state", "inspect", `${dir}/s`, "--json"]);
    noCrash(r);
    assert.equal(r.code, 0, r.stderr);
    let j = r.json<
      {
        snapshots: { step: number; status: string; lastSequence: number }[];
        log: { firstSequence: number; lastSequence: number; segments: number };
        recovery: { step: number; replay: number };
      }
    >();
    assert.equal(j.snapshots.length, 2);
    assert.equal(j.snapshots[0]!.step, newest);
    assert.equal(j.snapshots[0]!.status, "valid");
    assert.equal(j.recovery.step, newest);
    assert.equal(j.recovery.replay, 7);
    assert.ok(j.log.segments > 0 && j.log.lastSequence >= 47);
    // Damage the newest: the plan falls back and replays more.
    const member = `${dir}/s/snap/${memberName(newest, 0)}`;
    const file = existsSync(member) ? member : `${dir}/s/snap/${manifestName(newest)}`;
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 1;
    writeFileSync(file, bytes);
    r = ckpt(["state", "inspect", `${dir}/s`, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    j = r.json();
    assert.notEqual(j.snapshots[0]!.status, "valid");
    assert.equal(j.recovery.step, j.snapshots[1]!.step);
    assert.equal(j.recovery.replay, 17);
    r = ckpt(["state", "inspect", `${dir}/s`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /recovery/i);
    r = ckpt(["state", "inspect", `${dir}/nope`]);
    noCrash(r);
    assert.equal(r.code, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("StateInspectOnMalformedDirectoriesGivesAnExitCodeNeverACrash", async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-state-bad-`);
  try {
    writeFileSync(`${dir}/file`, "not a directory");
    mkdirSync(`${dir}/garbage/snap`, { recursive: true });
    mkdirSync(`${dir}/garbage/wal`, { recursive: true });
    writeFileSync(`${dir}/garbage/snap/step-0000000000000001.manifest`, "junk");
    writeFileSync(`${dir}/garbage/snap/step-0000000000000001.member-0`, new Uint8Array(4096).fill(7));
    writeFileSync(`${dir}/garbage/wal/seg-0000000000000001.wal`, new Uint8Array(300).fill(9));
    mkdirSync(`${dir}/files/`, { recursive: true });
    writeFileSync(`${dir}/files/snap`, "x");
    writeFileSync(`${dir}/files/wal`, "y");
    mkdirSync(`${dir}/empty`);
    const cases: [string[], number[]][] = [
      [["state", "inspect", `${dir}/file`], [3]],
      [["state", "inspect", `${dir}/garbage`, "--json"], [0, 1]],
      [["state", "inspect", `${dir}/files`], [3]],
      [["state", "inspect", `${dir}/empty`, "--json"], [0]],
      [["state", "inspect"], [2]],
      [["state", "bogus", `${dir}/empty`], [2]],
    ];
    for (const [argv, codes] of cases) {
      const out: string[] = [];
      const code = await main(argv, {
        out: (t) => void out.push(t),
        err: (t) => void out.push(t),
        stderrIsTTY: false,
        self: [],
        tmpdir: dir,
        readStdin: async () => new Uint8Array(0),
      });
      const text = out.join("\n");
      assert.ok(codes.includes(code), `${argv.join(" ")}: exit ${code}: ${text.slice(0, 500)}`);
      assert.doesNotMatch(text, /\n\s+at [^\n]+:\d+:\d+/, `${argv.join(" ")}: stack trace`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
