// Leaf hashing for v2 containers while they are written or read: encoded chunks are gathered into
// batches of equal-length messages, and each batch is hashed with the kernel's 4-lane SHA-256 on
// a pool worker (src/wasm/leaf-pool.ts) or, when every worker is busy or the file is small, on
// this thread. Batches complete in any order; `onBatch` sees them in file order.
//
// Invariants:
// - At most maxInFlight batches are outstanding (each one buffer of ≤ 2 MiB + 4 KiB): add()
//   waits for the oldest before starting another, so memory stays O(threads × batch) whatever
//   the member's size, and a slow consumer slows the producer (back-pressure).
// - Batches complete to onBatch in chunk order; with `keep`, finish() returns the whole leaf list
//   (chunk i's leaf at [32 i, 32 i + 32)). Nothing is allocated by a chunk count read from a file.
import { EnvironmentError } from "../errors.ts";
import { StreamSha256, WORKER_MIN_BYTES } from "../hash-stream.ts";
import { batchCapacity, hashLeavesHere, headDigest, treeRoot } from "./tree.ts";
import { poolSize, type PoolSlot, reserveLeafSlot } from "../wasm/leaf-pool.ts";

export interface LeafBatch {
  /** Index of the batch's first chunk. */
  start: number;
  count: number;
  /** Length of each encoded chunk (header + payload) in the batch. */
  len: number;
  /** The encoded chunks, end to end (valid until onBatch returns). */
  bytes: Uint8Array;
  /** Their leaf digests, count × 32 bytes. */
  digests: Uint8Array;
}

/** A sealed batch: `slot` when it was gathered in a pool worker's slot (freed once consumed). */
interface Pending {
  start: number;
  count: number;
  len: number;
  buf: Uint8Array;
  slot: PoolSlot | undefined;
  result: Promise<Uint8Array> | Uint8Array;
}

/**
 * A call hashing at least this much starts pool workers (each takes ~70 ms to warm up and 20–35 MB
 * of RSS in Deno and Bun: a smaller call is done before a new worker could help). Below it, from
 * WORKER_MIN_BYTES up, only workers already warm are used.
 */
export const POOL_SPAWN_BYTES = 64 << 20;

/** Bytes gathered per batch: large enough to amortize a worker message, small enough to overlap. */
const BATCH_BYTES = 2 << 20;

/** A byte list that grows as leaves arrive: nothing is sized by a chunk count up front. */
export class GrowingBytes {
  private buf: Uint8Array;
  length = 0;
  /** `initial`: the first buffer's size (a container of one chunk needs 32 bytes, not 1,024). */
  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }
  push(b: Uint8Array): void {
    if (this.length + b.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + b.length));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

export class LeafHasher {
  /** Every leaf so far, in chunk order (only with `keep`: the writer needs the list, a reader does not). */
  private readonly kept: GrowingBytes | undefined;
  private readonly usePool: boolean;
  /** Large enough to start a pool worker (it hashes only once warm); smaller calls use warm ones only. */
  private readonly spawn: boolean;
  private readonly totalBytes: number;
  private readonly maxInFlight: number;
  private buf: Uint8Array | undefined;
  /** The pool slot `buf` lies in, when the batch being gathered goes to a worker. */
  private slot: PoolSlot | undefined;
  private len = 0;
  private n = 0;
  private next = 0;
  private readonly queue: Pending[] = [];
  private readonly spare: Uint8Array[] = [];
  private readonly onBatch: ((b: LeafBatch) => void | Promise<void>) | undefined;

  /**
   * `chunkCount` is bounded by the file (a header the kernel checked) or by the payload being
   * written; `totalBytes` decides whether the pool is worth starting (WORKER_MIN_BYTES).
   */
  constructor(totalBytes: number, opts: { keep?: boolean; onBatch?: (b: LeafBatch) => void | Promise<void> }) {
    this.kept = opts.keep ? new GrowingBytes() : undefined;
    this.totalBytes = totalBytes;
    this.onBatch = opts.onBatch;
    this.usePool = totalBytes >= WORKER_MIN_BYTES && poolSize() > 0;
    this.spawn = totalBytes >= POOL_SPAWN_BYTES;
    this.maxInFlight = this.usePool ? 2 * poolSize() + 1 : 1;
  }

  /**
   * Adds the next encoded chunk (copied: the caller may reuse `encoded` at once). Returns a
   * promise only when a batch was sealed (await it: back-pressure), undefined otherwise, so a
   * member of a million one-byte chunks does not allocate a promise per chunk.
   */
  add(encoded: Uint8Array): Promise<void> | undefined {
    const len = encoded.length;
    if (this.buf && (len !== this.len || this.n * len + len > this.buf.length)) return this.sealThenAdd(encoded);
    if (!this.buf) {
      // Never more chunks than the container can hold: a small file gets a small buffer.
      let cap = Math.max(
        1,
        Math.min(batchCapacity(len), Math.floor(BATCH_BYTES / len) || 1, Math.ceil(this.totalBytes / len)),
      );
      if (cap > 4) cap -= cap % 4; // whole groups of four lanes
      const size = cap * len;
      // Gathered straight into a worker's slot when one is free (no second copy to hand it
      // over), else into a local buffer and hashed here.
      const slot = this.usePool && batchCapacity(len) >= cap ? reserveLeafSlot(this.spawn) : undefined;
      if (slot && slot.bytes.length >= size) {
        this.slot = slot;
        this.buf = slot.bytes.subarray(0, size);
      } else {
        slot?.release();
        const i = this.spare.findIndex((b) => b.length === size);
        this.buf = i >= 0 ? this.spare.splice(i, 1)[0]! : new Uint8Array(size);
      }
      this.len = len;
      this.n = 0;
    }
    this.buf.set(encoded, this.n * len);
    this.n++;
    return this.n * len + len > this.buf.length ? this.seal() : undefined;
  }

