// Worker threads for v2 leaf hashing (docs/ENGINE.md, "Which thread does what"). Leaves are
// independent messages, so unlike a v1 member's one serial stream (src/wasm/hash-worker.ts) they
// spread over every core: each worker owns an instance of the same kernel build and hashes whole
// batches of equal-length messages with sha256Many (4 lanes on the SIMD build).
//
// Batches live in job slots in a SharedArrayBuffer, not in messages (the first pool posted each
// batch and got its digests back by message: in Deno, whose worker messages reach a busy caller
// late, that made hashing ~30× slower). The caller reserves a free slot, gathers a batch straight
// into it (src/format/leaf-hasher.ts: no copy beyond the one into the batch) and marks it READY;
// the worker, lingering in Atomics.wait, hashes it, writes the digests beside it and marks it
// DONE; the caller learns that by Atomics.waitAsync, with no message and no turn of the worker's
// event loop. A message is sent only to wake a worker that has gone idle (nothing for LINGER_MS).
//
// Invariants:
// - A slot is FREE → RESERVED (caller: a batch is being gathered in it) → READY (caller) → DONE
//   or FAILED (worker) → FREE (caller, once nothing reads the batch's bytes: a reader hands them
//   to its consumer after the digests arrive). Only the caller moves a slot to RESERVED, READY or
//   FREE; only the worker to DONE or FAILED, and the pool marks a dead worker's slots FAILED.
// - IDLE: the worker stores 1, then looks for a READY slot once more; the caller marks a slot
//   READY, then reads IDLE and posts a wake-up if it is 1. Both are sequentially consistent, so a
//   batch is never left READY with the worker asleep in its event loop.
// - The worker hashes any READY slot (round robin), so batches of two hashers in flight at once
//   never wait on each other's order; each batch's completion is its own.
// - reserve() returns undefined when no warm worker has a free slot: the caller then gathers and
//   hashes that batch on its own thread (it is one of the hashing threads, so `leafThreads()`
//   threads hash in all: the caller + leafThreads() − 1 workers). A worker takes batches only
//   once WARM (its kernel instantiated), so a cold pool never holds a call up.
// - A worker is ref'd only while it has slots READY (or is waited for by warmLeafPool): an idle
//   pool never keeps a process alive.
import { Worker } from "node:worker_threads";
import { EnvironmentError, UsageError } from "../errors.ts";
import { env } from "../env.ts";
import { hardwareThreads } from "../runtime.ts";
import { kernel, kernelBytes, scalarRoundsHere } from "./kernel.ts";
import { waitAsync } from "./wait-async.ts";

