// Format-v2 benchmark (issue 16): the three ratios its targets are stated in, one run each.
//   save ÷ floor       store.save of one member under atomic_dirsync, format v1 and v2 in turn, vs
//                      the same bytes written by hand (bench/floor.ts), 4 KiB, 1 MiB, 64 MiB, p50
//                      of alternating turns (v1 is "before", v2 "after", in the same run)
//   hashing bound      leaf hashing of 64 MiB alone (memory, default threads) ÷ the 64 MiB floor:
//                      the least save ÷ floor a save hashing with this kernel can reach here
//   verify ÷ native    store.verify of one checkpoint (v1, then v2 at 1..cores hashing threads)
//                      vs node:crypto's single-stream SHA-256 over the same number of bytes in
//                      memory (64 MiB with --quick, else 1 GiB)
// Directly: npx tsx bench/v2.ts | npx deno run -A bench/v2.ts | npx bun bench/v2.ts  [--quick] [--size=MiB]
import process from "node:process";
import { args, isMain, withScratch } from "./direct.ts";
import { createHash } from "node:crypto";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import { join } from "../src/path.ts";
import { openStore } from "../src/store/store.ts";
import * as pool from "../src/wasm/leaf-pool.ts";
import { setWriteFormatVersion } from "../src/format/write-version.ts";
import { LeafHasher } from "../src/format/leaf-hasher.ts";
import { CHUNK_HEADER_SIZE, DEFAULT_CHUNK_SIZE } from "../src/format/constants.ts";
import { handFloor } from "./floor.ts";
import type { Row, SuiteResult } from "./types.ts";
import { KiB, median, MiB, sizeLabel } from "./stats.ts";

function randomFill(b: Uint8Array): void {
  for (let i = 0; i < b.length; i += 65536) crypto.getRandomValues(b.subarray(i, i + 65536));
}

