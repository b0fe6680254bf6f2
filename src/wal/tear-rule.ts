// The torn-tail rule (docs/LOG.md "The torn-tail rule"): which bytes after the last good record of
// the last segment a crash can have left, and so may be cut (into a side file), and which are
// damage that only `log repair` may set aside. etcd's WAL rule (decoder.go isTornEntry, wal.go
// ReadAll) adapted to this framing and to group commit:
//
//   a record that fails its checks at the end of the log is torn only if it runs past the end of
//   the file, or if one of its 512-byte sectors reads as zeros; a complete record whose CRC
//   fails with no zero sector is damage.
//
// Why: a record's append resolves only after the fdatasync that covered it, so an acknowledged
// record is whole on disk. A power loss can only hurt the one group commit in flight (the flush
// loop waits for each sync before the next write): the file may end inside it, and sectors of it
// that did not reach the disk read back as zeros (ext4, XFS, btrfs: allocated, unwritten blocks).
// Sectors that did land hold exactly what the writer wrote, so a header there is the writer's:
// the sequence expected at that position, a known type, zero reserved bytes. Bit rot in a
// durable record produces none of these shapes (it neither shortens the file nor zeros a sector).
import { crc32 } from "../hash.ts";
import {
  maskCrc,
  MAX_BATCH_BYTES,
  MAX_RECORD_PAYLOAD,
  RECORD_BATCH,
  RECORD_DATA,
  RECORD_HEADER_SIZE,
  RECORD_SKIP,
  SECTOR_SIZE,
} from "./format.ts";
import { crc32Combine } from "./crc-combine.ts";
import { u32, type Window } from "./window.ts";

/** The longest write the log ever issues: one record of the largest payload, alone. */
export const MAX_WRITE_BYTES = RECORD_HEADER_SIZE + MAX_RECORD_PAYLOAD;

/** A whole valid record found after the bad one (by resynchronization): its sequence and offset. */
export interface FollowingRecord {
  seq: number;
  offset: number;
}

/**
 * The verdict on the bytes [off, w.size) after the last good record of the last segment: undefined
 * if they are a torn write (opening for append may cut them), else why they are damage.
 * `expected` is the sequence a record at `off` carries; `following` the first whole record with a
 * plausible sequence after `off`, if any.
 *
 * 1. The write's length: the tail fits one group commit (MAX_BATCH_BYTES), or it is one lone
 *    record covering it (tornTailVerdict); a lone record is a write of its own, so nothing valid
 *    follows it.
 * 2. The record at `off` — the first that does not check out — is torn by etcd's rule:
 *    - its header landed whole (it agrees with the writer's: type, reserved bytes, the expected
 *      sequence, a length within bounds) and its record runs past the end of the file — unless
 *      the bytes up to the end of the file are a whole record of that sequence whose length field
 *      alone was damaged (its CRC holds with the length that fits); nothing can follow it;
 *    - or its header landed whole, the record is complete, and a sector of it reads as zeros;
 *      a following valid record must start at or after its end;
 *    - or its header did not land whole: each sector-piece of the header is zeros or agrees with
 *      the writer's header, and at least one is zeros (or the file ends inside the header).
 * 3. Whole valid records after the torn one are later records of the same in-flight batch (their
 *    sectors landed, an earlier one did not): their sequences must be above `expected`. They were
 *    never acknowledged (their batch's sync never returned), so they go with the tail.
 * A "zero sector" is the part of a 512-byte-aligned sector of the file inside [off, EOF): a lost
 * sector reads as zeros over all of it, past the record's end too, so that whole part must be zero
 * (a stricter test than etcd's per-record chunk: natural zeros at the end of a record do not count).
 */
