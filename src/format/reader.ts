// The corruption scan of one container file: every byte is checked (header CRC, metadata CRC,
// each chunk's header CRC and payload CRC, the trailer's SHA-256 over everything before it).
// Damage is returned as findings, never thrown: I/O errors (FsError) and a file from another
// format version (FormatVersionError) are the only exceptions. Every length comes from a header
// the kernel has validated against the real file size before anything is allocated by it.
import { FormatVersionError } from "../errors.ts";
import type { FileHandle } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { StreamSha256 } from "../hash-stream.ts";
import { kernel } from "../wasm/kernel.ts";
import { pace } from "../pace.ts";
import {
  CHUNK_HEADER_SIZE,
  FORMAT_VERSION,
  FORMAT_VERSION_MIN,
  HEADER_SIZE,
  STATUS,
  STATUS_TEXT,
  TRAILER_SIZE,
} from "./constants.ts";
import { BlockDamage, ChunkCheck } from "./chunk-check.ts";
import { scanBodyV2 } from "./tree-reader.ts";
import { trailerHolds } from "./trailer.ts";
import {
  type ChunkInfo,
  type ContainerHeader,
  type Damage,
  ReadAhead,
  readMetadata,
  type ScanOptions,
  type ScanResult,
  SMALL_CHUNK,
} from "./scan-parts.ts";

export type { ChunkInfo, ContainerHeader, Damage, DamageKind, ScanOptions, ScanResult } from "./scan-parts.ts";
export { MAX_BLOCK_DAMAGE, ReadAhead, readMetadata, SMALL_CHUNK } from "./scan-parts.ts";

function parseHeader(bytes: Uint8Array): ContainerHeader {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  return {
    version: dv.getUint16(8, true),
    kind: dv.getUint8(12),
    chunkSize: dv.getUint32(16, true),
    metaLength: dv.getUint32(20, true),
    createdAt: Number(dv.getBigUint64(24, true)),
    payloadLength: Number(dv.getBigUint64(32, true)),
    chunkCount: Number(dv.getBigUint64(40, true)),
    totalSize: Number(dv.getBigUint64(48, true)),
  };
}

export async function scanContainer(h: FileHandle, path: string, options: ScanOptions = {}): Promise<ScanResult> {
  const k = kernel();
  const fileSize = await h.size();
  const result: ScanResult = { path, fileSize, blockCrcs: [], damage: [] };
  const damage = (d: Damage) => {
    result.damage.push(d);
    return result;
  };

  if (fileSize === 0) {
    return damage({ kind: "torn", offset: 0, length: 0, message: "empty file (a write that never completed)" });
  }
  const head = new Uint8Array(HEADER_SIZE);
  const got = await readFully(h, head, 0);
  const magicPrefix = new TextDecoder().decode(head.subarray(0, Math.min(got, 7)));
  if (got < HEADER_SIZE) {
    return "CKPTKIT".startsWith(magicPrefix)
      ? damage({
        kind: "truncated",
        offset: got,
        length: HEADER_SIZE - got,
        message: `file ends inside the header (${got} of ${HEADER_SIZE} bytes)`,
      })
      : damage({ kind: "bad-header", offset: 0, length: got, message: "not a ckptkit file (bad magic)" });
  }
  k.io.set(head);
  const status = k.exports.checkHeader(k.ioPtr, fileSize);
  const header = parseHeader(head);
  if (status === STATUS.BAD_VERSION) {
    throw new FormatVersionError(path, header.version, `${FORMAT_VERSION_MIN} to ${FORMAT_VERSION}`);
  }
  if (status === STATUS.SIZE_MISMATCH) {
    result.header = header;
    return fileSize < header.totalSize
      ? damage({
        kind: "truncated",
        offset: fileSize,
        length: header.totalSize - fileSize,
        message: `file is ${fileSize} bytes; its header says ${header.totalSize}`,
      })
      : damage({
        kind: "bad-header",
        offset: header.totalSize,
        length: fileSize - header.totalSize,
        message: `file is ${fileSize} bytes; its header says ${header.totalSize}`,
      });
  }
  if (status !== STATUS.OK) {
    return damage({
      kind: "bad-header",
      offset: 0,
      length: HEADER_SIZE,
      message: STATUS_TEXT[status] ?? `status ${status}`,
    });
  }
  result.header = header;
  const veto = options.onHeader?.(header);
  if (veto !== undefined) return damage({ kind: "bad-header", offset: 0, length: HEADER_SIZE, message: veto });

  // size() said the file holds header.totalSize bytes; a read that comes back short (the file
  // shrank, or a handle whose size is wrong) is truncation there, not a reason to go on scanning
  // a reused buffer for as many bytes as the header claims.
  const short = (at: number, got: number) =>
    damage({
      kind: "truncated",
      offset: at + got,
      length: header.totalSize - (at + got),
      message: `file ends at byte ${at + got} while being read; its size and header say ${header.totalSize}`,
    });

  // v2: leaves on the kernel's lanes and the pool (tree-reader.ts). v1: one serial SHA-256; large
  // files are hashed on the worker thread while this one reads and checks CRCs.
  if (header.version >= 2) return scanBodyV2(h, header, head, result, damage, short, options);
  const sha = await StreamSha256.open(header.totalSize);
  try {
    return await scanBody(h, header, head, sha, result, damage, short, options);
  } finally {
    await sha.release();
  }
}

