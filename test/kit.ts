// One test API for three runners: vitest under Node, Deno.test under Deno, bun:test under Bun.
// Test files import { test } from here and assert with node:assert/strict, so the same file
// runs unchanged everywhere and no runtime is silently skipped.
type Fn = () => void | Promise<void>;
type TestFn = (name: string, fn: Fn, timeoutMs?: number) => void;

const g = globalThis as { Deno?: { test(o: object): void }; Bun?: unknown };

async function pick(): Promise<TestFn> {
  if (g.Deno) {
    const D = g.Deno;
    return (name, fn) => D.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
  }
  if (g.Bun) {
    const { test } = (await import("bun:test" as string)) as { test: (n: string, f: Fn, t?: number) => void };
    return (name, fn, t) => test(name, fn, t ?? 120_000);
  }
  const { test } = await import("vitest");
  return (name, fn, t) => test(name, fn, t ?? 120_000);
}

export const test: TestFn = await pick();

export const runtime: "node" | "deno" | "bun" = g.Deno ? "deno" : g.Bun ? "bun" : "node";

/**
 * How deep the compute-heavy experiments go in this run (the crash-state explorer, the parser
 * fuzzers, the kill loops): "long" with CKPT_LONG=1; in CI, "full" under the Node runner and
 * "reduced" under Deno and Bun, which run the same code at a smaller count. Those experiments
 * are the same JavaScript in every runtime (the simulator, the decoders); what differs per
 * runtime is the adapters and process handling, which every other test covers in full. The
 * suite has to stay well under 15 minutes on two cores, and three full copies did not.
 */
export const depth: "long" | "full" | "reduced" =
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.CKPT_LONG === "1"
    ? "long"
    : runtime === "node"
    ? "full"
    : "reduced";

/** Picks a count by depth: `long`, `full` (Node in CI), `reduced` (Deno and Bun in CI). */
export function byDepth<T>(long: T, full: T, reduced: T): T {
  return depth === "long" ? long : depth === "full" ? full : reduced;
}

/** Deterministic PRNG (mulberry32, the same one the experiments use), so failures reproduce from a seed. */
export { rng } from "../src/rng.ts";

export function randomBytes(n: number, next: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}
