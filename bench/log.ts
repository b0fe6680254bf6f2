// Log benchmark: durable appends per second with 1, 8 and 64 concurrent appenders, with group
// commit and with it switched off (maxBatchRecords: 1: every record pays its own fdatasync), next
// to a hand-written write + fdatasync loop through the same adapter (the floor); and replay
// throughput for N 128-byte records (1M, 50k with quick). Group and no-group runs alternate, after
// a warm-up, and the median of the rounds is reported, so order and JIT warm-up do not favour one.
// The orchestrator imports runLogBench; directly:
//   npx tsx bench/log.ts | npx deno run -A bench/log.ts | npx bun bench/log.ts   [--quick]
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { DurableFs } from "../src/fs.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { median } from "./stats.ts";

export interface Row { suite: "log"; case: string; impl: string; runtime: string; metric: string; value: number; unit: string }

const GROUP = "ckptkit group commit";
const SINGLE = "ckptkit, one fdatasync per record";
const FLOOR = "write + fdatasync per record (by hand)";

/** One timed run: `writers` appenders share `total` appends; returns appends/s and syncs. */
async function appendRun(fs: DurableFs, dir: string, writers: number, total: number, groupCommit: boolean): Promise<{ rate: number; syncs: number }> {
  const log = await openLog(dir, { fs, ...(groupCommit ? {} : { maxBatchRecords: 1 }) });
  const payload = new Uint8Array(128).fill(7);
  const per = Math.ceil(total / writers);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async () => { for (let i = 0; i < per; i++) await log.append(payload); }));
  const rate = (per * writers) / ((performance.now() - t0) / 1000);
  const syncs = log.syncs;
  await log.close();
  return { rate, syncs };
}

async function floorRun(fs: DurableFs, dir: string, total: number): Promise<number> {
  await fs.mkdir(dir);
  const h = await fs.open(`${dir}/raw`, { write: true, create: true });
  const payload = new Uint8Array(148).fill(7); // a 128-byte record with its 20-byte header
  const t0 = performance.now();
  for (let i = 0; i < total; i++) { await h.write(payload, i * payload.length); await h.datasync(); }
  const rate = total / ((performance.now() - t0) / 1000);
  await h.close();
  return rate;
}

export async function runLogBench(opts: { quick: boolean; dir: string }): Promise<Row[]> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const rows: Row[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) => rows.push({ suite: "log", case: c, impl, runtime, metric, value, unit });
  const total = opts.quick ? 300 : 2000;
  const rounds = opts.quick ? 1 : 3;
  let n = 0;
  const fresh = () => `${opts.dir}/log-${n++}`;

  await appendRun(fs, fresh(), 8, 200, true); // warm-up: JIT, kernel instantiation, page cache
  await appendRun(fs, fresh(), 8, 200, false);
  for (const writers of [1, 8, 64]) {
    const group: { rate: number; syncs: number }[] = [];
    const single: { rate: number; syncs: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      // Who goes first alternates: the disk's fdatasync latency drifts between runs.
      for (const grouped of r % 2 === 0 ? [true, false] : [false, true]) {
        (grouped ? group : single).push(await appendRun(fs, fresh(), writers, total, grouped));
      }
    }
    const c = `append x${writers}`;
    row(c, GROUP, "appends/s", median(group.map((x) => x.rate)), "1/s");
    row(c, GROUP, "syncs", median(group.map((x) => x.syncs)), "count");
    row(c, SINGLE, "appends/s", median(single.map((x) => x.rate)), "1/s");
    row(c, SINGLE, "syncs", median(single.map((x) => x.syncs)), "count");
    row(c, GROUP, "speedup vs one fdatasync per record", median(group.map((x) => x.rate)) / median(single.map((x) => x.rate)), "x");
  }
  const floors: number[] = [];
  for (let r = 0; r < rounds; r++) floors.push(await floorRun(fs, fresh(), total));
  row("append x1", FLOOR, "appends/s", median(floors), "1/s");

  const count = opts.quick ? 50_000 : 1_000_000;
  const rdir = fresh();
  const log = await openLog(rdir, { fs, maxBatchRecords: 1 << 20 });
  const payload = new Uint8Array(128).fill(7);
  const burst = Array.from({ length: 10_000 }, () => payload);
  for (let i = 0; i < count; i += burst.length) await Promise.all(burst.map((p) => log.append(p)));
  await log.close();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const rep = await replayLog(rdir, { fs, onRecord: () => {} });
    times.push((performance.now() - t0) / 1000);
    if (rep.recovered !== count || rep.damage) throw new Error(`replay returned ${rep.recovered} of ${count} records`);
  }
  const secs = median(times);
  row(`replay ${count} x 128 B`, "ckptkit", "seconds", secs, "s");
  row(`replay ${count} x 128 B`, "ckptkit", "records/s", count / secs, "1/s");
  row(`replay ${count} x 128 B`, "ckptkit", "MB/s", (count * 148) / secs / 1e6, "MB/s");
  return rows;
}

if (isMain(import.meta.url)) {
  await withScratch("log", async (dir) => {
    const rows = await runLogBench({ quick: args.includes("--quick"), dir });
    console.log(`${"runtime".padEnd(8)}${"case".padEnd(26)}${"impl".padEnd(40)}${"metric".padEnd(38)}value`);
    for (const r of rows) console.log(`${r.runtime.padEnd(8)}${r.case.padEnd(26)}${r.impl.padEnd(40)}${r.metric.padEnd(38)}${r.value.toFixed(r.value < 100 ? 2 : 0)}`);
  });
}
