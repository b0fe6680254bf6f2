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

/** Deterministic PRNG (mulberry32, the same one the experiments use), so failures reproduce from a seed. */
export { rng } from "../src/rng.ts";

export function randomBytes(n: number, next: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}
