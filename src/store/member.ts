// Writes one member as a container, streaming: from bytes in memory or from a file read piece by
// piece, so a multi-GiB member never sits whole in memory. Encoded pieces are coalesced into
// writes of about 1 MiB (one write syscall for a small member).
import { FsError, UsageError } from "../errors.ts";
import type { DurableFs, FileHandle } from "../fs.ts";
import { attempt, readFully } from "../fs-util.ts";
import { CHUNK_DATA, KIND_MEMBER } from "../format/constants.ts";
import type { MemberEntry } from "../format/manifest.ts";
import { ContainerWriter } from "../format/writer.ts";
import { type ContainerDigest, openContainerDigest } from "../hash-tree.ts";
import { kernel } from "../wasm/kernel.ts";
import { basename } from "../path.ts";
import { abortPoint } from "../abort.ts";

export type MemberSource = { name: string; data: Uint8Array } | { name: string; path: string };

const WRITE_BATCH = 1 << 20;

/** Member metadata: the source file's permission bits, octal (absent for in-memory data). */
export const MODE_KEY = "ckptkit.mode";

/** The permission bits to create a restored member with: its recorded mode, else 0o666 (both before the umask). */
export function restoredMode(meta: Record<string, string> | undefined): number {
  const v = meta?.[MODE_KEY];
  return v !== undefined && /^[0-7]{1,3}$/.test(v) ? Number.parseInt(v, 8) : 0o666;
}

class BatchedWriter {
  /** Allocated on the first flush that joins pieces, then reused (each write is awaited before the next put). */
  private batch: Uint8Array | undefined;
  private pieces: Uint8Array[] = [];
  private pending = 0;
  private pos = 0;
  constructor(private readonly h: FileHandle) {}
  async put(b: Uint8Array): Promise<void> {
    this.pieces.push(b);
    this.pending += b.length;
    if (this.pending >= WRITE_BATCH) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.pending === 0) return;
    let buf: Uint8Array;
    if (this.pieces.length === 1) buf = this.pieces[0]!;
    else {
      // Sized to what is pending (a small member allocates a few KiB, not a batch's worth).
      if (!this.batch || this.batch.length < this.pending) this.batch = new Uint8Array(this.pending);
      buf = this.batch.subarray(0, this.pending);
      let o = 0;
      for (const p of this.pieces) { buf.set(p, o); o += p.length; }
    }
    await this.h.write(buf, this.pos);
    this.pos += buf.length;
    this.pieces = [];
    this.pending = 0;
  }
}

export interface WriteMemberArgs {
  fs: DurableFs;
  /** Full path of the member file to create (must not exist). */
  path: string;
  source: MemberSource;
  step: number;
  index: number;
  chunkSize: number;
  createdAt: number;
  /** fsync the member before returning (every protocol but unsafe). */
  sync: boolean;
  /** Checked before every chunk: an aborted save stops within one chunk (the caller removes the file). */
  signal?: AbortSignal;
  /** Called with the payload bytes of each chunk once it is queued for writing. */
  onBytes?: (n: number) => void;
}

export async function writeMember(a: WriteMemberArgs): Promise<MemberEntry> {
  const { fs, source } = a;
  let src: FileHandle | undefined;
  let size: number;
  // A file keeps its permission bits (low 9 only: never setuid/setgid/sticky) for restore.
  const meta: Record<string, string> = {};
  if ("data" in source) size = source.data.length;
  else {
    src = await fs.open(source.path);
    size = await src.size();
    const mode = ((await fs.stat(source.path))?.mode ?? 0) & 0o777;
    if (mode !== 0) meta[MODE_KEY] = mode.toString(8);
  }
  try {
    const w = new ContainerWriter({
      kind: KIND_MEMBER,
      meta: { "ckptkit.step": String(a.step), "ckptkit.member": source.name, "ckptkit.index": String(a.index), ...meta },
      payloadLength: size,
      chunkSize: a.chunkSize,
      chunkType: CHUNK_DATA,
      createdAt: a.createdAt,
    }, { externalSha256: true });
    const h = await fs.open(a.path, { write: true, create: true, exclusive: true, mode: 0o666 }); // less the umask
    const ioPtr = kernel().ioPtr;
    let closed = false;
    let sha: ContainerDigest | undefined;
    try {
      // v2: leaves hashed on the pool while this thread reads, encodes and writes (hash-tree.ts).
      sha = await openContainerDigest(w);
      const out = new BatchedWriter(h);
      const head = w.head();
      await sha.update(head);
      await out.put(head);
      const buf = src ? new Uint8Array(Math.min(a.chunkSize, size)) : undefined;
      for (let off = 0; off < size; off += a.chunkSize) {
        await abortPoint(a.signal, "the save");
        const len = Math.min(a.chunkSize, size - off);
        let piece: Uint8Array;
        if ("data" in source) piece = source.data.subarray(off, off + len);
        else {
          piece = buf!.subarray(0, len);
          const n = await readFully(src!, piece, off);
          if (n !== len) throw new FsError("EIO", "read", source.path, `file shrank while being saved (${off + n} of ${size} bytes)`);
        }
        const encoded = w.chunk(piece);
        await sha.update(encoded, ioPtr); // chunk() leaves the same bytes at the kernel's ioPtr
        await out.put(encoded);
        a.onBytes?.(len);
      }
      await out.put(w.trailer(await sha.digest(), sha.leaves));
      await out.flush();
      if (a.sync) await h.sync();
      await abortPoint(a.signal, "the save"); // the fsync may have taken seconds
      closed = true;
      await h.close();
    } catch (err) {
      if (!closed) await attempt(() => h.close());
      throw err;
    } finally {
      await sha?.release();
    }
    return { name: source.name, file: basename(a.path), payloadSize: size, fileSize: w.totalSize, chunkSize: a.chunkSize, fileSha256: w.fileSha256, blockCrcs: w.blockCrcs };
  } finally {
    if (src) await attempt(() => src!.close());
  }
}

export function sourceName(s: MemberSource): string {
  if (typeof s.name !== "string") throw new UsageError("every member needs a name");
  return s.name;
}
