// Serialization and validation of the checkpoint container's fixed structures (docs/FORMAT.md).
// The host drives I/O; these functions encode headers in place and check bytes it has read,
// returning a status code (see STATUS_* below, mirrored in src/format/constants.ts).
// u64 quantities cross the boundary as f64: every size the host handles is below 2^53.
import { crc32Sparse } from "./crc32-sparse";

export const HEADER_SIZE: usize = 64;       // fixed file header
export const CHUNK_HEADER_SIZE: usize = 32; // per-chunk header
export const TRAILER_SIZE: usize = 48;      // magic 8 | total u64 | sha256 32
/** Versions this kernel reads and writes: 1, and 2 (a manifest that may hold inline members:
 *  docs/FORMAT.md, "Versioning"); names as on the format-v2 branch (wip/v2-format 0002). */
export const VERSION_MIN: u16 = 1;
export const VERSION_MAX: u16 = 2;
export const MAX_CHUNK_SIZE: u32 = 16 << 20;
export const MAX_META_SIZE: u32 = 1 << 20;

// "CKPTKIT\0", "CHNK", "CKPTEND\0" as little-endian integers.
const MAGIC: u64 = 0x0054494b54504b43;
const CHUNK_MAGIC: u32 = 0x4b4e4843;
const TRAILER_MAGIC: u64 = 0x00444e4554504b43;

export const STATUS_OK: i32 = 0;
export const STATUS_BAD_MAGIC: i32 = 1;
export const STATUS_BAD_VERSION: i32 = 2;
export const STATUS_BAD_HEADER_CRC: i32 = 3;
export const STATUS_BAD_FIELD: i32 = 4;
export const STATUS_SIZE_MISMATCH: i32 = 5;
export const STATUS_BAD_CHUNK_MAGIC: i32 = 6;
export const STATUS_BAD_CHUNK_HEADER_CRC: i32 = 7;
export const STATUS_BAD_CHUNK_INDEX: i32 = 8;
export const STATUS_BAD_CHUNK_LENGTH: i32 = 9;
export const STATUS_CHUNK_CRC_MISMATCH: i32 = 10;
export const STATUS_BAD_TRAILER: i32 = 11;

function crcOf(ptr: usize, len: usize): u32 { return crc32Sparse(0, ptr, len); }

/** Total file size implied by the header's fields (f64, exact below 2^53). */
export function containerSize(metaLen: f64, payloadLen: f64, chunkCount: f64): f64 {
  return <f64>HEADER_SIZE + metaLen + 4 + <f64>CHUNK_HEADER_SIZE * chunkCount + payloadLen + <f64>TRAILER_SIZE;
}

export function writeHeader(
  ptr: usize, kind: u32, chunkSize: u32, metaLen: u32, createdAt: f64, payloadLen: f64, chunkCount: f64, version: u32,
): void {
  memory.fill(ptr, 0, HEADER_SIZE);
  store<u64>(ptr, MAGIC, 0);
  store<u16>(ptr, <u16>version, 8);
  store<u16>(ptr, <u16>HEADER_SIZE, 10);
  store<u8>(ptr, <u8>kind, 12);
  store<u32>(ptr, chunkSize, 16);
  store<u32>(ptr, metaLen, 20);
  store<u64>(ptr, <u64>createdAt, 24);
  store<u64>(ptr, <u64>payloadLen, 32);
  store<u64>(ptr, <u64>chunkCount, 40);
  store<u64>(ptr, <u64>containerSize(<f64>metaLen, payloadLen, chunkCount), 48);
  store<u32>(ptr, crcOf(ptr, 60), 60);
}

/**
 * Checks a fixed header against the size of the file it came from. Every length field is
 * bounded here, before the host allocates anything by it.
 */
