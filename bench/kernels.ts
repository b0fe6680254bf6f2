// Kernel benchmark: ckptkit's WASM CRC-32 and SHA-256 next to anchors measured in the same run
// (hash-wasm, the runtime's native zlib/crypto, WebCrypto, @chainsafe/as-sha256, Bun's hashers).
// Every implementation's result is checked equal before it is timed. Only ratios within one
// run mean anything: the machine is shared. Each rep times every implementation once, in turn,
// so drift hits all of them alike; the value is the median over reps.
// Run: npx tsx bench/kernels.ts | npx deno run -A bench/kernels.ts | npx bun bench/kernels.ts
//      [--quick] [--case=crc32,sha256,sha256-many-4KiB]
import { args, isMain } from "./direct.ts";
import * as zlib from "node:zlib";
import { createHash } from "node:crypto";
import { detectRuntime } from "../adapters/detect.ts";
import { crc32, crc32With, sha256, sha256Many, sha256With, toHex } from "../src/hash.ts";
import { type Kernel, kernel, type KernelVariant, loadKernel } from "../src/wasm/kernel.ts";
import { KiB, median, MiB, sizeLabel } from "./stats.ts";
import { NATIVE_ANCHORS } from "./report.ts";

export interface Row {
  suite: "kernels";
  case: string;
  impl: string;
  runtime: string;
  size: number;
  metric: "MB/s";
  value: number;
  unit: "MB/s";
}

type Result = number | Uint8Array;
interface Impl {
  name: string;
  run(data: Uint8Array): Result | Promise<Result>;
  async?: boolean;
  /** Runs untimed before each batch (e.g. to place the input in kernel memory). */
  prepare?(data: Uint8Array): void;
  /** Largest input it takes (sizes above it skip this implementation). */
  maxSize?: number;
}
interface Case {
  name: string;
  impls: Impl[];
  sizes: number[];
}

/** The multi-buffer case hashes a buffer as independent blocks of this size (one digest each). */
export const MANY_BLOCK = 4 * KiB;

const hex = (r: Result): string => typeof r === "number" ? (r >>> 0).toString(16).padStart(8, "0") : toHex(r);

interface BunLike {
  hash: { crc32(d: Uint8Array): number };
  CryptoHasher: new (alg: string) => { update(d: Uint8Array): unknown; digest(): Uint8Array };
}

interface HashWasmHasher {
  init(): unknown;
  update(d: Uint8Array): unknown;
  digest(f: "binary"): Uint8Array;
}

/** The WASM anchors are devDependencies: loaded lazily, skipped where not installed. */
async function optional<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch {
    return undefined;
  }
}

async function cases(sizes: number[]): Promise<Case[]> {
  const hw = await optional<{ createCRC32(): Promise<HashWasmHasher>; createSHA256(): Promise<HashWasmHasher> }>(
    "hash-wasm",
  );
  const chainsafe = await optional<{ digest(d: Uint8Array): Uint8Array }>("@chainsafe/as-sha256");
  const hwCrc = await hw?.createCRC32();
  const hwSha = await hw?.createSHA256();
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;

  // "in-kernel": the bytes are already in the kernel's window (how the format reader hashes
  // what it read), so this is the loop alone; the others include copying the input in.
  const k = kernel();
  // The build kernel() did not pick, for comparison (the SIMD one only where it validates).
  const others = (["simd", "scalar"] as KernelVariant[]).filter((v) => v !== k.variant)
    .map((v) => loadKernel(v)).filter((x): x is Kernel => x !== undefined);
  const crcImpls: Impl[] = [
    { name: "ckptkit-wasm", run: (d) => crc32(d) },
    ...others.map((o): Impl => ({ name: `ckptkit-wasm-${o.variant}`, run: (d) => crc32With(o, d) })),
    {
      name: "ckptkit-in-kernel",
      run: (d) => k.exports.crc32Wide(0, k.ioPtr, d.length) >>> 0,
      prepare: (d) => k.io.set(d),
      maxSize: k.io.length,
    },
  ];
  if (hwCrc) {
    crcImpls.push({
      name: "hash-wasm",
      run: (d) => {
        hwCrc.init();
        hwCrc.update(d);
        return hwCrc.digest("binary");
      },
    });
  }
  if (typeof zcrc === "function") crcImpls.push({ name: "zlib.crc32", run: (d) => zcrc(d) >>> 0 });
  if (bun) crcImpls.push({ name: "Bun.hash.crc32", run: (d) => bun.hash.crc32(d) >>> 0 });

  const shaImpls: Impl[] = [
    { name: "ckptkit-wasm", run: (d) => sha256(d) },
    ...others.filter((o) => o.variant === "scalar").map((o): Impl => ({
      name: "ckptkit-wasm-scalar",
      run: (d) => sha256With(o, d),
    })),
    { name: "node:crypto", run: (d) => createHash("sha256").update(d).digest() },
    {
      name: "webcrypto",
      async: true,
      run: async (d) => new Uint8Array(await crypto.subtle.digest("SHA-256", d as BufferSource)),
    },
  ];
  if (hwSha) {
    shaImpls.splice(shaImpls.length - 2, 0, {
      name: "hash-wasm",
      run: (d) => {
        hwSha.init();
        hwSha.update(d);
        return hwSha.digest("binary");
      },
    });
  }
  if (chainsafe) shaImpls.push({ name: "@chainsafe/as-sha256", run: (d) => chainsafe.digest(d) });
  if (bun) {
    shaImpls.push({
      name: "Bun.CryptoHasher",
      run: (d) => {
        const h = new bun.CryptoHasher("sha256");
        h.update(d);
        return h.digest();
      },
    });
  }

  // Many independent 4 KiB blocks → one digest each, concatenated. Anchors hash block by block.
  const perBlock = (one: (b: Uint8Array) => Uint8Array) => (d: Uint8Array): Uint8Array => {
    const out = new Uint8Array((d.length / MANY_BLOCK) * 32);
    for (let i = 0, o = 0; i < d.length; i += MANY_BLOCK, o += 32) out.set(one(d.subarray(i, i + MANY_BLOCK)), o);
    return out;
  };
  const manyImpls: Impl[] = [];
  for (const v of ["simd", "scalar"] as KernelVariant[]) {
    const k = loadKernel(v);
    if (k) manyImpls.push({ name: `ckptkit-wasm-${v}`, run: (d) => sha256Many(d, MANY_BLOCK, { kernel: k }) });
  }
  if (hwSha) {
    manyImpls.push({
      name: "hash-wasm",
      run: perBlock((b) => {
        hwSha.init();
        hwSha.update(b);
        return hwSha.digest("binary");
      }),
    });
  }
  manyImpls.push({ name: "node:crypto", run: perBlock((b) => createHash("sha256").update(b).digest()) });
  return [
    { name: "crc32", impls: crcImpls, sizes },
    { name: "sha256", impls: shaImpls, sizes },
    { name: "sha256-many-4KiB", impls: manyImpls, sizes: sizes.filter((s) => s >= 64 * KiB) },
  ];
}

