// adapters/detect.ts for the browser build (tsup's browser entry swaps it in, see
// tsup.config.ts): the one runtime is the browser and its storage is OPFS, so the store and the
// log default to opfsFs() exactly as they default to the runtime's adapter elsewhere. Node's,
// Deno's and Bun's adapters (node: imports) never reach the bundle.
import type { DurableFs } from "../src/fs.ts";
import { opfsFs } from "./opfs.ts";

export type Runtime = "node" | "deno" | "bun" | "browser";

export function detectRuntime(): Runtime {
  return "browser";
}

let cached: DurableFs | undefined;

export function defaultFs(): DurableFs {
  return (cached ??= opfsFs());
}
