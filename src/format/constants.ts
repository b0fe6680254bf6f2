// Byte layout of the checkpoint container (docs/FORMAT.md is the spec; assembly/container.ts
// encodes and checks these structures). All integers little-endian.

/** magic 8 | version 2 | header size 2 | kind 1 | compression 1 | flags 2 | chunk size 4 |
 *  metadata length 4 | created-at 8 | payload length 8 | chunk count 8 | total size 8 |
 *  reserved 4 | header CRC-32 4 */
export const HEADER_SIZE = 64;
/** metadata CRC-32, right after the metadata bytes */
export const META_CRC_SIZE = 4;
/** magic "CHNK" 4 | type 2 | flags 2 | index 8 | payload length 4 | payload CRC-32 4 |
 *  reserved 4 | header CRC-32 4 */
export const CHUNK_HEADER_SIZE = 32;
/** magic "CKPTEND\0" 8 | total size 8 | v1: SHA-256 of every preceding byte, v2: the tree root 32 */
export const TRAILER_SIZE = 48;
/** v2: the leaf list after the last chunk: one SHA-256 (32) per chunk, then a CRC-32 (4) of them. */
export const LEAF_SIZE = 32;
export const LEAVES_CRC_SIZE = 4;
/** v2: the first 8 bytes of the root's message (docs/FORMAT.md, "The SHA-256 tree"). */
export const ROOT_TAG = "CKPTROOT";

/** What new saves write. */
export const FORMAT_VERSION = 2;
/** Oldest version still read (docs/FORMAT.md, "Versioning"). */
export const FORMAT_VERSION_MIN = 1;
/**
 * The oldest version whose manifest may hold inline members (chunk type CHUNK_TABLE_INLINE): a
 * v2 (tree-layout) container. A version 1 reader refuses every v2 file with FormatVersionError,
 * so it never meets a type-3 chunk; a version 1 header with type-3 chunks is damage.
 */
export const INLINE_FORMAT_VERSION = 2;
export const MAGIC = "CKPTKIT\0";
export const MAX_CHUNK_SIZE = 16 << 20;
export const MAX_META_SIZE = 1 << 20;
export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** The writer keeps a whole encoded chunk in the kernel's 1 MiB I/O window. */
export const MAX_WRITE_CHUNK_SIZE = 512 * 1024;
/**
 * A manifest's member table goes in one chunk when it fits in this many bytes (chunk size = the
 * table's length, the only form older readers know), else in chunks of this size.
 */
export const TABLE_CHUNK_SIZE = MAX_WRITE_CHUNK_SIZE;
/** The member table records a member's block count as u32. */
export const MAX_MEMBER_BLOCKS = 0xffff_ffff;

export const KIND_MEMBER = 1;
export const KIND_MANIFEST = 2;
export const CHUNK_DATA = 1;
export const CHUNK_MEMBER_TABLE = 2;
/** Manifest v2: the member table followed by the inline members' payloads (docs/FORMAT.md). */
export const CHUNK_TABLE_INLINE = 3;

/** Status codes returned by the kernel's check functions (assembly/container.ts). */
export const STATUS = {
  OK: 0,
  BAD_MAGIC: 1,
  BAD_VERSION: 2,
  BAD_HEADER_CRC: 3,
  BAD_FIELD: 4,
  SIZE_MISMATCH: 5,
  BAD_CHUNK_MAGIC: 6,
  BAD_CHUNK_HEADER_CRC: 7,
  BAD_CHUNK_INDEX: 8,
  BAD_CHUNK_LENGTH: 9,
  CHUNK_CRC_MISMATCH: 10,
  BAD_TRAILER: 11,
} as const;

export const STATUS_TEXT: Record<number, string> = {
  1: "bad magic (not a ckptkit file)",
  2: "unsupported format version",
  3: "header checksum mismatch",
  4: "header field out of range",
  5: "file size differs from the header's total size",
  6: "bad chunk magic",
  7: "chunk header checksum mismatch",
  8: "chunk index out of sequence",
  9: "chunk length differs from the header's",
  10: "chunk payload CRC-32 mismatch",
  11: "trailer damaged or SHA-256 mismatch",
};

/** Total file size for the given section sizes (v2 adds the leaf list; assembly/container.ts agrees). */
export function containerSize(
  metaLen: number,
  payloadLen: number,
  chunkCount: number,
  version = FORMAT_VERSION,
): number {
  const leaves = version >= 2 ? LEAF_SIZE * chunkCount + LEAVES_CRC_SIZE : 0;
  return HEADER_SIZE + metaLen + META_CRC_SIZE + CHUNK_HEADER_SIZE * chunkCount + payloadLen + leaves + TRAILER_SIZE;
}

export function chunkCountFor(payloadLen: number, chunkSize: number): number {
  return Math.ceil(payloadLen / chunkSize);
}
