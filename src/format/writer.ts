// Streaming encoder of one container: header + metadata, then chunks one at a time, then the
// trailer. It does no I/O: the caller writes each returned piece in order, so a multi-GiB
// payload never sits whole in memory. Chunk serialization (header + CRC) runs in the kernel,
// and the running SHA-256 of the file is fed from kernel memory without another copy, unless
// the caller hashes the pieces itself (`externalSha256`, e.g. on the hash worker) and hands the
// digest to trailer().
import { UsageError } from "../errors.ts";
import { Sha256Hasher } from "../hash.ts";
import type { StreamSha256 } from "../hash-stream.ts";
import { kernel } from "../wasm/kernel.ts";
import {
  CHUNK_HEADER_SIZE, FORMAT_VERSION, FORMAT_VERSION_MIN, HEADER_SIZE, INLINE_FORMAT_VERSION, MAX_WRITE_CHUNK_SIZE, META_CRC_SIZE, TRAILER_SIZE, chunkCountFor, containerSize,
} from "./constants.ts";
import { type Metadata, encodeMetadata } from "./metadata.ts";
import { crc32 } from "../hash.ts";

export interface ContainerSpec {
  kind: number;
  meta: Metadata;
  payloadLength: number;
  chunkSize: number;
  chunkType: number;
  createdAt?: number;
  /** Format version to write in the header: FORMAT_VERSION unless a manifest holds inline members. */
  version?: number;
}

export class ContainerWriter {
  readonly totalSize: number;
  readonly chunkCount: number;
  /** CRC-32 of each chunk's payload, in order (the manifest's per-block CRCs). */
  readonly blockCrcs: number[] = [];
  private readonly sha: Sha256Hasher | undefined;
  private readonly metaBytes: Uint8Array;
  private written = 0;
  private index = 0;
  private digest?: Uint8Array;

  constructor(private readonly spec: ContainerSpec, options: { externalSha256?: boolean } = {}) {
    this.sha = options.externalSha256 ? undefined : new Sha256Hasher();
    const v = spec.version ?? FORMAT_VERSION;
    if (!Number.isInteger(v) || v < FORMAT_VERSION_MIN || v > INLINE_FORMAT_VERSION) throw new UsageError(`format version must be ${FORMAT_VERSION_MIN}..${INLINE_FORMAT_VERSION}, got ${v}`);
    if (!Number.isSafeInteger(spec.chunkSize) || spec.chunkSize < 1 || spec.chunkSize > MAX_WRITE_CHUNK_SIZE) {
      throw new UsageError(`chunk size must be 1..${MAX_WRITE_CHUNK_SIZE} bytes, got ${spec.chunkSize}`);
    }
    this.metaBytes = encodeMetadata(spec.meta);
    this.chunkCount = chunkCountFor(spec.payloadLength, spec.chunkSize);
    this.totalSize = containerSize(this.metaBytes.length, spec.payloadLength, this.chunkCount);
  }

  /** The fixed header, metadata and metadata CRC: the first bytes of the file. */
  head(): Uint8Array {
    const k = kernel();
    const s = this.spec;
    const out = new Uint8Array(HEADER_SIZE + this.metaBytes.length + META_CRC_SIZE);
    k.exports.writeHeader(k.ioPtr, s.kind, s.chunkSize, this.metaBytes.length, s.createdAt ?? Date.now(), s.payloadLength, this.chunkCount, s.version ?? FORMAT_VERSION);
    out.set(k.io.subarray(0, HEADER_SIZE));
    out.set(this.metaBytes, HEADER_SIZE);
    new DataView(out.buffer).setUint32(HEADER_SIZE + this.metaBytes.length, crc32(this.metaBytes), true);
    this.sha?.update(out);
    return out;
  }

  /**
   * Encodes the next chunk. Every chunk but the last carries exactly chunkSize bytes.
   * Returns a fresh array; the same bytes stay at kernel().ioPtr until the next kernel call.
   */
  chunk(payload: Uint8Array): Uint8Array {
    const s = this.spec;
    const remaining = s.payloadLength - this.written;
    const expected = Math.min(s.chunkSize, remaining);
    if (payload.length !== expected || expected === 0) {
      throw new UsageError(`chunk ${this.index}: expected ${expected} bytes, got ${payload.length}`);
    }
    const k = kernel();
    k.io.set(payload, CHUNK_HEADER_SIZE);
    const crc = k.exports.encodeChunk(k.ioPtr, s.chunkType, this.index, payload.length) >>> 0;
    this.sha?.updateInKernel(k.ioPtr, CHUNK_HEADER_SIZE + payload.length);
    this.blockCrcs.push(crc);
    this.written += payload.length;
    this.index++;
    return k.io.slice(0, CHUNK_HEADER_SIZE + payload.length);
  }

