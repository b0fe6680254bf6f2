// The container trailer (docs/FORMAT.md "Trailer"): the kernel writes and checks it, reading the
// digest from its scratch area. The digest goes DIGEST_AT bytes in, clear of the 32-byte digests
// src/hash.ts has the kernel write at the area's start, so a hash finished between the two calls
// cannot overwrite it. Only the format layer knows this layout (no caller touches a pointer).
import { kernel } from "../wasm/kernel.ts";
import { STATUS, TRAILER_SIZE } from "./constants.ts";

const DIGEST_AT = 256;

/**
 * The trailer of a container of `totalSize` bytes whose digest is `digest`, as a view of the
 * kernel's I/O window: copy it (or write it out) before the kernel runs again.
 */
export function trailerView(totalSize: number, digest: Uint8Array): Uint8Array {
  const k = kernel();
  k.mem.set(digest, k.scratchPtr + DIGEST_AT);
  k.exports.writeTrailer(k.ioPtr, totalSize, k.scratchPtr + DIGEST_AT);
  return k.io.subarray(0, TRAILER_SIZE);
}

/** Whether `trailer` is intact and records `totalSize` and `digest`. */
export function trailerHolds(trailer: Uint8Array, totalSize: number, digest: Uint8Array): boolean {
  const k = kernel();
  k.io.set(trailer.subarray(0, TRAILER_SIZE));
  k.mem.set(digest, k.scratchPtr + DIGEST_AT);
  return k.exports.checkTrailer(k.ioPtr, totalSize, k.scratchPtr + DIGEST_AT) === STATUS.OK;
}
