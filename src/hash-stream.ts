// The SHA-256 of a whole file, as the format reader and the member writer compute it while they
// do I/O. Large files are hashed on the process's hash worker (src/wasm/hash-worker.ts), so
// reading, CRC checks and writes on this thread overlap with SHA-256 on the other core; small
// files, or a busy or unavailable worker, hash on this thread. Both give the same digest.
import { Sha256Hasher } from "./hash.ts";
import { UsageError } from "./errors.ts";
import { acquireHashWorker, type WorkerSha256 } from "./wasm/hash-worker.ts";

/**
 * "auto": the worker for files of at least WORKER_MIN_BYTES; "on": for every file (tests);
 * "off": never. CKPTKIT_HASH_WORKER sets it for a process; setHashWorkerPolicy() overrides.
 */
export type HashWorkerPolicy = "auto" | "on" | "off";

/**
 * Below this the worker does not pay: handing a stream over costs ~0.1–0.3 ms and a round trip
 * per piece, while hashing 8 MiB takes ~13 ms on one core.
 */
export const WORKER_MIN_BYTES = 8 * 1024 * 1024;

let policy: HashWorkerPolicy | undefined;

function envPolicy(): HashWorkerPolicy {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: { env: { get(n: string): string | undefined } } };
  let v: string | undefined;
  try {
    v = g.process?.env?.CKPTKIT_HASH_WORKER ?? g.Deno?.env.get("CKPTKIT_HASH_WORKER");
  } catch {
    v = undefined; // Deno without --allow-env
  }
  if (v === undefined || v === "") return "auto";
  if (v === "auto" || v === "on" || v === "off") return v;
  throw new UsageError(`CKPTKIT_HASH_WORKER: expected auto, on or off, got ${JSON.stringify(v)}`);
}

/** Sets when files are hashed on the worker thread (see HashWorkerPolicy). */
export function setHashWorkerPolicy(p: HashWorkerPolicy): void {
  if (p !== "auto" && p !== "on" && p !== "off") throw new UsageError(`hash worker policy: expected auto, on or off, got ${JSON.stringify(p)}`);
  policy = p;
}

export function hashWorkerPolicy(): HashWorkerPolicy {
  return (policy ??= envPolicy());
}

export class StreamSha256 {
  private constructor(private readonly worker: WorkerSha256 | undefined, private readonly local: Sha256Hasher | undefined) {}

  /** A hasher for a file of `totalBytes`, on the worker when the policy says so and it is free. */
  static async open(totalBytes: number): Promise<StreamSha256> {
    const p = hashWorkerPolicy();
    const worker = p === "on" || (p === "auto" && totalBytes >= WORKER_MIN_BYTES) ? await acquireHashWorker() : undefined;
    return new StreamSha256(worker, worker ? undefined : new Sha256Hasher());
  }

  /** True when this stream is hashed on the worker thread. */
  get onWorker(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Adds bytes; the caller may reuse `bytes` once this resolves. `at`: where the same bytes
   * already sit in kernel memory (the in-thread hasher then reads them there, without a copy).
   */
  update(bytes: Uint8Array, at?: number): Promise<void> {
    if (this.worker) return this.worker.update(bytes);
    if (at === undefined) this.local!.update(bytes);
    else this.local!.updateInKernel(at, bytes.length);
    return Promise.resolve();
  }

  digest(): Promise<Uint8Array> {
    return this.worker ? this.worker.digest() : Promise.resolve(this.local!.digest());
  }

  /** Frees the worker if the stream ends without a digest (an early return or an error). */
  release(): Promise<void> {
    return this.worker ? this.worker.abandon() : Promise.resolve();
  }
}
