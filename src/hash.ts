// CRC-32 and SHA-256 over the WASM kernel. Inputs of any size stream through the kernel's
// fixed I/O window. Hot paths allocate nothing per call except the digests they return: inputs
// that fit the window are copied in whole (no subarray views), and a streaming hasher's state
// stays in the kernel's state slot between calls, saved out only when another hasher takes it.
import { type Kernel, kernel } from "./wasm/kernel.ts";

/** Choosing the kernel build (before first use): re-exported for the library entry. */
export { type KernelVariant, useKernel } from "./wasm/kernel.ts";

/** Size of a hasher's saved state: the kernel exports it as SHA_STATE_SIZE (test/format-constants.test.ts holds them equal). */
export const SHA256_STATE_SIZE = 112;

/**
 * Inputs longer than the window stream through it in pieces of this size: small enough that a
 * piece is still in L2 when the kernel reads it back after the copy (+5–25% at 64 MiB).
 */
const PIECE = 256 * 1024;

/**
 * CRC-32/ISO-HDLC (zlib's crc32), unsigned. `seed` is a previous result, so
 * crc32(b, crc32(a)) === crc32(a ‖ b).
 */
export function crc32(data: Uint8Array, seed = 0): number {
  return crc32With(kernel(), data, seed);
}

/** crc32 on a given kernel build (benchmarks and tests compare the builds). */
export function crc32With(k: Kernel, data: Uint8Array, seed = 0): number {
  const window = k.io.length;
  if (data.length <= window) {
    k.io.set(data);
    return k.exports.crc32Wide(seed, k.ioPtr, data.length) >>> 0;
  }
  let crc = seed >>> 0;
  for (let off = 0; off < data.length; off += PIECE) {
    const part = data.subarray(off, Math.min(off + PIECE, data.length));
    k.io.set(part);
    crc = k.exports.crc32Wide(crc, k.ioPtr, part.length);
  }
  return crc >>> 0;
}

export interface Sha256 {
  update(data: Uint8Array): Sha256;
  /** Ends the hash and returns the 32-byte digest; the hasher cannot be updated afterwards. */
  digest(): Uint8Array;
}

/** Saves the state slot's current owner (if any) so the slot can be reused. */
function evict(k: Kernel): void {
  const owner = k.stateOwner as Sha256Hasher | undefined;
  if (owner) owner.saveFrom(k);
  k.stateOwner = undefined;
}

/**
 * Feeds `data` through the I/O window into the hash state at k.statePtr. Bytes that already lie
 * in kernel memory (a view of it, e.g. a payload placed in a container writer's chunk window)
 * are hashed where they lie: no copy, and the window is left as it was.
 */
function feed(k: Kernel, data: Uint8Array): void {
  if (data.buffer === k.mem.buffer) {
    k.exports.sha256Update(k.statePtr, data.byteOffset, data.length);
    return;
  }
  const window = k.io.length;
  if (data.length <= window) {
    k.io.set(data);
    k.exports.sha256Update(k.statePtr, k.ioPtr, data.length);
    return;
  }
  for (let off = 0; off < data.length; off += PIECE) {
    const part = data.subarray(off, Math.min(off + PIECE, data.length));
    k.io.set(part);
    k.exports.sha256Update(k.statePtr, k.ioPtr, part.length);
  }
}

/**
 * A streaming SHA-256. Any number of hashers can interleave: the one in use keeps its state in
 * the kernel's slot; the others hold a saved copy (112 bytes) until they are used again.
 */
export class Sha256Hasher implements Sha256 {
  private readonly k: Kernel;
  private readonly state = new Uint8Array(SHA256_STATE_SIZE);
  private done = false;

  /** `k` picks a specific kernel build (tests, benchmarks); the library's own by default. */
  constructor(k: Kernel = kernel()) {
    this.k = k;
    evict(this.k);
    this.k.exports.sha256Init(this.k.statePtr);
    this.k.stateOwner = this;
  }

  /** Called by evict(): copies this hasher's live state out of the kernel's slot. */
  saveFrom(k: Kernel): void {
    this.state.set(k.mem.subarray(k.statePtr, k.statePtr + SHA256_STATE_SIZE));
  }

  private claim(): Kernel {
    if (this.done) throw new TypeError("sha256: update() after digest()");
    const k = this.k;
    if (k.stateOwner !== this) {
      evict(k);
      k.mem.set(this.state, k.statePtr);
      k.stateOwner = this;
    }
    return k;
  }

