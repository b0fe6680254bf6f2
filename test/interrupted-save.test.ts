// Guarantee 8, interrupted saves are not damage. On the simulator: the files of a save that never
// committed are `incomplete` (verify ok), `in-progress` under a live writer, removed (with a note)
// by the next writer, never by a reader; an aborted save leaves nothing. In the real runtime:
// AbortSignal at random moments of a 64 MiB save, and the CLI killed (SIGKILL), interrupted
// (SIGINT → 130) and terminated (SIGTERM → 143) mid-save, then verify, save, and no debris.
// CKPT_LONG=1 (or CKPT_TRIALS=n) runs the long experiments.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { MemoryFs } from "../adapters/memory.ts";
import { rng } from "../src/rng.ts";
import { LOCK_NAME, manifestName, memberName } from "../src/store/layout.ts";
import type { Store } from "../src/store/store.ts";
import { openStore } from "../src/open.ts";
import { runtime, test } from "./kit.ts";
import { ckpt, noCrash } from "./lib/cli.ts";
import { listing, MiB, repeating, scratchDir, sleep, startCli, trials, waitFor } from "./lib/interrupt-helpers.ts";
import { freshStoreFs, memStore } from "./lib/store-helpers.ts";

const enc = new TextEncoder();
const one = (s: string) => [{ name: "a", data: enc.encode(s) }];

/** Leaves what a killed save of `step` leaves: member files, no manifest. */
async function debris(fs: MemoryFs, step: number, members = 2): Promise<void> {
  for (let i = 0; i < members; i++) {
    const h = await fs.open(`/store/${memberName(step, i)}`, { write: true, create: true });
    await h.write(enc.encode("the first bytes of a member"), 0);
    await h.close();
  }
}

const statuses = (cs: { step: number; status?: string }[]) => cs.map((c) => [c.step, c.status]);

// ---- the simulator ----

test("debris of a save that never committed is incomplete: verify ok, list --verify shows it, latest skips it", async () => {
  const fs = await freshStoreFs();
  const w = await memStore(fs);
  await w.save(one("1"));
  await w.close();
  await debris(fs, 2);
  const r = await openStore("/store", { fs, readOnly: true });
  const v = await r.verify();
  assert.equal(v.ok, true, "an interrupted save is not damage");
  assert.deepEqual(v.findings, []);
  assert.deepEqual(statuses(v.checkpoints), [[2, "incomplete"], [1, "valid"]]);
  assert.deepEqual(statuses(await r.list({ verify: true })), [[2, "incomplete"], [1, "valid"]]);
  assert.equal((await r.latest())?.step, 1);
  await r.close();
  assert.notEqual(fs.peek(`/store/${memberName(2, 0)}`), undefined, "a reader removes nothing");
});

test("the next writer removes every incomplete step with a note; a readOnly open removes nothing", async () => {
  const fs = await freshStoreFs();
  const w = await memStore(fs);
  await w.save(one("1"));
  await w.save(one("3"), { step: 3 });
  await w.close();
  await debris(fs, 2, 1);
  await debris(fs, 4, 2);
  const ro = await openStore("/store", {
    fs,
    readOnly: true,
    onWarning: () => assert.fail("a reader has nothing to say"),
  });
  await ro.close();
  assert.equal((await fs.readdir("/store")).filter((n) => n.startsWith("step-")).length, 7);
  const notes: string[] = [];
  const s = await openStore("/store", { fs, onWarning: (m) => notes.push(m) });
  assert.deepEqual(notes.sort(), [
    "removed step 2's 1 file: an interrupted save that never committed",
    "removed step 4's 2 files: an interrupted save that never committed",
  ]);
  assert.deepEqual((await s.steps()).map((x) => x.step), [3, 1]);
  assert.equal((await s.save(one("4"))).step, 4, "a never-acknowledged step number is free again");
  await s.close();
});

test("save --keep 1 after an interrupted save leaves exactly one valid checkpoint and no debris", async () => {
  const fs = await freshStoreFs();
  const w = await memStore(fs);
  for (const x of ["1", "2", "3"]) await w.save(one(x));
  await w.close();
  await debris(fs, 4);
  const s = await memStore(fs);
  const r = await s.save(one("new"), { keep: 1 });
  const v = await s.verify();
  assert.deepEqual(statuses(v.checkpoints), [[r.step, "valid"]]);
  assert.deepEqual((await fs.readdir("/store")).filter((n) => n !== LOCK_NAME).sort(), [
    manifestName(r.step),
    memberName(r.step, 0),
  ]);
  await s.close();
});

