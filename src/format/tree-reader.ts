// The corruption scan of a v2 container after its header (docs/FORMAT.md, "The SHA-256 tree"):
// metadata (CRC), the leaf list (read first, CRC), every chunk (header CRC, payload CRC, and its
// leaf against the list), the root over the head digest and the computed leaves against the
// trailer. Leaves are hashed in batches on the kernel's lanes and the pool (src/format/leaf-hasher.ts);
// onChunk sees each chunk once its leaf is known, with `ok` false unless its CRCs, its type and
// its leaf all hold, and the leaf list it was held to is authentic: before the first chunk is
// read, the scan reads the whole leaf list once (N × 32 bytes, in windows) and checks its CRC-32
// and that the root over it equals the trailer's (and `expectRoot`, the manifest's). A list of
// up to 2,048 leaves (a member up to 512 MiB at the default chunk size) is read with the tail in
// one call and kept, so the file is still read once; a longer one is read again beside the chunks.
// So a chunk is delivered only after its own SHA-256 matched a leaf the root vouches for: a
// flipped byte in chunk k stops a verified read before any byte of chunk k (store.open, `cat`).
// Every length comes from a header the kernel validated against the real file size.
import type { FileHandle } from "../fs.ts";
import { readFully } from "../fs-util.ts";
import { crc32, Sha256Hasher } from "../hash.ts";
import { type LeafBatch, LeafHasher } from "./leaf-hasher.ts";
import { pace } from "../pace.ts";
import { BlockDamage, ChunkCheck } from "./chunk-check.ts";
import { CHUNK_HEADER_SIZE, HEADER_SIZE, LEAVES_CRC_SIZE, ROOT_TAG, TRAILER_SIZE } from "./constants.ts";
import {
  type ChunkInfo,
  type ContainerHeader,
  type Damage,
  MAX_BLOCK_DAMAGE,
  ReadAhead,
  readMetadata,
  type ScanOptions,
  type ScanResult,
  SMALL_CHUNK,
} from "./scan-parts.ts";
import { headDigest } from "./tree.ts";
import { trailerHolds } from "./trailer.ts";

/** Where the trailer holds the digest: after magic "CKPTEND\0" (8) and the total size (8). */
const TRAILER_ROOT_AT = 16;

const ROOT_TAG_BYTES = new TextEncoder().encode(ROOT_TAG);

/** Thrown out of a batch callback when the leaf list is cut short: the scan reports truncation. */
class TruncatedLeaves extends Error {}