export function checkHeader(ptr: usize, fileSize: f64): i32 {
  if (load<u64>(ptr, 0) != MAGIC) return STATUS_BAD_MAGIC;
  if (load<u32>(ptr, 60) != crcOf(ptr, 60)) return STATUS_BAD_HEADER_CRC;
  const version = load<u16>(ptr, 8);
  if (version < VERSION_MIN || version > VERSION_MAX) return STATUS_BAD_VERSION;
  const kind = load<u8>(ptr, 12);
  const chunkSize = load<u32>(ptr, 16);
  const metaLen = load<u32>(ptr, 20);
  const payloadLen = load<u64>(ptr, 32);
  const chunkCount = load<u64>(ptr, 40);
  const total = load<u64>(ptr, 48);
  if (load<u16>(ptr, 10) != <u16>HEADER_SIZE || kind < 1 || kind > 2 || load<u8>(ptr, 13) != 0 ||
      load<u16>(ptr, 14) != 0 || load<u32>(ptr, 56) != 0) return STATUS_BAD_FIELD;
  if (chunkSize == 0 || chunkSize > MAX_CHUNK_SIZE || metaLen > MAX_META_SIZE) return STATUS_BAD_FIELD;
  if (payloadLen > (<u64>1 << 52) || total > (<u64>1 << 53)) return STATUS_BAD_FIELD;
  if (chunkCount != (payloadLen + <u64>chunkSize - 1) / <u64>chunkSize) return STATUS_BAD_FIELD;
  if (<f64>total != containerSize(<f64>metaLen, <f64>payloadLen, <f64>chunkCount)) return STATUS_BAD_FIELD;
  if (<f64>total != fileSize) return STATUS_SIZE_MISMATCH;
  return STATUS_OK;
}

/**
 * Serializes one chunk in place: the payload already sits at ptr + 32; writes the 32-byte
 * chunk header in front of it and returns the payload's CRC-32.
 */
export function encodeChunk(ptr: usize, type: u32, index: f64, len: u32): u32 {
  const crc = crcOf(ptr + CHUNK_HEADER_SIZE, len);
  store<u32>(ptr, CHUNK_MAGIC, 0);
  store<u16>(ptr, <u16>type, 4);
  store<u16>(ptr, 0, 6);
  store<u64>(ptr, <u64>index, 8);
  store<u32>(ptr, len, 16);
  store<u32>(ptr, crc, 20);
  store<u32>(ptr, 0, 24);
  store<u32>(ptr, crcOf(ptr, 28), 28);
  return crc;
}

/** Checks a chunk header: its magic, its own CRC, its index and a length within bounds. */
export function checkChunkHeader(ptr: usize, index: f64, expectedLen: u32): i32 {
  if (load<u32>(ptr, 0) != CHUNK_MAGIC) return STATUS_BAD_CHUNK_MAGIC;
  if (load<u32>(ptr, 28) != crcOf(ptr, 28)) return STATUS_BAD_CHUNK_HEADER_CRC;
  if (load<u64>(ptr, 8) != <u64>index) return STATUS_BAD_CHUNK_INDEX;
  if (load<u32>(ptr, 16) != expectedLen || load<u16>(ptr, 6) != 0 || load<u32>(ptr, 24) != 0) return STATUS_BAD_CHUNK_LENGTH;
  return STATUS_OK;
}

/** The corruption scan of one chunk held whole at ptr: header, then payload CRC. */
export function scanChunk(ptr: usize, index: f64, expectedLen: u32): i32 {
  const s = checkChunkHeader(ptr, index, expectedLen);
  if (s != STATUS_OK) return s;
  if (crcOf(ptr + CHUNK_HEADER_SIZE, expectedLen) != load<u32>(ptr, 20)) return STATUS_CHUNK_CRC_MISMATCH;
  return STATUS_OK;
}

export function writeTrailer(ptr: usize, total: f64, shaPtr: usize): void {
  store<u64>(ptr, TRAILER_MAGIC, 0);
  store<u64>(ptr, <u64>total, 8);
  memory.copy(ptr + 16, shaPtr, 32);
}

/** Checks the trailer's magic, recorded length and SHA-256 against the one computed at shaPtr. */
export function checkTrailer(ptr: usize, total: f64, shaPtr: usize): i32 {
  if (load<u64>(ptr, 0) != TRAILER_MAGIC || load<u64>(ptr, 8) != <u64>total) return STATUS_BAD_TRAILER;
  for (let i: usize = 0; i < 32; i += 8) {
    if (load<u64>(ptr + 16 + i) != load<u64>(shaPtr + i)) return STATUS_BAD_TRAILER;
  }
  return STATUS_OK;
}
