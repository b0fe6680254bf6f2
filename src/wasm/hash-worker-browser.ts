// src/wasm/hash-worker.ts for the browser build (swapped in by tsup.config.ts): the Node worker
// thread it spawns does not exist there, so every stream hashes on the caller's thread, which in
// the browser is already a dedicated worker (OPFS sync handles exist only there). Same digests.
export type { WorkerSha256 } from "./hash-worker.ts";
import type { WorkerSha256 } from "./hash-worker.ts";

export async function acquireHashWorker(): Promise<WorkerSha256 | undefined> {
  return undefined;
}
