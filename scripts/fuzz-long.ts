// The long fuzz run (CI runs 20,000 inputs per parser in test/fuzz.test.ts):
//   npx tsx scripts/fuzz-long.ts [inputs per parser, default 500000] [seed, default 1]
//   npx deno run -A scripts/fuzz-long.ts 500000 / npx bun scripts/fuzz-long.ts 500000
// Exits 1 with the reproducing seed and input number on the first failure.
import process from "node:process";
import { fuzz } from "../test/lib/fuzz.ts";
import { fuzzCli } from "../test/lib/fuzz-cli.ts";
import {
  containerTarget,
  logTarget,
  manifestTarget,
  metadataTarget,
  sealedLogTarget,
  sealedManifestTarget,
} from "../test/lib/fuzz-targets.ts";

const g = globalThis as { Deno?: { args: string[] } };
const args = g.Deno ? g.Deno.args : process.argv.slice(2);
const n = Number(args[0] ?? 500_000);
const seed = Number(args[1] ?? 1);
const rt = g.Deno ? "deno" : "Bun" in globalThis ? "bun" : "node";

try {
  const targets = [
    ["container", containerTarget],
    ["manifest", manifestTarget],
    ["log segment", logTarget],
    ["sealed member table", sealedManifestTarget],
    ["sealed log batch", sealedLogTarget],
    ["metadata", metadataTarget],
  ] as const;
  for (const [name, make] of targets) {
    const t = await make();
    const start = Date.now();
    const s = await fuzz(t.corpus, (b) => t.run(b), { iterations: n, seed, label: name });
    console.log(
      `${rt} ${name}: ${s.runs} inputs (seed ${seed}), ${s.ok} returned, ${s.typed} typed errors ${
        JSON.stringify(s.codes)
      }, ${((Date.now() - start) / 1000).toFixed(1)} s`,
    );
  }
  const start = Date.now();
  const c = await fuzzCli(Math.min(n, 200_000), seed);
  console.log(
    `${rt} cli: ${c.runs} argument vectors, exit codes ${JSON.stringify(c.codes)}, ${
      ((Date.now() - start) / 1000).toFixed(1)
    } s`,
  );
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