export async function runV2Bench(opts: { quick: boolean; dir: string; verifySize?: number }): Promise<SuiteResult> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const rows: Row[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string, size?: number) =>
    rows.push({ suite: "v2", case: c, impl, runtime, metric, value, unit, size });
  const floor = handFloor(runtime);
  const dir = join(opts.dir, "save");
  const store = await openStore(dir, { fs });
  const data = new Uint8Array(64 * MiB);
  randomFill(data);
  let floor64 = NaN;
  try {
    for (const size of [4 * KiB, MiB, 64 * MiB]) {
      const n = size <= 4 * KiB ? (opts.quick ? 30 : 100) : size <= MiB ? (opts.quick ? 10 : 30) : (opts.quick ? 3 : 6);
      const bytes = data.subarray(0, size);
      const save: Record<1 | 2, number[]> = { 1: [], 2: [] };
      const hand: number[] = [];
      const settle = async () => {
        for (const f of await fs.readdir(dir)) if (!f.startsWith(".")) await fs.unlink(join(dir, f));
        await fs.syncDir(dir);
      };
      for (let r = -1; r < n; r++) {
        // Alternating turns, each on a settled directory, so drift hits all alike.
        for (const v of [1, 2] as const) {
          setWriteFormatVersion(v);
          const t0 = performance.now();
          await store.save([{ name: "m", data: bytes }]);
          if (r >= 0) save[v].push(performance.now() - t0);
          await settle();
        }
        const t0 = performance.now();
        floor.write(join(dir, "floor.bin"), bytes, "atomic_dirsync");
        if (r >= 0) hand.push(performance.now() - t0);
        await settle();
      }
      setWriteFormatVersion(undefined);
      const c = `save ${sizeLabel(size)}`;
      if (size === 64 * MiB) floor64 = median(hand);
      row(c, "floor (by hand)", "p50", median(hand), "ms", size);
      for (const v of [1, 2] as const) {
        row(c, `ckptkit save v${v}`, "p50", median(save[v]), "ms", size);
        row(c, `ckptkit save v${v}`, "x floor", median(save[v]) / median(hand), "x", size);
      }
    }
  } finally {
    await store.close();
  }

  // What bounds a large save: its hashing alone (every leaf of 64 MiB in 256 KiB chunks, in
  // memory, at the default threads) against the floor. No save that hashes with this kernel can
  // come in under hashing ÷ floor on this machine, however well it overlaps the rest; the same
  // bytes through node:crypto (native SHA-256, one stream) say where a native hash would put it.
  {
    const chunk = CHUNK_HEADER_SIZE + DEFAULT_CHUNK_SIZE;
    const times: number[] = [];
    const native: number[] = [];
    await pool.warmLeafPool();
    for (let r = 0; r < (opts.quick ? 3 : 5); r++) {
      const h = new LeafHasher(64 * MiB, {});
      let t0 = performance.now();
      for (let off = 0; off + chunk <= data.length; off += chunk) {
        const sealed = h.add(data.subarray(off, off + chunk));
        if (sealed) await sealed;
      }
      await h.finish();
      times.push(performance.now() - t0);
      t0 = performance.now();
      createHash("sha256").update(data).digest();
      native.push(performance.now() - t0);
    }
    const c = "save 64 MiB";
    row(
      c,
      `leaf hashing alone, ${pool.leafThreads()} thread${pool.leafThreads() === 1 ? "" : "s"}`,
      "p50",
      median(times),
      "ms",
      64 * MiB,
    );
    row(c, "bound: leaf hashing ÷ floor", "x floor", median(times) / floor64, "x", 64 * MiB);
    row(c, "bound: node:crypto SHA-256 ÷ floor", "x floor", median(native) / floor64, "x", 64 * MiB);
  }

  // Verify: one checkpoint of `size` bytes, saved from memory 64 MiB pieces at a time is not
  // possible through save(), so it is saved from a file.
  const size = opts.verifySize ?? (opts.quick ? 64 * MiB : 1024 * MiB);
  const src = join(opts.dir, "source.bin");
  {
    const h = await fs.open(src, { write: true, create: true, truncate: true });
    for (let pos = 0, k = 0; pos < size; pos += data.length, k++) {
      data[0] = k;
      await h.write(data.subarray(0, Math.min(data.length, size - pos)), pos);
    }
    await h.close();
  }
  const c = `verify ${sizeLabel(size)}`;
  const nativeRate = (() => {
    const rates: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      createHash("sha256").update(data).digest();
      rates.push(data.length / MiB / ((performance.now() - t0) / 1000));
    }
    return median(rates);
  })();
  row(c, "node:crypto SHA-256, one stream", "MB/s", nativeRate, "MB/s", size);
  const cores = pool.cores();
  for (const v of [1, 2] as const) {
    setWriteFormatVersion(v);
    const vstore = await openStore(join(opts.dir, `verify-v${v}`), { fs });
    try {
      await vstore.save([{ name: "model.bin", path: src }], { step: 1 });
      for (const t of v === 1 ? [1] : Array.from({ length: cores }, (_, i) => i + 1)) {
        pool.setLeafThreads(t);
        await pool.warmLeafPool();
        await vstore.verify(); // warm: worker start and page cache
        const times: number[] = [];
        for (let r = 0; r < (opts.quick ? 1 : 3); r++) {
          const t0 = performance.now();
          const rep = await vstore.verify();
          times.push((performance.now() - t0) / 1000);
          if (!rep.ok) throw new Error(`verify found damage in a fresh checkpoint: ${rep.findings[0]?.message}`);
        }
        const rate = size / MiB / median(times);
        const impl = v === 1 ? "ckptkit verify v1" : `ckptkit verify v2, ${t} thread${t === 1 ? "" : "s"}`;
        row(c, impl, "MB/s", rate, "MB/s", size);
        row(c, impl, "x node:crypto", rate / nativeRate, "x", size);
      }
    } finally {
      pool.setLeafThreads(undefined);
      setWriteFormatVersion(undefined);
      await vstore.close();
    }
  }
  await fs.unlink(src);
  return { rows };
}

if (isMain(import.meta.url)) {
  const sizeArg = args.find((a) => a.startsWith("--size="));
  await withScratch("v2", async (dir) => {
    const { rows } = await runV2Bench({
      quick: args.includes("--quick"),
      dir,
      verifySize: sizeArg ? Number(sizeArg.slice(7)) * MiB : undefined,
    });
    for (const r of rows) {
      console.log(
        `${r.runtime.padEnd(6)}${r.case.padEnd(16)}${r.impl.padEnd(40)}${r.metric.padEnd(16)}${
          r.value.toFixed(2)
        } ${r.unit}`,
      );
    }
  });
  process.exit(0);
}
