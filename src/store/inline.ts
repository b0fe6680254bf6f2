// Which members of a save are stored inline, in the manifest (docs/FORMAT.md, "Inline members"),
// and reading one. A checkpoint of small members is then one file written by the protocol
// (temp, fsync, rename, directory fsync): the hand-written floor's two fsyncs, not one more per
// member file. The threshold is where a member file's own fsync starts to cost less than
// carrying the payload in the manifest (hashed twice, copied once): docs/BENCH.md, "Inline
// members", has the measurements it was chosen from.
import { FsError, UsageError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import type { MemberEntry } from "../format/manifest.ts";
import { knownSize, type MemberSource, openChunks, sizeChanged } from "./source.ts";
import { manifestName } from "./layout.ts";

/** A member is inline when its payload is at most this many bytes (and the total cap allows). */
export const INLINE_MAX = 64 * 1024;
/**
 * At most this many payload bytes are inline in one manifest: every read of a manifest (list,
 * latest, the check of each member) reads and hashes all of it, so it stays small whatever the
 * checkpoint; members past the cap get files of their own.
 */
export const INLINE_TOTAL_MAX = 1024 * 1024;

/** Checks a store's `inlineMax` option (0 turns inline members off). */
export function checkInlineMax(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > INLINE_TOTAL_MAX) {
    throw new UsageError(`inlineMax must be a whole number from 0 to ${INLINE_TOTAL_MAX}, got ${v}`);
  }
  return v;
}

/**
 * For each member, whether it goes inline: its size is known before reading (bytes, a Blob, a
 * file: `sizes` has stat's) and at most `max`, taken in member order while the running total stays
 * within INLINE_TOTAL_MAX. A stream of unknown length always gets a file.
 */
export function chooseInline(members: MemberSource[], sizes: number[], max: number): boolean[] {
  let total = 0;
  return members.map((m, i) => {
    const size = "path" in m ? sizes[i]! : knownSize(m);
    if (size === undefined || size > max || max === 0 || total + size > INLINE_TOTAL_MAX) return false;
    total += size;
    return true;
  });
}

/**
 * Reads an inline member's payload whole (it is below the threshold) and builds its entry. The
 * entry has no SHA-256 yet: encodeManifestPaced copies the payload into the manifest and hashes
 * that copy (src/format/manifest.ts), so the digest and the stored bytes are the same bytes. Bytes
 * in memory are therefore not copied here, a file's or Blob's are read into a buffer of their own.
 */
export async function readInlineMember(
  fs: DurableFs,
  source: MemberSource,
  size: number,
  step: number,
): Promise<MemberEntry> {
  let mode = 0;
  let data: Uint8Array;
  if ("data" in source && source.data instanceof Uint8Array) {
    data = source.data;
    if (data.length !== size) throw sizeChanged(source, size, data.length);
  } else {
    if ("path" in source) {
      const st = await fs.stat(source.path);
      if (!st) throw new FsError("ENOENT", "open", source.path);
      mode = st.mode & 0o777; // low 9 bits only, as a member file records them (src/store/member.ts)
      size = st.size; // the file as it is now; a change after this stat is caught by the read below
    }
    const src = await openChunks(fs, source, Math.max(1, size));
    try {
      const piece = size === 0 ? new Uint8Array(0) : await src.next(size);
      if (piece.length !== size) throw sizeChanged(source, size, piece.length);
      // A copy when the reader's buffer could be the caller's (the stream of a Blob hands out its
      // own pieces, a file is read into the reader's buffer: a copy costs little at this size).
      data = piece.slice();
    } finally {
      await src.close();
    }
  }
  return {
    name: source.name,
    file: manifestName(step),
    payloadSize: size,
    fileSize: 0,
    chunkSize: 0,
    fileSha256: UNHASHED,
    blockCrcs: [],
    inline: data,
    mode,
  };
}

/** An inline entry's digest until the manifest encoder computes it (never written: writeTable refuses a digest that is not 32 bytes). */
const UNHASHED = new Uint8Array(0);
