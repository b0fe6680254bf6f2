// The one place that decides which adapter serves this runtime (detectRuntime, in src/runtime.ts,
// says which runtime it is). Only entry points import this: the core takes `fs` as an argument.
import type { DurableFs } from "../src/fs.ts";
import { bunFs } from "./bun.ts";
import { denoFs } from "./deno.ts";
import { nodeFs } from "./node.ts";
import { detectRuntime } from "../src/runtime.ts";

export { detectRuntime, type Runtime } from "../src/runtime.ts";

let cached: DurableFs | undefined;

export function defaultFs(): DurableFs {
  if (cached) return cached;
  const rt = detectRuntime();
  cached = rt === "deno" ? denoFs() : rt === "bun" ? bunFs() : nodeFs();
  return cached;
}
