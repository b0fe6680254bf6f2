// The one place that decides which runtime we are in and which adapter serves it.
import type { DurableFs } from "../src/fs.ts";
import { bunFs } from "./bun.ts";
import { denoFs } from "./deno.ts";
import { nodeFs } from "./node.ts";

export type Runtime = "node" | "deno" | "bun";

export function detectRuntime(): Runtime {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (typeof g.Bun !== "undefined") return "bun";
  if (typeof g.Deno !== "undefined") return "deno";
  return "node";
}

let cached: DurableFs | undefined;

export function defaultFs(): DurableFs {
  if (cached) return cached;
  const rt = detectRuntime();
  cached = rt === "deno" ? denoFs() : rt === "bun" ? bunFs() : nodeFs();
  return cached;
}
