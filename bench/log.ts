// Log benchmark entry for the bench orchestrator: bench/wal.ts's rows (group commit at 1, 8 and
// 64 concurrent appenders, the hand-written write + fdatasync floor, replay of N 128-byte
// records) plus the same log with group commit switched off (maxBatchRecords: 1, so every record
// pays its own fdatasync) at each concurrency: the ratio between the two is what group commit buys.
// Run: npx tsx bench/log.ts | npx deno run -A bench/log.ts | npx bun bench/log.ts [--quick]
import { mkdtempSync, rmSync } from "node:fs";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import { openLog } from "../src/wal/log.ts";
import { type Row, runWalBench } from "./wal.ts";

export type { Row };

export async function runLogBench(opts: { quick: boolean; dir: string }): Promise<Row[]> {
  const rows = await runWalBench(opts);
  const fs = defaultFs();
  const runtime = detectRuntime();
  const payload = new Uint8Array(128).fill(7);
  const total = opts.quick ? 400 : 3000;
  for (const writers of [1, 8, 64]) {
    const log = await openLog(`${opts.dir}/log-nogroup-${writers}`, { fs, maxBatchRecords: 1 });
    const per = Math.ceil(total / writers);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: writers }, async () => { for (let i = 0; i < per; i++) await log.append(payload); }));
    const secs = (performance.now() - t0) / 1000;
    const impl = "ckptkit, one fdatasync per record";
    rows.push({ suite: "log", case: `append x${writers}`, impl, runtime, metric: "appends/s", value: (per * writers) / secs, unit: "1/s" });
    rows.push({ suite: "log", case: `append x${writers}`, impl, runtime, metric: "syncs", value: log.syncs, unit: "count" });
    await log.close();
  }
  return rows.map((r) => ({ ...r, suite: "log" }));
}

const g = globalThis as { Deno?: { mainModule: string; args: string[] } };
const isMain = g.Deno ? g.Deno.mainModule === import.meta.url
  : typeof process !== "undefined" && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"));
if (isMain) {
  const args = g.Deno ? g.Deno.args : process.argv.slice(2);
  const dir = mkdtempSync(`${process.cwd()}/.bench-log-`);
  try {
    const rows = await runLogBench({ quick: args.includes("--quick"), dir });
    rows.sort((a, b) => a.case.localeCompare(b.case) || a.impl.localeCompare(b.impl) || a.metric.localeCompare(b.metric));
    console.log(`${"runtime".padEnd(8)}${"case".padEnd(26)}${"impl".padEnd(38)}${"metric".padEnd(11)}value`);
    for (const r of rows) console.log(`${r.runtime.padEnd(8)}${r.case.padEnd(26)}${r.impl.padEnd(38)}${r.metric.padEnd(11)}${r.value.toFixed(r.value < 100 ? 2 : 0)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
