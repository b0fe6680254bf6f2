// What the container scans share (reader.ts for v1, tree-reader.ts for v2): the result and
// option types, the read-ahead window for small chunks, the block-damage cap and the metadata
// read. Its own module so that the two scans import it and not each other.
import { CorruptionError } from "../errors.ts";
import type { FileHandle } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { crc32 } from "../hash.ts";
import { HEADER_SIZE, META_CRC_SIZE } from "./constants.ts";
import { decodeMetadata, type Metadata } from "./metadata.ts";

export type DamageKind =
  | "torn"
  | "truncated"
  | "bad-header"
  | "bad-metadata"
  | "bad-chunk"
  | "crc-mismatch"
  | "sha-mismatch";

export interface Damage {
  kind: DamageKind;
  /** Byte range of the damaged structure in the file. */
  offset: number;
  length: number;
  /** Chunk (block) index, for chunk damage. */
  block?: number;
  message: string;
}

export interface ContainerHeader {
  kind: number;
  version: number;
  chunkSize: number;
  createdAt: number;
  payloadLength: number;
  chunkCount: number;
  totalSize: number;
  metaLength: number;
}

export interface ChunkInfo {
  index: number;
  offset: number;
  length: number;
  type: number;
  crc: number;
  ok: boolean;
}

export interface ScanResult {
  path: string;
  fileSize: number;
  header?: ContainerHeader;
  meta?: Metadata;
  /** CRC-32 of each chunk's payload as read (computed, not stored). */
  blockCrcs: number[];
  /** The file's digest as read: v1 the SHA-256 of all bytes before the trailer, v2 the tree root. */
  fileSha256?: Uint8Array;
  damage: Damage[];
}

export interface ScanOptions {
  /**
   * Called once the header has verified, before any chunk is read. Returning a message stops
   * the scan and records it as header damage (e.g. the header disagrees with a manifest).
   */
  onHeader?: (header: ContainerHeader) => string | undefined;
  /** Called with each chunk's payload (valid until the callback returns) and whether it checked out. */
  onChunk?: (payload: Uint8Array, info: ChunkInfo) => void | Promise<void>;
  /** Checked before every chunk (src/pace.ts): an aborted scan rejects with an AbortError. */
  signal?: AbortSignal;
  /** Called with the file bytes of each chunk once it is checked (progress). */
  onBytes?: (n: number) => void;
  /**
   * v2: the root the caller expects (the manifest's). With onChunk, a chunk is delivered as ok
   * only if the leaf list's root equals this too (tree-reader.ts), not only the trailer's.
   */
  expectRoot?: Uint8Array;
}

/** Chunks smaller than this are read through a READ_AHEAD window, not one read call each. */
export const SMALL_CHUNK = 64 * 1024;
const READ_AHEAD = 1 << 20;

/**
 * Serves small consecutive reads from one 1 MiB read: a file of 1-byte chunks (33 bytes each on
 * disk) is 3 million chunks per 99 MB, and a read call per chunk made the scan take minutes.
 */
export class ReadAhead {
  private readonly buf = new Uint8Array(READ_AHEAD);
  private start = 0;
  private end = 0;
  constructor(private readonly h: FileHandle) {}
  /**
   * Fills `dst` from what is buffered, without a promise (a million tiny chunks are a million
   * calls): the bytes got, or -1 when `dst` is not all buffered and read() must go to the file.
   */
  readBuffered(dst: Uint8Array, pos: number): number {
    if (dst.length > this.buf.length || pos < this.start || pos + dst.length > this.end) return -1;
    const from = pos - this.start;
    // A short copy by hand: a subarray view per tiny chunk is garbage the collector lets pile up.
    if (dst.length <= 64) { for (let i = 0; i < dst.length; i++) dst[i] = this.buf[from + i]!; }
    else dst.set(this.buf.subarray(from, from + dst.length));
    return dst.length;
  }
  /** Like readFully: fills `dst` from file offset `pos`, returns the bytes got (fewer at EOF). */
  async read(dst: Uint8Array, pos: number): Promise<number> {
    const buffered = this.readBuffered(dst, pos);
    if (buffered >= 0) return buffered;
    if (dst.length > this.buf.length) return readFully(this.h, dst, pos);
    this.start = pos;
    this.end = pos + (await readFully(this.h, this.buf, pos));
    const got = Math.max(0, Math.min(dst.length, this.end - pos));
    dst.set(this.buf.subarray(0, got));
    return got;
  }
}

/**
 * Damaged blocks reported one by one; beyond this many, one entry counts the rest. A file of
 * millions of tiny chunks, all damaged, must not become millions of objects (the contract's RSS
 * bound): the first ones locate the damage, the count says how much there is.
 */
export const MAX_BLOCK_DAMAGE = 1000;

/**
 * Reads the metadata and its CRC (bounded: the kernel checked metaLength ≤ 1 MiB and the file
 * size), checks and decodes it into result.meta; damage is recorded, a short read returned.
 */
export async function readMetadata(
  h: FileHandle,
  header: ContainerHeader,
  result: ScanResult,
  damage: (d: Damage) => ScanResult,
): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; got: number }> {
  const metaAndCrc = new Uint8Array(header.metaLength + META_CRC_SIZE);
  const gotMeta = await readFully(h, metaAndCrc, HEADER_SIZE);
  if (gotMeta < metaAndCrc.length) return { ok: false, got: gotMeta };
  const metaBytes = metaAndCrc.subarray(0, header.metaLength);
  const storedMetaCrc = new DataView(metaAndCrc.buffer).getUint32(header.metaLength, true);
  if (crc32(metaBytes) !== storedMetaCrc) {
    damage({
      kind: "bad-metadata",
      offset: HEADER_SIZE,
      length: metaAndCrc.length,
      message: "metadata CRC-32 mismatch",
    });
  } else {
    try {
      result.meta = decodeMetadata(metaBytes, result.path, HEADER_SIZE);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
      damage({ kind: "bad-metadata", offset: err.offset, length: metaAndCrc.length, message: err.message });
    }
  }
  return { ok: true, bytes: metaAndCrc };
}