function sameDigest(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 32; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

export async function scanBodyV2(
  h: FileHandle,
  header: ContainerHeader,
  head: Uint8Array,
  result: ScanResult,
  damage: (d: Damage) => ScanResult,
  short: (at: number, got: number) => ScanResult,
  options: ScanOptions,
): Promise<ScanResult> {
  const meta = await readMetadata(h, header, result, damage);
  if (!meta.ok) return short(HEADER_SIZE, meta.got);
  const headBytes = new Uint8Array(HEADER_SIZE + meta.bytes.length);
  headBytes.set(head);
  headBytes.set(meta.bytes, HEADER_SIZE);
  const H = headDigest(headBytes);

  const n = header.chunkCount;
  const first = HEADER_SIZE + meta.bytes.length;
  const leavesAt = first + CHUNK_HEADER_SIZE * n + header.payloadLength;
  options.onBytes?.(first);
  const window = new Uint8Array(32 * Math.min(2048, Math.max(1, n))); // n is bounded by the file size
  const pre = await authenticList(h, H, n, leavesAt, window, options);
  const listAuthentic = pre.ok;
  // The leaf list is read in step with the chunks, one window per batch (≤ 2048 leaves, 64 KiB),
  // its CRC-32 accumulated as it goes: nothing is sized by the chunk count, and a file cut short
  // is found truncated at its first missing chunk, as in v1. The root is hashed as leaves arrive.
  const root = new Sha256Hasher().update(ROOT_TAG_BYTES).update(H);
  let listCrc = 0;
  /** Leaf mismatches with intact chunk CRCs: chunk damage, or list damage if the list's CRC fails. */
  const leafMismatches: number[] = [];
  let truncatedAt: { at: number; got: number } | undefined;

  const blocks = new BlockDamage(damage);
  const chunks = new ChunkCheck(header);

  // Per chunk between its read and its batch's completion: offset, CRC status and type.
  const chunkSize = header.chunkSize;
  const offsetOf = (i: number) => first + i * (CHUNK_HEADER_SIZE + chunkSize);
  // Grown per chunk read, like result.blockCrcs: never sized by the header's chunk count.
  const crcOk: number[] = [];
  /** Hands each chunk of a completed batch to onChunk (no declaration inside the awaiting loop: see the chunk loop). */
  const deliver = async (b: LeafBatch, stored: Uint8Array, onChunk: NonNullable<ScanOptions["onChunk"]>) => {
    let j = 0;
    let due: Promise<void> | undefined;
    let done: unknown;
    for (; j < b.count; j++) {
      due = pace(options.signal, "the scan");
      if (due) await due;
      done = onChunk(chunkPayload(b, j), chunkInfo(b, j, stored));
      if (done) await done;
    }
  };
  const chunkPayload = (b: LeafBatch, j: number) => b.bytes.subarray(j * b.len + CHUNK_HEADER_SIZE, (j + 1) * b.len);
  const chunkInfo = (b: LeafBatch, j: number, stored: Uint8Array): ChunkInfo => {
    const i = b.start + j;
    const type = b.bytes[j * b.len + 4]! | (b.bytes[j * b.len + 5]! << 8);
    return {
      index: i,
      offset: offsetOf(i),
      length: b.len,
      type,
      crc: result.blockCrcs[i]!,
      ok: crcOk[i] === 1 && sameDigest(b.digests, 32 * j, stored, 32 * j) && listAuthentic,
    };
  };
  const hasher = new LeafHasher(header.totalSize, {
    onBatch: async (b) => {
      root.update(b.digests);
      const at = leavesAt + 32 * b.start;
      let stored: Uint8Array;
      let got: number;
      if (pre.kept) {
        stored = pre.kept.subarray(32 * b.start, 32 * (b.start + b.count));
        got = stored.length;
      } else {
        stored = b.count * 32 <= window.length ? window.subarray(0, b.count * 32) : new Uint8Array(b.count * 32);
        got = await readFully(h, stored, at);
      }
      if (got < stored.length) {
        truncatedAt ??= { at, got };
        throw new TruncatedLeaves();
      }
      listCrc = crc32(stored, listCrc);
      // A leaf that differs with the chunk's CRCs intact: the chunk changed past its CRC-32, or
      // the list entry did (told apart by the list's CRC at the end); with a CRC already failing
      // it adds nothing. Capped like block damage.
      for (let j = 0; j < b.count; j++) {
        if (
          crcOk[b.start + j] && !sameDigest(b.digests, 32 * j, stored, 32 * j) &&
          leafMismatches.length <= MAX_BLOCK_DAMAGE
        ) leafMismatches.push(b.start + j);
      }
      if (options.onChunk) await deliver(b, stored, options.onChunk);
      options.onBytes?.(b.count * b.len);
    },
  });

  try {
    let pos = first;
    try {
      let remaining = header.payloadLength;
      const buf = new Uint8Array(CHUNK_HEADER_SIZE + Math.min(chunkSize, header.payloadLength));
      /** Every chunk but a short last one: one view, not one per chunk. */
      const whole = buf.subarray(0, CHUNK_HEADER_SIZE + chunkSize);
      const ahead = chunkSize + CHUNK_HEADER_SIZE < SMALL_CHUNK ? new ReadAhead(h) : undefined;
      /** Checks chunk i as read into `piece` (src/format/chunk-check.ts); records its CRC and whether it holds. */
      const check = (piece: Uint8Array, i: number, len: number, pos: number): boolean => {
        const ok = chunks.check(piece, i, len);
        result.blockCrcs.push(chunks.crc);
        crcOk.push(ok ? 1 : 0);
        blocks.chunk(chunks, i, pos, piece.length);
        return ok;
      };
      // Per chunk, nothing is allocated that a million one-byte chunks would pile up (the
      // contract's RSS bound): no promise unless a yield, a read or a batch is due, and no
      // declaration inside the loop's block (an async function's block scope that spans an await
      // is one environment object per iteration in JavaScriptCore, left for a lazy collector).
      let due: Promise<void> | undefined;
      let len: number;
      let piece: Uint8Array;
      let got: number;
      let i = 0; // outside the for: a `let` in its head is one environment per iteration, too
      for (; i < n; i++) {
        due = pace(options.signal, "the scan");
        if (due) await due;
        len = Math.min(chunkSize, remaining);
        piece = len === chunkSize ? whole : buf.subarray(0, CHUNK_HEADER_SIZE + len);
        got = ahead ? ahead.readBuffered(piece, pos) : -1;
        if (got < 0) got = ahead ? await ahead.read(piece, pos) : await readFully(h, piece, pos);
        if (got < piece.length) {
          blocks.flush();
          return short(pos, got);
        }
        // A consumer stops at the first bad chunk (store.open, load): hand the batch over now, so
        // the file is read no further than that chunk's batch.
        if (!check(piece, i, len, pos) && options.onChunk) {
          await hasher.add(piece);
          await hasher.finish();
        } else {
          due = hasher.add(piece);
          if (due) await due;
        }
        pos += piece.length;
        remaining -= len;
      }
      await hasher.finish();
    } catch (err) {
      if (!(err instanceof TruncatedLeaves)) throw err;
      blocks.flush();
      return short(truncatedAt!.at, truncatedAt!.got);
    }

    const crcAt = leavesAt + 32 * n;
    const tail = pre.kept ? pre.kept.subarray(32 * n) : new Uint8Array(LEAVES_CRC_SIZE + TRAILER_SIZE);
    const gotTail = pre.kept ? tail.length : await readFully(h, tail, crcAt);
    if (gotTail < tail.length) {
      blocks.flush();
      return short(crcAt, gotTail);
    }
    if (new DataView(tail.buffer, tail.byteOffset).getUint32(0, true) !== listCrc) {
      damage({
        kind: "crc-mismatch",
        offset: leavesAt,
        length: 32 * n + LEAVES_CRC_SIZE,
        message: `leaf list (bytes ${leavesAt}..${crcAt + 3}): CRC-32 mismatch`,
      });
    } else {
      for (const i of leafMismatches) {
        blocks.add(
          i,
          offsetOf(i),
          CHUNK_HEADER_SIZE + Math.min(chunkSize, header.payloadLength - i * chunkSize),
          "sha-mismatch",
          "SHA-256 leaf differs from the leaf list",
        );
      }
    }
    blocks.flush();
    options.onBytes?.(tail.length + 32 * n);
    const trailerAt = crcAt + LEAVES_CRC_SIZE;
    const trailer = tail.subarray(LEAVES_CRC_SIZE);
    // The digest the manifest records: the root over what was read, not over the stored list.
    result.fileSha256 = root.digest();
    if (!trailerHolds(trailer, header.totalSize, result.fileSha256) && result.damage.length === 0) {
      damage({
        kind: "sha-mismatch",
        offset: trailerAt,
        length: TRAILER_SIZE,
        message: "trailer damaged or the SHA-256 tree root does not match",
      });
    }
    return result;
  } finally {
    hasher.discard();
  }
}

/**
 * The stored leaf list is the one the root vouches for: its CRC-32 holds and SHA-256("CKPTROOT" ‖
 * H ‖ list) equals the trailer's root (and `expectRoot` when given). A list that fits `window`
 * is read with the tail in one call and returned as `kept` (list then tail) for the main pass;
 * a longer one is read in windows. A list cut short or damaged is not authentic: the main pass
 * reports the damage itself, this only keeps chunks from being delivered as ok against it.
 */
async function authenticList(
  h: FileHandle,
  H: Uint8Array,
  n: number,
  leavesAt: number,
  window: Uint8Array,
  options: ScanOptions,
): Promise<{ ok: boolean; kept?: Uint8Array }> {
  const root = new Sha256Hasher().update(ROOT_TAG_BYTES).update(H);
  const tailLen = LEAVES_CRC_SIZE + TRAILER_SIZE;
  let tail: Uint8Array;
  let kept: Uint8Array | undefined;
  let crc = 0;
  if (32 * n <= window.length) {
    kept = new Uint8Array(32 * n + tailLen);
    if ((await readFully(h, kept, leavesAt)) < kept.length) return { ok: false };
    crc = crc32(kept.subarray(0, 32 * n));
    root.update(kept.subarray(0, 32 * n));
    tail = kept.subarray(32 * n);
  } else {
    for (let off = 0; off < 32 * n; off += window.length) {
      await pace(options.signal, "the scan");
      const part = window.subarray(0, Math.min(window.length, 32 * n - off));
      if ((await readFully(h, part, leavesAt + off)) < part.length) return { ok: false };
      crc = crc32(part, crc);
      root.update(part);
    }
    tail = new Uint8Array(tailLen);
    if ((await readFully(h, tail, leavesAt + 32 * n)) < tail.length) return { ok: false };
  }
  const r = root.digest();
  const ok = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true) === crc &&
    sameDigest(r, 0, tail, LEAVES_CRC_SIZE + TRAILER_ROOT_AT) &&
    (options.expectRoot === undefined || (options.expectRoot.length === 32 && sameDigest(r, 0, options.expectRoot, 0)));
  return { ok, kept };
}
