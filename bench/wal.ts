// Log benchmark: durable appends per second with 1, 8 and 64 concurrent appenders next to one
// fsync per record written by hand (the floor without group commit), and replay throughput.
// Run: npx tsx bench/wal.ts | npx deno run -A bench/wal.ts | npx bun bench/wal.ts [--quick]
import { mkdtempSync, rmSync } from "node:fs";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import { openLog, replayLog } from "../src/wal/log.ts";

export interface Row { suite: string; case: string; impl: string; runtime: string; metric: string; value: number; unit: string }

export async function runWalBench(opts: { quick: boolean; dir: string }): Promise<Row[]> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const rows: Row[] = [];
  const payload = new Uint8Array(128).fill(7);
  const total = opts.quick ? 400 : 3000;
  let n = 0;
  const fresh = () => `${opts.dir}/wal-${n++}`;

  for (const writers of [1, 8, 64]) {
    const log = await openLog(fresh(), { fs });
    const per = Math.ceil(total / writers);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: writers }, async () => { for (let i = 0; i < per; i++) await log.append(payload); }));
    const secs = (performance.now() - t0) / 1000;
    rows.push({ suite: "log", case: `append x${writers}`, impl: "ckptkit group commit", runtime, metric: "appends/s", value: (per * writers) / secs, unit: "1/s" });
    rows.push({ suite: "log", case: `append x${writers}`, impl: "ckptkit group commit", runtime, metric: "syncs", value: log.syncs, unit: "count" });
    await log.close();
  }
  // The floor without group commit: write + fdatasync per record, through the same adapter.
  const dir = fresh();
  await fs.mkdir(dir);
  const h = await fs.open(`${dir}/raw`, { write: true, create: true });
  const t0 = performance.now();
  for (let i = 0; i < total; i++) { await h.write(payload, i * payload.length); await h.datasync(); }
  rows.push({ suite: "log", case: "append x1", impl: "one fdatasync per record (by hand)", runtime, metric: "appends/s", value: total / ((performance.now() - t0) / 1000), unit: "1/s" });
  await h.close();

  const count = opts.quick ? 50_000 : 1_000_000;
  const rdir = fresh();
  const log = await openLog(rdir, { fs, maxBatchRecords: 1 << 20 });
  const batch = Array.from({ length: 10_000 }, () => payload);
  for (let i = 0; i < count; i += 10_000) await Promise.all(batch.map((p) => log.append(p)));
  await log.close();
  const t1 = performance.now();
  const r = await replayLog(rdir, { fs, onRecord: () => {} });
  const secs = (performance.now() - t1) / 1000;
  if (r.recovered !== count) throw new Error(`replay returned ${r.recovered} of ${count} records`);
  rows.push({ suite: "log", case: `replay ${count} x 128 B`, impl: "ckptkit", runtime, metric: "seconds", value: secs, unit: "s" });
  rows.push({ suite: "log", case: `replay ${count} x 128 B`, impl: "ckptkit", runtime, metric: "records/s", value: count / secs, unit: "1/s" });
  return rows;
}

const isMain = (globalThis as { Deno?: { mainModule: string } }).Deno?.mainModule === import.meta.url ||
  (typeof process !== "undefined" && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/")));
if (isMain) {
  const dir = mkdtempSync(`${process.cwd()}/.bench-wal-`);
  try {
    const rows = await runWalBench({ quick: process.argv.includes("--quick") || ((globalThis as { Deno?: { args: string[] } }).Deno?.args ?? []).includes("--quick"), dir });
    for (const r of rows) console.log(`${r.runtime.padEnd(5)} ${r.case.padEnd(26)} ${r.impl.padEnd(36)} ${r.metric.padEnd(10)} ${r.value.toFixed(r.value < 100 ? 2 : 0)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