  /**
   * chunk(), then `sha` (the caller's hasher, with `externalSha256`) takes the encoded bytes
   * straight from kernel memory, where chunk() left them: no copy when it hashes on this thread.
   * The kernel's memory layout stays this layer's business; callers never see a pointer.
   */
  async chunkHashed(payload: Uint8Array, sha: StreamSha256): Promise<Uint8Array> {
    const encoded = this.chunk(payload);
    await sha.update(encoded, kernel().ioPtr); // nothing has called the kernel since chunk()
    return encoded;
  }

  /**
   * The trailer; valid only after every chunk. With `externalSha256`, `digest` is the caller's
   * SHA-256 of every byte head() and chunk() returned, in order.
   */
  trailer(digest?: Uint8Array): Uint8Array {
    if (this.written !== this.spec.payloadLength) {
      throw new UsageError(`payload incomplete: ${this.written} of ${this.spec.payloadLength} bytes`);
    }
    if ((digest === undefined) !== (this.sha !== undefined) || (digest !== undefined && digest.length !== 32)) {
      throw new UsageError(this.sha ? "trailer(): this writer hashes itself; pass no digest" : "trailer(): pass the 32-byte SHA-256 of head() and every chunk()");
    }
    const k = kernel();
    this.digest = this.sha ? this.sha.digest() : digest!;
    const shaPtr = k.scratchPtr + 256;
    k.mem.set(this.digest, shaPtr);
    k.exports.writeTrailer(k.ioPtr, this.totalSize, shaPtr);
    return k.io.slice(0, TRAILER_SIZE);
  }

  /** SHA-256 of every byte before the trailer (available after trailer()). */
  get fileSha256(): Uint8Array {
    if (!this.digest) throw new UsageError("fileSha256 is known only after trailer()");
    return this.digest;
  }
}

/** Encodes a whole container held in memory (manifests, small members, tests). */
export function encodeContainer(spec: Omit<ContainerSpec, "payloadLength">, payload: Uint8Array): { bytes: Uint8Array; writer: ContainerWriter } {
  const w = new ContainerWriter({ ...spec, payloadLength: payload.length });
  const out = new Uint8Array(w.totalSize);
  let p = 0;
  const put = (b: Uint8Array) => { out.set(b, p); p += b.length; };
  put(w.head());
  for (let off = 0; off < payload.length; off += spec.chunkSize) put(w.chunk(payload.subarray(off, Math.min(off + spec.chunkSize, payload.length))));
  put(w.trailer());
  return { bytes: out, writer: w };
}

/**
 * Encodes one chunk of a container whose total length is not known yet (a streamed member):
 * the same bytes ContainerWriter.chunk() gives for chunk `index` of type `chunkType`. Returns a
 * fresh array (the caller may await a write with it while another member uses the kernel) and
 * the payload's CRC-32 for the manifest's block list.
 */
export function encodeChunkAt(chunkType: number, index: number, payload: Uint8Array): { encoded: Uint8Array; crc: number } {
  const k = kernel();
  k.io.set(payload, CHUNK_HEADER_SIZE);
  const crc = k.exports.encodeChunk(k.ioPtr, chunkType, index, payload.length) >>> 0;
  return { encoded: k.io.slice(0, CHUNK_HEADER_SIZE + payload.length), crc };
}

/** The trailer of a container of `totalSize` bytes whose preceding bytes hash to `digest` (a streamed member, patched after the fact). */
export function encodeTrailer(totalSize: number, digest: Uint8Array): Uint8Array {
  if (digest.length !== 32) throw new UsageError("encodeTrailer: pass the 32-byte SHA-256 of every preceding byte");
  const k = kernel();
  const shaPtr = k.scratchPtr + 256;
  k.mem.set(digest, shaPtr);
  k.exports.writeTrailer(k.ioPtr, totalSize, shaPtr);
  return k.io.slice(0, TRAILER_SIZE);
}
