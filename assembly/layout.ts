// Fixed memory map of the kernel. Memory is exactly 64 pages (4 MiB) and never grows, so the
// host's Uint8Array views over it never detach. Everything lives at fixed offsets above the
// compiler's static data; there is no allocator and nothing is freed. Both builds (scalar, SIMD)
// share this map. The offsets are literal constants, not derived from __heap_base: the
// compiler then folds them into each load's immediate offset (a derived value is a mutable
// global, read and added on every table lookup; ~5% of CRC-32 in V8). layoutOk() checks at
// start that the static data really ends below BASE.
//
//   CRC_TABLES   16 × 256 × u32  = 16 KiB   slicing-by-16 tables, built once at start
//   SHA_K        64 × u32        = 256 B    SHA-256 round constants (splatted into MB_K at start)
//   STATE        512 B                      the active hasher's state (host), at +128 sha256Many's
//   SCRATCH      64 KiB                     small results (block CRC tables, header fields)
//   IO           1 MiB + 64 B              the host copies (or reads) input here
//   MB_K         64 × v128       = 1 KiB    round constants splatted to 4 lanes (multi-buffer)
//   MB_W         64 × v128       = 1 KiB    4-lane message schedule W[t]
//   MB_WK        64 × v128       = 1 KiB    W[t] + K[t], what the rounds read
//   MB_STATE     8 × v128 + 4 × 128 B       4-lane chaining values; MB_TAIL: padded final blocks
//   DIGESTS      64 KiB                     sha256Many writes up to 2048 digests here
//   SPARSE_RING  (2048 + 300) × 16 B        sparse-multiple CRC: the removed units U_i
//   SPARSE_TAIL  300 × 16 B = 4800 B        sparse-multiple CRC: the message mod Q
//   LEAF_BATCH   2 MiB + 4 KiB              v2 leaves: encoded chunks hashed 4 lanes at a time

export const BASE: usize = 64 * 1024;
export const CRC_TABLES: usize = BASE;
export const SHA_K: usize = CRC_TABLES + 16 * 256 * 4;
export const STATE: usize = SHA_K + 64 * 4;
export const STATE_SIZE: usize = 512;
export const SCRATCH: usize = STATE + STATE_SIZE;
export const SCRATCH_SIZE: usize = 64 * 1024;
export const IO: usize = SCRATCH + SCRATCH_SIZE;
export const IO_SIZE: usize = 1 << 20;
export const MB_K: usize = IO + IO_SIZE + 64;
export const MB_W: usize = MB_K + 64 * 16;
export const MB_WK: usize = MB_W + 64 * 16;
export const MB_STATE: usize = MB_WK + 64 * 16;
export const MB_TAIL: usize = MB_STATE + 8 * 16;
export const DIGESTS: usize = MB_TAIL + 4 * 128;
export const DIGESTS_SIZE: usize = 64 * 1024;
export const SPARSE_RING: usize = DIGESTS + DIGESTS_SIZE;
export const SPARSE_RING_UNITS: usize = 2048;
export const SPARSE_TAIL: usize = SPARSE_RING + (SPARSE_RING_UNITS + 300) * 16;
/** v2 leaf batches: up to four encoded 512 KiB chunks (4 × (32 + 512 KiB)) hashed by sha256Many. */
export const LEAF_BATCH: usize = SPARSE_TAIL + 300 * 16;
export const LEAF_BATCH_SIZE: usize = (2 << 20) + 4096;
export const END: usize = LEAF_BATCH + LEAF_BATCH_SIZE;

/** True when the compiler's static data ends below BASE and the map fits the memory. */
export function layoutOk(): bool {
  return __heap_base <= BASE && END <= <usize>memory.size() << 16;
}
