// A second core for SHA-256. One worker thread per process, spawned on first use with its own
// instance of the same kernel build, hashes one stream at a time while the caller's thread reads,
// checks CRCs, writes, or hashes another file. node:worker_threads is the one worker API all three
// runtimes share (Deno and Bun implement it), and `eval: true` runs the worker from a source
// string, so there is no second file to locate in the npm bundle or the Deno sources.
//
// Pieces travel through a ring in a SharedArrayBuffer, not as messages: the producer copies a
// piece into the next slot and bumps a counter; the worker, blocked in Atomics.wait, hashes it and
// bumps its own. No event-loop turn is needed on either side, which matters because the caller's
// thread may be busy for long stretches (hashing another file in-thread, synchronous file I/O):
// a message-based design starved there, its acknowledgements never being delivered.
//
// Invariants:
// - ctrl[PRODUCED] - ctrl[CONSUMED] is the number of full slots, 0..SLOTS; only the caller
//   writes PRODUCED and SIGNAL, only the worker writes CONSUMED.
// - The worker waits on SIGNAL, which the caller bumps after every change the worker must see
//   (a piece, the end of the stream), so a change between its check and its wait is never lost.
// - The worker is unref'd whenever no stream is open, so an idle worker never keeps a CLI or a
//   test process alive; a stream in flight holds a ref until its digest arrives.
// - At most one stream uses it at a time; a second stream, or any stream after the worker failed
//   to start or died, hashes on the caller's thread (same bytes, same digest).
import { Worker } from "node:worker_threads";
import { EnvironmentError } from "../errors.ts";
import { kernel, kernelBytes, scalarRoundsHere } from "./kernel.ts";
import { waitAsync } from "./wait-async.ts";

/** Slots in the ring and bytes per slot (a 512 KiB chunk with its 32-byte header fits one). */
const SLOTS = 8;
const SLOT_SIZE = 512 * 1024 + 64;
/** ctrl indices (Int32). STATE: 0 streaming, 1 the caller has ended the stream, 2 worker error. */
const PRODUCED = 0, CONSUMED = 1, SIGNAL = 2, STATE = 3, LENGTHS = 4;
const CTRL_INTS = LENGTHS + SLOTS;
/** A producer waiting this long for a slot with no progress from the worker gives up. */
const STALL_MS = 10_000;

