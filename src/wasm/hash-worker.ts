// A second core for SHA-256. One worker thread per process, spawned on first use with its own
// instance of the same kernel build, hashes one stream at a time while the caller's thread reads,
// writes and checks CRCs. node:worker_threads is the one worker API all three runtimes share
// (Deno and Bun implement it), and `eval: true` runs the worker from a source string, so there is
// no second file to locate in the npm bundle, the Deno sources or a compiled binary.
//
// Invariants:
// - The worker is unref'd whenever no stream is open, so an idle worker never keeps a CLI or a
//   test process alive; a stream in flight holds a ref until its digest arrives.
// - At most one stream uses it at a time: acquireHashWorker() returns undefined while another
//   stream holds it, and the caller hashes on its own thread (same bytes, same digest).
// - Buffers go to the worker transferred, not copied, and come back the same way: a stream
//   allocates its DEPTH buffers once.
// - If the worker cannot start or dies, every pending call rejects and later calls get undefined
//   (hash in-thread); a digest is never produced from a partial stream.
import { Worker } from "node:worker_threads";
import { EnvironmentError } from "../errors.ts";
import { kernel, kernelBytes } from "./kernel.ts";

/** The worker's program: instantiate the kernel, then init / update / digest on one state. */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
let ex, mem, io, ioSize, st, out;
parentPort.on("message", (m) => {
  try {
    if (m.op === "init") {
      ex = new WebAssembly.Instance(new WebAssembly.Module(m.wasm), { env: { abort() { throw new Error("kernel abort"); } } }).exports;
      if (m.scalarRounds) ex.sha256ScalarRounds(1);
      mem = new Uint8Array(ex.memory.buffer);
      io = ex.ioPtr(); ioSize = ex.ioSize(); st = ex.statePtr(); out = ex.scratchPtr();
      parentPort.postMessage({ op: "ready" });
    } else if (m.op === "reset") {
      ex.sha256Init(st);
    } else if (m.op === "update") {
      const b = new Uint8Array(m.buf, 0, m.len);
      for (let o = 0; o < m.len; o += ioSize) {
        const part = b.subarray(o, Math.min(o + ioSize, m.len));
        mem.set(part, io);
        ex.sha256Update(st, io, part.length);
      }
      parentPort.postMessage({ op: "ack", buf: m.buf }, [m.buf]);
    } else if (m.op === "digest") {
      ex.sha256Final(st, out);
      parentPort.postMessage({ op: "digest", digest: mem.slice(out, out + 32) });
    }
  } catch (err) {
    parentPort.postMessage({ op: "error", message: String(err && err.message || err) });
  }
});
`;

type Reply = { op: "ready" } | { op: "ack"; buf: ArrayBuffer } | { op: "digest"; digest: Uint8Array } | { op: "error"; message: string };

/** Buffers in flight per stream: enough to keep the worker busy while the caller does I/O. */
const DEPTH = 4;
/** Smallest pooled buffer: a default 256 KiB chunk with its 32-byte header fits. */
const MIN_BUFFER = 256 * 1024 + 64;

class HashWorker {
  private readonly w: Worker;
  private ready: Promise<void>;
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
      for (const w of this.waiters.splice(0)) w.reject(new EnvironmentError("EWORKER", `hash worker stopped: ${this.dead.message}`));
    };
    this.w.on("error", fail);
    this.w.on("exit", (code: number) => fail(new Error(`exited with code ${code}`)));
    this.ready = this.call({ op: "init", wasm: kernelBytes(k.variant), scalarRounds: k.variant === "simd" && typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" }).then(() => undefined);
    // A failed start is reported to the stream that needed it; keep the rejection handled here.
    this.ready.catch(() => {});
  }

  get usable(): boolean {
    return this.dead === undefined && !this.busy;
  }

  /** Posts a message whose reply is the next one to arrive (the worker answers in order). */
  call(msg: unknown, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(new EnvironmentError("EWORKER", `hash worker stopped: ${this.dead.message}`));
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.w.postMessage(msg, transfer);
    });
  }

  /** Fire-and-forget (no reply): "reset". */
  post(msg: unknown): void {
    this.w.postMessage(msg);
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
    this.post({ op: "reset" });
    return new WorkerSha256(this);
  }

  close(): void {
    this.busy = false;
    this.w.unref();
  }
}

/**
 * SHA-256 of a byte stream, hashed on the worker. update() copies the bytes into one of DEPTH
 * pooled buffers and returns once they are on their way; the caller may reuse its own buffer at
 * once. digest() waits for every update, ends the stream and frees the worker for the next.
 */
export class WorkerSha256 {
  private free: ArrayBuffer[] = [];
  private allocated = 0;
  private inFlight: Promise<void>[] = [];
  private done = false;

  constructor(private readonly worker: HashWorker) {}

  private async buffer(size: number): Promise<ArrayBuffer> {
    for (;;) {
      const i = this.free.findIndex((b) => b.byteLength >= size);
      if (i >= 0) return this.free.splice(i, 1)[0]!;
      if (this.allocated < DEPTH) {
        this.allocated++;
        return new ArrayBuffer(Math.max(size, MIN_BUFFER));
      }
      // Every buffer is out: wait for the oldest to come back (replies arrive in order).
      await this.inFlight.shift();
      // A returned buffer too small for this piece is replaced by a larger one.
      if (!this.free.some((b) => b.byteLength >= size) && this.free.length > 0) {
        this.free.pop();
        this.allocated--;
      }
    }
  }

  async update(bytes: Uint8Array): Promise<void> {
    if (this.done) throw new TypeError("sha256: update() after digest()");
    const buf = await this.buffer(bytes.length);
    new Uint8Array(buf, 0, bytes.length).set(bytes);
    const reply = this.worker.call({ op: "update", buf, len: bytes.length }, [buf]);
    const back = reply.then((r) => { if (r.op === "ack") this.free.push(r.buf); });
    back.catch(() => {}); // handled: whoever awaits it next (buffer(), digest(), abandon()) sees the error
    this.inFlight.push(back);
  }

  async digest(): Promise<Uint8Array> {
    if (this.done) throw new TypeError("sha256: digest() called twice");
    this.done = true;
    try {
      await Promise.all(this.inFlight);
      const r = await this.worker.call({ op: "digest" });
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
    await Promise.allSettled(this.inFlight);
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
