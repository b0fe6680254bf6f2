// Streaming encoder of one container: header + metadata, then chunks one at a time, then (v2)
// the leaf list and the trailer. It does no I/O: the caller writes each returned piece in order, so a multi-GiB
// payload never sits whole in memory. Chunk serialization (header + CRC) runs in the kernel,
// and the running SHA-256 of the file is fed from kernel memory without another copy, unless
// the caller hashes the pieces itself (`externalSha256`, e.g. on the hash worker or the leaf pool:
// src/format/leaf-hasher.ts) and hands the digest (v2: the root and the leaves) to trailer().
import { UsageError } from "../errors.ts";
import { Sha256Hasher } from "../hash.ts";
import { kernel } from "../wasm/kernel.ts";
import {
  CHUNK_HEADER_SIZE, FORMAT_VERSION, FORMAT_VERSION_MIN, HEADER_SIZE, LEAVES_CRC_SIZE, MAX_WRITE_CHUNK_SIZE, META_CRC_SIZE,
  TRAILER_SIZE, chunkCountFor, containerSize,
} from "./constants.ts";
import { headDigest, treeRoot } from "./tree.ts";
import { writeFormatVersion } from "./write-version.ts";
import { GrowingBytes } from "./leaf-hasher.ts";
import { type Metadata, encodeMetadata } from "./metadata.ts";
import { crc32 } from "../hash.ts";

export interface ContainerSpec {
  kind: number;
  meta: Metadata;
  payloadLength: number;
  chunkSize: number;
  chunkType: number;
  createdAt?: number;
  /** Format version to write; default writeFormatVersion() (FORMAT_VERSION unless set to 1). */
  version?: number;
}

export class ContainerWriter {
  readonly totalSize: number;
  readonly chunkCount: number;
  /** CRC-32 of each chunk's payload, in order (the manifest's per-block CRCs). */
  readonly blockCrcs: number[] = [];
  readonly version: number;
  private readonly sha: Sha256Hasher | undefined;
  /** v2, hashing itself: the head digest and the leaves, one per chunk as it is encoded. */
  private headSha: Uint8Array | undefined;
  private readonly leaves: GrowingBytes | undefined;
  private readonly metaBytes: Uint8Array;
  private written = 0;
  private index = 0;
  private digest?: Uint8Array;

  constructor(private readonly spec: ContainerSpec, options: { externalSha256?: boolean } = {}) {
    this.version = spec.version ?? writeFormatVersion();
    if (!Number.isInteger(this.version) || this.version < FORMAT_VERSION_MIN || this.version > FORMAT_VERSION) throw new UsageError(`format version must be ${FORMAT_VERSION_MIN}..${FORMAT_VERSION}, got ${this.version}`);
    this.sha = options.externalSha256 || this.version >= 2 ? undefined : new Sha256Hasher();
    if (!Number.isSafeInteger(spec.chunkSize) || spec.chunkSize < 1 || spec.chunkSize > MAX_WRITE_CHUNK_SIZE) {
      throw new UsageError(`chunk size must be 1..${MAX_WRITE_CHUNK_SIZE} bytes, got ${spec.chunkSize}`);
    }
    this.metaBytes = encodeMetadata(spec.meta);
    this.chunkCount = chunkCountFor(spec.payloadLength, spec.chunkSize);
    this.totalSize = containerSize(this.metaBytes.length, spec.payloadLength, this.chunkCount, this.version);
    // Grown chunk by chunk, never sized by the claimed payload (tests encode headers of 2^52 bytes).
    if (this.version >= 2 && !options.externalSha256) this.leaves = new GrowingBytes();
  }

