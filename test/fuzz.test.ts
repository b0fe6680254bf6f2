// Hostile input for every parser, in every runtime: 20,000 seeded mutations each of checkpoint
// containers, manifests (through the full checkpoint check), log segments, member tables and
// log batches sealed with valid checksums (so the decoders behind the CRCs are reached),
// metadata blocks, and CLI argument vectors. Each must end in success or a typed CkptError — no trap, no untyped throw, no read
// buffer larger than the input justifies, no exit code outside 0..3, no stack trace printed.
// A longer run: scripts/fuzz-long.ts.
import assert from "node:assert/strict";
import { byDepth, runtime, test } from "./kit.ts";
import { fuzz } from "./lib/fuzz.ts";
import { fuzzCli } from "./lib/fuzz-cli.ts";
import {
  containerTarget,
  logTarget,
  manifestTarget,
  metadataTarget,
  sealedLogTarget,
  sealedManifestTarget,
} from "./lib/fuzz-targets.ts";

/** 20,000 per parser under Node and with CKPT_LONG=1, 4,000 under Deno and Bun in CI (kit.ts: depth). */
const N = byDepth(20_000, 20_000, 4_000);

const TARGETS = [
  ["container", containerTarget],
  ["manifest", manifestTarget],
  ["log segment", logTarget],
  ["sealed member table", () => sealedManifestTarget()],
  ["sealed member table + inline payloads", () => sealedManifestTarget(true)],
  ["sealed log batch", sealedLogTarget],
  ["metadata", metadataTarget],
] as const;

for (const [name, make] of TARGETS) {
  test(`fuzz ${name} parser (${runtime}): ${N} mutated inputs end in a result or a typed error`, async () => {
    const t = await make();
    await t.run(t.corpus[0]!); // the first corpus entry is valid and parses
    const start = Date.now();
    const s = await fuzz(t.corpus, (b) => t.run(b), { iterations: N, seed: 1, label: name });
    console.log(
      `fuzz ${name} ${runtime}: ${s.runs} inputs, ${s.ok} returned, ${s.typed} typed errors ${
        JSON.stringify(s.codes)
      }, ${((Date.now() - start) / 1000).toFixed(1)} s`,
    );
    assert.equal(s.runs, N);
    assert.equal(s.ok + s.typed, N);
  }, 300_000);
}

test("a long fuzz run holds no memory per input: the simulator's call trace starts over with each input", async () => {
  let checked = 0;
  for (const [name, make] of TARGETS) {
    const t = await make();
    if (name === "metadata") continue; // no fs
    assert.ok(t.fs, `${name} exposes its fs`);
    checked++;
    await t.run(t.corpus[0]!);
    const one = t.fs.trace.length;
    await fuzz(t.corpus, (b) => t.run(b), { iterations: 300, seed: 3, label: name });
    await t.run(t.corpus[0]!);
    assert.ok(
      one > 0 && t.fs.trace.length <= 2 * one,
      `${name}: the trace holds ${t.fs.trace.length} calls after 301 inputs, ${one} after one`,
    );
  }
  assert.equal(checked, 6);
});

test("fuzz seeds give independent runs: seed 2 does not replay seed 1's inputs", async () => {
  const corpus = [Uint8Array.from({ length: 4096 }, (_, i) => (i * 89 + 7) & 255)];
  const inputs = async (seed: number, n: number) => {
    const seen: string[] = [];
    // windows-1252 as WHATWG defines it maps every byte to its own code point: an exact key, built natively.
    const key = new TextDecoder("windows-1252");
    await fuzz(corpus, async (b) => void seen.push(key.decode(b)), { iterations: n, seed, label: "seeds" });
    return seen;
  };
  const one = new Set(await inputs(1, 10_000));
  const two = (await inputs(2, 1_000)).filter((_, i) => i % 50 !== 0); // every 50th is the unmutated corpus
  const shared = two.filter((x) => one.has(x)).length;
  // By chance some coincide (a word set to 0 at one of the first 128 bytes has few variants): ~6 %.
  // Runs whose seeds overlap shared ~98 %.
  assert.ok(
    shared < two.length / 4,
    `${shared} of seed 2's first ${two.length} mutated inputs also occur in seed 1's first 10,000`,
  );
});

test(`fuzz CLI arguments (${runtime}): ${N} argument vectors exit 0..3 without a throw or a stack trace`, async () => {
  const start = Date.now();
  const s = await fuzzCli(N, 1);
  console.log(
    `fuzz cli ${runtime}: ${s.runs} argument vectors, exit codes ${JSON.stringify(s.codes)}, ${
      ((Date.now() - start) / 1000).toFixed(1)
    } s`,
  );
  assert.equal(s.runs, N);
  assert.ok(
    (s.codes[0] ?? 0) > 0 && (s.codes[2] ?? 0) > 0,
    "both successes and usage errors occur (the vectors reach the commands)",
  );
}, 300_000);
