// Writes one member as a container, streaming: from bytes in memory or from a file read piece by
// piece, so a multi-GiB member never sits whole in memory. Encoded pieces are coalesced into
// writes of about 1 MiB (one write syscall for a small member).
import { FsError } from "../errors.ts";
import { attempt } from "../fs-util.ts";
import { CHUNK_DATA, KIND_MEMBER } from "../format/constants.ts";
import type { MemberEntry } from "../format/manifest.ts";
import { ContainerWriter } from "../format/writer.ts";
import { type ContainerDigest, openContainerDigest } from "../format/leaf-hasher.ts";
import { basename } from "../path.ts";
import { pace } from "../pace.ts";
import { BatchedWriter } from "./batched-writer.ts";
import { FlushBehind } from "./flush-behind.ts";
import { knownSize, openChunks, sizeChanged } from "./source.ts";
import { writeUnsizedMember } from "./unsized-member.ts";
import type { WriteMemberArgs } from "./write-member-args.ts";

export type { MemberData, MemberSource } from "./source.ts";

/** Member metadata: the source file's permission bits, octal (absent for in-memory data). */
export const MODE_KEY = "ckptkit.mode";

/** The permission bits to create a restored member with: its recorded mode, else 0o666 (both before the umask). */
export function restoredMode(meta: Record<string, string> | undefined): number {
  const v = meta?.[MODE_KEY];
  return v !== undefined && /^[0-7]{1,3}$/.test(v) ? Number.parseInt(v, 8) : 0o666;
}

export async function writeMember(a: WriteMemberArgs): Promise<MemberEntry> {
  const { fs, source } = a;
  // A file keeps its permission bits (low 9 only: never setuid/setgid/sticky) for restore.
  const meta: Record<string, string> = {};
  let statSize: number | undefined;
  if ("path" in source) {
    const st = await fs.stat(source.path);
    if (!st) throw new FsError("ENOENT", "open", source.path);
    statSize = st.size;
    const mode = st.mode & 0o777;
    if (mode !== 0) meta[MODE_KEY] = mode.toString(8);
  }
  const size = knownSize(source, statSize);
  if (size === undefined) return writeUnsizedMember(a, writeMember); // a stream: src/store/unsized-member.ts
  const src = await openChunks(fs, source, Math.min(a.chunkSize, size));
  try {
    const w = new ContainerWriter({
      kind: KIND_MEMBER,
      meta: {
        "ckptkit.step": String(a.step),
        "ckptkit.member": source.name,
        "ckptkit.index": String(a.index),
        ...meta,
      },
      payloadLength: size,
      chunkSize: a.chunkSize,
      chunkType: CHUNK_DATA,
      createdAt: a.createdAt,
    }, { externalSha256: true });
    // The size is known: a large member's writes leave this thread from the first byte.
    const h = await fs.open(a.path, { write: true, create: true, exclusive: true, mode: 0o666, sizeHint: w.totalSize }); // less the umask
    let closed = false;
    let sha: ContainerDigest | undefined;
    try {
      // v1: a large member is hashed on the worker thread while this one reads, encodes and
      // writes; v2: its leaves are hashed in 4-lane batches (format/leaf-hasher.ts).
      sha = await openContainerDigest(w);
      const flush = FlushBehind.for(fs, h, w.totalSize, a.sync);
      const out = new BatchedWriter(h, flush);
      const head = w.head();
      await sha.update(head);
      await out.put(head);
      for (let off = 0; off < size; off += a.chunkSize) {
        await pace(a.signal, "the save");
        const len = Math.min(a.chunkSize, size - off);
        const piece = await src.next(len);
        if (piece.length !== len) throw sizeChanged(source, size, off + piece.length);
        const encoded = await w.chunkHashed(piece, sha);
        await out.put(encoded);
        a.onBytes?.(len);
      }
      await out.put(w.trailer(await sha.digest(), sha.leaves));
      await out.flush();
      if (a.sync) await flush.syncFile(a.signal, "the save"); // seconds for a large member: an abort does not wait
      await pace(a.signal, "the save"); // the fsync may have taken seconds
      closed = true;
      await h.close();
    } catch (err) {
      if (!closed) await attempt(() => h.close());
      throw err;
    } finally {
      await sha?.release();
    }
    return {
      name: source.name,
      file: basename(a.path),
      payloadSize: size,
      fileSize: w.totalSize,
      chunkSize: a.chunkSize,
      fileSha256: w.fileSha256,
      blockCrcs: w.blockCrcs,
    };
  } finally {
    await src.close();
  }
}
