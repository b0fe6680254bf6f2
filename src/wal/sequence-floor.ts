// A sequence that may have been acknowledged is never handed out again (guarantee 11). Before
// bytes that may hold records are cut — a torn tail at open, damage at repair — this computes a
// ceiling: a sequence above every sequence those bytes can hold. The log then continues from it
// (a skip record, format.ts RECORD_SKIP; docs/LOG.md "Sequence floor").
//
// How the bytes are read, from the sequence `expected` at the cut on:
// - a record whose CRC holds and whose sequence is the next one (or, after unreadable bytes, a
//   plausible one: resync's bound, at most one more per 4 bytes skipped) is trusted exactly;
// - unreadable bytes before such a record hold sequences below it (the writer's sequences only
//   grow); a later segment's header (CRC-checked) bounds what precedes it the same way;
// - unreadable bytes at the end, `n` of them: an acknowledged record lies whole in the file, a
//   physical record takes at least 20 bytes and carries one sequence, or a batch of k takes at
//   least 24 + 4k: so at most maxSequencesIn(n). A header that agrees with a lone data or marker
//   record of the expected sequence whose length covers the bytes (the common torn prefix)
//   holds just that one — unless its payload would parse as a batch (a type bit flipped from
//   batch to data). No header field is ever trusted to raise the bound past the byte count, so
//   a flipped header claiming 2^53 costs nothing.
import type { DurableFs } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { join } from "../path.ts";
import {
  decodeBatch,
  decodeSegmentHeader,
  MAX_RECORD_PAYLOAD,
  RECORD_DATA,
  RECORD_HEADER_SIZE,
  RECORD_MARKER,
  SEGMENT_HEADER_SIZE,
} from "./format.ts";
import { logical, parseAt, resync } from "./scan.ts";
import { u32, Window } from "./window.ts";
import { pace } from "../pace.ts";

/** Bytes of one segment to account for: [from, its end). `whole`: its header bounds what precedes it. */
export interface CutPart {
  segment: string;
  from: number;
  whole: boolean; /** end of the bytes (default: of the file) */
  to?: number;
}

/** The most sequences `n` bytes of records can carry. */
export function maxSequencesIn(n: number): number {
  if (n < RECORD_HEADER_SIZE) return 0;
  return Math.max(Math.floor(n / RECORD_HEADER_SIZE), Math.floor((n - RECORD_HEADER_SIZE - 4) / 4));
}

/** A sequence above every sequence the parts (in log order) may hold, given `expected` at the first. */
export async function sequenceCeiling(fs: DurableFs, dir: string, parts: CutPart[], expected: number): Promise<number> {
  let cursor = expected;
  for (const part of parts) {
    const h = await fs.open(join(dir, part.segment));
    try {
      const size = Math.min(part.to ?? Infinity, await h.size());
      let off = part.from;
      if (part.whole) {
        const head = new Uint8Array(Math.min(size, SEGMENT_HEADER_SIZE));
        await readFully(h, head, 0);
        const hdr = decodeSegmentHeader(head);
        if (!("error" in hdr) && hdr.firstSeq > cursor) cursor = hdr.firstSeq;
        off = Math.max(off, SEGMENT_HEADER_SIZE);
      }
      const w = new Window(h, size);
      const budget = { bytes: 8 * size + (1 << 20) };
      while (off < size) {
        await pace();
        const p = await parseAt(w, off);
        const lg = p.ok ? logical(p) : undefined;
        if (p.ok && lg && p.seq === cursor) {
          cursor = Math.max(cursor, lg.next);
          off += p.size;
          continue;
        }
        const rs = await resync(w, off, cursor, budget);
        if (rs.found) {
          cursor = rs.found.seq; // the bytes in between held sequences below it
          off = rs.next;
          continue;
        }
        cursor += await unreadableTail(w, off, cursor);
        break;
      }
    } finally {
      await h.close();
    }
  }
  return cursor;
}

/** How many sequences the unreadable bytes [off, EOF) may hold, from `expected` on. */
async function unreadableTail(w: Window, off: number, expected: number): Promise<number> {
  const n = w.size - off;
  const bound = maxSequencesIn(n);
  if (n < RECORD_HEADER_SIZE) return bound;
  const head = await w.bytes(off, RECORD_HEADER_SIZE);
  const type = head[8];
  const len = u32(head, 4);
  const seq = u32(head, 16) * 2 ** 32 + u32(head, 12);
  const lone = (type === RECORD_DATA || type === RECORD_MARKER) && head[9] === 0 && head[10] === 0 && head[11] === 0 &&
    seq === expected && len <= MAX_RECORD_PAYLOAD && RECORD_HEADER_SIZE + len >= n;
  if (!lone) return bound;
  // Complete: would its payload read as a batch of more (a batch whose type bit flipped)?
  if (RECORD_HEADER_SIZE + len === n && n <= (64 << 20)) {
    const parts = decodeBatch(await readAll(w, off + RECORD_HEADER_SIZE, len));
    if (parts && parts.length > 1) return Math.min(bound, parts.length);
  }
  return Math.min(bound, 1);
}

async function readAll(w: Window, off: number, len: number): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  for (let at = 0; at < len;) {
    const n = Math.min(1 << 20, len - at);
    out.set(await w.bytes(off + at, n), at);
    at += n;
  }
  return out;
}
