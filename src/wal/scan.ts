// Reads a log directory and never modifies it. Records are checked in order (masked CRC,
// bounded length, known type, contiguous sequence numbers). Two kinds of bad bytes:
// - a torn tail: bytes after the last good record of the last segment that the one write in
//   flight at a crash can have left (the torn-tail rule, tear-rule.ts): the writer died
//   mid-append. Not an error: opening for append moves it into a side file.
// - damage: everything else, including a complete record whose CRC fails with no sector of
//   zeros. Reported as {sequence, offset, reason}. Replay stops there unless salvaging, in which
//   case it resynchronizes on the next record whose CRC holds and whose sequence is plausible.
// Every length comes from the file and is checked against the bytes present before use.
import type { DurableFs } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { crc32 } from "../hash.ts";
import { join } from "../path.ts";
import {
  decodeBatch,
  decodeSegmentHeader,
  maskCrc,
  MAX_RECORD_PAYLOAD,
  parseSegmentName,
  RECORD_DATA,
  RECORD_HEADER_SIZE,
  RECORD_MARKER,
  RECORD_SKIP,
  SECTOR_SIZE,
  SEGMENT_HEADER_SIZE,
} from "./format.ts";
import { tearVerdict } from "./tear-rule.ts";
import { u32, Window } from "./window.ts";
import { nonzeroEnd } from "./zero-tail.ts";
import { pace } from "../pace.ts";

export { MAX_WRITE_BYTES, tornTailVerdict } from "./tear-rule.ts";

export interface LogRecord {
  sequence: number;
  type: "data" | "marker";
  payload: Uint8Array;
  /** For markers: the store checkpoint step this log position corresponds to. */
  step?: number;
}

export interface LogDamage {
  sequence: number;
  offset: number;
  reason: string;
  segment: string;
}

export interface SegmentInfo {
  name: string;
  firstSeq: number;
  size: number;
  goodEnd: number;
  lastSeq: number;
}

export interface ScanReport {
  recovered: number;
  /** Records found after the first damage and not returned (0 when salvaging). */
  discarded: number;
  lastSequence: number;
  /**
   * The sequence the next record takes: one past the last good record, or the floor a skip
   * record set (docs/LOG.md "Sequence floor").
   */
  nextSequence: number;
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

export type Parsed =
  | { ok: true; size: number; type: number; seq: number; payload: Uint8Array }
  /** `checked`: the record's CRC held (a valid record in the wrong place is never torn). */
  | { ok: false; reason: string; checked: boolean };

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
  if (len > MAX_RECORD_PAYLOAD) {
    return { ok: false, reason: `record length ${len} exceeds the ${MAX_RECORD_PAYLOAD}-byte limit`, checked: false };
  }
  if (type < RECORD_DATA || type > RECORD_SKIP) {
    return { ok: false, reason: `unknown record type ${type}`, checked: false };
  }
  if (b[i + 9] !== 0 || b[i + 10] !== 0 || b[i + 11] !== 0) {
    return { ok: false, reason: "nonzero reserved bytes in a record header", checked: false };
  }
  const size = RECORD_HEADER_SIZE + len;
  if (off + size > w.size) {
    return { ok: false, reason: `record of ${size} bytes runs past the end of the file`, checked: false };
  }
  if (!w.has(off, size)) return undefined;
  if (u32(b, i) !== maskCrc(crc32(b.subarray(i + 4, i + size)))) {
    return { ok: false, reason: "record CRC mismatch", checked: false };
  }
  const seq = u32(b, i + 16) * 2 ** 32 + u32(b, i + 12);
  return { ok: true, size, type, seq, payload: b.subarray(i + RECORD_HEADER_SIZE, i + size) };
}

/** parseLoaded, refilling the window as needed (at most twice: header, then whole record). */
export async function parseAt(w: Window, off: number): Promise<Parsed> {
  if (!(await w.ensure(off, RECORD_HEADER_SIZE))) {
    return { ok: false, reason: "record header cut off at end of file", checked: false };
  }
  const p = parseLoaded(w, off);
  if (p) return p;
  // The header is valid and bounded by the file, but the record runs past the window.
  await w.ensure(off, RECORD_HEADER_SIZE + u32(w.buf, off - w.start + 4));
  return parseLoaded(w, off)!;
}

/**
 * Expands one physical record into the logical records it carries and the sequence that follows
 * it; undefined if malformed. A skip record carries none and moves the next sequence to its floor.
 */
