// Protocol benchmark: the latency of one durable write under each protocol (unsafe,
// atomic_nodirsync, atomic_dirsync) at 4 KiB, 1 MiB and 64 MiB, for
//   ckptkit save       a store save of one member (member fsynced, then the manifest through the
//                      protocol: two fsyncs where the protocol has one)
//   ckptkit write      writeFileWithProtocol of the same bytes: the protocol alone
//   floor (by hand)    the protocol's syscalls in this runtime's own sync API (bench/floor.ts)
//   write-file-atomic  the npm package (async API, fsync: true), beside atomic_nodirsync only
// and of a save of 4 members next to a hand floor writing 4 files with one directory fsync.
// Implementations take turns within each round (the first one rotates) after a warm-up, so the
// disk's drift hits all of them alike. Every implementation's output is read back once, untimed,
// and compared with its input: a broken write cannot look fast. Every timed write creates a new
// file (the previous one is unlinked untimed), so none pays for freeing a replaced file's blocks.
// The orchestrator imports runProtocolBench; directly:
//   npx tsx bench/protocols.ts | npx deno run -A bench/protocols.ts | npx bun bench/protocols.ts   [--quick]
import { mkdtempSync, rmSync } from "node:fs";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { DurableFs } from "../src/fs.ts";
import { attempt, readFile } from "../src/fs-util.ts";
import { join } from "../src/path.ts";
import { PROTOCOLS, type Protocol, writeFileWithProtocol } from "../src/protocol.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { type Store, openStore } from "../src/store/store.ts";
import { type Floor, handFloor } from "./floor.ts";
import type { LatencySeries, Row, SuiteResult } from "./types.ts";

const SUITE = "protocols";
const KiB = 1024;
const MiB = 1024 * KiB;
export const SAVE = "ckptkit save";
export const WRITE = "ckptkit write";
export const GROUP_SAVE = "ckptkit group save";
export const FLOOR = "floor (by hand)";
export const WFA = "write-file-atomic";
const GROUP = 4;

export const sizeLabel = (n: number): string => n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;

/** Linear interpolation between the closest ranks of an ascending array. */
export function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

interface Impl {
  name: string;
  /** The timed call. */
  run(): Promise<void>;
  /** Untimed, once: throws unless what run() wrote reads back equal to its input. */
  verify(): Promise<void>;
  /** Untimed, after every run: removes what it wrote. */
  reset(): Promise<void>;
}

interface Plan {
  case: string;
  /** Bytes one timed call writes (a group case: all its members together). */
  size: number;
  samples: number;
  warmups: number;
  impls: Impl[];
}

type WriteFileAtomic = (path: string, data: Uint8Array, options: { fsync: boolean }) => Promise<void>;

/**
 * write-file-atomic is a devDependency: loaded lazily and left out where not installed. Deno runs
 * it through its npm compatibility layer (node:fs underneath), so it is measured there too.
 */
async function loadWriteFileAtomic(): Promise<WriteFileAtomic | undefined> {
  try {
    const m = (await import("write-file-atomic" as string)) as { default?: WriteFileAtomic };
    return typeof m.default === "function" ? m.default : undefined;
  } catch {
    return undefined;
  }
}

function sameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: read back ${got.length} bytes, wrote ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what}: byte ${i} reads back ${got[i]}, wrote ${want[i]}`);
  }
}

/** The saves a case timed are removed by hand, untimed: store.prune would verify every byte. */
async function removeStep(fs: DurableFs, store: Store, step: number, members: number): Promise<void> {
  await fs.unlink(join(store.dir, manifestName(step)));
  for (let i = 0; i < members; i++) await fs.unlink(join(store.dir, memberName(step, i)));
}

function saveImpl(name: string, fs: DurableFs, store: Store, members: Uint8Array[]): Impl {
  let step = 0;
  return {
    name,
    async run() { step = (await store.save(members.map((data, i) => ({ name: `m${i}`, data })))).step; },
    async verify() {
      const got = await store.load(step);
      members.forEach((m, i) => sameBytes(got.members.get(`m${i}`) ?? new Uint8Array(0), m, `${name} member m${i}`));
    },
    reset: () => removeStep(fs, store, step, members.length),
  };
}

/** An implementation that writes one file, `path`. */
function fileImpl(name: string, fs: DurableFs, path: string, data: Uint8Array, run: () => Promise<void> | void): Impl {
  return {
    name,
    async run() { await run(); },
    async verify() { sameBytes(await readFile(fs, path), data, name); },
    reset: () => attempt(() => fs.unlink(path)),
  };
}

interface Context { fs: DurableFs; floor: Floor; wfa?: WriteFileAtomic; data: Uint8Array; quick: boolean }

function plans(ctx: Context, dir: string, protocol: Protocol, store: Store): Plan[] {
  const { fs, floor, wfa, data, quick } = ctx;
  const sizes = quick ? [4 * KiB, MiB] : [4 * KiB, MiB, 64 * MiB];
  const samples = (size: number) => size <= 4 * KiB ? (quick ? 25 : 200) : size <= MiB ? (quick ? 8 : 40) : 6;
  const warmups = (size: number) => size <= 4 * KiB ? (quick ? 3 : 10) : size <= MiB ? (quick ? 1 : 3) : 1;
  const out: Plan[] = [];
  for (const size of sizes) {
    const bytes = data.subarray(0, size);
    const at = (name: string) => join(dir, name);
    const impls = [
      saveImpl(SAVE, fs, store, [bytes]),
      fileImpl(WRITE, fs, at("write.bin"), bytes, () => writeFileWithProtocol(fs, at("write.bin"), bytes, protocol)),
      fileImpl(FLOOR, fs, at("floor.bin"), bytes, () => floor.write(at("floor.bin"), bytes, protocol)),
    ];
    // It fsyncs the file but never the directory: its guarantee is atomic_nodirsync's, so it is
    // measured beside that protocol only.
    if (wfa && protocol === "atomic_nodirsync") impls.push(fileImpl(WFA, fs, at("wfa.bin"), bytes, () => wfa(at("wfa.bin"), bytes, { fsync: true })));
    out.push({ case: `${protocol} ${sizeLabel(size)}`, size, samples: samples(size), warmups: warmups(size), impls });
  }
  for (const size of [4 * KiB, MiB]) {
    const members = Array.from({ length: GROUP }, (_, i) => data.subarray(i * size, (i + 1) * size));
    const files = members.map((m, i) => ({ path: join(dir, `group-${i}.bin`), data: m }));
    const floorImpl: Impl = {
      name: FLOOR,
      async run() { floor.writeGroup(dir, files, protocol); },
      async verify() { for (const f of files) sameBytes(await readFile(fs, f.path), f.data, `${FLOOR} ${f.path}`); },
      async reset() { for (const f of files) await attempt(() => fs.unlink(f.path)); },
    };
    out.push({
      case: `${protocol} group ${GROUP}x${sizeLabel(size)}`, size: GROUP * size, samples: samples(size), warmups: warmups(size),
      impls: [saveImpl(GROUP_SAVE, fs, store, members), floorImpl],
    });
  }
  return out;
}

export async function runProtocolBench(opts: { quick: boolean; dir: string; onProgress?: (done: number, total: number) => void }): Promise<SuiteResult> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const maxSize = opts.quick ? MiB : 64 * MiB;
  const data = new Uint8Array(Math.max(maxSize, GROUP * MiB));
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const ctx: Context = { fs, floor: handFloor(runtime), wfa: await loadWriteFileAtomic(), data, quick: opts.quick };

  const rows: Row[] = [];
  const latencies: LatencySeries[] = [];
  const stores: Store[] = [];
  const all: Plan[] = [];
  try {
    for (const protocol of PROTOCOLS) {
      const dir = join(opts.dir, `protocols-${protocol}`);
      // Opened once per protocol: open takes the writer lock and scans the directory, a cost
      // paid once per process, not per save.
      const store = await openStore(dir, { fs, protocol });
      stores.push(store);
      all.push(...plans(ctx, dir, protocol, store));
    }
    const total = all.reduce((n, p) => n + p.samples * p.impls.length, 0);
    let done = 0;
    for (const plan of all) {
      const ms = new Map<Impl, number[]>(plan.impls.map((i) => [i, []]));
      for (let r = 0; r < plan.warmups; r++) {
        for (const impl of plan.impls) {
          await impl.run();
          if (r === 0) await impl.verify();
          await impl.reset();
        }
      }
      for (let r = 0; r < plan.samples; r++) {
        for (let k = 0; k < plan.impls.length; k++) {
          const impl = plan.impls[(k + r) % plan.impls.length]!;
          const t0 = performance.now();
          await impl.run();
          ms.get(impl)!.push(performance.now() - t0);
          await impl.reset();
        }
        done += plan.impls.length;
        opts.onProgress?.(done, total);
      }
      const p50 = new Map<string, number>();
      for (const [impl, xs] of ms) {
        latencies.push({ suite: SUITE, case: plan.case, impl: impl.name, runtime, ms: xs });
        const sorted = [...xs].sort((a, b) => a - b);
        for (const [metric, q] of [["p50", 0.5], ["p90", 0.9], ["p99", 0.99]] as const) {
          const value = quantile(sorted, q);
          rows.push({ suite: SUITE, case: plan.case, impl: impl.name, runtime, metric, value, unit: "ms", size: plan.size });
          if (metric === "p50") p50.set(impl.name, value);
        }
      }
      for (const name of [SAVE, WRITE, GROUP_SAVE]) {
        const v = p50.get(name);
        if (v !== undefined) rows.push({ suite: SUITE, case: plan.case, impl: name, runtime, metric: "overhead vs floor", value: v / p50.get(FLOOR)!, unit: "x", size: plan.size });
      }
    }
  } finally {
    for (const s of stores) await s.close();
  }
  return { rows, latencies };
}

/** The table the direct run prints: p50 per implementation and ckptkit's overhead, per case. */
export function formatProtocolTable(rows: Row[]): string {
  const impls = [SAVE, GROUP_SAVE, WRITE, FLOOR, WFA];
  const cases = [...new Set(rows.map((r) => r.case))];
  const head = ["runtime".padEnd(7), "case".padEnd(30), ...impls.map((i) => i.padStart(18)), "save/floor".padStart(11), "write/floor".padStart(12)];
  const lines = [head.join(" ")];
  for (const c of cases) {
    const get = (impl: string, metric: string) => rows.find((r) => r.case === c && r.impl === impl && r.metric === metric)?.value;
    const fmt = (v: number | undefined, w: number, d = 3) => (v === undefined ? "-" : v.toFixed(d)).padStart(w);
    const over = get(SAVE, "overhead vs floor") ?? get(GROUP_SAVE, "overhead vs floor");
    lines.push([rows[0]!.runtime.padEnd(7), c.padEnd(30), ...impls.map((i) => fmt(get(i, "p50"), 18)), fmt(over, 11, 2), fmt(get(WRITE, "overhead vs floor"), 12, 2)].join(" "));
  }
  return `p50 latency in ms\n${lines.join("\n")}`;
}

const g = globalThis as { Deno?: { mainModule: string; args: string[] } };
const isMain = g.Deno ? g.Deno.mainModule === import.meta.url
  : typeof process !== "undefined" && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"));
if (isMain) {
  const args = g.Deno ? g.Deno.args : process.argv.slice(2);
  const dir = mkdtempSync(`${process.cwd()}/.bench-protocols-`);
  try {
    const { rows } = await runProtocolBench({ quick: args.includes("--quick"), dir });
    console.log(formatProtocolTable(rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
