// Protocol benchmark: the latency of one durable write under each protocol (unsafe,
// atomic_nodirsync, atomic_dirsync) at 4 KiB, 1 MiB and 64 MiB, for
//   ckptkit save       a store save of one member (member fsynced, then the manifest through the
//                      protocol: two fsyncs where the protocol has one)
//   ckptkit write      writeFileWithProtocol of the same bytes: the protocol alone
//   floor (by hand)    the protocol's syscalls in this runtime's own sync API (bench/floor.ts)
//   write-file-atomic  the npm package (async API, fsync: true), beside atomic_nodirsync only
// and of a save of 4 members next to a hand floor writing 4 files with one directory fsync.
// After a warm-up, every implementation of every protocol at one size takes one turn per round,
// in a fresh shuffled order each round, so the disk's drift hits all of them alike. Every implementation's output is read back once, untimed,
// and compared with its input: a broken write cannot look fast. Every timed write creates a new
// file (the previous one is unlinked untimed), so none pays for freeing a replaced file's blocks.
// The orchestrator imports runProtocolBench; directly:
//   npx tsx bench/protocols.ts | npx deno run -A bench/protocols.ts | npx bun bench/protocols.ts   [--quick]
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { DurableFs } from "../src/fs.ts";
import { attempt, readFile } from "../src/fs-util.ts";
import { join } from "../src/path.ts";
import { type Protocol, PROTOCOLS, writeFileWithProtocol } from "../src/protocol.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { rng } from "../src/rng.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { type Floor, handFloor } from "./floor.ts";
import type { LatencySeries, Row, SuiteResult } from "./types.ts";
import { KiB, MiB, sizeLabel } from "./stats.ts";

const SUITE = "protocols";
export const SAVE = "ckptkit save";
export const WRITE = "ckptkit write";
export const GROUP_SAVE = "ckptkit group save";
export const FLOOR = "floor (by hand)";
export const WFA = "write-file-atomic";
const GROUP = 4;

/** Linear interpolation between the closest ranks of an ascending array. */
export function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

interface Impl {
  /** The case it belongs to, e.g. "atomic_dirsync 4 KiB". */
  case: string;
  name: string;
  /** The directory it writes in. */
  dir: string;
  /** The timed call. */
  run(): Promise<void>;
  /** Untimed, once: throws unless what run() wrote reads back equal to its input. */
  verify(): Promise<void>;
  /** Untimed, after every run: removes what it wrote. */
  reset(): Promise<void>;
}