  /** The fixed header, metadata and metadata CRC: the first bytes of the file. */
  head(): Uint8Array {
    const k = kernel();
    const s = this.spec;
    const out = new Uint8Array(HEADER_SIZE + this.metaBytes.length + META_CRC_SIZE);
    k.exports.writeHeader(k.ioPtr, s.kind, s.chunkSize, this.metaBytes.length, s.createdAt ?? Date.now(), s.payloadLength, this.chunkCount, this.version);
    out.set(k.io.subarray(0, HEADER_SIZE));
    out.set(this.metaBytes, HEADER_SIZE);
    new DataView(out.buffer).setUint32(HEADER_SIZE + this.metaBytes.length, crc32(this.metaBytes), true);
    this.sha?.update(out);
    if (this.leaves) this.headSha = headDigest(out);
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
    // v2 leaf: the chunk as stored, hashed where encodeChunk left it (docs/FORMAT.md).
    if (this.leaves) {
      k.exports.sha256Many(k.ioPtr, CHUNK_HEADER_SIZE + payload.length, 1, k.digestsPtr);
      this.leaves.push(k.mem.subarray(k.digestsPtr, k.digestsPtr + 32));
    }
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
  async chunkHashed(payload: Uint8Array, sha: { update(bytes: Uint8Array, at?: number): Promise<void> }): Promise<Uint8Array> {
    const encoded = this.chunk(payload);
    await sha.update(encoded, kernel().ioPtr); // nothing has called the kernel since chunk()
    return encoded;
  }

  /**
   * The end of the file: v1 the trailer, v2 the leaf list, its CRC-32 and the trailer; valid
   * only after every chunk. With `externalSha256`, `digest` is the caller's digest of every byte
   * head() and chunk() returned, in order (v1: their SHA-256; v2: the tree root, with `leaves`).
   */
  trailer(digest?: Uint8Array, leaves?: Uint8Array): Uint8Array {
    if (this.written !== this.spec.payloadLength) {
      throw new UsageError(`payload incomplete: ${this.written} of ${this.spec.payloadLength} bytes`);
    }
    const own = this.sha !== undefined || this.leaves !== undefined;
    if ((digest === undefined) !== own || (digest !== undefined && digest.length !== 32)) {
      throw new UsageError(own ? "trailer(): this writer hashes itself; pass no digest" : "trailer(): pass the 32-byte digest of head() and every chunk()");
    }
    const list = this.leaves?.bytes() ?? leaves;
    if (this.version >= 2 && list?.length !== 32 * this.chunkCount) {
      throw new UsageError(`trailer(): a v2 container needs ${this.chunkCount} leaves, got ${list ? list.length / 32 : "none"}`);
    }
    // Everything that uses the kernel's I/O window runs before writeTrailer fills it.
    const listCrc = list ? crc32(list) : 0;
    const k = kernel();
    this.digest = this.sha ? this.sha.digest() : this.leaves ? treeRoot(this.headSha!, list!) : digest!;
    const shaPtr = k.scratchPtr + 256;
    k.mem.set(this.digest, shaPtr);
    k.exports.writeTrailer(k.ioPtr, this.totalSize, shaPtr);
    if (this.version < 2) return k.io.slice(0, TRAILER_SIZE);
    const out = new Uint8Array(list!.length + LEAVES_CRC_SIZE + TRAILER_SIZE);
    out.set(list!);
    new DataView(out.buffer).setUint32(list!.length, listCrc, true);
    out.set(k.io.subarray(0, TRAILER_SIZE), list!.length + LEAVES_CRC_SIZE);
    return out;
  }

  /** The file's digest as the manifest records it (available after trailer()): v1 the SHA-256 of every byte before the trailer, v2 the tree root. */
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

/**
 * The end of a streamed v2 container (header patched after the fact): the leaf list, its CRC-32
 * and the trailer holding the root over SHA-256(head) and `leaves` (the leaves of the chunks as
 * encodeChunkAt returned them, in order). Returns those bytes and the root (the manifest's digest).
 */
export function encodeTreeTail(totalSize: number, head: Uint8Array, leaves: Uint8Array): { bytes: Uint8Array; root: Uint8Array } {
  const root = treeRoot(headDigest(head), leaves);
  const out = new Uint8Array(leaves.length + LEAVES_CRC_SIZE + TRAILER_SIZE);
  out.set(leaves);
  new DataView(out.buffer).setUint32(leaves.length, crc32(leaves), true);
  out.set(encodeTrailer(totalSize, root), leaves.length + LEAVES_CRC_SIZE);
  return { bytes: out, root };
}