export async function tearVerdict(
  w: Window,
  off: number,
  expected: number,
  following: FollowingRecord | undefined,
  dataEnd = w.size,
): Promise<string | undefined> {
  const size = w.size;
  // Preallocated segments: zeros after the last nonzero byte are the unused rest of the file, never
  // written by the crashed write (its sectors that did not land read as zeros, as those do), so
  // the write's length is measured to `dataEnd`, not to the end of the file.
  const tail = dataEnd - off;
  if (tail > MAX_BATCH_BYTES) {
    if (following) {
      return `${tail} bytes follow the last good record, more than one group commit writes (${MAX_BATCH_BYTES}), and a valid record of sequence ${following.seq} lies among them: not a torn write`;
    }
    const why = tornTailVerdict(tail, await w.bytes(off, RECORD_HEADER_SIZE), 0, expected);
    if (why !== undefined) return why;
  }
  if (following && following.seq <= expected) {
    return `a whole record of sequence ${following.seq} follows at byte ${following.offset}: not a torn write`;
  }
  const h = Math.min(RECORD_HEADER_SIZE, size - off);
  const head = (await w.bytes(off, h)).slice();
  if (h === RECORD_HEADER_SIZE && agrees(head, 0, h, expected)) {
    const end = off + RECORD_HEADER_SIZE + u32(head, 4);
    if (end > size) {
      if (following) {
        return `the record of sequence ${expected} at byte ${off} claims to run past the end of the file, yet a valid record follows at byte ${following.offset}: not a torn write`;
      }
      const whole = await wholeWithDamagedLength(w, off, head, dataEnd);
      if (whole !== undefined) {
        return `the ${
          whole - off
        } bytes from byte ${off} are a whole record of sequence ${expected} whose length field is damaged: not a torn write`;
      }
      return undefined; // runs past the end of the file
    }
    if (following && following.offset < end) {
      return `the header at byte ${off} claims a record overlapping the valid record at byte ${following.offset}: not a torn write`;
    }
    if (await zeroSectorIn(w, off, end)) {
      // In a preallocated segment a length field flipped upwards makes the last record reach into
      // the zeros after it, which look like lost sectors: a single bit flip must stay damage.
      const whole = await wholeWithDamagedLength(w, off, head, dataEnd);
      if (whole !== undefined) {
        return `the ${
          whole - off
        } bytes from byte ${off} are a whole record of sequence ${expected} whose length field is damaged (it claims ${
          end - off
        }): not a torn write`;
      }
      return undefined;
    }
    return `record of sequence ${expected} at byte ${off} is complete and fails its CRC with no sector of zeros: damage, not a torn write`;
  }
  // The header did not land whole: split at the sector boundary it may span.
  const boundary = Math.ceil((off + 1) / SECTOR_SIZE) * SECTOR_SIZE;
  const pieces = boundary < off + h ? [[off, boundary], [boundary, off + h]] : [[off, off + h]];
  let lost = 0;
  for (const [from, to] of pieces) {
    if (await zeroChunk(w, from!)) lost++;
    else if (!agrees(head, from! - off, to! - off, expected)) {
      return `the bytes at ${from}..${to} of the record header at byte ${off} are neither zeros nor the header of record ${expected}: damage, not a torn write`;
    }
  }
  if (lost === 0 && h === RECORD_HEADER_SIZE) {
    return `record header at byte ${off} is not the header of record ${expected}: damage, not a torn write`;
  }
  return undefined;
}

/**
 * Whether header bytes [from, to) agree with what the writer puts at a record of sequence
 * `expected`: any CRC, a length within bounds (checked when all four bytes are there), a known
 * type, zero reserved bytes, that sequence.
 */
function agrees(b: Uint8Array, from: number, to: number, expected: number): boolean {
  const lo = expected % 2 ** 32;
  const hi = Math.floor(expected / 2 ** 32);
  for (let j = Math.max(from, 8); j < to; j++) {
    const v = b[j]!;
    if (j === 8) { if (v < RECORD_DATA || v > RECORD_SKIP) return false; }
    else if (j < 12) { if (v !== 0) return false; }
    else if (v !== (((j < 16 ? lo : hi) >>> (8 * (j & 3))) & 255)) return false;
  }
  if (from <= 4 && to >= 8 && u32(b, 4) > MAX_RECORD_PAYLOAD) return false;
  return true;
}

