// SHA-256 of many equal-length messages laid end to end: the per-block hashes of a manifest,
// Merkle levels. The SIMD build hashes four messages at once, one per v128 lane; the scalar
// build (and the SIMD build's remainder) hashes them one by one.
import { STATE } from "./layout";
import { sha256Once } from "./sha256";

/** Digests of `count` messages of `len` bytes at p, p + len, …, written 32 bytes apart at out. */
export function sha256Many(p: usize, len: usize, count: usize, out: usize): void {
  for (let i: usize = 0; i < count; i++) sha256Once(STATE + 128, p + i * len, len, out + (i << 5));
}
