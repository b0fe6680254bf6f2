// A seeded mutational fuzzer. Inputs are valid files mutated 1–3 times by: bit flips, byte
// insertion and deletion, "length fields" (aligned 2/4/8-byte words, mostly in the first bytes
// where headers live) set to 0 / max / negative, truncation, and splices of two valid files.
// Each input must end in success or a typed CkptError; anything else fails with the seed, the
// input number and the mutations, so `fuzz(..., { seed, only: n })` replays it alone.
import { CkptError } from "../../src/errors.ts";
import { rng } from "../../src/rng.ts";

type Next = () => number;
const int = (next: Next, lo: number, hi: number) => lo + Math.floor(next() * (hi - lo));

const INTERESTING: [number, bigint][] = [
  [4, 0n],
  [4, 0xffffffffn],
  [4, 0x7fffffffn],
  [4, 0x80000000n],
  [4, 1n],
  [8, 0n],
  [8, 0xffffffffffffffffn],
  [8, 0x7fffffffffffffffn],
  [8, 0x8000000000000000n],
  [8, 0x20000000000000n],
  [2, 0n],
  [2, 0xffffn],
  [2, 0x8000n],
];

function setWord(b: Uint8Array, at: number, width: number, v: bigint): void {
  for (let i = 0; i < width && at + i < b.length; i++) b[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** One mutation of `input` (a new array); returns it and a short description. */
export function mutateOnce(input: Uint8Array, next: Next, corpus: Uint8Array[]): [Uint8Array, string] {
  const n = input.length;
  switch (int(next, 0, 7)) {
    case 0: {
      if (n === 0) return [input, "flip (empty)"];
      const out = input.slice();
      const flips = int(next, 1, 9);
      for (let i = 0; i < flips; i++) {
        const at = int(next, 0, n);
        out[at] = out[at]! ^ (1 << int(next, 0, 8));
      }
      return [out, `flip ${flips} bits`];
    }
    case 1: {
      const at = int(next, 0, n + 1);
      const len = int(next, 1, 17);
      const out = new Uint8Array(n + len);
      out.set(input.subarray(0, at));
      for (let i = 0; i < len; i++) out[at + i] = int(next, 0, 256);
      out.set(input.subarray(at), at + len);
      return [out, `insert ${len} at ${at}`];
    }
    case 2: {
      if (n === 0) return [input, "delete (empty)"];
      const at = int(next, 0, n);
      const len = Math.min(n - at, int(next, 1, 33));
      const out = new Uint8Array(n - len);
      out.set(input.subarray(0, at));
      out.set(input.subarray(at + len), at);
      return [out, `delete ${len} at ${at}`];
    }
    case 3:
    case 4: {
      if (n < 2) return [input, "word (too short)"];
      const [width, v] = INTERESTING[int(next, 0, INTERESTING.length)]!;
      const span = next() < 0.6 ? Math.min(n, 128) : n;
      const at = Math.min(n - 1, int(next, 0, Math.max(1, Math.floor(span / width))) * width);
      const out = input.slice();
      setWord(out, at, width, v);
      return [out, `word${width * 8} at ${at} = 0x${v.toString(16)}`];
    }
    case 5: {
      const to = int(next, 0, n + 1);
      return [input.slice(0, to), `truncate to ${to}`];
    }
    default: {
      const other = corpus[int(next, 0, corpus.length)]!;
      const a = int(next, 0, n + 1);
      const b = int(next, 0, other.length + 1);
      const out = new Uint8Array(a + other.length - b);
      out.set(input.subarray(0, a));
      out.set(other.subarray(b), a);
      return [out, `splice ${a} + other from ${b}`];
    }
  }
}

export function mutate(input: Uint8Array, next: Next, corpus: Uint8Array[]): [Uint8Array, string[]] {
  let cur = input;
  const steps: string[] = [];
  const count = int(next, 1, 4);
  for (let i = 0; i < count; i++) {
    const [out, what] = mutateOnce(cur, next, corpus);
    cur = out;
    steps.push(what);
  }
  return [cur, steps];
}

export interface FuzzStats {
  runs: number;
  ok: number;
  typed: number;
  codes: Record<string, number>;
}

export interface FuzzOptions {
  seed?: number;
  iterations: number;
  /** Replay one input only (its number from a failure message). */
  only?: number;
  /** Names the target in failure messages. Every 50th input is an unmutated corpus entry. */
  label: string;
}

/**
 * The PRNG seed of input `i` of a run seeded `seed`: a hashed per-run base plus `i`, so runs with
 * different seeds are independent. (It used to be seed × 7919 + i, which made the long run's
 * seed 2 repeat seed 1 from its input 7919 on: a "new" run mostly replayed the old one.)
 */
export function inputSeed(seed: number, i: number): number {
  return (Math.floor(rng(seed)() * 4294967296) + i) >>> 0;
}

/** Runs `target` on mutated corpus inputs; throws on the first untyped error. */
export async function fuzz(
  corpus: Uint8Array[],
  target: (input: Uint8Array) => Promise<unknown>,
  o: FuzzOptions,
): Promise<FuzzStats> {
  const seed = o.seed ?? 1;
  const stats: FuzzStats = { runs: 0, ok: 0, typed: 0, codes: {} };
  for (let i = o.only ?? 0; i < (o.only !== undefined ? o.only + 1 : o.iterations); i++) {
    const next = rng(inputSeed(seed, i));
    const base = corpus[int(next, 0, corpus.length)]!;
    const [input, steps] = i % 50 === 0 ? [base, ["(unmutated)"]] : mutate(base, next, corpus);
    stats.runs++;
    try {
      await target(input);
      stats.ok++;
    } catch (err) {
      if (err instanceof CkptError) {
        stats.typed++;
        stats.codes[err.code] = (stats.codes[err.code] ?? 0) + 1;
        continue;
      }
      const e = new Error(
        `${o.label}: input ${i} (seed ${seed}; ${steps.join(", ")}; ${input.length} bytes) threw an untyped ${
          (err as Error)?.name
        }: ${(err as Error)?.message}`,
      );
      (e as { cause?: unknown }).cause = err;
      throw e;
    }
  }
  return stats;
}
