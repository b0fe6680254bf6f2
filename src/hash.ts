// CRC-32 and SHA-256 over the WASM kernel. Inputs of any size stream through the kernel's
// fixed I/O window; nothing here allocates per call except the 32-byte digests returned.
import { kernel } from "./wasm/kernel.ts";

/** Size of a hasher's saved state (must match SHA_STATE_SIZE in assembly/sha256.ts). */
export const SHA256_STATE_SIZE = 112;

/**
 * CRC-32/ISO-HDLC (zlib's crc32), unsigned. `seed` is a previous result, so
 * crc32(b, crc32(a)) === crc32(a ‖ b).
 */
export function crc32(data: Uint8Array, seed = 0): number {
  const k = kernel();
  const window = k.io.length;
  let crc = seed >>> 0;
  for (let off = 0; off < data.length; off += window) {
    const part = data.subarray(off, Math.min(off + window, data.length));
    k.io.set(part);
    crc = k.exports.crc32(crc, k.ioPtr, part.length);
  }
  return crc >>> 0;
}

/** CRC-32 of bytes already in kernel memory at `ptr` (no copy). */
export function crc32InKernel(ptr: number, len: number, seed = 0): number {
  return kernel().exports.crc32(seed, ptr, len) >>> 0;
}

export interface Sha256 {
  update(data: Uint8Array): Sha256;
  /** Ends the hash and returns the 32-byte digest; the hasher cannot be updated afterwards. */
  digest(): Uint8Array;
}

/**
 * A streaming SHA-256. Its state lives in this object (112 bytes) and is swapped into the
 * kernel for each call, so any number of hashers can interleave.
 */
export class Sha256Hasher implements Sha256 {
  private readonly state = new Uint8Array(SHA256_STATE_SIZE);
  private done = false;

  constructor() {
    const k = kernel();
    k.exports.sha256Init(k.statePtr);
    this.state.set(k.mem.subarray(k.statePtr, k.statePtr + SHA256_STATE_SIZE));
  }

  update(data: Uint8Array): this {
    if (this.done) throw new TypeError("sha256: update() after digest()");
    const k = kernel();
    const window = k.io.length;
    k.mem.set(this.state, k.statePtr);
    for (let off = 0; off < data.length; off += window) {
      const part = data.subarray(off, Math.min(off + window, data.length));
      k.io.set(part);
      k.exports.sha256Update(k.statePtr, k.ioPtr, part.length);
    }
    this.state.set(k.mem.subarray(k.statePtr, k.statePtr + SHA256_STATE_SIZE));
    return this;
  }

  /** Hashes bytes already in kernel memory (e.g. read straight into the I/O window). */
  updateInKernel(ptr: number, len: number): this {
    if (this.done) throw new TypeError("sha256: update() after digest()");
    const k = kernel();
    k.mem.set(this.state, k.statePtr);
    k.exports.sha256Update(k.statePtr, ptr, len);
    this.state.set(k.mem.subarray(k.statePtr, k.statePtr + SHA256_STATE_SIZE));
    return this;
  }

  digest(): Uint8Array {
    if (this.done) throw new TypeError("sha256: digest() called twice");
    this.done = true;
    const k = kernel();
    k.mem.set(this.state, k.statePtr);
    const out = k.scratchPtr;
    k.exports.sha256Final(k.statePtr, out);
    return k.mem.slice(out, out + 32);
  }
}

export function createSha256(): Sha256Hasher {
  return new Sha256Hasher();
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Sha256Hasher().update(data).digest();
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += bytes[i]!.toString(16).padStart(2, "0");
  return s;
}
