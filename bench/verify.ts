// Verify benchmark: how fast `verify` reads and checks a large checkpoint (every byte: CRC-32 per
// chunk and SHA-256 per member), next to what bounds it in the same run: the kernel's raw SHA-256
// over bytes already in memory, the runtime's native SHA-256 (SHA-NI where the CPU has it), and a
// plain read of the same files through the same adapter without any hashing.
// The checkpoint is written just before, so its pages are mostly in the page cache: this measures
// the CPU cost of integrity, not the disk.
// Run: npx tsx bench/verify.ts | deno run -A bench/verify.ts | bun bench/verify.ts   [--quick]
import { args, isMain, withScratch } from "./direct.ts";
import { createHash } from "node:crypto";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { DurableFs } from "../src/fs.ts";
import { sha256 } from "../src/hash.ts";
import { join } from "../src/path.ts";
import { openStore } from "../src/store/store.ts";
import { hashWorkerPolicy, setHashWorkerPolicy } from "../src/hash-stream.ts";
import type { Row, SuiteResult } from "./types.ts";
import { median, MiB, sizeLabel } from "./stats.ts";

const PIECE = 64 * MiB;

/** Writes `size` random bytes to `path` in PIECE-sized writes (one random piece, repeated with a counter). */
async function writeSource(fs: DurableFs, path: string, size: number): Promise<void> {
  const piece = new Uint8Array(Math.min(PIECE, size));
  for (let i = 0; i < piece.length; i += 65536) crypto.getRandomValues(piece.subarray(i, i + 65536));
  const h = await fs.open(path, { write: true, create: true, truncate: true });
  try {
    for (let pos = 0, n = 0; pos < size; pos += piece.length, n++) {
      piece[0] = n; // no two pieces alike, so nothing downstream can dedupe
      await h.write(piece.subarray(0, Math.min(piece.length, size - pos)), pos);
    }
  } finally {
    await h.close();
  }
}

/** Reads every file of the store directory through the adapter, hashing nothing. */
async function readAll(fs: DurableFs, dir: string): Promise<number> {
  const buf = new Uint8Array(4 * MiB);
  let total = 0;
  for (const name of await fs.readdir(dir)) {
    const st = await fs.stat(join(dir, name));
    if (!st || st.isDirectory) continue;
    const h = await fs.open(join(dir, name));
    try {
      for (let pos = 0; pos < st.size;) {
        const n = await h.read(buf, pos);
        if (n === 0) break;
        pos += n;
        total += n;
      }
    } finally {
      await h.close();
    }
  }
  return total;
}

