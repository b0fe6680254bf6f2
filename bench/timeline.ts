// Timeline: where the time of one store save goes. One save of a 1 MiB member per protocol,
// after an untimed warm-up save, through the tracing adapter: every fs primitive becomes a span,
// and each gap between consecutive primitives becomes a "compute" span (container encoding and
// the SHA-256/CRC-32 of the WASM kernel, plus the JS around them), so the spans cover the whole
// save. Rows: the save's total and the sum per op, per protocol. The suite is six saves, so
// quick changes nothing.
// The orchestrator imports runTimeline; directly:
//   npx tsx bench/timeline.ts | npx deno run -A bench/timeline.ts | npx bun bench/timeline.ts
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import { type TraceEvent, type TraceOp, tracingFs } from "../adapters/tracing.ts";
import { join } from "../src/path.ts";
import { PROTOCOLS } from "../src/protocol.ts";
import { openStore } from "../src/store/store.ts";
import type { Row, Span, SuiteResult } from "./types.ts";

const SUITE = "timeline";
const IMPL = "ckptkit save";
const SIZE = 1024 * 1024;

/** DurableFs method names → the syscall names charts show (bench/types.ts Span.op). */
const OP_NAMES: Partial<Record<TraceOp, string>> = { sync: "fsync", datasync: "fdatasync", syncDir: "dirsync" };

export async function runTimeline(opts: { quick: boolean; dir: string }): Promise<SuiteResult> {
  const runtime = detectRuntime();
  const data = new Uint8Array(SIZE);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const rows: Row[] = [];
  const spans: Span[] = [];
  for (const protocol of PROTOCOLS) {
    const fs = tracingFs(defaultFs());
    const store = await openStore(join(opts.dir, `timeline-${protocol}`), { fs, protocol });
    const c = `${protocol} save 1 MiB`;
    const mine: Span[] = [];
    let totalMs: number;
    let events: TraceEvent[];
    try {
      await store.save([{ name: "m", data }]); // warm-up: JIT, kernel instantiation, directory entries
      fs.reset();
      await store.save([{ name: "m", data }]);
      totalMs = performance.now() - fs.origin;
      events = [...fs.events]; // before close() adds the lock's unlink
    } finally {
      await store.close();
    }
    let end = 0;
    const gapTo = (t: number) => {
      if (t > end) mine.push({ runtime, case: c, op: "compute", path: "", startMs: end, durMs: t - end });
    };
    // The store's calls are sequential (each awaited before the next), so spans never overlap.
    for (const e of events) {
      gapTo(e.startMs);
      mine.push({ runtime, case: c, op: OP_NAMES[e.op] ?? e.op, path: e.path, startMs: e.startMs, durMs: e.durMs });
      end = Math.max(end, e.startMs + e.durMs);
    }
    gapTo(totalMs);
    spans.push(...mine);
    rows.push({ suite: SUITE, case: c, impl: IMPL, runtime, metric: "total", value: totalMs, unit: "ms", size: SIZE });
    const byOp = new Map<string, number>();
    for (const s of mine) byOp.set(s.op, (byOp.get(s.op) ?? 0) + s.durMs);
    for (const [op, ms] of byOp) {
      rows.push({ suite: SUITE, case: c, impl: IMPL, runtime, metric: op, value: ms, unit: "ms", size: SIZE });
    }
  }
  return { rows, spans };
}

if (isMain(import.meta.url)) {
  await withScratch("timeline", async (dir) => {
    const { rows, spans = [] } = await runTimeline({ quick: args.includes("--quick"), dir });
    console.log(`${"runtime".padEnd(8)}${"case".padEnd(34)}${"metric".padEnd(12)}${"ms".padStart(9)}`);
    for (const r of rows) {
      console.log(`${r.runtime.padEnd(8)}${r.case.padEnd(34)}${r.metric.padEnd(12)}${r.value.toFixed(3).padStart(9)}`);
    }
    console.log(`\n${"case".padEnd(34)}${"op".padEnd(10)}${"start".padStart(9)}${"dur".padStart(9)}  path`);
    for (const s of spans) {
      console.log(
        `${s.case.padEnd(34)}${s.op.padEnd(10)}${s.startMs.toFixed(3).padStart(9)}${
          s.durMs.toFixed(3).padStart(9)
        }  ${s.path}`,
      );
    }
  });
}