  /**
   * The slow path of add(), a method of its own: a closure inside add() would capture its
   * arguments, and JavaScriptCore then allocates an environment on every call, taken or not.
   */
  private async sealThenAdd(encoded: Uint8Array): Promise<void> {
    await this.seal();
    await this.add(encoded);
  }

  private async seal(): Promise<void> {
    const buf = this.buf!;
    const { len, n } = this;
    this.buf = undefined;
    const bytes = buf.subarray(0, n * len);
    const slot = this.slot;
    this.slot = undefined;
    let result: Promise<Uint8Array> | Uint8Array | undefined = slot?.submit(len, n);
    if (!result) {
      const d = new Uint8Array(32 * n);
      const per = Math.max(1, batchCapacity(len)); // a chunk too long for one batch is hashed alone
      for (let j = 0; j < n; j += per) hashLeavesHere(bytes.subarray(j * len), len, Math.min(n - j, per), d, 32 * j);
      result = d;
    }
    this.queue.push({ start: this.next, count: n, len, buf, slot, result });
    this.next += n;
    while (this.queue.length > this.maxInFlight) await this.drainOne();
  }

  private async drainOne(): Promise<void> {
    const p = this.queue.shift()!;
    try {
      let digests: Uint8Array;
      try {
        digests = await p.result;
      } catch (err) {
        throw err instanceof EnvironmentError ? err : new EnvironmentError("EWORKER", String(err));
      }
      this.kept?.push(digests);
      await this.onBatch?.({
        start: p.start,
        count: p.count,
        len: p.len,
        bytes: p.buf.subarray(0, p.count * p.len),
        digests,
      });
    } finally {
      // A slot is freed only once its result settled (the worker no longer reads it) and onBatch
      // has read its bytes.
      p.slot?.release();
    }
    if (!p.slot && this.spare.length < 2) this.spare.push(p.buf);
  }

  /**
   * Waits for every batch; returns the leaf list (N × 32 bytes, chunk order; empty without `keep`).
   * May be called mid-stream to flush (a reader that must see a bad chunk now): add() goes on after.
   */
  async finish(): Promise<Uint8Array> {
    if (this.buf) await this.seal();
    while (this.queue.length > 0) await this.drainOne();
    return this.kept?.bytes() ?? new Uint8Array(0);
  }

  /** Abandons outstanding batches (an error elsewhere): their rejections are not unhandled. */
  discard(): void {
    for (const p of this.queue.splice(0)) {
      // A batch still with a worker keeps its slot until the worker is done with it: freed
      // earlier, the slot could be gathered into again while the worker still reads it.
      if (p.result instanceof Promise) p.result.then(() => p.slot?.release(), () => p.slot?.release());
      else p.slot?.release();
    }
    this.slot?.release();
    this.slot = undefined;
    this.buf = undefined;
  }
}

/**
 * The digest a container writer needs, fed like a stream (head first, then each encoded chunk):
 * v1, the SHA-256 of every byte (src/hash-stream.ts); v2, the tree root over the head digest and
 * the leaves, with the leaf list kept for the file's leaf section.
 */
export interface ContainerDigest {
  update(bytes: Uint8Array, at?: number): Promise<void>;
  digest(): Promise<Uint8Array>;
  /** v2: the leaf list, once digest() resolved. */
  readonly leaves: Uint8Array | undefined;
  release(): Promise<void>;
}

class TreeDigest implements ContainerDigest {
  private head: Uint8Array | undefined;
  private readonly hasher: LeafHasher;
  leaves: Uint8Array | undefined;
  constructor(totalBytes: number) {
    this.hasher = new LeafHasher(totalBytes, { keep: true });
  }
  async update(bytes: Uint8Array): Promise<void> {
    if (!this.head) this.head = headDigest(bytes);
    else await this.hasher.add(bytes);
  }
  async digest(): Promise<Uint8Array> {
    this.leaves = await this.hasher.finish();
    return treeRoot(this.head!, this.leaves);
  }
  release(): Promise<void> {
    this.hasher.discard();
    return Promise.resolve();
  }
}

/** The digest for a container of `version` (FORMAT_VERSION for new files). */
export async function openContainerDigest(
  w: { version: number; totalSize: number; chunkCount: number },
): Promise<ContainerDigest> {
  if (w.version >= 2) return new TreeDigest(w.totalSize);
  const s = await StreamSha256.open(w.totalSize);
  return {
    update: (b, at) => s.update(b, at),
    digest: () => s.digest(),
    leaves: undefined,
    release: () => s.release(),
  };
}