test("rollback quarantines a committed torn checkpoint; incomplete steps were removed on open, not quarantined", async () => {
  const fs = await freshStoreFs();
  const w = await memStore(fs);
  await w.save(one("1"));
  await w.save(one("2"));
  await w.close();
  await fs.unlink(`/store/${memberName(2, 0)}`); // committed, member missing: torn, damage
  await debris(fs, 3);
  const r = await openStore("/store", { fs, readOnly: true });
  const v = await r.verify();
  assert.equal(v.ok, false);
  assert.deepEqual(statuses(v.checkpoints), [[3, "incomplete"], [2, "torn"], [1, "valid"]]);
  await r.close();
  const s = await memStore(fs);
  const rb = await s.rollback();
  assert.deepEqual(rb.moved.map((m) => [m.step, m.status]), [[2, "torn"]]);
  assert.deepEqual(await fs.readdir("/store/.quarantine"), [manifestName(2)]);
  assert.equal((await s.verify()).ok, true);
  await s.close();
});

test("in-progress: the newest manifest-less step under a live writer's lock; incomplete once the writer is dead", async () => {
  const fs = await freshStoreFs();
  const w = await memStore(fs);
  await w.save(one("1"));
  await w.close();
  await debris(fs, 2); // older debris: never in progress, whoever holds the lock
  // Another process (pid 777, alive) holds the lock and is writing step 5.
  const lock = await fs.open(`/store/${LOCK_NAME}`, { write: true, create: true, exclusive: true });
  await lock.write(enc.encode(JSON.stringify({ pid: 777, host: fs.hostname(), since: Date.now() })), 0);
  await lock.close();
  await debris(fs, 5, 1);
  fs.livePids.add(777);
  const r = await openStore("/store", { fs, readOnly: true });
  const v = await r.verify();
  assert.equal(v.ok, true);
  assert.deepEqual(statuses(v.checkpoints), [[5, "in-progress"], [2, "incomplete"], [1, "valid"]]);
  assert.deepEqual(statuses(await r.list({ verify: true })).slice(0, 1), [[5, "in-progress"]]);
  fs.livePids.delete(777); // the writer died: its step is debris now
  assert.deepEqual(statuses((await r.verify()).checkpoints), [[5, "incomplete"], [2, "incomplete"], [1, "valid"]]);
  await r.close();
});

test("abort on the simulator: before the start, at every chunk, and after the commit", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs, "atomic_dirsync", 1024);
  await s.save(one("prev"));
  const before = (await fs.readdir("/store")).sort();
  const data = repeating(10 * 1024 + 17, 3);
  const pre = new AbortController();
  pre.abort(); // a plain reason: the rejection is still named AbortError
  await assert.rejects(s.save([{ name: "m", data }], { signal: pre.signal }), { name: "AbortError" });
  assert.deepEqual((await fs.readdir("/store")).sort(), before);
  let chunks = 0;
  await s.save([{ name: "x", data }, { name: "y", data }], { onProgress: () => chunks++ });
  await s.prune(1);
  const base = (await fs.readdir("/store")).sort();
  for (let k = 0; k <= chunks; k++) {
    const ac = new AbortController();
    let seen = 0;
    const reason = new DOMException("stop", "AbortError");
    const p = s.save([{ name: "x", data }, { name: "y", data }], {
      signal: ac.signal,
      onProgress: () => {
        if (++seen === k) ac.abort(reason);
      },
    });
    if (k === 0) ac.abort(reason);
    await assert.rejects(p, (e: unknown) => e === reason, `abort after chunk ${k}`);
    assert.deepEqual((await fs.readdir("/store")).sort(), base, `files left after an abort at chunk ${k} of ${chunks}`);
  }
  await s.close();
  // Aborted once the manifest write has begun (its temp opened) or is in place (renamed): the
  // commit completes and the save resolves; it is never undone.
  for (const at of ["open", "rename"]) {
    const ac = new AbortController();
    const spy = new Proxy(fs, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (prop !== at || typeof v !== "function") return typeof v === "function" ? v.bind(target) : v;
        return async (path: string, ...rest: unknown[]) => {
          const out = await (v as (...a: unknown[]) => Promise<unknown>).call(target, path, ...rest);
          if (String(at === "open" ? path : rest[0]).endsWith(".manifest")) ac.abort();
          return out;
        };
      },
    });
    const w = await openStore("/store", { fs: spy, chunkSize: 1024 });
    const r = await w.save([{ name: "late", data }], { signal: ac.signal });
    assert.equal(ac.signal.aborted, true, `the abort fired during the manifest ${at}`);
    assert.equal((await w.latest())?.step, r.step);
    await w.close();
  }
});

// ---- the real runtime ----

