// Fixed memory map of the kernel. Memory is exactly 40 pages (2.5 MiB) and never grows, so the
// host's Uint8Array views over it never detach. Everything lives at fixed offsets above the
// compiler's static data; there is no allocator and nothing is freed. Both builds (scalar and
// SIMD) share this map.
//
//   CRC_TABLES   16 × 256 × u32  = 16 KiB   slicing-by-16 tables, built once at start
//   SHA_K        64 × u32        = 256 B    SHA-256 round constants
//   SHA_W        64 × u32        = 256 B    message schedule scratch
//   STATE        512 B                      a hasher's state, kept here by the host
//   SCRATCH      64 KiB                     small results (block CRC tables, header fields)
//   IO           1 MiB + 64 B              the host copies (or reads) input here
//   MB_K         64 × v128       = 1 KiB    round constants splatted to 4 lanes (multi-buffer)
//   MB_W         64 × v128       = 1 KiB    4-lane message schedule (W + K)
//   MB_STATE     8 × v128 + 4 × 64 B        4-lane chaining values and padded final blocks
//   DIGESTS      64 KiB                     sha256Many writes up to 2048 digests here

export const CRC_TABLES: usize = (__heap_base + 63) & ~63;
export const SHA_K: usize = CRC_TABLES + 16 * 256 * 4;
export const SHA_W: usize = SHA_K + 64 * 4;
export const STATE: usize = SHA_W + 64 * 4;
export const STATE_SIZE: usize = 512;
export const SCRATCH: usize = STATE + STATE_SIZE;
export const SCRATCH_SIZE: usize = 64 * 1024;
export const IO: usize = SCRATCH + SCRATCH_SIZE;
export const IO_SIZE: usize = 1 << 20;
export const MB_K: usize = IO + IO_SIZE + 64;
export const MB_W: usize = MB_K + 64 * 16;
export const MB_STATE: usize = MB_W + 64 * 16;
export const MB_TAIL: usize = MB_STATE + 8 * 16;
export const DIGESTS: usize = MB_TAIL + 4 * 128;
export const DIGESTS_SIZE: usize = 64 * 1024;