/** Everything after the header: metadata, chunks, trailer; the SHA-256 runs over all of it. */
async function scanBody(
  h: FileHandle,
  header: ContainerHeader,
  head: Uint8Array,
  sha: StreamSha256,
  result: ScanResult,
  damage: (d: Damage) => ScanResult,
  short: (at: number, got: number) => ScanResult,
  options: ScanOptions,
): Promise<ScanResult> {
  const k = kernel();
  await sha.update(head);
  const metaAndCrc = await readMetadata(h, header, result, damage);
  if (!metaAndCrc.ok) return short(HEADER_SIZE, metaAndCrc.got);
  await sha.update(metaAndCrc.bytes);

  let pos = HEADER_SIZE + metaAndCrc.bytes.length;
  options.onBytes?.(pos);
  const buf = new Uint8Array(CHUNK_HEADER_SIZE + Math.min(header.chunkSize, header.payloadLength));
  let remaining = header.payloadLength;
  const ahead = header.chunkSize + CHUNK_HEADER_SIZE < SMALL_CHUNK ? new ReadAhead(h) : undefined;
  const chunks = new ChunkCheck(header);
  const blocks = new BlockDamage(damage);
  for (let i = 0; i < header.chunkCount; i++) {
    await pace(options.signal, "the scan");
    const len = Math.min(header.chunkSize, remaining);
    const piece = buf.subarray(0, CHUNK_HEADER_SIZE + len);
    const gotChunk = ahead ? await ahead.read(piece, pos) : await readFully(h, piece, pos);
    if (gotChunk < piece.length) {
      blocks.flush();
      return short(pos, gotChunk);
    }
    const ok = chunks.check(piece, i, len);
    // The whole chunk sits in the kernel's io area after a fast check: hashed from there.
    await (chunks.inKernel ? sha.update(piece, k.ioPtr) : sha.update(piece));
    const info: ChunkInfo = { index: i, offset: pos, length: piece.length, type: chunks.type, crc: chunks.crc, ok };
    result.blockCrcs.push(chunks.crc);
    blocks.chunk(chunks, i, pos, piece.length);
    if (options.onChunk) await options.onChunk(piece.subarray(CHUNK_HEADER_SIZE), info);
    options.onBytes?.(piece.length);
    pos += piece.length;
    remaining -= len;
  }

  blocks.flush();
  const trailer = new Uint8Array(TRAILER_SIZE);
  const gotTrailer = await readFully(h, trailer, pos);
  if (gotTrailer < TRAILER_SIZE) return short(pos, gotTrailer);
  options.onBytes?.(TRAILER_SIZE);
  result.fileSha256 = await sha.digest();
  // A SHA mismatch with every CRC intact means the damage is in the trailer itself (or a CRC
  // collision); with CRC damage already reported it adds nothing, so it is reported alone.
  if (!trailerHolds(trailer, header.totalSize, result.fileSha256) && result.damage.length === 0) {
    damage({
      kind: "sha-mismatch",
      offset: pos,
      length: TRAILER_SIZE,
      message: "trailer damaged or SHA-256 of the file does not match",
    });
  }
  return result;
}