/** MB/s of `fn` over `data`, median of `reps` after one warm-up. */
function hashRate(data: Uint8Array, reps: number, fn: (d: Uint8Array) => unknown): number {
  fn(data);
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn(data);
    rates.push(data.length / MiB / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

export async function runVerifyBench(opts: { quick: boolean; dir: string; size?: number }): Promise<SuiteResult> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const size = opts.size ?? (opts.quick ? 64 * MiB : 1024 * MiB);
  const reps = opts.quick ? 1 : 3;
  const c = `verify ${sizeLabel(size)}`;
  const rows: Row[] = [];
  const row = (impl: string, metric: string, value: number, unit: string) =>
    rows.push({ suite: "verify", case: c, impl, runtime, metric, value, unit, size });

  await fs.mkdir(opts.dir);
  const source = join(opts.dir, "source.bin");
  const storeDir = join(opts.dir, "store");
  await writeSource(fs, source, size);
  const store = await openStore(storeDir, { fs });
  try {
    await store.save([{ name: "model.bin", path: source }], { step: 1 });
    await fs.unlink(source);

    const verifyTimes: number[] = [];
    const readTimes: number[] = [];
    let onDisk = 0;
    for (let r = 0; r < reps; r++) {
      // Alternate so page-cache state and drift hit both alike.
      let t0 = performance.now();
      const report = await store.verify();
      verifyTimes.push((performance.now() - t0) / 1000);
      if (!report.ok) throw new Error(`verify found damage in a fresh checkpoint: ${report.findings[0]?.message}`);
      t0 = performance.now();
      onDisk = await readAll(fs, storeDir);
      readTimes.push((performance.now() - t0) / 1000);
    }
    const verifyRate = size / MiB / median(verifyTimes);
    row("ckptkit verify", "MB/s", verifyRate, "MB/s");
    row("ckptkit verify", "seconds", median(verifyTimes), "s");
    row("read only (no hashing)", "MB/s", onDisk / MiB / median(readTimes), "MB/s");

    // What bounds verify: SHA-256 over the same amount of bytes, in memory, 64 MiB at a time.
    const sample = new Uint8Array(Math.min(size, PIECE));
    for (let i = 0; i < sample.length; i += 65536) crypto.getRandomValues(sample.subarray(i, i + 65536));
    const kernelRate = hashRate(sample, reps + 2, (d) => sha256(d));
    const nativeRate = hashRate(sample, reps + 2, (d) => createHash("sha256").update(d).digest());
    row("kernel SHA-256 (in memory)", "MB/s", kernelRate, "MB/s");
    row("native SHA-256 (in memory)", "MB/s", nativeRate, "MB/s");
    row("ckptkit verify", "x kernel SHA-256", verifyRate / kernelRate, "x");
    row("ckptkit verify", "x native SHA-256", verifyRate / nativeRate, "x");
  } finally {
    await store.close();
  }
  rows.push(...(await storeOfFour(fs, opts.dir, size, reps)));
  return { rows };
}

/**
 * The same amount of data as four checkpoints: verify checks two at a time, the second on the
 * hash worker (src/hash-stream.ts), so both cores hash. Timed with the worker off and on, alternately.
 */
async function storeOfFour(fs: DurableFs, dir: string, size: number, reps: number): Promise<Row[]> {
  const runtime = detectRuntime();
  const c = `verify 4 × ${sizeLabel(size / 4)}`;
  const rows: Row[] = [];
  const row = (impl: string, metric: string, value: number, unit: string) =>
    rows.push({ suite: "verify", case: c, impl, runtime, metric, value, unit, size });
  const source = join(dir, "quarter.bin");
  await writeSource(fs, source, size / 4);
  const store = await openStore(join(dir, "store4"), { fs });
  const before = hashWorkerPolicy();
  try {
    for (let step = 1; step <= 4; step++) await store.save([{ name: "model.bin", path: source }], { step });
    await fs.unlink(source);
    const times: Record<"off" | "auto", number[]> = { off: [], auto: [] };
    setHashWorkerPolicy("auto");
    await store.verify(); // starts the worker: a one-time cost, not part of the rate
    for (let r = 0; r < reps; r++) {
      for (const p of ["off", "auto"] as const) {
        setHashWorkerPolicy(p);
        const t0 = performance.now();
        const report = await store.verify();
        times[p].push((performance.now() - t0) / 1000);
        if (!report.ok) throw new Error(`verify found damage in fresh checkpoints: ${report.findings[0]?.message}`);
      }
    }
    const off = size / MiB / median(times.off);
    const auto = size / MiB / median(times.auto);
    row("ckptkit verify, one core (hash worker off)", "MB/s", off, "MB/s");
    row("ckptkit verify, two cores (hash worker)", "MB/s", auto, "MB/s");
    row("ckptkit verify, two cores (hash worker)", "x one core", auto / off, "x");
  } finally {
    setHashWorkerPolicy(before);
    await store.close();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  await withScratch("verify", async (dir) => {
    const { rows } = await runVerifyBench({ quick: args.includes("--quick"), dir });
    for (const r of rows) {
      console.log(
        `${r.runtime.padEnd(6)}${r.case.padEnd(16)}${r.impl.padEnd(30)}${r.metric.padEnd(20)}${
          r.value.toFixed(2)
        } ${r.unit}`,
      );
    }
  });
}
