// A member whose length is not known before it is read (a ReadableStream or an AsyncIterable).
// The container's header records the payload length, chunk count and total size, and the
// trailer's SHA-256 covers the header, so neither can be written before the source has ended.
// The scheme (docs/FORMAT.md "Members of unknown length"):
//   1. Up to SPOOL_BYTES are read into memory first. A source that ends there (most small
//      streams) is written exactly like bytes in memory: one pass, no patch.
//   2. Otherwise the member file is written front to back with a placeholder header (a real
//      header for a 0-byte payload: never valid for this file, whose size differs), chunks
//      encoded as they arrive (their layout depends only on the chunk size, never on the total).
//   3. When the source ends, the real header is written over the placeholder (same length: the
//      metadata does not depend on the length), the file is read back once to compute the
//      SHA-256 of every byte before the trailer, the trailer is appended, and the file fsynced.
// Format v2 (docs/FORMAT.md "The SHA-256 tree") needs no read-back: a chunk's leaf depends only
// on the chunk as stored (its header carries index, length, CRC and type, never the total), so
// leaves are hashed as chunks arrive (format/leaf-hasher.ts); at the end the header is patched,
// the root is the SHA-256 over the tag, the patched head's digest and the leaves, and the leaf
// list, its CRC and the trailer are appended. v1 (CKPTKIT_FORMAT_VERSION=1) reads the file back.
// The member is fsynced before save writes the manifest, as for any member: the commit point
// is unchanged, and a crash at any moment leaves a member file without a manifest (incomplete,
// removed by the next writer). The extra cost is one sequential read of the member, from the
// page cache in practice; the SHA-256 is computed once either way.
import { UsageError } from "../errors.ts";
import type { FileHandle } from "../fs.ts";
import { attempt, readFully } from "../fs-util.ts";
import { CHUNK_DATA, KIND_MEMBER, MAX_MEMBER_BLOCKS } from "../format/constants.ts";
import type { MemberEntry } from "../format/manifest.ts";
import { ContainerWriter, encodeChunkAt, encodeTrailer, encodeTreeTail } from "../format/writer.ts";
import { LeafHasher } from "../format/leaf-hasher.ts";
import { writeFormatVersion } from "../format/write-version.ts";
import { StreamSha256 } from "../hash-stream.ts";
import { basename } from "../path.ts";
import { pace } from "../pace.ts";
import { type ChunkReader, openChunks } from "./source.ts";
import { BatchedWriter } from "./batched-writer.ts";
import { FlushBehind } from "./flush-behind.ts";
import type { WriteMemberArgs } from "./write-member-args.ts";

/** A stream that ends within this many bytes is buffered and written in one pass. */
export const SPOOL_BYTES = 1 << 20;
const READ_BACK = 1 << 20;

/** Writes a member of unknown length; `writeSized` writes one whose bytes are all in memory. */
export async function writeUnsizedMember(
  a: WriteMemberArgs,
  writeSized: (a: WriteMemberArgs) => Promise<MemberEntry>,
): Promise<MemberEntry> {
  const chunks = await openChunks(a.fs, a.source, a.chunkSize);
  try {
    // 1. Spool: copies, since a reader's bytes are valid only until its next call.
    const spooled: Uint8Array[] = [];
    let spooledBytes = 0;
    let ended = false;
    while (spooledBytes < SPOOL_BYTES) {
      const piece = await chunks.next(a.chunkSize);
      if (piece.length > 0) {
        spooled.push(piece.slice());
        spooledBytes += piece.length;
      }
      if (piece.length < a.chunkSize) {
        ended = true;
        break;
      }
    }
    if (ended) {
      const data = new Uint8Array(spooledBytes);
      let o = 0;
      for (const p of spooled) {
        data.set(p, o);
        o += p.length;
      }
      return await writeSized({ ...a, source: { name: a.source.name, data } });
    }
    return await writeStreamed(a, chunks, spooled);
  } finally {
    await chunks.close();
  }
}

