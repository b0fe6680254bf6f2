// The browser build's leaf pool (tsup.config.ts swaps it for leaf-pool.ts): no node:worker_threads
// there, so v2 leaves are always hashed on the caller's thread, in 4-lane batches. Same exports,
// same results: a pool is only ever a speed-up (src/format/leaf-hasher.ts hashes locally whenever
// reserveLeafSlot returns undefined).

import type { PoolSlot } from "./leaf-pool.ts";

/** Threads that hash v2 leaves: the caller's only. */
export function leafThreads(): number {
  return 1;
}

/** The page's logical processors (benchmarks sweep 1..this). */
export function cores(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === "number" && n > 0 ? n : 1;
}

/** Accepted for API parity; the browser build has no pool to size. */
export function setLeafThreads(_n: number | undefined): void {}

/** No workers in the browser build. */
export function poolSize(): number {
  return 0;
}

/** Never has a slot: the caller gathers and hashes every batch itself. */
export function reserveLeafSlot(_spawn = false): PoolSlot | undefined {
  return undefined;
}

/** No pool to warm. */
export function warmLeafPool(): Promise<void> {
  return Promise.resolve();
}
