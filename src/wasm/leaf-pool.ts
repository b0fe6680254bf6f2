// Worker threads for v2 leaf hashing (docs/ENGINE.md, "Which thread does what"). Leaves are
// independent messages, so unlike a v1 member's one serial stream (src/wasm/hash-worker.ts) they
// spread over every core: each worker owns an instance of the same kernel build and hashes whole
// batches of equal-length messages with sha256Many (4 lanes on the SIMD build). A batch is copied
// to the worker in its message (structured clone, ~0.1 ms per MiB against ~3 ms of hashing), so
// the caller keeps its buffer and results come back by job id, in any order; the caller restores
// the order (src/format/leaf-hasher.ts).
//
// Invariants:
// - A worker has at most JOBS_PER_WORKER jobs in flight; submit() returns undefined when every
//   worker is full, and the caller hashes that batch on its own thread (it is then one of the
//   hashing threads, so `leafThreads()` threads hash in all: the caller + leafThreads() − 1 workers).
// - A worker is ref'd only while it has jobs in flight: an idle pool never keeps a process alive.
// - A worker that fails rejects its jobs with EnvironmentError and is never used again.
import { Worker } from "node:worker_threads";
import { EnvironmentError, UsageError } from "../errors.ts";
import { env } from "../env.ts";
import { hardwareThreads } from "../runtime.ts";
import { kernel, kernelBytes, scalarRoundsHere } from "./kernel.ts";

/** Two jobs per worker: one hashing, one queued behind it, so a worker never waits for the caller. */
const JOBS_PER_WORKER = 2;

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
let ex, mem, batch, dig;
parentPort.on("message", (m) => {
  try {
    if (m.op === "init") {
      ex = new WebAssembly.Instance(new WebAssembly.Module(m.wasm), { env: { abort() { throw new Error("kernel abort"); } } }).exports;
      if (m.scalarRounds) ex.sha256ScalarRounds(1);
      mem = new Uint8Array(ex.memory.buffer);
      batch = ex.leafBatchPtr(); dig = ex.digestsPtr();
      return;
    }
    if (m.len * m.count > ex.leafBatchSize() || m.count * 32 > ex.digestsSize()) throw new Error("batch too large");
    mem.set(m.bytes, batch);
    ex.sha256Many(batch, m.len, m.count, dig);
    const out = mem.slice(dig, dig + 32 * m.count);
    parentPort.postMessage({ id: m.id, digests: out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

interface Job { resolve(d: Uint8Array): void; reject(e: Error): void }

class LeafWorker {
  private readonly w: Worker;
  private readonly jobs = new Map<number, Job>();
  dead: Error | undefined;

  constructor() {
    const k = kernel();
    this.w = new Worker(WORKER_SOURCE, { eval: true });
    this.w.unref();
    this.w.on("message", (r: { id: number; digests?: Uint8Array; error?: string }) => {
      const job = this.jobs.get(r.id);
      if (!job) return;
      this.jobs.delete(r.id);
      if (this.jobs.size === 0) this.w.unref();
      if (r.digests) job.resolve(r.digests);
      else job.reject(new EnvironmentError("EWORKER", `leaf hash worker: ${r.error}`));
    });
    const fail = (err: unknown) => {
      this.dead ??= err instanceof Error ? err : new Error(String(err));
      for (const j of this.jobs.values()) j.reject(new EnvironmentError("EWORKER", `leaf hash worker stopped: ${this.dead.message}`));
      this.jobs.clear();
    };
    this.w.on("error", fail);
    this.w.on("exit", (code: number) => fail(new Error(`exited with code ${code}`)));
    this.w.postMessage({ op: "init", wasm: kernelBytes(k.variant), scalarRounds: scalarRoundsHere(k.variant) });
  }

  get free(): boolean {
    return !this.dead && this.jobs.size < JOBS_PER_WORKER;
  }

  hash(id: number, bytes: Uint8Array, len: number, count: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      this.w.ref();
      this.w.postMessage({ id, bytes, len, count });
    });
  }

  terminate(): void {
    this.dead ??= new Error("terminated");
    void this.w.terminate();
  }
}

let threads: number | undefined;
const workers: LeafWorker[] = [];
let spawnFailed = false;
let nextId = 1;

function envThreads(): number | undefined {
  const v = env("CKPTKIT_HASH_THREADS");
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`CKPTKIT_HASH_THREADS: expected 1..256, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Threads that hash v2 leaves: the caller's + (this − 1) workers. Default 1 (the caller's thread,
 * 4 lanes): measured on the 2-core machines here (docs/BENCH.md, "Format v2"), a worker made
 * hashing slower in Node and Bun (no idle core to run on) and ~30× slower in Deno (message
 * delivery from node:worker_threads workers); CKPTKIT_HASH_THREADS=N or setLeafThreads(N) turns
 * the pool on, e.g. availableParallelism() on a machine with idle cores.
 */
export function leafThreads(): number {
  return threads ?? envThreads() ?? 1;
}

/** The machine's cores: the largest useful leafThreads() (benchmarks sweep 1..this). */
export function cores(): number {
  return hardwareThreads();
}

/** Sets the number of leaf-hashing threads (1 = the caller's thread only); undefined restores the default. */
export function setLeafThreads(n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 256)) throw new UsageError(`leaf threads: expected 1..256, got ${n}`);
  threads = n;
  // Fewer threads now: the extra workers are stopped (none has a job: calls are not concurrent with this).
  while (workers.length > Math.max(0, leafThreads() - 1)) workers.pop()!.terminate();
}

/** Workers the pool would use; 0 when leafThreads() is 1 or workers cannot start here. */
export function poolSize(): number {
  return spawnFailed ? 0 : Math.max(0, leafThreads() - 1);
}

/**
 * Hashes `count` messages of `len` bytes laid end to end in `bytes` on a free worker, or returns
 * undefined when none is free (the caller hashes the batch itself). Resolves to count × 32 bytes.
 */
export function submitLeaves(bytes: Uint8Array, len: number, count: number): Promise<Uint8Array> | undefined {
  const want = poolSize();
  for (let i = workers.length - 1; i >= 0; i--) if (workers[i]!.dead) workers.splice(i, 1);
  let w = workers.find((x) => x.free);
  if (!w && workers.length < want) {
    try {
      w = new LeafWorker();
      workers.push(w);
    } catch {
      spawnFailed = true;
      return undefined;
    }
  }
  return w?.hash(nextId++, bytes, len, count);
}