async function writeStreamed(a: WriteMemberArgs, chunks: ChunkReader, spooled: Uint8Array[]): Promise<MemberEntry> {
  const spec = {
    kind: KIND_MEMBER,
    meta: { "ckptkit.step": String(a.step), "ckptkit.member": a.source.name, "ckptkit.index": String(a.index) },
    chunkSize: a.chunkSize,
    chunkType: CHUNK_DATA,
    createdAt: a.createdAt,
    version: writeFormatVersion(), // one version for the placeholder and the patched header
  };
  // v2: every leaf, in chunk order, hashed as its chunk is written (kept for the leaf list).
  const leaves = spec.version >= 2 ? new LeafHasher(Number.MAX_SAFE_INTEGER, { keep: true }) : undefined;
  const placeholder = new ContainerWriter({ ...spec, payloadLength: 0 }, { externalSha256: true }).head();
  const h = await a.fs.open(a.path, { write: true, create: true, exclusive: true, mode: 0o666 }); // less the umask
  let closed = false;
  try {
    const flush = FlushBehind.for(a.fs, h, undefined, a.sync); // the size is unknown: flushed behind once it is large
    const out = new BatchedWriter(h, flush); // coalesces chunks into writes of about 1 MiB, as for any member
    await out.put(placeholder);
    let pos = placeholder.length;
    let total = 0;
    const blockCrcs: number[] = [];
    const put = async (payload: Uint8Array) => {
      if (blockCrcs.length >= MAX_MEMBER_BLOCKS) {
        throw new UsageError(
          `member '${a.source.name}' exceeds ${MAX_MEMBER_BLOCKS} blocks of ${a.chunkSize} bytes (use a larger chunkSize)`,
        );
      }
      // The same encoding as ContainerWriter.chunk(), which needs the total up front.
      const { encoded, crc } = encodeChunkAt(CHUNK_DATA, blockCrcs.length, payload);
      blockCrcs.push(crc);
      await leaves?.add(encoded); // copies: `encoded` is handed to the writer as is
      await out.put(encoded);
      pos += encoded.length;
      total += payload.length;
      a.onBytes?.(payload.length);
    };
    // 2. Chunks as they arrive; every chunk but the last is exactly chunkSize bytes.
    for (const p of spooled) await put(p);
    for (;;) {
      await pace(a.signal, "the save");
      const piece = await chunks.next(a.chunkSize);
      if (piece.length > 0) await put(piece);
      if (piece.length < a.chunkSize) break;
    }
    await out.flush();
    // 3. The real header over the placeholder, then v1 the SHA-256 of the file as written, v2
    //    the leaf list and the root over the patched head and the leaves.
    const final = new ContainerWriter({ ...spec, payloadLength: total }, { externalSha256: true });
    const head = final.head();
    const list = leaves ? await leaves.finish() : undefined;
    const tail = list ? encodeTreeTail(final.totalSize, head, list) : undefined;
    const tailSize = tail ? tail.bytes.length : encodeTrailer(0, new Uint8Array(32)).length;
    // Invariants: the header is patched in place and the chunks sit where it says they are.
    if (
      head.length !== placeholder.length || final.totalSize !== pos + tailSize || final.chunkCount !== blockCrcs.length
    ) {
      throw new Error(
        `internal: streamed member layout differs from its header (${final.totalSize} vs ${pos + tailSize} bytes)`,
      );
    }
    await h.write(head, 0);
    const digest = tail ? tail.root : await hashFile(h, pos, a.signal);
    await h.write(tail ? tail.bytes : encodeTrailer(final.totalSize, digest), pos);
    if (a.sync) await flush.syncFile(a.signal, "the save"); // an abort does not wait for it
    await pace(a.signal, "the save");
    closed = true;
    await h.close();
    return {
      name: a.source.name,
      file: basename(a.path),
      payloadSize: total,
      fileSize: final.totalSize,
      chunkSize: a.chunkSize,
      fileSha256: digest,
      blockCrcs,
    };
  } catch (err) {
    leaves?.discard();
    if (!closed) await attempt(() => h.close());
    throw err;
  }
}

/** SHA-256 of the first `end` bytes of the file, read back in 1 MiB slices. */
async function hashFile(h: FileHandle, end: number, signal?: AbortSignal): Promise<Uint8Array> {
  const sha = await StreamSha256.open(end);
  try {
    const buf = new Uint8Array(Math.min(READ_BACK, end));
    for (let off = 0; off < end; off += buf.length) {
      await pace(signal, "the save");
      const slice = buf.subarray(0, Math.min(buf.length, end - off));
      const n = await readFully(h, slice, off);
      if (n !== slice.length) {
        throw new UsageError(`internal: member file ends at ${off + n} while read back, expected ${end} bytes`);
      }
      await sha.update(slice);
    }
    return await sha.digest();
  } finally {
    await sha.release();
  }
}
