// Where inline members pay (docs/BENCH.md, "Inline members"): one store save of one member under
// atomic_dirsync, stored inline (in the manifest: one file, the protocol's two fsyncs) and as a
// member file of its own (member fsync, then the manifest: three), beside the hand-written floor
// (bench/floor.ts: temp, write, fsync, rename, directory fsync), at 4 KiB, 64 KiB, 256 KiB and
// 1 MiB. As in bench/protocols.ts, every implementation takes one turn per round in a fresh
// shuffled order, each call starts on a settled directory, and every output is read back once.
//   npx tsx bench/inline.ts | npx deno run -A bench/inline.ts | npx bun bench/inline.ts   [--quick]
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { DurableFs } from "../src/fs.ts";
import { attempt, readFile } from "../src/fs-util.ts";
import { join } from "../src/path.ts";
import { writeFileWithProtocol } from "../src/protocol.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { INLINE_TOTAL_MAX } from "../src/store/inline.ts";
import { rng } from "../src/rng.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { handFloor } from "./floor.ts";
import { quantile } from "./protocols.ts";
import { KiB, MiB, sizeLabel } from "./stats.ts";

export const INLINE = "save, inline";
export const SEPARATE = "save, member file";
export const FLOOR = "floor (by hand)";
export const WRITE = "protocol write";

interface Impl {
  name: string;
  dir: string;
  run(): Promise<void> | void;
  check(): Promise<void>;
  reset(): Promise<void>;
}

function same(a: Uint8Array, b: Uint8Array, what: string): void {
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) throw new Error(`${what}: read back other bytes`);
}

function saveImpl(fs: DurableFs, name: string, store: Store, data: Uint8Array): Impl {
  let step = 0;
  return {
    name,
    dir: store.dir,
    async run() {
      step = (await store.save([{ name: "m", data }])).step;
    },
    async check() {
      same((await store.load(step)).members.get("m")!, data, name);
    },
    async reset() {
      await fs.unlink(join(store.dir, manifestName(step)));
      await attempt(() => fs.unlink(join(store.dir, memberName(step, 0))));
    },
  };
}

export interface InlineRow {
  runtime: string;
  size: number;
  impl: string;
  p50: number;
  ratio: number;
}

export async function runInlineBench(opts: { quick: boolean; dir: string; sizes?: number[] }): Promise<InlineRow[]> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const floor = handFloor(runtime);
  const data = new Uint8Array(MiB);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const inline = await openStore(join(opts.dir, "inline"), { fs, inlineMax: INLINE_TOTAL_MAX });
  const separate = await openStore(join(opts.dir, "separate"), { fs, inlineMax: 0 });
  const rows: InlineRow[] = [];
  const next = rng(16);
  try {
    for (const size of opts.sizes ?? [4 * KiB, 64 * KiB, 256 * KiB, MiB]) {
      const bytes = data.subarray(0, size);
      const floorPath = join(opts.dir, "floor.bin");
      const writePath = join(opts.dir, "write.bin");
      const impls: Impl[] = [
        saveImpl(fs, INLINE, inline, bytes),
        saveImpl(fs, SEPARATE, separate, bytes),
        {
          name: FLOOR,
          dir: opts.dir,
          run: () => floor.write(floorPath, bytes, "atomic_dirsync"),
          async check() {
            same(await readFile(fs, floorPath), bytes, FLOOR);
          },
          async reset() {
            await fs.unlink(floorPath);
          },
        },
        {
          // The protocol alone (writeFileWithProtocol of the payload): what the save adds above it is the format's.
          name: WRITE,
          dir: opts.dir,
          run: () => writeFileWithProtocol(fs, writePath, bytes, "atomic_dirsync"),
          async check() {
            same(await readFile(fs, writePath), bytes, WRITE);
          },
          async reset() {
            await fs.unlink(writePath);
          },
        },
      ];
      const samples = opts.quick ? (size <= 64 * KiB ? 30 : 10) : (size <= 64 * KiB ? 120 : 40);
      const settle = async (i: Impl) => {
        await i.reset();
        await fs.syncDir(i.dir);
      };
      for (const i of impls) {
        await i.run();
        await i.check();
        await settle(i);
        await i.run();
        await settle(i);
      }
      const ms = new Map<Impl, number[]>(impls.map((i) => [i, []]));
      const order = [...impls];
      for (let r = 0; r < samples; r++) {
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(next() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        for (const i of order) {
          const t0 = performance.now();
          await i.run();
          ms.get(i)!.push(performance.now() - t0);
          await settle(i);
        }
      }
      const p50 = new Map(impls.map((i) => [i.name, quantile([...ms.get(i)!].sort((x, y) => x - y), 0.5)]));
      for (const i of impls) {
        rows.push({ runtime, size, impl: i.name, p50: p50.get(i.name)!, ratio: p50.get(i.name)! / p50.get(FLOOR)! });
      }
    }
  } finally {
    await inline.close();
    await separate.close();
  }
  return rows;
}

export function formatInlineTable(rows: InlineRow[]): string {
  const lines = [
    `${"runtime".padEnd(7)} ${"size".padEnd(8)} ${"inline ms".padStart(10)} ${"file ms".padStart(10)} ${
      "write ms".padStart(10)
    } ${"floor ms".padStart(10)} ${"inline/floor".padStart(13)} ${"file/floor".padStart(11)} ${
      "write/floor".padStart(12)
    } ${"inline/file".padStart(12)}`,
  ];
  for (const size of [...new Set(rows.map((r) => r.size))]) {
    const get = (impl: string) => rows.find((r) => r.size === size && r.impl === impl)!;
    const [a, b, w, f] = [get(INLINE), get(SEPARATE), get(WRITE), get(FLOOR)];
    lines.push(
      `${a.runtime.padEnd(7)} ${sizeLabel(size).padEnd(8)} ${a.p50.toFixed(3).padStart(10)} ${
        b.p50.toFixed(3).padStart(10)
      } ${w.p50.toFixed(3).padStart(10)} ${f.p50.toFixed(3).padStart(10)} ${a.ratio.toFixed(2).padStart(13)} ${
        b.ratio.toFixed(2).padStart(11)
      } ${w.ratio.toFixed(2).padStart(12)} ${(a.p50 / b.p50).toFixed(2).padStart(12)}`,
    );
  }
  return `p50 latency, one member, atomic_dirsync\n${lines.join("\n")}`;
}

if (isMain(import.meta.url)) {
  await withScratch("inline", async (dir) => {
    const sizes = args.find((a) => a.startsWith("--sizes="))?.slice(8).split(",").map((k) => Number(k) * KiB);
    console.log(formatInlineTable(await runInlineBench({ quick: args.includes("--quick"), dir, sizes })));
  });
}