/** The worker's program: instantiate the kernel, then hash streams out of the ring. */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const SLOTS = ${SLOTS}, SLOT_SIZE = ${SLOT_SIZE}, PRODUCED = ${PRODUCED}, CONSUMED = ${CONSUMED}, SIGNAL = ${SIGNAL}, STATE = ${STATE}, LENGTHS = ${LENGTHS};
let ex, mem, io, st, out, ctrl, ring;
function stream() {
  ex.sha256Init(st);
  for (;;) {
    const sig = Atomics.load(ctrl, SIGNAL);
    const consumed = Atomics.load(ctrl, CONSUMED);
    if (consumed < Atomics.load(ctrl, PRODUCED)) {
      const slot = consumed % SLOTS;
      const len = Atomics.load(ctrl, LENGTHS + slot);
      mem.set(ring.subarray(slot * SLOT_SIZE, slot * SLOT_SIZE + len), io);
      ex.sha256Update(st, io, len);
      Atomics.add(ctrl, CONSUMED, 1);
      Atomics.notify(ctrl, CONSUMED);
    } else if (Atomics.load(ctrl, STATE) === 1) {
      ex.sha256Final(st, out);
      return mem.slice(out, out + 32);
    } else {
      Atomics.wait(ctrl, SIGNAL, sig);
    }
  }
}
parentPort.on("message", (m) => {
  try {
    if (m.op === "init") {
      ex = new WebAssembly.Instance(new WebAssembly.Module(m.wasm), { env: { abort() { throw new Error("kernel abort"); } } }).exports;
      if (m.scalarRounds) ex.sha256ScalarRounds(1);
      mem = new Uint8Array(ex.memory.buffer);
      io = ex.ioPtr(); st = ex.statePtr(); out = ex.scratchPtr();
      ctrl = new Int32Array(m.ctrl); ring = new Uint8Array(m.ring);
      parentPort.postMessage({ op: "ready" });
    } else if (m.op === "stream") {
      parentPort.postMessage({ op: "digest", digest: stream() });
    }
  } catch (err) {
    if (ctrl) { Atomics.store(ctrl, STATE, 2); Atomics.notify(ctrl, CONSUMED); }
    parentPort.postMessage({ op: "error", message: String(err && err.message || err) });
  }
});
`;

type Reply = { op: "ready" } | { op: "digest"; digest: Uint8Array } | { op: "error"; message: string };

class HashWorker {
  private readonly w: Worker;
  readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL_INTS * 4));
  readonly ring = new Uint8Array(new SharedArrayBuffer(SLOTS * SLOT_SIZE));
  private readonly ready: Promise<unknown>;
  private dead: Error | undefined;
  private busy = false;
  private waiters: Array<{ resolve(r: Reply): void; reject(e: Error): void }> = [];

  constructor() {
    const k = kernel();
    this.w = new Worker(WORKER_SOURCE, { eval: true });
    this.w.unref();
    this.w.on("message", (r: Reply) => {
      const next = this.waiters.shift();
      if (!next) return;
      if (r.op === "error") next.reject(new EnvironmentError("EWORKER", `hash worker: ${r.message}`));
      else next.resolve(r);
    });
    const fail = (err: unknown) => {
      this.dead = err instanceof Error ? err : new Error(String(err));
      Atomics.store(this.ctrl, STATE, 2);
      for (const w of this.waiters.splice(0)) {
        w.reject(new EnvironmentError("EWORKER", `hash worker stopped: ${this.dead.message}`));
      }
    };
    this.w.on("error", fail);
    this.w.on("exit", (code: number) => fail(new Error(`exited with code ${code}`)));
    this.ready = this.call({
      op: "init",
      wasm: kernelBytes(k.variant),
      scalarRounds: scalarRoundsHere(k.variant),
      ctrl: this.ctrl.buffer,
      ring: this.ring.buffer,
    });
    this.ready.catch(() => {}); // reported to the stream that needed it
  }

  get usable(): boolean {
    return this.dead === undefined && !this.busy;
  }

  /** Posts a message whose reply is the next one to arrive (the worker answers in order). */
  call(msg: unknown): Promise<Reply> {
    if (this.dead) return Promise.reject(new EnvironmentError("EWORKER", `hash worker stopped: ${this.dead.message}`));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.w.postMessage(msg);
    });
  }

  async open(): Promise<WorkerSha256> {
    this.busy = true;
    this.w.ref();
    try {
      await this.ready;
    } catch (err) {
      this.close();
      throw err;
    }
    for (const i of [PRODUCED, CONSUMED, STATE]) Atomics.store(this.ctrl, i, 0);
    const digest = this.call({ op: "stream" });
    digest.catch(() => {}); // awaited by digest(); an abandoned stream's rejection is not an error
    return new WorkerSha256(this, digest);
  }

  close(): void {
    this.busy = false;
    this.w.unref();
  }
}

/**
 * SHA-256 of a byte stream, hashed on the worker. update() copies the bytes into the ring (when
 * all slots are full it waits, without blocking, for the worker to free one); the caller may
 * reuse its buffer once update() resolves. digest() ends the stream and frees the worker for the next.
 */
export class WorkerSha256 {
  private done = false;

  constructor(private readonly worker: HashWorker, private readonly result: Promise<Reply>) {}

  /** The next free slot, or -1 when all SLOTS hold pieces the worker has not hashed yet. */
  private freeSlot(): number {
    const { ctrl } = this.worker;
    if (Atomics.load(ctrl, STATE) === 2) throw new EnvironmentError("EWORKER", "hash worker failed while hashing");
    const produced = Atomics.load(ctrl, PRODUCED);
    return produced - Atomics.load(ctrl, CONSUMED) < SLOTS ? produced % SLOTS : -1;
  }

  /**
   * Waits until the worker frees a slot (back-pressure: the producer outran the hashing). The
   * wait is Atomics.waitAsync, so the caller's event loop keeps turning while the worker catches
   * up (guarantee 12): a blocking Atomics.wait here held a save's thread for the whole wait, 18 to
   * 45 ms at a time when the worker was scheduled late on a busy machine. Where waitAsync is
   * missing, the wait blocks, in slices of at most 1 ms between turns of the loop.
   */
  private async slotFreed(): Promise<void> {
    const { ctrl } = this.worker;
    let waitedMs = 0;
    for (;;) {
      if (this.freeSlot() >= 0) return;
      const consumed = Atomics.load(ctrl, CONSUMED);
      const t0 = Date.now();
      const r = waitAsync
        ? waitAsync(ctrl, CONSUMED, consumed, 100)
        : { async: false, value: Atomics.wait(ctrl, CONSUMED, consumed, 1) };
      const outcome = r.async ? await r.value : r.value;
      if (!waitAsync) await new Promise<void>((resolve) => setTimeout(resolve, 0));
      if (outcome === "timed-out") {
        waitedMs += Date.now() - t0;
        if (waitedMs >= STALL_MS) {
          throw new EnvironmentError("EWORKER", `hash worker made no progress for ${STALL_MS / 1000} s`);
        }
      } else {
        waitedMs = 0;
      }
    }
  }

  /**
   * Copies `bytes` into the ring; the caller may reuse its buffer once the promise resolves.
   * Resolves without a turn of the event loop while the ring has room.
   */
  update(bytes: Uint8Array): Promise<void> {
    if (this.done) return Promise.reject(new TypeError("sha256: update() after digest()"));
    try {
      for (let off = 0; off < bytes.length; off += SLOT_SIZE) {
        if (this.freeSlot() < 0) return this.slotFreed().then(() => this.update(bytes.subarray(off)));
        this.put(bytes.subarray(off, off + Math.min(SLOT_SIZE, bytes.length - off)));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  /** Fills the next slot (there is one: freeSlot() >= 0) and tells the worker. */
  private put(piece: Uint8Array): void {
    const { ctrl, ring } = this.worker;
    const slot = this.freeSlot();
    ring.set(piece, slot * SLOT_SIZE);
    Atomics.store(ctrl, LENGTHS + slot, piece.length);
    Atomics.add(ctrl, PRODUCED, 1);
    Atomics.add(ctrl, SIGNAL, 1);
    Atomics.notify(ctrl, SIGNAL);
  }

  private end(): void {
    const { ctrl } = this.worker;
    Atomics.store(ctrl, STATE, 1);
    Atomics.add(ctrl, SIGNAL, 1);
    Atomics.notify(ctrl, SIGNAL);
  }

  async digest(): Promise<Uint8Array> {
    if (this.done) throw new TypeError("sha256: digest() called twice");
    this.done = true;
    this.end();
    try {
      const r = await this.result;
      if (r.op !== "digest") throw new EnvironmentError("EWORKER", `hash worker: unexpected reply ${r.op}`);
      return r.digest;
    } finally {
      this.worker.close();
    }
  }

  /** Gives the worker back without a digest (the stream was abandoned, e.g. on an error). */
  async abandon(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.end();
    await this.result.catch(() => {});
    this.worker.close();
  }
}

let shared: HashWorker | undefined;
let spawnFailed = false;

/**
 * The process's hash worker for one stream, or undefined when the caller should hash in-thread:
 * another stream holds it, or it could not start (no worker support, a sandbox without threads).
 */
export async function acquireHashWorker(): Promise<WorkerSha256 | undefined> {
  if (spawnFailed) return undefined;
  try {
    shared ??= new HashWorker();
  } catch {
    spawnFailed = true;
    return undefined;
  }
  if (!shared.usable) return undefined;
  try {
    return await shared.open();
  } catch {
    spawnFailed = true;
    return undefined;
  }
}
