// SHA-256 of many equal-length messages laid end to end: the per-block hashes of a manifest,
// Merkle levels. The SIMD build hashes four messages at once, one per v128 lane
// (sha256-x4.ts); the scalar build, and the SIMD build's last count % 4, hash them one by one.
// ASC_FEATURE_SIMD is a compile-time constant: the scalar build contains no SIMD code at all.
import { STATE } from "./layout";
import { sha256Once } from "./sha256";
import { sha256x4, sha256x4Setup } from "./sha256-x4";

/** Per-build setup (the SIMD build splats the round constants). */
export function sha256ManySetup(): void {
  if (ASC_FEATURE_SIMD) sha256x4Setup();
}

/** Digests of `count` messages of `len` bytes at p, p + len, …, written 32 bytes apart at out. */
export function sha256Many(p: usize, len: usize, count: usize, out: usize): void {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= count; i += 4) sha256x4(p + i * len, len, out + (i << 5));
  }
  // The state record of the one-shot path sits past the host's 112-byte hasher state.
  for (; i < count; i++) sha256Once(STATE + 128, p + i * len, len, out + (i << 5));
}
