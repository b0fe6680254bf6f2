// Fixed memory map of the kernel. Memory is exactly 40 pages (2.5 MiB) and never grows, so the
// host's Uint8Array views over it never detach. Everything lives at fixed offsets above the
// compiler's static data; there is no allocator and nothing is freed.
//
//   CRC_TABLES   16 × 256 × u32  = 16 KiB   slicing-by-16 tables, built once at start
//   SHA_K        64 × u32        = 256 B    SHA-256 round constants
//   SHA_W        64 × u32        = 256 B    message schedule scratch
//   STATE        512 B                      a hasher's state, copied in/out by the host
//   SCRATCH      64 KiB                     small results (block CRC tables, header fields)
//   IO           1 MiB + 64 B              the host copies (or reads) input here

export const CRC_TABLES: usize = (__heap_base + 63) & ~63;
export const SHA_K: usize = CRC_TABLES + 16 * 256 * 4;
export const SHA_W: usize = SHA_K + 64 * 4;
export const STATE: usize = SHA_W + 64 * 4;
export const STATE_SIZE: usize = 512;
export const SCRATCH: usize = STATE + STATE_SIZE;
export const SCRATCH_SIZE: usize = 64 * 1024;
export const IO: usize = SCRATCH + SCRATCH_SIZE;
export const IO_SIZE: usize = 1 << 20;