async function timeOnce(impl: Impl, data: Uint8Array, iters: number): Promise<number> {
  impl.prepare?.(data);
  const t0 = performance.now();
  if (impl.async) { for (let i = 0; i < iters; i++) await impl.run(data); }
  else for (let i = 0; i < iters; i++) impl.run(data);
  return performance.now() - t0;
}

/** `cases` limits the run to the named cases (all by default). */
export async function runKernelBench(opts: { quick: boolean; cases?: string[] }): Promise<Row[]> {
  const runtime = detectRuntime();
  const sizes = opts.quick ? [4 * KiB, 64 * KiB, MiB] : [4 * KiB, 64 * KiB, MiB, 64 * MiB];
  const reps = opts.quick ? 5 : 7;
  const repMs = opts.quick ? 12 : 30;
  const data = new Uint8Array(sizes[sizes.length - 1]!);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));

  const rows: Row[] = [];
  for (const c of await cases(sizes)) {
    if (opts.cases && !opts.cases.includes(c.name)) continue;
    for (const size of c.sizes) {
      const buf = data.subarray(0, size);
      const impls = c.impls.filter((i) => size <= (i.maxSize ?? Infinity));
      // Bit-identical or nothing: every implementation must agree before any is timed.
      const want = hex(await impls[0]!.run(buf));
      for (const impl of impls) {
        impl.prepare?.(buf);
        const got = hex(await impl.run(buf));
        if (got !== want) {
          throw new Error(
            `${c.name} ${size}: ${impl.name} gave ${got.slice(0, 16)}…, ${impls[0]!.name} gave ${want.slice(0, 16)}…`,
          );
        }
      }
      // Warm up (JIT tiers) and size each impl's rep to ~repMs.
      const iters = new Map<Impl, number>();
      for (const impl of impls) {
        let n = 1;
        let ms = await timeOnce(impl, buf, n);
        while (ms < repMs / 4 && n < 1 << 20) {
          n *= 4;
          ms = await timeOnce(impl, buf, n);
        }
        iters.set(impl, Math.max(1, Math.round((n * repMs) / Math.max(ms, 0.001))));
      }
      const samples = new Map<Impl, number[]>(impls.map((i) => [i, []]));
      for (let r = 0; r < reps; r++) {
        for (const impl of impls) {
          const n = iters.get(impl)!;
          const ms = await timeOnce(impl, buf, n);
          samples.get(impl)!.push((size * n) / MiB / (ms / 1000));
        }
      }
      for (const impl of impls) {
        rows.push({
          suite: "kernels",
          case: c.name,
          impl: impl.name,
          runtime,
          size,
          metric: "MB/s",
          value: median(samples.get(impl)!),
          unit: "MB/s",
        });
      }
    }
  }
  return rows;
}

/** A plain-text table with each value's ratio to hash-wasm and to the native anchor of its case. */
export function formatKernelTable(rows: Row[]): string {
  const find = (r: Row, impl: string) =>
    rows.find((x) => x.case === r.case && x.size === r.size && x.runtime === r.runtime && x.impl === impl);
  const lines = [
    `${"runtime".padEnd(7)} ${"case".padEnd(17)} ${"size".padStart(7)} ${"impl".padEnd(22)} ${"MB/s".padStart(8)} ${
      "×hash-wasm".padStart(10)
    } ${"×native".padStart(8)}`,
  ];
  for (const r of rows) {
    const hw = find(r, "hash-wasm");
    const nat = (NATIVE_ANCHORS[r.case] ?? []).map((n) => find(r, n)).find((x) => x !== undefined);
    lines.push(
      `${r.runtime.padEnd(7)} ${r.case.padEnd(17)} ${sizeLabel(r.size).padStart(7)} ${r.impl.padEnd(22)} ${
        r.value.toFixed(0).padStart(8)
      } ` +
        `${(hw ? (r.value / hw.value).toFixed(2) : "-").padStart(10)} ${
          (nat ? (r.value / nat.value).toFixed(2) : "-").padStart(8)
        }`,
    );
  }
  return lines.join("\n");
}

if (isMain(import.meta.url)) {
  const only = args.find((a) => a.startsWith("--case="))?.slice(7).split(",");
  const rows = await runKernelBench({ quick: args.includes("--quick"), cases: only });
  console.log(formatKernelTable(rows));
}