test(
  `abort at random moments of a 64 MiB save (${runtime}): AbortError and no file left, or committed and latest`,
  async () => {
    const dir = scratchDir("abort");
    const n = trials(20, 60);
    const big = repeating(64 * MiB, 7);
    let s: Store | undefined;
    try {
      s = await openStore(dir);
      const t0 = Date.now();
      let prev = (await s.save([{ name: "big", data: big }], { keep: 1 })).step;
      const full = Date.now() - t0;
      prev = (await s.save(one("small"), { keep: 1 })).step;
      const next = rng(99);
      let aborted = 0;
      let committed = 0;
      for (let t = 0; t < n; t++) {
        const before = listing(dir);
        const ac = new AbortController();
        // Half the trials abort on a timer (anywhere, the manifest write included), half at a random byte.
        const atByte = t % 2 === 0 ? Math.floor(next() * big.length) : -1;
        const timer = atByte < 0 ? setTimeout(() => ac.abort(), Math.floor(next() * full * 1.2)) : undefined;
        try {
          const r = await s.save([{ name: "big", data: big }], {
            signal: ac.signal,
            onProgress: (done) => {
              if (atByte >= 0 && done >= atByte) ac.abort();
            },
          });
          committed++;
          assert.equal((await s.latest())?.step, r.step, "a save that resolved is the latest");
          assert.deepEqual(listing(dir), [...before, manifestName(r.step), memberName(r.step, 0)].sort());
          prev = (await s.save(one("small"), { keep: 1 })).step;
        } catch (err) {
          assert.equal((err as Error).name, "AbortError", String(err));
          aborted++;
          assert.deepEqual(listing(dir), before, `trial ${t}: the aborted save left files`);
          assert.equal((await s.steps())[0]?.step, prev, "the previous checkpoint is still the newest");
        } finally {
          clearTimeout(timer);
        }
      }
      assert.equal((await s.latest())?.step, prev);
      console.log(
        `abort trials (${runtime}): ${n}, aborted ${aborted}, committed ${committed}, a full 64 MiB save took ${full} ms`,
      );
      assert.ok(aborted > 0, "some aborts must land mid-save");
    } finally {
      await s?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  600_000,
);

/** A store with one small valid checkpoint and a 64 MiB source file beside it. */
function realStore(tag: string): { root: string; store: string; big: string; small: string } {
  const root = scratchDir(tag);
  const store = `${root}/store`;
  writeFileSync(`${root}/big.bin`, repeating(64 * MiB, 11));
  writeFileSync(`${root}/small.bin`, "small");
  const r = ckpt(["save", store, `${root}/small.bin`, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return { root, store, big: `${root}/big.bin`, small: `${root}/small.bin` };
}

/** Starts `ckpt save` of the big file; resolves once it holds the lock (its signal handlers are in place by then). */
async function startSave(store: string, big: string) {
  const run = startCli(["save", store, big, "--json"]);
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  assert.ok(await waitFor(() => exited || listing(store).includes(LOCK_NAME)), "the save never took the lock");
  return run;
}

let fullCliSave: number | undefined;

/** Duration of one CLI save of the big file from lock to exit, ms (measured once, then pruned back to small). */
async function calibrate(p: ReturnType<typeof realStore>): Promise<number> {
  if (fullCliSave !== undefined) return fullCliSave;
  const run = await startSave(p.store, p.big);
  const t0 = Date.now();
  const e = await run.done;
  assert.equal(e.code, 0, e.stderr);
  fullCliSave = Date.now() - t0;
  assert.equal(ckpt(["save", p.store, p.small, "--keep", "1"]).code, 0);
  return fullCliSave;
}

test(
  `SIGKILL at random moments of a CLI save (${runtime}): verify exit 0 (incomplete is not damage), the next save removes the debris`,
  async () => {
    const p = realStore("kill");
    const n = trials(3, 50);
    try {
      const full = await calibrate(p);
      const next = rng(7);
      let incomplete = 0;
      for (let t = 0; t < n; t++) {
        const run = await startSave(p.store, p.big);
        await sleep(Math.floor(next() * full));
        run.kill("SIGKILL");
        await run.done;
        const v = ckpt(["verify", p.store, "--json"]);
        noCrash(v);
        assert.equal(v.code, 0, `trial ${t}: verify after a kill: ${v.stdout}`);
        const st = v.json<{ checkpoints: { status: string }[] }>().checkpoints.map((c) => c.status);
        assert.ok(st.every((x) => x === "valid" || x === "incomplete"), st.join());
        if (st.includes("incomplete")) incomplete++;
        const s = ckpt(["save", p.store, p.small, "--keep", "1", "--json"]);
        assert.equal(s.code, 0, s.stderr);
        if (st.includes("incomplete")) {
          assert.match(s.stderr, /note: removed step \d+'s 1 file: an interrupted save that never committed/);
        }
        const step = s.json<{ step: number }>().step;
        // The small member is inline (src/store/inline.ts): the checkpoint is its manifest alone.
        assert.deepEqual(listing(p.store), [manifestName(step)], `trial ${t}: debris left after the next save`);
      }
      console.log(
        `SIGKILL trials (${runtime}): ${n}, left an incomplete step ${incomplete}, a full 64 MiB CLI save took ${full} ms`,
      );
    } finally {
      rmSync(p.root, { recursive: true, force: true });
    }
  },
  600_000,
);

for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  test(`${sig} at random moments of a CLI save (${runtime}): exit ${code}, no partial file left at all`, async () => {
    const p = realStore(sig.toLowerCase());
    const n = trials(sig === "SIGINT" ? 2 : 1, 50);
    try {
      const full = await calibrate(p);
      const next = rng(sig === "SIGINT" ? 13 : 17);
      let interrupted = 0;
      for (let t = 0; t < n; t++) {
        const before = listing(p.store);
        const run = await startSave(p.store, p.big);
        if (t === 0) {
          // The first trial signals as soon as the save's member file exists, so at least one
          // signal lands mid-save however slow or fast this machine is right now (a random
          // moment alone, one trial in CI, could fall after the commit: seen once under Deno).
          const deadline = Date.now() + 10 * full + 5_000;
          while (
            !listing(p.store).some((n) => n.includes(".member-") && !before.includes(n)) && Date.now() < deadline
          ) await sleep(2);
        } else await sleep(Math.floor(next() * full * 0.9));
        run.kill(sig);
        const e = await run.done;
        noCrash({ code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr, json: () => ({}) as never });
        if (e.stdout.includes('"step"')) {
          // The commit came first: a complete save, not an interrupted one. It exits 0, or (Deno,
          // a signal during the runtime's own teardown) ends by the signal: nothing is partial.
          assert.ok(
            e.code === 0 || e.code === code || e.signal === sig,
            `trial ${t}: exit ${e.code} (signal ${e.signal})`,
          );
          assert.equal(ckpt(["verify", p.store]).code, 0);
          assert.equal(ckpt(["save", p.store, p.small, "--keep", "1"]).code, 0);
          continue;
        }
        interrupted++;
        assert.equal(e.code, code, `trial ${t}: exit ${e.code} (signal ${e.signal}): ${e.stderr}`);
        assert.deepEqual(listing(p.store), before, `trial ${t}: the interrupted save left files`);
      }
      console.log(`${sig} trials (${runtime}): ${n}, interrupted ${interrupted}`);
      assert.ok(interrupted > 0, `no ${sig} landed before the commit`);
      assert.equal(ckpt(["verify", p.store]).code, 0);
    } finally {
      rmSync(p.root, { recursive: true, force: true });
    }
  }, 600_000);
}

test(`a concurrent verify during a live CLI save (${runtime}) reports in-progress, exit 0`, async () => {
  const p = realStore("live");
  try {
    let caught = false;
    for (let attempt = 0; attempt < 4 && !caught; attempt++) {
      const run = await startSave(p.store, p.big);
      // Stop the writer once its member file exists: a live process, mid-save, holding the lock.
      const uncommitted = () => {
        const files = listing(p.store);
        return files.some((f) => f.includes(".member-") && !files.includes(`${f.slice(0, 21)}.manifest`));
      };
      await waitFor(() => uncommitted() || listing(p.store).length > 4, 10_000);
      run.kill("SIGSTOP");
      try {
        if (!uncommitted()) continue; // the save had already committed: try again
        caught = true;
        const v = ckpt(["verify", p.store, "--json"]);
        assert.equal(v.code, 0, v.stdout);
        const st = v.json<{ checkpoints: { step: number; status: string }[] }>().checkpoints.map((c) => c.status);
        assert.equal(st[0], "in-progress");
        assert.ok(st.slice(1).every((x) => x === "valid"), st.join());
        const l = ckpt(["list", p.store, "--verify", "--json"]);
        assert.equal(l.json<{ checkpoints: { status: string }[] }>().checkpoints[0]!.status, "in-progress");
        const h = ckpt(["verify", p.store]);
        assert.match(h.stdout, /step \d+: in-progress \(a save by a live writer that has not committed yet\)/);
      } finally {
        run.kill("SIGCONT");
        const e = await run.done;
        assert.equal(e.code, 0, e.stderr);
      }
    }
    assert.ok(caught, "never stopped the writer before its commit");
    assert.equal(ckpt(["verify", p.store]).code, 0);
  } finally {
    rmSync(p.root, { recursive: true, force: true });
  }
}, 600_000);