  update(data: Uint8Array): this {
    feed(this.claim(), data);
    return this;
  }

  /** Hashes bytes already in kernel memory (e.g. read straight into the I/O window). */
  updateInKernel(ptr: number, len: number): this {
    const k = this.claim();
    k.exports.sha256Update(k.statePtr, ptr, len);
    return this;
  }

  digest(): Uint8Array {
    if (this.done) throw new TypeError("sha256: digest() called twice");
    const k = this.claim();
    this.done = true;
    k.stateOwner = undefined;
    const out = k.scratchPtr;
    k.exports.sha256Final(k.statePtr, out);
    return k.mem.slice(out, out + 32);
  }
}

export function createSha256(): Sha256Hasher {
  return new Sha256Hasher();
}

export function sha256(data: Uint8Array): Uint8Array {
  return oneShot(kernel(), data);
}

/** sha256 on a given kernel build (benchmarks and tests compare the builds). */
export function sha256With(k: Kernel, data: Uint8Array): Uint8Array {
  return oneShot(k, data);
}

function oneShot(k: Kernel, data: Uint8Array): Uint8Array {
  evict(k);
  k.exports.sha256Init(k.statePtr);
  feed(k, data);
  const out = k.scratchPtr;
  k.exports.sha256Final(k.statePtr, out);
  return k.mem.slice(out, out + 32);
}

/**
 * SHA-256 of `parts` laid end to end, as one message. Parts that fit the I/O window together are
 * copied in and hashed in one call, with no hasher state to allocate (a v2 root: tag, head digest
 * and a few leaves); otherwise they stream through a hasher.
 */
export function sha256Concat(parts: Uint8Array[]): Uint8Array {
  const k = kernel();
  let n = 0;
  let inKernel = false;
  for (const p of parts) {
    n += p.length;
    inKernel ||= p.buffer === k.mem.buffer;
  }
  if (inKernel || n > k.io.length) {
    // A part inside kernel memory could be overwritten by another part's pass through the
    // window: such parts are copied out first.
    const h = new Sha256Hasher(k);
    for (const p of parts.map((p) => (p.buffer === k.mem.buffer ? p.slice() : p))) h.update(p);
    return h.digest();
  }
  let at = 0;
  for (const p of parts) {
    k.io.set(p, at);
    at += p.length;
  }
  return oneShot(k, k.io.subarray(0, n));
}

/**
 * SHA-256 of each `blockSize`-byte block of `data` (the last may be shorter), concatenated:
 * block i's digest is bytes [32i, 32i + 32) of the result. On the SIMD kernel four blocks are
 * hashed at once. `opts.kernel` picks a specific build (benchmarks, tests).
 */
export function sha256Many(
  data: Uint8Array,
  blockSize: number,
  opts: { kernel?: Kernel; out?: Uint8Array } = {},
): Uint8Array {
  if (!Number.isInteger(blockSize) || blockSize <= 0) throw new RangeError(`sha256Many: bad block size ${blockSize}`);
  const k = opts.kernel ?? kernel();
  const count = Math.ceil(data.length / blockSize);
  const out = opts.out ?? new Uint8Array(count * 32);
  if (out.length < count * 32) throw new RangeError(`sha256Many: out holds ${out.length} bytes, needs ${count * 32}`);
  const whole = Math.floor(data.length / blockSize);
  if (blockSize <= k.io.length) {
    // As many whole blocks per call as fit a piece (or one block, if larger) and the digest area.
    const perCall = Math.max(1, Math.min(Math.floor(Math.max(PIECE, blockSize) / blockSize), k.digestsSize >> 5));
    const digests = k.mem.subarray(k.digestsPtr, k.digestsPtr + k.digestsSize);
    for (let i = 0; i < whole; i += perCall) {
      const n = Math.min(perCall, whole - i);
      k.io.set(data.subarray(i * blockSize, (i + n) * blockSize));
      k.exports.sha256Many(k.ioPtr, blockSize, n, k.digestsPtr);
      out.set(digests.subarray(0, n * 32), i * 32);
    }
  } else {
    for (let i = 0; i < whole; i++) out.set(oneShot(k, data.subarray(i * blockSize, (i + 1) * blockSize)), i * 32);
  }
  if (whole < count) out.set(oneShot(k, data.subarray(whole * blockSize)), whole * 32);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += bytes[i]!.toString(16).padStart(2, "0");
  return s;
}
