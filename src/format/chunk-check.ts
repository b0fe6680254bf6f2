// The per-chunk check both container scans run (reader.ts for v1, tree-reader.ts for v2), and how
// its failures are reported: one place, so that a chunk is judged the same way in every version.
//   - ChunkCheck: the chunk header (index, length, its own CRC, checked by the kernel), the
//     payload's CRC-32, and the chunk type the container's kind and version allow.
//   - BlockDamage: damaged blocks one by one up to MAX_BLOCK_DAMAGE, then one entry counting the
//     rest (a file of millions of tiny chunks, all damaged, must not become millions of objects).
// Neither allocates per chunk: a file may hold millions of them (the contract's RSS bound).
import { crc32 } from "../hash.ts";
import { kernel } from "../wasm/kernel.ts";
import { chunkTypeFor, wrongChunkType } from "./chunk-type.ts";
import { CHUNK_HEADER_SIZE, STATUS, STATUS_TEXT } from "./constants.ts";
import { type ContainerHeader, type Damage, type DamageKind, MAX_BLOCK_DAMAGE, type ScanResult } from "./scan-parts.ts";

/** One scan's chunk check; check() leaves its findings in the fields (read them before the next call). */
export class ChunkCheck {
  /** The kernel's status for the chunk (STATUS.OK, or why it failed). */
  status: number = STATUS.OK;
  /** The payload's CRC-32 (the stored one when the check passed: it was proved equal). */
  crc = 0;
  /** The chunk's stored type. */
  type = 0;
  /** The type the container wants, when the chunk's passed its CRCs but is not that; else undefined. */
  wrongType: number | undefined;
  /** The whole encoded chunk was copied to the kernel's io area (a v1 scan hashes it from there). */
  inKernel = false;

  constructor(private readonly header: ContainerHeader) {}

  /** Checks encoded chunk `i` (its header and `len` payload bytes) in `piece`; true when it holds. */
  check(piece: Uint8Array, i: number, len: number): boolean {
    const k = kernel();
    this.inKernel = piece.length <= k.io.length;
    if (this.inKernel) {
      k.io.set(piece);
      this.status = k.exports.scanChunk(k.ioPtr, i, len);
      // A passing scan proved the stored CRC equals the payload's: no need to compute it twice.
      this.crc = this.status === STATUS.OK
        ? (piece[20]! | (piece[21]! << 8) | (piece[22]! << 16) | (piece[23]! << 24)) >>> 0
        : k.exports.crc32(0, k.ioPtr + CHUNK_HEADER_SIZE, len) >>> 0;
    } else {
      k.io.set(piece.subarray(0, CHUNK_HEADER_SIZE));
      this.status = k.exports.checkChunkHeader(k.ioPtr, i, len);
      this.crc = crc32(piece.subarray(CHUNK_HEADER_SIZE));
      const stored = (piece[20]! | (piece[21]! << 8) | (piece[22]! << 16) | (piece[23]! << 24)) >>> 0;
      if (this.status === STATUS.OK && this.crc !== stored) this.status = STATUS.CHUNK_CRC_MISMATCH;
    }
    this.type = piece[4]! | (piece[5]! << 8);
    // Per chunk: a v2 manifest's chunks may be member-table or table+inline (the collector,
    // src/format/table-reader.ts, holds one manifest to one of the two).
    const want = chunkTypeFor(this.header.kind, this.header.version, this.type);
    this.wrongType = this.status === STATUS.OK && want !== undefined && this.type !== want ? want : undefined;
    return this.status === STATUS.OK && this.wrongType === undefined;
  }
}

/** Block damage of one scan, capped (see the top of this file); flush() before the scan returns. */
export class BlockDamage {
  private count = 0;
  private omitted: { block: number; offset: number; end: number } | undefined;

  constructor(private readonly damage: (d: Damage) => ScanResult) {}

  /** Reports what `c` found in block `i` (bytes [pos, pos + length)): a failed check, or a wrong type. */
  chunk(c: ChunkCheck, i: number, pos: number, length: number): void {
    if (c.status !== STATUS.OK) {
      const kind = c.status === STATUS.CHUNK_CRC_MISMATCH ? "crc-mismatch" : "bad-chunk";
      this.add(i, pos, length, kind, STATUS_TEXT[c.status] ?? String(c.status));
    }
    if (c.wrongType !== undefined) {
      const message = `block ${i} (bytes ${pos}..${pos + length - 1}): ${wrongChunkType(c.type, c.wrongType)}`;
      this.damage({ kind: "bad-chunk", offset: pos, length, block: i, message });
    }
  }

  /** Block `i` (bytes [pos, pos + length)) is damaged: `why`. Listed while under the cap, counted after. */
  add(i: number, pos: number, length: number, kind: DamageKind, why: string): void {
    if (++this.count > MAX_BLOCK_DAMAGE) {
      this.omitted ??= { block: i, offset: pos, end: 0 };
      this.omitted.end = pos + length;
    } else {
      this.damage({
        kind,
        offset: pos,
        length,
        block: i,
        message: `block ${i} (bytes ${pos}..${pos + length - 1}): ${why}`,
      });
    }
  }

  /** The one entry counting the blocks past the cap, if any. */
  flush(): void {
    if (!this.omitted) return;
    const { block, offset, end } = this.omitted;
    const more = this.count - MAX_BLOCK_DAMAGE;
    this.damage({
      kind: "crc-mismatch",
      offset,
      length: end - offset,
      block,
      message: `${more} more damaged block${more === 1 ? "" : "s"} not listed, from block ${block} (bytes ${offset}..${
        end - 1
      })`,
    });
    this.omitted = undefined;
  }
}