/** One size: every protocol's implementations, measured in the same rounds. */
interface Block {
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

interface Target {
  protocol: Protocol;
  dir: string;
  store: Store;
}
interface Context {
  fs: DurableFs;
  floor: Floor;
  wfa?: WriteFileAtomic;
  data: Uint8Array;
}

function saveImpl(ctx: Context, t: Target, c: string, name: string, members: Uint8Array[]): Impl {
  let step = 0;
  return {
    case: c,
    name,
    dir: t.dir,
    async run() {
      step = (await t.store.save(members.map((data, i) => ({ name: `m${i}`, data })))).step;
    },
    async verify() {
      const got = await t.store.load(step);
      members.forEach((m, i) =>
        sameBytes(got.members.get(`m${i}`) ?? new Uint8Array(0), m, `${c} ${name} member m${i}`)
      );
    },
    // By hand rather than store.prune, which would verify every byte of what it keeps.
    async reset() {
      await ctx.fs.unlink(join(t.dir, manifestName(step)));
      // An inline member (src/store/inline.ts) has no file of its own.
      for (let i = 0; i < members.length; i++) await attempt(() => ctx.fs.unlink(join(t.dir, memberName(step, i))));
    },
  };
}

/** An implementation that writes the files `files` (their paths and bytes). */
function filesImpl(
  ctx: Context,
  t: Target,
  c: string,
  name: string,
  files: { path: string; data: Uint8Array }[],
  run: () => Promise<void> | void,
): Impl {
  return {
    case: c,
    name,
    dir: t.dir,
    async run() {
      await run();
    },
    async verify() {
      for (const f of files) sameBytes(await readFile(ctx.fs, f.path), f.data, `${c} ${name} ${f.path}`);
    },
    async reset() {
      for (const f of files) await attempt(() => ctx.fs.unlink(f.path));
    },
  };
}

function singleImpls(ctx: Context, t: Target, size: number): Impl[] {
  const { fs, floor, wfa } = ctx;
  const c = `${t.protocol} ${sizeLabel(size)}`;
  const bytes = ctx.data.subarray(0, size);
  const one = (name: string) => [{ path: join(t.dir, name), data: bytes }];
  const [w, f, a] = [one("write.bin"), one("floor.bin"), one("wfa.bin")];
  const impls = [
    saveImpl(ctx, t, c, SAVE, [bytes]),
    filesImpl(ctx, t, c, WRITE, w, () => writeFileWithProtocol(fs, w[0]!.path, bytes, t.protocol)),
    filesImpl(ctx, t, c, FLOOR, f, () => floor.write(f[0]!.path, bytes, t.protocol)),
  ];
  // It fsyncs the file but never the directory: its guarantee is atomic_nodirsync's, so it is
  // measured beside that protocol only.
  if (wfa && t.protocol === "atomic_nodirsync") {
    impls.push(filesImpl(ctx, t, c, WFA, a, () => wfa(a[0]!.path, bytes, { fsync: true })));
  }
  return impls;
}

function groupImpls(ctx: Context, t: Target, size: number): Impl[] {
  const c = `${t.protocol} group ${GROUP}x${sizeLabel(size)}`;
  const files = Array.from(
    { length: GROUP },
    (_, i) => ({ path: join(t.dir, `group-${i}.bin`), data: ctx.data.subarray(i * size, (i + 1) * size) }),
  );
  return [
    saveImpl(ctx, t, c, GROUP_SAVE, files.map((f) => f.data)),
    filesImpl(ctx, t, c, FLOOR, files, () => ctx.floor.writeGroup(t.dir, files, t.protocol)),
  ];
}

export async function runProtocolBench(
  opts: { quick: boolean; dir: string; onProgress?: (done: number, total: number) => void },
): Promise<SuiteResult> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const { quick } = opts;
  const data = new Uint8Array(Math.max(quick ? MiB : 64 * MiB, GROUP * MiB));
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const ctx: Context = { fs, floor: handFloor(runtime), wfa: await loadWriteFileAtomic(), data };
  const samples = (size: number) => size <= 4 * KiB ? (quick ? 25 : 200) : size <= MiB ? (quick ? 8 : 40) : 6;
  const warmups = (size: number) => size <= 4 * KiB ? (quick ? 3 : 10) : size <= MiB ? (quick ? 1 : 3) : 1;

