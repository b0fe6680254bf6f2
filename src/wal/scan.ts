// Reads a log directory and never modifies it. Records are checked in order (masked CRC,
// bounded length, known type, contiguous sequence numbers). Two kinds of bad bytes:
// - a torn tail: bytes after the last good record of the last segment in which no valid record
//   starts, and which the one write in flight at a crash could have left (the torn-tail rule,
//   tornTailVerdict): the writer died mid-append. Not an error: opening for append cuts it off.
// - damage: everything else, including a tail too long to be a torn write. Reported as
//   {sequence, offset, reason}. Replay stops there unless salvaging, in which case it
//   resynchronizes on the next record whose CRC holds and whose sequence is plausible (resync).
// Every length comes from the file and is checked against the bytes present before use.
import type { DurableFs, FileHandle } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { crc32 } from "../hash.ts";
import { join } from "../path.ts";
import {
  MAX_BATCH_BYTES, MAX_RECORD_PAYLOAD, RECORD_BATCH, RECORD_DATA, RECORD_HEADER_SIZE, RECORD_MARKER, SEGMENT_HEADER_SIZE,
  decodeBatch, decodeSegmentHeader, maskCrc, parseSegmentName,
} from "./format.ts";

export interface LogRecord {
  sequence: number;
  type: "data" | "marker";
  payload: Uint8Array;
  /** For markers: the store checkpoint step this log position corresponds to. */
  step?: number;
}

export interface LogDamage { sequence: number; offset: number; reason: string; segment: string }

export interface SegmentInfo { name: string; firstSeq: number; size: number; goodEnd: number; lastSeq: number }

export interface ScanReport {
  recovered: number;
  /** Records found after the first damage and not returned (0 when salvaging). */
  discarded: number;
  lastSequence: number;
  /** Bytes of a torn tail beyond the last good record (what opening for append cuts off). */
  truncatedBytes: number;
  damage: LogDamage | null;
  damagedRanges: { segment: string; offset: number; length: number; reason: string }[];
  segments: SegmentInfo[];
  /** The last segment's header itself is torn (a crash while creating it). */
  tornSegmentHeader: boolean;
}

export interface ScanOptions {
  salvage?: boolean;
  onRecord?: (r: LogRecord) => void | Promise<void>;
}

const WINDOW = 1 << 20;

/** Sequential reader over one segment with a refillable window. */
class Window {
  buf = new Uint8Array(0);
  start = 0; // file offset of buf[0]
  constructor(private readonly h: FileHandle, readonly size: number) {}
  /** Makes bytes [off, off+len) available (len bounded by the file); returns false past EOF. */
  async ensure(off: number, len: number): Promise<boolean> {
    if (off + len > this.size) return false;
    if (this.has(off, len)) return true;
    const want = Math.min(Math.max(len, WINDOW), this.size - off);
    if (this.buf.length < want) this.buf = new Uint8Array(want);
    const view = this.buf.subarray(0, want);
    await readFully(this.h, view, off);
    this.buf = view;
    this.start = off;
    return true;
  }
  /** Whether bytes [off, off+len) are in the window now. */
  has(off: number, len: number): boolean {
    return off >= this.start && off + len <= this.start + this.buf.length;
  }
}

type Parsed =
  | { ok: true; size: number; type: number; seq: number; payload: Uint8Array }
  /** `checked`: the record's CRC held (a valid record in the wrong place is never torn). */
  | { ok: false; reason: string; checked: boolean };

const u32 = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/**
 * Parses the record at `off` from the bytes already in the window; undefined if they are not all
 * there yet (parseAt refills and asks again). The cheap header checks (length bound, type,
 * reserved bytes) come before the CRC, so scanning garbage never hashes megabytes per offset.
 * Synchronous, so replaying records that sit in the window costs no promise per record.
 */
