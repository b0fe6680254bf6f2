// The SHA-256 of a whole file, as the format reader and the member writer compute it while they
// do I/O. A large file hashed while another large one is already being hashed on this thread goes
// to the process's hash worker (src/wasm/hash-worker.ts): two members checked at once then use
// both cores. A lone stream stays on this thread: measured, moving it to the worker only trades
// this thread's reads and CRCs (~15% of a verify) for the copy into the worker's ring, and
// costs a worker start (12–46 ms) in a one-shot CLI. Both paths give the same digest.
import { Sha256Hasher } from "./hash.ts";
import { UsageError } from "./errors.ts";
import { env } from "./env.ts";
import { acquireHashWorker, type WorkerSha256 } from "./wasm/hash-worker.ts";

/**
 * "auto": the worker for a file of at least WORKER_MIN_BYTES while another such file is being
 * hashed on this thread; "on": the worker for every file while it is free (tests); "off": never.
 * CKPTKIT_HASH_WORKER sets it for a process; setHashWorkerPolicy() overrides.
 */
export type HashWorkerPolicy = "auto" | "on" | "off";

/** Below this a second stream is not worth a worker (hashing 8 MiB takes ~13 ms on one core). */
export const WORKER_MIN_BYTES = 8 * 1024 * 1024;

let policy: HashWorkerPolicy | undefined;
/** Streams of at least WORKER_MIN_BYTES open on this thread now. */
let largeLocal = 0;
let workerStreams = 0;

/** How many streams this process has hashed on the worker so far (tests, benchmarks). */
export function workerStreamCount(): number {
  return workerStreams;
}

function envPolicy(): HashWorkerPolicy {
  const v = env("CKPTKIT_HASH_WORKER");
  if (v === undefined || v === "") return "auto";
  if (v === "auto" || v === "on" || v === "off") return v;
  throw new UsageError(`CKPTKIT_HASH_WORKER: expected auto, on or off, got ${JSON.stringify(v)}`);
}

/** Sets when files are hashed on the worker thread (see HashWorkerPolicy). */
export function setHashWorkerPolicy(p: HashWorkerPolicy): void {
  if (p !== "auto" && p !== "on" && p !== "off") {
    throw new UsageError(`hash worker policy: expected auto, on or off, got ${JSON.stringify(p)}`);
  }
  policy = p;
}

export function hashWorkerPolicy(): HashWorkerPolicy {
  return (policy ??= envPolicy());
}

export class StreamSha256 {
  private ended = false;

  private constructor(
    private readonly worker: WorkerSha256 | undefined,
    private readonly local: Sha256Hasher | undefined,
    private readonly large: boolean,
  ) {
    if (large) largeLocal++;
  }

  /** A hasher for a file of `totalBytes`, on the worker when the policy says so and it is free. */
  static async open(totalBytes: number): Promise<StreamSha256> {
    const p = hashWorkerPolicy();
    const big = totalBytes >= WORKER_MIN_BYTES;
    const worker = p === "on" || (p === "auto" && big && largeLocal > 0) ? await acquireHashWorker() : undefined;
    if (worker) workerStreams++;
    return worker ? new StreamSha256(worker, undefined, false) : new StreamSha256(undefined, new Sha256Hasher(), big);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.large) largeLocal--;
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
    this.finish();
    return this.worker ? this.worker.digest() : Promise.resolve(this.local!.digest());
  }

  /** Frees the worker if the stream ends without a digest (an early return or an error). */
  release(): Promise<void> {
    this.finish();
    return this.worker ? this.worker.abandon() : Promise.resolve();
  }
}