/** Whether the part of the sector holding `at`, from `at` to the sector's end or EOF, is all zeros. */
async function zeroChunk(w: Window, at: number): Promise<boolean> {
  const end = Math.min((Math.floor(at / SECTOR_SIZE) + 1) * SECTOR_SIZE, w.size);
  const b = await w.bytes(at, end - at);
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Whether some sector that starts inside [from, end) or holds `from` reads as zeros from `from` on. */
async function zeroSectorIn(w: Window, from: number, end: number): Promise<boolean> {
  for (let at = from; at < end; at = (Math.floor(at / SECTOR_SIZE) + 1) * SECTOR_SIZE) {
    if (await zeroChunk(w, at)) return true;
  }
  return false;
}

/**
 * Where the record at `off` ends if it is whole with the header's fields but another length (its
 * length field alone damaged): undefined if it is not. Candidate ends: the end of the file (what a
 * non-preallocated segment ends with), and every offset from `dataEnd` — past the last nonzero
 * byte — to the end of its sector, where a record whose payload ends in zeros can end inside the
 * zeros of a preallocated segment. An end further into the zeros would need the payload itself to
 * end in a whole zero sector, which the rule cannot tell from a lost one (docs/LOG.md, blind spots).
 * One CRC pass over the record's bytes; each candidate then costs a CRC combine, not a rehash.
 */
async function wholeWithDamagedLength(
  w: Window,
  off: number,
  head: Uint8Array,
  dataEnd: number,
): Promise<number | undefined> {
  const body = off + RECORD_HEADER_SIZE;
  const lo = Math.max(body, dataEnd);
  const hi = Math.min(w.size, Math.ceil(lo / SECTOR_SIZE) * SECTOR_SIZE);
  const fits = (e: number) => e - body <= MAX_RECORD_PAYLOAD;
  const want = u32(head, 0);
  // CRC of the bytes after the length field — type, reserved, sequence, payload — up to `lo`.
  let crc = crc32(head.subarray(8, RECORD_HEADER_SIZE));
  for (let at = body; at < lo;) {
    const n = Math.min(1 << 20, lo - at);
    crc = crc32(await w.bytes(at, n), crc);
    at += n;
  }
  const check = (e: number, bodyCrc: number) => {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, e - body, true);
    return maskCrc(crc32Combine(crc32(len), bodyCrc, e - off - 8)) === want;
  };
  // Bytes from `lo` on are zeros (lo ≥ dataEnd), so each candidate extends the CRC by one zero.
  const zero = new Uint8Array(1);
  for (let e = lo; e <= hi && fits(e); e++) {
    if (check(e, crc)) return e;
    crc = crc32(zero, crc);
  }
  if (w.size > hi && fits(w.size)) {
    const zeros = new Uint8Array(Math.min(1 << 20, w.size - hi));
    for (let at = hi + 1; at < w.size;) {
      const n = Math.min(zeros.length, w.size - at);
      crc = crc32(zeros.subarray(0, n), crc);
      at += n;
    }
    if (check(w.size, crc)) return w.size;
  }
  return undefined;
}

/**
 * The length part of the rule. `tail` bytes follow the last good record of the last segment;
 * `b[i …]` holds their first bytes (all 20 header bytes whenever tail > MAX_BATCH_BYTES) and
 * `expected` is the sequence a record there carries. Returns undefined if the one write in flight
 * at a crash can have been that long, or else why not. A crash tears at most the batch being
 * written:
 * - up to MAX_BATCH_BYTES: a group commit (the rest of the rule, tearVerdict, looks at the bytes);
 * - longer: the writer only writes more than that as one record alone, so the tail must be that
 *   record: a header of type data or batch, reserved bytes zero, sequence `expected`, and a
 *   length whose record is at least `tail` bytes. A lost sector reads back as zeros, and the
 *   20-byte header spans at most one sector boundary, so either side of one split point may be
 *   all zeros instead (a wholly zero header is a lost first sector).
 * Nothing longer than MAX_WRITE_BYTES is ever a torn write.
 */
export function tornTailVerdict(tail: number, b: Uint8Array, i: number, expected: number): string | undefined {
  if (tail <= MAX_BATCH_BYTES) return undefined;
  if (tail > MAX_WRITE_BYTES) {
    return `${tail} bytes follow the last good record, more than the ${MAX_WRITE_BYTES} bytes of the longest write the log makes: not a torn write`;
  }
  for (let k = 0; k <= RECORD_HEADER_SIZE; k++) {
    if (
      (zeros(b, i, 0, k) && claims(b, i, k, RECORD_HEADER_SIZE, tail, expected)) ||
      (claims(b, i, 0, k, tail, expected) && zeros(b, i, k, RECORD_HEADER_SIZE))
    ) return undefined;
  }
  return `${tail} bytes follow the last good record, more than one group commit writes (${MAX_BATCH_BYTES}), and no header of a record of sequence ${expected} that long starts there: not a torn write`;
}

function zeros(b: Uint8Array, i: number, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (b[i + j] !== 0) return false;
  return true;
}

/** Whether header bytes [from, to) agree with a lone record of sequence `expected` covering `tail` bytes. */
function claims(b: Uint8Array, i: number, from: number, to: number, tail: number, expected: number): boolean {
  const lo = expected % 2 ** 32;
  const hi = Math.floor(expected / 2 ** 32);
  for (let j = Math.max(from, 8); j < to; j++) {
    const v = b[i + j]!;
    if (j === 8) { if (v !== RECORD_DATA && v !== RECORD_BATCH) return false; }
    // a marker is 28 bytes
    else if (j < 12) { if (v !== 0) return false; }
    else if (v !== (((j < 16 ? lo : hi) >>> (8 * (j & 3))) & 255)) return false;
  }
  if (from <= 4 && to >= 8) {
    const len = u32(b, i + 4);
    if (len > MAX_RECORD_PAYLOAD || RECORD_HEADER_SIZE + len < tail) return false;
  }
  return true;
}
