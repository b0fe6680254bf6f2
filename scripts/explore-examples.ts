// Runs explore() on each worked example in examples/explore/ and prints its state counts and the
// median run time of 5 runs after a warm-up, for docs/EXPLORE.md. Any runtime:
//   npx tsx scripts/explore-examples.ts | npx deno run -A scripts/explore-examples.ts | npx bun scripts/explore-examples.ts
import { explore, type ExploreOptions } from "../src/explore/explore.ts";

const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";
for (const name of ["naive", "rename-nosync", "rename-nodirsync", "full", "write-file-atomic"]) {
  const m = (await import(`../examples/explore/${name}.mjs`)) as Pick<ExploreOptions, "workload" | "check" | "setup">;
  await explore(m);
  const times: number[] = [];
  let line = "";
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = await explore({ ...m, seed: 1 });
    times.push(performance.now() - t);
    line =
      `${r.ops} ops | ${r.crashPoints} | ${r.crashStates} (${r.exhaustive} exhaustive, ${r.sampled} sampled) | ${r.violations.length}`;
  }
  times.sort((a, b) => a - b);
  console.log(`| ${name} | ${runtime} | ${line} | ${times[2]!.toFixed(2)} ms |`);
}