function parseLoaded(w: Window, off: number): Parsed | undefined {
  if (!w.has(off, RECORD_HEADER_SIZE)) return undefined;
  const b = w.buf;
  const i = off - w.start;
  const len = u32(b, i + 4);
  const type = b[i + 8]!;
  if (len > MAX_RECORD_PAYLOAD) return { ok: false, reason: `record length ${len} exceeds the ${MAX_RECORD_PAYLOAD}-byte limit`, checked: false };
  if (type !== RECORD_DATA && type !== RECORD_MARKER && type !== RECORD_BATCH) return { ok: false, reason: `unknown record type ${type}`, checked: false };
  if (b[i + 9] !== 0 || b[i + 10] !== 0 || b[i + 11] !== 0) return { ok: false, reason: "nonzero reserved bytes in a record header", checked: false };
  const size = RECORD_HEADER_SIZE + len;
  if (off + size > w.size) return { ok: false, reason: `record of ${size} bytes runs past the end of the file`, checked: false };
  if (!w.has(off, size)) return undefined;
  if (u32(b, i) !== maskCrc(crc32(b.subarray(i + 4, i + size)))) return { ok: false, reason: "record CRC mismatch", checked: false };
  const seq = u32(b, i + 16) * 2 ** 32 + u32(b, i + 12);
  return { ok: true, size, type, seq, payload: b.subarray(i + RECORD_HEADER_SIZE, i + size) };
}

/** parseLoaded, refilling the window as needed (at most twice: header, then whole record). */
async function parseAt(w: Window, off: number): Promise<Parsed> {
  if (!(await w.ensure(off, RECORD_HEADER_SIZE))) return { ok: false, reason: "record header cut off at end of file", checked: false };
  const p = parseLoaded(w, off);
  if (p) return p;
  // The header is valid and bounded by the file, but the record runs past the window.
  await w.ensure(off, RECORD_HEADER_SIZE + u32(w.buf, off - w.start + 4));
  return parseLoaded(w, off)!;
}

/** Expands one physical record into the logical records it carries; undefined if malformed. */
function logical(p: Extract<Parsed, { ok: true }>): LogRecord[] | undefined {
  if (p.type === RECORD_DATA) return [{ sequence: p.seq, type: "data", payload: p.payload }];
  if (p.type === RECORD_MARKER) {
    if (p.payload.length !== 8) return undefined;
    const step = Number(new DataView(p.payload.buffer, p.payload.byteOffset, 8).getBigUint64(0, true));
    return [{ sequence: p.seq, type: "marker", payload: p.payload, step }];
  }
  const parts = decodeBatch(p.payload);
  if (!parts || parts.length === 0) return undefined;
  return parts.map((payload, i) => ({ sequence: p.seq + i, type: "data" as const, payload }));
}

/**
 * Finds the first offset after `off` where a valid record with a plausible sequence starts:
 * not below `expected` (an older record is stale or embedded in a payload, and salvage must
 * never return a sequence twice) and at most one per 4 bytes skipped above it (every logical
 * record occupies at least 4 bytes, even inside a batch). Offsets are filtered synchronously on
 * the cheap header fields, so a megabyte of garbage is one pass, not a million awaits. The CRCs
 * of candidates that pass are charged to `budget` (8 bytes per segment byte): crafted inputs
 * with a plausible-looking header every few bytes would otherwise cost quadratic hashing.
 */
