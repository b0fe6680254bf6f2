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

/** Deterministic PRNG (mulberry32), so every failure reproduces from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(n: number, next: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}
