// The 4 KiB save latency of this checkout against another one (e.g. the commit before a change),
// in one process and one run: each round saves once with each, in a shuffled order, so the
// disk's drift and the machine's load hit both alike. The ratio of medians is the number.
//   npx tsx bench/latency-ab.ts --before /path/to/other/checkout [--rounds 300] [--size 4096] [--warmup 20]
// (also `npx deno run -A …` and `npx bun …`). Both checkouts' stores are opened in scratch dirs.
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { DurableFs } from "../src/fs.ts";
import { openStore } from "../src/store/store.ts";
import { median } from "./stats.ts";

interface SaveOnly {
  save(m: { name: string; data: Uint8Array }[]): Promise<unknown>;
  close(): Promise<void>;
}
type Open = (dir: string, options: { fs: DurableFs }) => Promise<SaveOnly>;

export async function latencyAB(before: Open, after: Open, dir: string, rounds: number, size: number, warmup = 20) {
  const data = new Uint8Array(size).fill(7);
  const impls = [{
    name: "before",
    s: await before(
      `${dir}/before`,
      {} as { fs: DurableFs },
    ), /* no fs: the old checkout picks its own adapter, as it did */
    ms: [] as number[],
  }, { name: "after", s: await after(`${dir}/after`, { fs: defaultFs() }), ms: [] as number[] }];
  for (let r = 0; r < rounds + warmup; r++) {
    const order = Math.random() < 0.5 ? impls : [...impls].reverse();
    for (const i of order) {
      const t0 = performance.now();
      await i.s.save([{ name: "m", data }]);
      if (r >= warmup) i.ms.push(performance.now() - t0);
    }
  }
  for (const i of impls) await i.s.close();
  const [b, a] = impls.map((i) => median(i.ms));
  return { before: b!, after: a!, ratio: a! / b! };
}

if (isMain(import.meta.url)) {
  const opt = (k: string) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const other = opt("--before");
  if (!other) throw new Error("--before <checkout> is required");
  const mod = (await import(`${other}/src/store/store.ts`)) as { openStore: Open };
  await withScratch("latency-ab", async (dir) => {
    const r = await latencyAB(
      mod.openStore,
      openStore,
      dir,
      Number(opt("--rounds") ?? 300),
      Number(opt("--size") ?? 4096),
      Number(opt("--warmup") ?? 20),
    );
    console.log(
      `${detectRuntime()}: ${Number(opt("--size") ?? 4096)} B save median before ${r.before.toFixed(3)} ms, after ${
        r.after.toFixed(3)
      } ms, ratio ${r.ratio.toFixed(3)}`,
    );
  });
}
