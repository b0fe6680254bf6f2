// Atomics.waitAsync, typed: how a thread that must not block (the caller's event loop) waits for
// a worker's change to shared memory (src/wasm/hash-worker.ts, src/wasm/leaf-pool.ts). Node 16+,
// Deno and Bun have it; some browsers' older engines do not, so it may be undefined.

/** Atomics.waitAsync's signature (absent from the TypeScript lib this project targets). */
export type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
  ms: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };

export const waitAsync: WaitAsync | undefined = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