/** Slots per worker: one being gathered, one hashing, one queued or being consumed. */
const JOBS_PER_WORKER = 3;
/** After its last batch a worker waits this long for the next before it goes idle. */
const LINGER_MS = 20;
/** Slot states (Int32 in ctrl). */
const FREE = 0, RESERVED = 1, READY = 2, DONE = 3, FAILED = 4;
/** ctrl layout: SIGNAL (bumped by the caller after every READY), IDLE, WARM, then per slot STATE, LEN, COUNT. */
const SIGNAL = 0, IDLE = 1, WARM = 2, SLOT_CTRL = 3, SLOT_INTS = 3;
/** A waiter re-checks a silent worker this often (a worker that died is seen by its exit event). */
const WAIT_SLICE_MS = 1000;

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const JOBS = ${JOBS_PER_WORKER}, LINGER_MS = ${LINGER_MS}, READY = ${READY}, DONE = ${DONE}, FAILED = ${FAILED};
const SIGNAL = ${SIGNAL}, IDLE = ${IDLE}, WARM = ${WARM}, SLOT_CTRL = ${SLOT_CTRL}, SLOT_INTS = ${SLOT_INTS};
let ex, mem, batch, dig, ctrl, data, inSize, outSize, next = 0;
function hashSlot(s) {
  const c = SLOT_CTRL + s * SLOT_INTS;
  const len = ctrl[c + 1], count = ctrl[c + 2];
  try {
    if (len * count > ex.leafBatchSize() || count * 32 > ex.digestsSize() || len * count > inSize) throw new Error("batch too large");
    const at = s * (inSize + outSize);
    mem.set(data.subarray(at, at + len * count), batch);
    ex.sha256Many(batch, len, count, dig);
    data.set(mem.subarray(dig, dig + 32 * count), at + inSize);
    Atomics.store(ctrl, c, DONE);
  } catch (err) {
    Atomics.store(ctrl, c, FAILED);
  }
  Atomics.notify(ctrl, c);
}
/** The next READY slot, round robin from the last one hashed, or -1. */
function ready() {
  for (let k = 0; k < JOBS; k++) {
    const s = (next + k) % JOBS;
    if (Atomics.load(ctrl, SLOT_CTRL + s * SLOT_INTS) === READY) return s;
  }
  return -1;
}
function run() {
  Atomics.store(ctrl, IDLE, 0);
  for (;;) {
    const sig = Atomics.load(ctrl, SIGNAL);
    const s = ready();
    if (s >= 0) {
      hashSlot(s);
      next = s + 1;
      continue;
    }
    if (Atomics.wait(ctrl, SIGNAL, sig, LINGER_MS) !== "timed-out") continue;
    Atomics.store(ctrl, IDLE, 1);
    if (ready() >= 0) { Atomics.store(ctrl, IDLE, 0); continue; }
    return;
  }
}
parentPort.on("message", (m) => {
  if (m.op === "init") {
    ex = new WebAssembly.Instance(new WebAssembly.Module(m.wasm), { env: { abort() { throw new Error("kernel abort"); } } }).exports;
    if (m.scalarRounds) ex.sha256ScalarRounds(1);
    mem = new Uint8Array(ex.memory.buffer);
    batch = ex.leafBatchPtr(); dig = ex.digestsPtr();
    ctrl = new Int32Array(m.ctrl); data = new Uint8Array(m.data); inSize = m.inSize; outSize = m.outSize;
    Atomics.store(ctrl, WARM, 1);
    Atomics.notify(ctrl, WARM);
  }
  run();
});
`;

/** A worker's job slot, reserved by the caller: gather a batch into `bytes`, then submit or release. */
export interface PoolSlot {
  /** Where the batch is gathered (the slot's input area, a SharedArrayBuffer view). */
  readonly bytes: Uint8Array;
  /** Hands `count` messages of `len` bytes (laid end to end from bytes[0]) to the worker; resolves to count × 32 bytes of digests. */
  submit(len: number, count: number): Promise<Uint8Array>;
  /** Frees the slot; `bytes` must not be used after. Call once, after submit settled or instead of it. */
  release(): void;
}

class LeafWorker {
  private readonly w: Worker;
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private readonly inSize: number;
  private readonly outSize: number;
  private ready = 0;
  dead: Error | undefined;

  constructor() {
    const k = kernel();
    this.inSize = k.exports.leafBatchSize();
    this.outSize = k.digestsSize;
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (SLOT_CTRL + JOBS_PER_WORKER * SLOT_INTS)));
    this.data = new Uint8Array(new SharedArrayBuffer(JOBS_PER_WORKER * (this.inSize + this.outSize)));
    Atomics.store(this.ctrl, IDLE, 1);
    this.w = new Worker(WORKER_SOURCE, { eval: true });
    this.w.unref();
    const fail = (err: unknown) => {
      this.dead ??= err instanceof Error ? err : new Error(String(err));
      for (let s = 0; s < JOBS_PER_WORKER; s++) {
        const c = SLOT_CTRL + s * SLOT_INTS;
        if (Atomics.compareExchange(this.ctrl, c, READY, FAILED) === READY) Atomics.notify(this.ctrl, c);
      }
    };
    this.w.on("error", fail);
    this.w.on("exit", (code: number) => fail(new Error(`exited with code ${code}`)));
    this.w.postMessage({
      op: "init",
      wasm: kernelBytes(k.variant),
      scalarRounds: scalarRoundsHere(k.variant),
      ctrl: this.ctrl.buffer,
      data: this.data.buffer,
      inSize: this.inSize,
      outSize: this.outSize,
    });
  }

  /** Whether the worker has its kernel instantiated (it takes batches only then). */
  get warm(): boolean {
    return !this.dead && Atomics.load(this.ctrl, WARM) === 1;
  }

  /** Resolves once the worker is warm (or dead). */
  async warmed(): Promise<void> {
    // Ref'd while waited for: a pending waitAsync does not keep every runtime's loop alive (Deno).
    this.w.ref();
    try {
      while (!this.dead && Atomics.load(this.ctrl, WARM) !== 1) {
        const r = waitAsync!(this.ctrl, WARM, 0, 100);
        if (r.async) await r.value;
      }
    } finally {
      if (this.ready === 0) this.w.unref();
    }
  }

  /** A free slot of this worker, now RESERVED, or undefined (none free, or not warm yet). */
  reserve(): PoolSlot | undefined {
    if (!this.warm) return undefined;
    for (let s = 0; s < JOBS_PER_WORKER; s++) {
      const c = SLOT_CTRL + s * SLOT_INTS;
      if (Atomics.load(this.ctrl, c) !== FREE) continue;
      Atomics.store(this.ctrl, c, RESERVED);
      const at = s * (this.inSize + this.outSize);
      let released = false;
      return {
        bytes: this.data.subarray(at, at + this.inSize),
        submit: (len, count) => this.submit(c, at, len, count),
        release: () => {
          if (released) return;
          released = true;
          Atomics.store(this.ctrl, c, FREE);
        },
      };
    }
    return undefined;
  }

  private submit(c: number, at: number, len: number, count: number): Promise<Uint8Array> {
    if (len * count > this.inSize || 32 * count > this.outSize) {
      return Promise.reject(new RangeError("leaf batch larger than a slot"));
    }
    if (this.dead) {
      return Promise.reject(new EnvironmentError("EWORKER", `leaf hash worker stopped: ${this.dead.message}`));
    }
    this.ctrl[c + 1] = len;
    this.ctrl[c + 2] = count;
    Atomics.store(this.ctrl, c, READY);
    Atomics.add(this.ctrl, SIGNAL, 1);
    Atomics.notify(this.ctrl, SIGNAL);
    if (this.ready++ === 0) this.w.ref();
    if (Atomics.load(this.ctrl, IDLE) === 1) this.w.postMessage({ op: "run" });
    return this.completion(c, at, count);
  }

  /** Waits (Atomics.waitAsync: the caller's loop keeps turning) for slot `c` to leave READY. */
  private async completion(c: number, at: number, count: number): Promise<Uint8Array> {
    try {
      for (;;) {
        const st = Atomics.load(this.ctrl, c);
        if (st === DONE) return this.data.slice(at + this.inSize, at + this.inSize + 32 * count);
        if (st === FAILED) {
          throw new EnvironmentError("EWORKER", `leaf hash worker failed${this.dead ? `: ${this.dead.message}` : ""}`);
        }
        const r = waitAsync!(this.ctrl, c, st, WAIT_SLICE_MS);
        if (r.async) await r.value;
      }
    } finally {
      if (--this.ready === 0) this.w.unref();
    }
  }

  terminate(): void {
    this.dead ??= new Error("terminated");
    void this.w.terminate();
  }
}

let threads: number | undefined;
const workers: LeafWorker[] = [];
let spawnFailed = false;

function envThreads(): number | undefined {
  const v = env("CKPTKIT_HASH_THREADS");
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new UsageError(`CKPTKIT_HASH_THREADS: expected 1..256, got ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * The default number of hashing threads: every core, up to DEFAULT_MAX_THREADS. Measured on the
 * 2-core machines here (docs/BENCH.md, "Format v2"), 2 threads hash leaves 1.25–1.3× faster than
 * the caller alone and a 64 MiB save takes 0.65× the time; beyond a few threads the caller's own
 * work (reading, CRC-32, gathering batches, writing) bounds a single call, and each worker holds
 * ~10 MB (its kernel instance and 3 slots), so the default stops at 4 threads. More with
 * CKPTKIT_HASH_THREADS=N or setLeafThreads(N); 1 turns the pool off.
 */