export function logical(p: Extract<Parsed, { ok: true }>): { recs: LogRecord[]; next: number } | undefined {
  if (p.type === RECORD_DATA) return { recs: [{ sequence: p.seq, type: "data", payload: p.payload }], next: p.seq + 1 };
  if (p.type === RECORD_MARKER || p.type === RECORD_SKIP) {
    if (p.payload.length !== 8) return undefined;
    const v = Number(new DataView(p.payload.buffer, p.payload.byteOffset, 8).getBigUint64(0, true));
    if (p.type === RECORD_MARKER) {
      return { recs: [{ sequence: p.seq, type: "marker", payload: p.payload, step: v }], next: p.seq + 1 };
    }
    if (!(v > p.seq) || v > Number.MAX_SAFE_INTEGER) return undefined;
    return { recs: [], next: v };
  }
  const parts = decodeBatch(p.payload);
  if (!parts || parts.length === 0) return undefined;
  return {
    recs: parts.map((payload, i) => ({ sequence: p.seq + i, type: "data" as const, payload })),
    next: p.seq + parts.length,
  };
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
export async function resync(
  w: Window,
  off: number,
  expected: number,
  budget: { bytes: number },
  dataEnd = w.size,
): Promise<{ found?: Extract<Parsed, { ok: true }>; next: number; gaveUp: boolean }> {
  const size = w.size;
  // A record's type byte is nonzero, so none starts 8 or more bytes before `dataEnd`'s zeros.
  const limit = Math.min(size - RECORD_HEADER_SIZE, dataEnd - 9);
  for (let o = off + 1; o <= limit;) {
    await pace();
    await w.ensure(o, RECORD_HEADER_SIZE);
    const b = w.buf;
    const base = w.start;
    const stop = Math.min(base + b.length - RECORD_HEADER_SIZE, limit);
    let cand = -1;
    for (; o <= stop; o++) {
      const i = o - base;
      const t = b[i + 8]!;
      if (t < RECORD_DATA || t > RECORD_SKIP || b[i + 9] !== 0 || b[i + 10] !== 0 || b[i + 11] !== 0) continue;
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

export async function listSegments(fs: DurableFs, dir: string): Promise<{ name: string; firstSeq: number }[]> {
  const out: { name: string; firstSeq: number }[] = [];
  for (const name of await fs.readdir(dir)) {
    const firstSeq = parseSegmentName(name);
    if (firstSeq !== undefined) out.push({ name, firstSeq });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

export async function scanLog(fs: DurableFs, dir: string, options: ScanOptions = {}): Promise<ScanReport> {
  const report: ScanReport = {
    recovered: 0,
    discarded: 0,
    lastSequence: 0,
    nextSequence: 1,
    truncatedBytes: 0,
    damage: null,
    damagedRanges: [],
    segments: [],
    tornSegmentHeader: false,
  };
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
        // A preallocated segment is created whole, zeros after its header, and the creation may
        // tear anywhere in those zeros: a last segment that is all zeros holds no record either.
        const unwritten = size < SEGMENT_HEADER_SIZE || head.every((b) => b === 0);
        if (last && unwritten && (size <= SEGMENT_HEADER_SIZE || (await nonzeroEnd(w, 0)) === 0)) {
          report.tornSegmentHeader = true;
          report.truncatedBytes = size;
          continue;
        }
        damageAt(
          name,
          0,
          size,
          last && unwritten
            ? `segment header is zeros, yet ${
              size - SEGMENT_HEADER_SIZE
            } bytes follow it: a torn segment creation holds only its ${SEGMENT_HEADER_SIZE}-byte header`
            : "error" in hdr
            ? hdr.error
            : `segment header says first sequence ${hdr.firstSeq}, its name ${firstSeq}`,
        );
        continue;
      }
      if (expected !== undefined && firstSeq !== expected && !stopped) {
        damageAt(name, 0, SEGMENT_HEADER_SIZE, `sequence gap: segment starts at ${firstSeq}, expected ${expected}`);
      }
      if (!stopped || options.salvage) expected = firstSeq;
      if (!stopped) report.nextSequence = firstSeq;
      let off = SEGMENT_HEADER_SIZE;
      info.goodEnd = off;
      while (off < size) {
        await pace();
        const p = parseLoaded(w, off) ?? await parseAt(w, off);
        const lg = p.ok ? logical(p) : undefined;
        if (p.ok && lg && (expected === undefined || p.seq === expected || stopped)) {
          for (const r of lg.recs) {
            if (stopped) report.discarded++;
            else {
              report.recovered++;
              report.lastSequence = r.sequence;
              const pending = options.onRecord?.(r);
              if (pending) await pending;
            }
          }
          expected = lg.next;
          off += p.size;
          if (!stopped) {
            info.goodEnd = off;
            info.lastSeq = expected - 1;
            report.nextSequence = expected;
          }
          continue;
        }
        // Only zeros from here on: the unused rest of a preallocated segment (zero-tail.ts), not a
        // record. An acknowledged record is whole on disk and never reads as zeros, and a later
        // segment's first sequence still exposes any record missing here (a sequence gap).
        const dataEnd = await nonzeroEnd(w, off);
        if (dataEnd === off) break;
        let reason = !p.ok
          ? p.reason
          : !lg
          ? "malformed record payload"
          : `sequence gap: found ${p.seq}, expected ${expected}`;
        // Resynchronize: the next offset where a whole, plausible record checks out.
        const rs = await resync(w, off, expected!, budget, dataEnd);
        const found = rs.found;
        // A torn tail (tearVerdict): in the last segment, bytes the one write in flight at a crash
        // can have left. A record whose own CRC held is never torn. When the hashing budget ran
        // out nothing is proven, so it counts as damage.
        if (last && !stopped && !p.ok && !rs.gaveUp) {
          const why = await tearVerdict(
            w,
            off,
            expected!,
            found ? { seq: found.seq, offset: rs.next } : undefined,
            dataEnd,
          );
          if (why === undefined) {
            // The tear ends with the sector holding its last nonzero byte (or the file); whole
            // zero sectors after that are unused space — a preallocated segment's — and stay.
            report.truncatedBytes = Math.min(size, Math.ceil(dataEnd / SECTOR_SIZE) * SECTOR_SIZE) - off;
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