async function resync(w: Window, off: number, expected: number, budget: { bytes: number }): Promise<{ found?: Extract<Parsed, { ok: true }>; next: number; gaveUp: boolean }> {
  const size = w.size;
  for (let o = off + 1; o + RECORD_HEADER_SIZE <= size;) {
    await w.ensure(o, RECORD_HEADER_SIZE);
    const b = w.buf;
    const base = w.start;
    const stop = base + b.length - RECORD_HEADER_SIZE;
    let cand = -1;
    for (; o <= stop; o++) {
      const i = o - base;
      const t = b[i + 8]!;
      if (t < RECORD_DATA || t > RECORD_BATCH || b[i + 9] !== 0 || b[i + 10] !== 0 || b[i + 11] !== 0) continue;
      const len = (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0;
      if (len > MAX_RECORD_PAYLOAD || o + RECORD_HEADER_SIZE + len > size) continue;
      const seqLo = (b[i + 12]! | (b[i + 13]! << 8) | (b[i + 14]! << 16) | (b[i + 15]! << 24)) >>> 0;
      const seqHi = (b[i + 16]! | (b[i + 17]! << 8) | (b[i + 18]! << 16) | (b[i + 19]! << 24)) >>> 0;
      const seq = seqHi * 2 ** 32 + seqLo;
      if (seq < expected || seq > expected + (o - off) / 4 + 1) continue;
      budget.bytes -= RECORD_HEADER_SIZE + len;
      if (budget.bytes < 0) return { next: size, gaveUp: true };
      cand = o;
      break;
    }
    if (cand < 0) continue;
    const q = await parseAt(w, cand);
    if (q.ok && logical(q)) return { found: q, next: cand, gaveUp: false };
    o = cand + 1;
  }
  return { next: size, gaveUp: false };
}

/** The longest write the log ever issues: one record of the largest payload, alone. */
export const MAX_WRITE_BYTES = RECORD_HEADER_SIZE + MAX_RECORD_PAYLOAD;

/**
 * The torn-tail rule (docs/LOG.md). `tail` bytes follow the last good record of the last segment
 * and no valid record starts among them; `b[i …]` holds their first bytes (all 20 header bytes
 * whenever tail > MAX_BATCH_BYTES) and `expected` is the sequence a record there carries.
 * Returns undefined if the one write in flight at a crash can have left them (they may be cut),
 * or else why not (they are damage, to be kept). A crash tears at most the batch being written:
 * - up to MAX_BATCH_BYTES, any bytes: a group commit, torn anyhow (a prefix, lost sectors,
 *   a size that reached the disk before the data);
 * - longer: the writer only writes more than that as one record alone, so the tail must be that
 *   record: a header of type data or batch, reserved bytes zero, sequence `expected`, and a
 *   length whose record is at least `tail` bytes. A lost sector reads back as zeros, and the
 *   20-byte header spans at most one sector boundary, so either side of one split point may be
 *   all zeros instead (a wholly zero header is a lost first sector).
 * Nothing longer than MAX_WRITE_BYTES is ever a torn write.
 */
export function tornTailVerdict(tail: number, b: Uint8Array, i: number, expected: number): string | undefined {
  if (tail <= MAX_BATCH_BYTES) return undefined;
  if (tail > MAX_WRITE_BYTES) return `${tail} bytes follow the last good record, more than the ${MAX_WRITE_BYTES} bytes of the longest write the log makes: not a torn write`;
  for (let k = 0; k <= RECORD_HEADER_SIZE; k++) {
    if ((zeros(b, i, 0, k) && claims(b, i, k, RECORD_HEADER_SIZE, tail, expected))
      || (claims(b, i, 0, k, tail, expected) && zeros(b, i, k, RECORD_HEADER_SIZE))) return undefined;
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
    if (j === 8) { if (v !== RECORD_DATA && v !== RECORD_BATCH) return false; } // a marker is 28 bytes
    else if (j < 12) { if (v !== 0) return false; }
    else if (v !== (((j < 16 ? lo : hi) >>> (8 * (j & 3))) & 255)) return false;
  }
  if (from <= 4 && to >= 8) {
    const len = u32(b, i + 4);
    if (len > MAX_RECORD_PAYLOAD || RECORD_HEADER_SIZE + len < tail) return false;
  }
  return true;
}

export async function listSegments(fs: DurableFs, dir: string): Promise<{ name: string; firstSeq: number }[]> {
  const out: { name: string; firstSeq: number }[] = [];
  for (const name of await fs.readdir(dir)) {
    const firstSeq = parseSegmentName(name);
    if (firstSeq !== undefined) out.push({ name, firstSeq });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

export async function scanLog(fs: DurableFs, dir: string, options: ScanOptions = {}): Promise<ScanReport> {
  const report: ScanReport = { recovered: 0, discarded: 0, lastSequence: 0, truncatedBytes: 0, damage: null, damagedRanges: [], segments: [], tornSegmentHeader: false };
  const segments = await listSegments(fs, dir);
  let expected: number | undefined; // next sequence we require
  let stopped = false; // after unsalvaged damage: count, don't return
  const damageAt = (segment: string, offset: number, length: number, reason: string) => {
    report.damagedRanges.push({ segment, offset, length, reason });
    if (!report.damage) report.damage = { sequence: expected ?? 1, offset, reason, segment };
    if (!options.salvage) stopped = true;
  };

  for (let si = 0; si < segments.length; si++) {
    const { name, firstSeq } = segments[si]!;
    const last = si === segments.length - 1;
    const h = await fs.open(join(dir, name));
    try {
      const size = await h.size();
      const info: SegmentInfo = { name, firstSeq, size, goodEnd: 0, lastSeq: firstSeq - 1 };
      report.segments.push(info);
      const w = new Window(h, size);
      const budget = { bytes: 8 * size + (1 << 20) };
      const head = new Uint8Array(Math.min(size, SEGMENT_HEADER_SIZE));
      await readFully(h, head, 0);
      const hdr = decodeSegmentHeader(head);
      if ("error" in hdr || hdr.firstSeq !== firstSeq) {
        // A crash while creating a segment: its header (written and synced before any record) is
        // all that can be in flight, so a torn creation holds at most those 32 bytes.
        const unwritten = size < SEGMENT_HEADER_SIZE || head.every((b) => b === 0);
        if (last && unwritten && size <= SEGMENT_HEADER_SIZE) {
          report.tornSegmentHeader = true;
          report.truncatedBytes = size;
          continue;
        }
        damageAt(name, 0, size, last && unwritten
          ? `segment header is zeros, yet ${size - SEGMENT_HEADER_SIZE} bytes follow it: a torn segment creation holds only its ${SEGMENT_HEADER_SIZE}-byte header`
          : "error" in hdr ? hdr.error : `segment header says first sequence ${hdr.firstSeq}, its name ${firstSeq}`);
        continue;
      }
      if (expected !== undefined && firstSeq !== expected && !stopped) {
        damageAt(name, 0, SEGMENT_HEADER_SIZE, `sequence gap: segment starts at ${firstSeq}, expected ${expected}`);
      }
      if (!stopped || options.salvage) expected = firstSeq;
      let off = SEGMENT_HEADER_SIZE;
      info.goodEnd = off;
      while (off < size) {
        const p = parseLoaded(w, off) ?? await parseAt(w, off);
        const recs = p.ok ? logical(p) : undefined;
        if (p.ok && recs && (expected === undefined || p.seq === expected || stopped)) {
          for (const r of recs) {
            if (stopped) report.discarded++;
            else {
              report.recovered++;
              report.lastSequence = r.sequence;
              const pending = options.onRecord?.(r);
              if (pending) await pending;
            }
          }
          expected = p.seq + recs.length;
          off += p.size;
          if (!stopped) { info.goodEnd = off; info.lastSeq = expected - 1; }
          continue;
        }
        let reason = !p.ok ? p.reason : !recs ? "malformed record payload" : `sequence gap: found ${p.seq}, expected ${expected}`;
        // Resynchronize: the next offset where a whole, plausible record checks out.
        const rs = await resync(w, off, expected!, budget);
        const found = rs.found;
        // A torn tail: in the last segment, a bad record with no valid record anywhere after it
        // (the writer died mid-append). A record whose own CRC held is never torn, and neither is
        // one followed by good records: a damaged length field must not hide what comes after.
        // When the hashing budget ran out nothing is proven, so it counts as damage. And the
        // bytes must fit in the one write a crash can tear (tornTailVerdict), or they are kept.
        if (last && !stopped && !p.ok && !found && !rs.gaveUp) {
          const tail = size - off;
          let why: string | undefined;
          if (tail > MAX_BATCH_BYTES) {
            await w.ensure(off, RECORD_HEADER_SIZE);
            why = tornTailVerdict(tail, w.buf, off - w.start, expected!);
          }
          if (why === undefined) {
            report.truncatedBytes = tail;
            break;
          }
          reason = `${why} (${reason})`;
        }
        if (!stopped) damageAt(name, off, size - off, reason);
        if (options.salvage && found) expected = found.seq;
        off = rs.next;
      }
    } finally {
      await h.close();
    }
  }
  return report;
}