const DEFAULT_MAX_THREADS = 4;

/** Threads that hash v2 leaves: the caller's + (this − 1) workers. */
export function leafThreads(): number {
  return threads ?? envThreads() ?? Math.max(1, Math.min(DEFAULT_MAX_THREADS, hardwareThreads()));
}

/** The machine's cores: the largest useful leafThreads() (benchmarks sweep 1..this). */
export function cores(): number {
  return hardwareThreads();
}

/** Sets the number of leaf-hashing threads (1 = the caller's thread only); undefined restores the default. */
export function setLeafThreads(n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 256)) {
    throw new UsageError(`leaf threads: expected 1..256, got ${n}`);
  }
  threads = n;
  // Fewer threads now: the extra workers are stopped (none has a job: calls are not concurrent with this).
  while (workers.length > Math.max(0, leafThreads() - 1)) workers.pop()!.terminate();
}

/** Workers the pool would use; 0 when leafThreads() is 1 or workers cannot start here. */
export function poolSize(): number {
  return spawnFailed || !waitAsync ? 0 : Math.max(0, leafThreads() - 1);
}

/**
 * A free job slot on a warm worker, or undefined when there is none (every slot taken, no worker
 * warm yet, or no pool): the caller gathers and hashes that batch itself. With `spawn`, a pool
 * that is not full starts one more worker, in the background: a worker takes ~70 ms to
 * instantiate its kernel (Deno, Bun; measured: a cold pool made hashing 12 MiB 34 → 100 ms when
 * the caller waited for it), so batches go to a worker only once it is warm, and only a call
 * large enough to outlast that start (POOL_SPAWN_BYTES, src/format/leaf-hasher.ts) starts one.
 */
export function reserveLeafSlot(spawn = false): PoolSlot | undefined {
  const want = poolSize();
  if (want === 0) return undefined;
  pruneDead();
  for (const w of workers) {
    const slot = w.reserve();
    if (slot) return slot;
  }
  if (spawn && workers.length < want) startWorker();
  return undefined;
}

/** Forgets workers that died (they are never used again). */
function pruneDead(): void {
  for (let i = workers.length - 1; i >= 0; i--) if (workers[i]!.dead) workers.splice(i, 1);
}

function startWorker(): LeafWorker | undefined {
  try {
    const w = new LeafWorker();
    workers.push(w);
    return w;
  } catch {
    spawnFailed = true;
    return undefined;
  }
}

/**
 * Starts every worker the pool may use and resolves once each is warm (tests, benchmarks, or a
 * long-running process that wants its first large call at full speed).
 */
export async function warmLeafPool(): Promise<void> {
  pruneDead();
  while (workers.length < poolSize()) if (!startWorker()) break;
  await Promise.all(workers.map((w) => w.warmed()));
}
