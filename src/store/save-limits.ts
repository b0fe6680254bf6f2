// A save refused for a limit is refused before its first byte is written (CONTRACT guarantee 8):
// every limit a save can hit is checked here, before the first member file is created, so a
// refusal leaves the store exactly as it was (no member file, no temp, no torn step).
//
// What remains after this check can fail only for a reason outside the caller's arguments (an
// I/O error, a source file that grew between this stat and its read).
//
// There is no limit on the member count or on the member table's size: the table spans as many
// manifest chunks as it needs (docs/FORMAT.md). The member table does record a member's block
// count as u32, so a member is at most 2^32 − 1 blocks (1 PiB at the default 256 KiB chunk size).
import { FsError, UsageError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { chunkCountFor, MAX_MEMBER_BLOCKS, MAX_WRITE_CHUNK_SIZE } from "../format/constants.ts";
import { manifestMetadata } from "../format/manifest.ts";
import { encodeMetadata } from "../format/metadata.ts";
import type { UserMeta } from "../format/typed-meta.ts";
import { parseProtocol } from "../protocol.ts";
import { knownSize, type MemberSource } from "./source.ts";

export interface SaveLimitArgs {
  fs: DurableFs;
  members: MemberSource[];
  step: number;
  chunkSize: number;
  meta: UserMeta;
  protocol: string;
  keep?: number;
}

/** Checks the chunk size a store writes members with (also at open). */
export function checkChunkSize(chunkSize: number): number {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_WRITE_CHUNK_SIZE) {
    throw new UsageError(`chunkSize must be a whole number from 1 to ${MAX_WRITE_CHUNK_SIZE}, got ${chunkSize}`);
  }
  return chunkSize;
}

/** Throws UsageError if the manifest's metadata (step + the user's keys) would not encode. */
export function checkManifestMetadata(step: number, meta: UserMeta): void {
  encodeMetadata(manifestMetadata(step, meta));
}

/**
 * Every limit of one save (names and step are checked by the caller first). Returns each
 * member's payload size: known for bytes and Blobs, from stat for a file, 0 for a stream.
 */
export async function checkSaveLimits(a: SaveLimitArgs): Promise<number[]> {
  checkChunkSize(a.chunkSize);
  parseProtocol(a.protocol);
  if (a.keep !== undefined && (!Number.isSafeInteger(a.keep) || a.keep < 1)) {
    throw new UsageError(`keep must be at least 1, got ${a.keep}`);
  }
  checkManifestMetadata(a.step, a.meta);
  const sizes: number[] = [];
  for (const m of a.members) {
    let size: number;
    if ("data" in m) size = knownSize(m) ?? 0; // a stream's size is known at its end; it is held to the block limit as it is written
    else {
      const st = await a.fs.stat(m.path);
      if (!st) throw new FsError("ENOENT", "open", m.path);
      if (!st.isFile) throw new UsageError(`member '${m.name}': ${m.path} is not a regular file`);
      size = st.size;
    }
    const blocks = chunkCountFor(size, a.chunkSize);
    if (blocks > MAX_MEMBER_BLOCKS) {
      throw new UsageError(
        `member '${m.name}' is ${size} bytes: ${blocks} blocks of ${a.chunkSize} bytes, more than the ${MAX_MEMBER_BLOCKS} a manifest records per member (use a larger chunkSize)`,
      );
    }
    sizes.push(size);
  }
  return sizes;
}