  const rows: Row[] = [];
  const latencies: LatencySeries[] = [];
  const targets: Target[] = [];
  try {
    for (const protocol of PROTOCOLS) {
      const dir = join(opts.dir, `protocols-${protocol}`);
      // Opened once per protocol: open takes the writer lock and scans the directory, a cost
      // paid once per process, not per save.
      targets.push({ protocol, dir, store: await openStore(dir, { fs, protocol }) });
    }
    const blocks: Block[] = [];
    for (const size of quick ? [4 * KiB, MiB] : [4 * KiB, MiB, 64 * MiB]) {
      blocks.push({
        size,
        samples: samples(size),
        warmups: warmups(size),
        impls: targets.flatMap((t) => singleImpls(ctx, t, size)),
      });
    }
    for (const size of [4 * KiB, MiB]) {
      blocks.push({
        size: GROUP * size,
        samples: samples(size),
        warmups: warmups(size),
        impls: targets.flatMap((t) => groupImpls(ctx, t, size)),
      });
    }
    const total = blocks.reduce((n, b) => n + b.samples * b.impls.length, 0);
    let done = 0;
    const next = rng(6);
    for (const b of blocks) {
      // Each call starts on a quiet journal: the directory fsync makes what the previous call
      // and its reset left pending durable, untimed, so no call pays for another's metadata.
      const settle = async (impl: Impl) => {
        await impl.reset();
        await fs.syncDir(impl.dir);
      };
      for (let r = 0; r < b.warmups; r++) {
        for (const impl of b.impls) {
          await impl.run();
          if (r === 0) await impl.verify();
          await settle(impl);
        }
      }
      const ms = new Map<Impl, number[]>(b.impls.map((i) => [i, []]));
      const order = [...b.impls];
      for (let r = 0; r < b.samples; r++) {
        // A fresh order every round: no implementation always follows the same one.
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(next() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        for (const impl of order) {
          const t0 = performance.now();
          await impl.run();
          ms.get(impl)!.push(performance.now() - t0);
          await settle(impl);
        }
        done += order.length;
        opts.onProgress?.(done, total);
      }
      const p50 = new Map<Impl, number>();
      for (const [impl, xs] of ms) {
        latencies.push({ suite: SUITE, case: impl.case, impl: impl.name, runtime, ms: xs });
        const sorted = [...xs].sort((x, y) => x - y);
        for (const [metric, q] of [["p50", 0.5], ["p90", 0.9], ["p99", 0.99]] as const) {
          const value = quantile(sorted, q);
          rows.push({
            suite: SUITE,
            case: impl.case,
            impl: impl.name,
            runtime,
            metric,
            value,
            unit: "ms",
            size: b.size,
          });
          if (metric === "p50") p50.set(impl, value);
        }
      }
      for (const impl of b.impls.filter((i) => i.name === SAVE || i.name === WRITE || i.name === GROUP_SAVE)) {
        const floor = b.impls.find((i) => i.case === impl.case && i.name === FLOOR)!;
        rows.push({
          suite: SUITE,
          case: impl.case,
          impl: impl.name,
          runtime,
          metric: "overhead vs floor",
          value: p50.get(impl)! / p50.get(floor)!,
          unit: "x",
          size: b.size,
        });
      }
    }
  } finally {
    for (const t of targets) await t.store.close();
  }
  return { rows, latencies };
}

/** The table the direct run prints: p50 per implementation and ckptkit's overhead, per case. */
export function formatProtocolTable(rows: Row[]): string {
  const impls = [SAVE, GROUP_SAVE, WRITE, FLOOR, WFA];
  const cases = [...new Set(rows.map((r) => r.case))];
  const head = [
    "runtime".padEnd(7),
    "case".padEnd(30),
    ...impls.map((i) => i.padStart(18)),
    "save/floor".padStart(11),
    "write/floor".padStart(12),
  ];
  const lines = [head.join(" ")];
  for (const c of cases) {
    const get = (impl: string, metric: string) =>
      rows.find((r) => r.case === c && r.impl === impl && r.metric === metric)?.value;
    const fmt = (v: number | undefined, w: number, d = 3) => (v === undefined ? "-" : v.toFixed(d)).padStart(w);
    const over = get(SAVE, "overhead vs floor") ?? get(GROUP_SAVE, "overhead vs floor");
    lines.push(
      [
        rows[0]!.runtime.padEnd(7),
        c.padEnd(30),
        ...impls.map((i) => fmt(get(i, "p50"), 18)),
        fmt(over, 11, 2),
        fmt(get(WRITE, "overhead vs floor"), 12, 2),
      ].join(" "),
    );
  }
  return `p50 latency in ms\n${lines.join("\n")}`;
}

if (isMain(import.meta.url)) {
  await withScratch("protocols", async (dir) => {
    const { rows } = await runProtocolBench({ quick: args.includes("--quick"), dir });
    console.log(formatProtocolTable(rows));
  });
}
