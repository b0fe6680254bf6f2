// The one module of the core that looks at the runtime's globals (Deno, Bun, process):
// scripts/check-runtime-globals.mjs fails CI if any other core file names them. Everything that
// must know the runtime asks detectRuntime(); adapters/detect.ts picks the adapter with it.

export type Runtime = "node" | "deno" | "bun";

export function detectRuntime(): Runtime {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (typeof g.Bun !== "undefined") return "bun";
  if (typeof g.Deno !== "undefined") return "deno";
  return "node";
}

/**
 * Reads an environment variable the same way in Node, Bun and Deno. Deno without --allow-env
 * throws on access: that reads as unset, so every setting falls back to its default.
 */
export function env(name: string): string | undefined {
  const g = globalThis as {
    process?: { env?: Record<string, string | undefined> };
    Deno?: { env: { get(n: string): string | undefined } };
  };
  try {
    return g.process?.env?.[name] ?? g.Deno?.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The machine's logical cores, the same way in Node, Bun and Deno (navigator where the runtime
 * has one; Node 20 has none, its os module is reached without a static import so the core stays
 * free of node:* imports). At least 1.
 */
export function hardwareThreads(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (id: string) => { availableParallelism?: () => number } | undefined };
  };
  const n = g.navigator?.hardwareConcurrency ?? g.process?.getBuiltinModule?.("node:os")?.availableParallelism?.();
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1;
}
