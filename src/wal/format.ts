// Byte layout of the write-ahead log (docs/LOG.md is the spec). Little-endian throughout.
//
// segment file `seg-<first sequence, 16 digits>.wal`:
//   header (32 B): magic "CKPTWAL\0" 8 | version u16 | header size u16 (32) | reserved u32 |
//                  first sequence u64 | reserved u32 | header CRC-32 u32 over bytes 0..27
//   then records, back to back.
// record: masked CRC-32 u32 over bytes 4.. of the record | payload length u32 | type u8 |
//         reserved 3 B (0) | sequence u64 | payload
// The CRC covers the length, type, sequence and payload, and is masked (LevelDB's rotation plus
// constant) so that a payload which itself embeds CRCs cannot make a record look valid.
import { crc32 } from "../hash.ts";

export const SEGMENT_MAGIC = "CKPTWAL\0";
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_SIZE = 32;
export const RECORD_HEADER_SIZE = 20;
/** A record payload may not exceed this: a larger length field is damage, never an allocation. */
export const MAX_RECORD_PAYLOAD = 64 << 20;
/**
 * The most bytes one group commit writes, unless it is a single record larger than this, which
 * goes alone (its header says its length). The writer refuses a larger `maxBatchBytes`. The
 * reader relies on it: bytes after the last good record can be a torn write only if the write
 * in flight could have been that long (the torn-tail rule, docs/LOG.md). Lowering it would make
 * tears left by older writers look like damage; raising it weakens what the reader can prove.
 */
export const MAX_BATCH_BYTES = 8 << 20;

export const RECORD_DATA = 1;
/** Ties a log position to a store checkpoint: payload = step u64. */
export const RECORD_MARKER = 2;
/** appendMany: count u32, then (length u32, payload)×count; sequences seq .. seq+count-1. */
export const RECORD_BATCH = 3;
/**
 * A sequence floor: payload = next sequence u64 (> the record's own sequence). Sequences from the
 * record's own up to next-1 are never handed out: written after bytes that may have held records
 * were cut (docs/LOG.md "Sequence floor"). Carries no record for replay.
 */
export const RECORD_SKIP = 4;
export const SKIP_RECORD_SIZE = RECORD_HEADER_SIZE + 8;
/** The torn-tail rule looks at the file in 512-byte sectors, the smallest a disk writes atomically. */
export const SECTOR_SIZE = 512;

const enc = new TextEncoder();
const MAGIC = enc.encode(SEGMENT_MAGIC);
const MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function encodeSegmentHeader(firstSeq: number): Uint8Array {
  const b = new Uint8Array(SEGMENT_HEADER_SIZE);
  const dv = new DataView(b.buffer);
  b.set(MAGIC, 0);
  dv.setUint16(8, SEGMENT_VERSION, true);
  dv.setUint16(10, SEGMENT_HEADER_SIZE, true);
  dv.setBigUint64(16, BigInt(firstSeq), true);
  dv.setUint32(28, crc32(b.subarray(0, 28)), true);
  return b;
}

/** The first sequence of a segment, or a reason the header is bad. */
export function decodeSegmentHeader(b: Uint8Array): { firstSeq: number } | { error: string } {
  if (b.length < SEGMENT_HEADER_SIZE) {
    return { error: `segment header truncated (${b.length} of ${SEGMENT_HEADER_SIZE} bytes)` };
  }
  for (let i = 0; i < 8; i++) if (b[i] !== MAGIC[i]) return { error: "bad segment magic (not a ckptkit log segment)" };
  const dv = new DataView(b.buffer, b.byteOffset, SEGMENT_HEADER_SIZE);
  if (dv.getUint32(28, true) !== crc32(b.subarray(0, 28))) return { error: "segment header CRC mismatch" };
  if (dv.getUint16(8, true) !== SEGMENT_VERSION) {
    return { error: `segment format version ${dv.getUint16(8, true)} is not supported` };
  }
  const first = dv.getBigUint64(16, true);
  if (first < 1n || first > BigInt(Number.MAX_SAFE_INTEGER)) return { error: `first sequence ${first} out of range` };
  return { firstSeq: Number(first) };
}

/** Encodes one record into `out` at `at`; returns its size. */
export function encodeRecordInto(out: Uint8Array, at: number, type: number, seq: number, payload: Uint8Array): number {
  const dv = new DataView(out.buffer, out.byteOffset);
  dv.setUint32(at + 4, payload.length, true);
  out[at + 8] = type;
  out[at + 9] = 0;
  out[at + 10] = 0;
  out[at + 11] = 0;
  dv.setBigUint64(at + 12, BigInt(seq), true);
  out.set(payload, at + RECORD_HEADER_SIZE);
  const size = RECORD_HEADER_SIZE + payload.length;
  dv.setUint32(at, maskCrc(crc32(out.subarray(at + 4, at + size))), true);
  return size;
}

export function encodeRecord(type: number, seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_SIZE + payload.length);
  encodeRecordInto(out, 0, type, seq, payload);
  return out;
}

export function encodeSkip(seq: number, next: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(next), true);
  return encodeRecord(RECORD_SKIP, seq, b);
}

export function encodeBatch(payloads: Uint8Array[]): Uint8Array {
  const size = 4 + payloads.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payloads.length, true);
  let o = 4;
  for (const p of payloads) {
    dv.setUint32(o, p.length, true);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

/** Splits a batch payload; undefined if its inner lengths do not add up (damage). */
export function decodeBatch(b: Uint8Array): Uint8Array[] | undefined {
  if (b.length < 4) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(0, true);
  if (count > (b.length - 4) / 4) return undefined;
  const out: Uint8Array[] = [];
  let o = 4;
  for (let i = 0; i < count; i++) {
    if (o + 4 > b.length) return undefined;
    const len = dv.getUint32(o, true);
    if (o + 4 + len > b.length) return undefined;
    out.push(b.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return o === b.length ? out : undefined;
}

export function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, "0")}.wal`;
}

const SEGMENT_RE = /^seg-(\d{16})\.wal$/;

export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}
