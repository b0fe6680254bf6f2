// Stall benchmark (guarantee 12, docs/ENGINE.md): for a large checkpoint, the largest event-loop
// gap during save, load, verify and restore (a 1 ms timer, bench/loop-probe.ts) next to the
// call's throughput, the library's own longest stretch without a turn (src/pace.ts; wall and CPU
// time: on a loaded machine the timer gap measures the scheduler too), and the
// latency of a 4 KiB save (median of many), the case the synchronous fast path exists for.
// Run directly: npx tsx bench/stall.ts | npx deno run -A bench/stall.ts | npx bun bench/stall.ts
//   [--quick] [--size MiB] [--small N]
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import { join } from "../src/path.ts";
import { openStore } from "../src/store/store.ts";
import { paceStats, resetPaceStats } from "../src/pace.ts";
import { probed, threadCpuClock } from "./loop-probe.ts";
import type { Row, SuiteResult } from "./types.ts";
import { KiB, median, MiB, sizeLabel } from "./stats.ts";

const SUITE = "stall";

function pattern(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const piece = new Uint8Array(64 * KiB);
  crypto.getRandomValues(piece);
  for (let o = 0; o < size; o += piece.length) out.set(piece.subarray(0, Math.min(piece.length, size - o)), o);
  // Distinct per piece, so no two chunks are equal.
  for (let o = 0; o < size; o += 4096) out[o] = (o / 4096) & 0xff;
  return out;
}

export async function runStallBench(
  opts: { quick: boolean; dir: string; size?: number; small?: number },
): Promise<SuiteResult> {
  const runtime = detectRuntime();
  const size = opts.size ?? (opts.quick ? 64 * MiB : 256 * MiB);
  const rows: Row[] = [];
  const row = (c: string, metric: string, value: number, unit: string, n = size) =>
    rows.push({ suite: SUITE, case: c, impl: "ckptkit", runtime, metric, value, unit, size: n });

  // 4 KiB saves first, on a quiet page cache.
  const smallDir = join(opts.dir, "small");
  const s4 = await openStore(smallDir, { fs: defaultFs() });
  const small = pattern(4 * KiB);
  const n = opts.small ?? (opts.quick ? 50 : 200);
  const lat: number[] = [];
  for (let i = 0; i < n + 10; i++) {
    const t0 = performance.now();
    await s4.save([{ name: "m", data: small }]);
    if (i >= 10) lat.push(performance.now() - t0);
  }
  await s4.close();
  lat.sort((a, b) => a - b);
  row("save 4 KiB", "p50", median(lat), "ms", 4 * KiB);
  row("save 4 KiB", "p90", lat[Math.floor(lat.length * 0.9)]!, "ms", 4 * KiB);

  const data = pattern(size);
  const store = await openStore(join(opts.dir, "big"), { fs: defaultFs() });
  const label = sizeLabel(size);
  const measure = async (what: string, fn: () => Promise<unknown>) => {
    resetPaceStats({ cpu: threadCpuClock() ?? true });
    const r = await probed(fn);
    row(`${what} ${label}`, "largest gap", r.maxGapMs, "ms");
    row(`${what} ${label}`, "pace longest", paceStats().longestMs, "ms");
    row(`${what} ${label}`, "pace longest CPU", paceStats().longestCpuMs, "ms");
    row(`${what} ${label}`, "throughput", size / MiB / (r.ms / 1000), "MB/s");
  };
  await measure("save", () => store.save([{ name: "weights", data }]));
  await measure("load", () => store.load());
  await measure("verify", () => store.verify());
  await measure("restore", () => store.restore(join(opts.dir, "out")));
  await store.close();
  return { rows };
}

if (isMain(import.meta.url)) {
  const at = args.indexOf("--size");
  const sn = args.indexOf("--small");
  await withScratch("stall", async (dir) => {
    const { rows } = await runStallBench({
      quick: args.includes("--quick"),
      dir,
      size: at >= 0 ? Number(args[at + 1]) * MiB : undefined,
      small: sn >= 0 ? Number(args[sn + 1]) : undefined,
    });
    for (const r of rows) {
      console.log(`${r.runtime.padEnd(6)}${r.case.padEnd(20)}${r.metric.padEnd(14)}${r.value.toFixed(2)} ${r.unit}`);
    }
  });
}
