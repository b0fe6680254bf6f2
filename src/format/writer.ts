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
  CHUNK_HEADER_SIZE,
  chunkCountFor,
  containerSize,
  FORMAT_VERSION,
  FORMAT_VERSION_MIN,
  HEADER_SIZE,
  LEAF_SIZE,
  LEAVES_CRC_SIZE,
  MAX_WRITE_CHUNK_SIZE,
  META_CRC_SIZE,
  TRAILER_SIZE,
} from "./constants.ts";
import { headDigest, treeRoot } from "./tree.ts";
import { writeFormatVersion } from "./write-version.ts";
import { trailerView } from "./trailer.ts";
import { GrowingBytes } from "./leaf-hasher.ts";
import { encodeMetadata, type Metadata } from "./metadata.ts";
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
    if (!Number.isInteger(this.version) || this.version < FORMAT_VERSION_MIN || this.version > FORMAT_VERSION) {
      throw new UsageError(`format version must be ${FORMAT_VERSION_MIN}..${FORMAT_VERSION}, got ${this.version}`);
    }
    this.sha = options.externalSha256 || this.version >= 2 ? undefined : new Sha256Hasher();
    if (!Number.isSafeInteger(spec.chunkSize) || spec.chunkSize < 1 || spec.chunkSize > MAX_WRITE_CHUNK_SIZE) {
      throw new UsageError(`chunk size must be 1..${MAX_WRITE_CHUNK_SIZE} bytes, got ${spec.chunkSize}`);
    }
    this.metaBytes = encodeMetadata(spec.meta);
    this.chunkCount = chunkCountFor(spec.payloadLength, spec.chunkSize);
    this.totalSize = containerSize(this.metaBytes.length, spec.payloadLength, this.chunkCount, this.version);
    // Grown chunk by chunk, never sized by the claimed payload (tests encode headers of 2^52 bytes).
    if (this.version >= 2 && !options.externalSha256) {
      this.leaves = new GrowingBytes(Math.min(1024, LEAF_SIZE * Math.max(1, this.chunkCount)));
    }
  }

  /** Bytes head() returns: the fixed header, the metadata and its CRC. */
  get headSize(): number {
    return HEADER_SIZE + this.metaBytes.length + META_CRC_SIZE;
  }

  /** The fixed header, metadata and metadata CRC: the first bytes of the file. */
  head(): Uint8Array {
    const out = new Uint8Array(this.headSize);
    this.headInto(out, 0);
    return out;
  }

  /** head(), written into `out` at `at` (a container assembled in one buffer); returns its length. */
  headInto(out: Uint8Array, at: number): number {
    const k = kernel();
    const s = this.spec;
    const n = this.headSize;
    const head = out.subarray(at, at + n);
    k.exports.writeHeader(
      k.ioPtr,
      s.kind,
      s.chunkSize,
      this.metaBytes.length,
      s.createdAt ?? Date.now(),
      s.payloadLength,
      this.chunkCount,
      this.version,
    );
    head.set(k.io.subarray(0, HEADER_SIZE));
    head.set(this.metaBytes, HEADER_SIZE);
    new DataView(out.buffer, out.byteOffset).setUint32(
      at + HEADER_SIZE + this.metaBytes.length,
      crc32(this.metaBytes),
      true,
    );
    this.sha?.update(head);
    if (this.leaves) this.headSha = headDigest(head);
    return n;
  }

  /**
   * Encodes the next chunk. Every chunk but the last carries exactly chunkSize bytes.
   * Returns a fresh array; the same bytes stay at kernel().ioPtr until the next kernel call.
   */
  chunk(payload: Uint8Array): Uint8Array {
    this.expect(payload.length);
    const k = kernel();
    k.io.set(payload, CHUNK_HEADER_SIZE);
    this.encodePlaced(payload.length);
    return k.io.slice(0, CHUNK_HEADER_SIZE + payload.length);
  }

  /**
   * Where chunkPlacedInto() expects the next chunk's payload of `len` bytes: a view of kernel
   * memory, so a caller that builds the payload there (a manifest's table) copies it in once.
   * It stays intact until the next kernel call, except hashing bytes that lie inside it
   * (src/hash.ts hashes those where they lie). The caller fills it without awaiting in between.
   */
  payloadWindow(len: number): Uint8Array {
    this.expect(len);
    return kernel().io.subarray(CHUNK_HEADER_SIZE, CHUNK_HEADER_SIZE + len);
  }

  /** chunk() of the payload placed in payloadWindow(len), encoded into `out` at `at`; returns its length. */
  chunkPlacedInto(len: number, out: Uint8Array, at: number): number {
    this.expect(len);
    const k = kernel();
    this.encodePlaced(len);
    out.set(k.io.subarray(0, CHUNK_HEADER_SIZE + len), at);
    return CHUNK_HEADER_SIZE + len;
  }

  private expect(len: number): void {
    const s = this.spec;
    const expected = Math.min(s.chunkSize, s.payloadLength - this.written);
    if (len !== expected || expected === 0) {
      throw new UsageError(`chunk ${this.index}: expected ${expected} bytes, got ${len}`);
    }
  }

  /** Encodes (header, CRC) and hashes the chunk whose `len` payload bytes sit at ioPtr + CHUNK_HEADER_SIZE. */
  private encodePlaced(len: number): void {
    const k = kernel();
    const crc = k.exports.encodeChunk(k.ioPtr, this.spec.chunkType, this.index, len) >>> 0;
    this.sha?.updateInKernel(k.ioPtr, CHUNK_HEADER_SIZE + len);
    // v2 leaf: the chunk as stored, hashed where encodeChunk left it (docs/FORMAT.md).
    if (this.leaves) {
      k.exports.sha256Many(k.ioPtr, CHUNK_HEADER_SIZE + len, 1, k.digestsPtr);
      this.leaves.push(k.mem.subarray(k.digestsPtr, k.digestsPtr + 32));
    }
    this.blockCrcs.push(crc);
    this.written += len;
    this.index++;
  }

  /**
   * chunk(), then `sha` (the caller's hasher, with `externalSha256`) takes the encoded bytes
   * straight from kernel memory, where chunk() left them: no copy when it hashes on this thread.
   * The kernel's memory layout stays this layer's business; callers never see a pointer.
   */
  async chunkHashed(
    payload: Uint8Array,
    sha: { update(bytes: Uint8Array, at?: number): Promise<void> },
  ): Promise<Uint8Array> {
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
    const out = new Uint8Array(this.trailerSize(leaves));
    this.trailerInto(out, 0, digest, leaves);
    return out;
  }

  /** Bytes trailer() returns: v2 the leaf list and its CRC-32 too. */
  private trailerSize(leaves?: Uint8Array): number {
    if (this.version < 2) return TRAILER_SIZE;
    return (this.leaves?.length ?? leaves?.length ?? 0) + LEAVES_CRC_SIZE + TRAILER_SIZE;
  }

  /** trailer(), written into `out` at `at`; returns its length. */
  trailerInto(out: Uint8Array, at: number, digest?: Uint8Array, leaves?: Uint8Array): number {
    if (this.written !== this.spec.payloadLength) {
      throw new UsageError(`payload incomplete: ${this.written} of ${this.spec.payloadLength} bytes`);
    }
    const own = this.sha !== undefined || this.leaves !== undefined;
    if ((digest === undefined) !== own || (digest !== undefined && digest.length !== 32)) {
      throw new UsageError(
        own
          ? "trailer(): this writer hashes itself; pass no digest"
          : "trailer(): pass the 32-byte digest of head() and every chunk()",
      );
    }
    const list = this.leaves?.bytes() ?? leaves;
    if (this.version >= 2 && list?.length !== 32 * this.chunkCount) {
      throw new UsageError(
        `trailer(): a v2 container needs ${this.chunkCount} leaves, got ${list ? list.length / 32 : "none"}`,
      );
    }
    // Everything that uses the kernel's I/O window runs before writeTrailer fills it.
    const listCrc = list ? crc32(list) : 0;
    this.digest = this.sha ? this.sha.digest() : this.leaves ? treeRoot(this.headSha!, list!) : digest!;
    const trailer = trailerView(this.totalSize, this.digest);
    if (this.version < 2) {
      out.set(trailer, at);
      return TRAILER_SIZE;
    }
    out.set(list!, at);
    new DataView(out.buffer, out.byteOffset).setUint32(at + list!.length, listCrc, true);
    out.set(trailer, at + list!.length + LEAVES_CRC_SIZE);
    return list!.length + LEAVES_CRC_SIZE + TRAILER_SIZE;
  }

  /** The file's digest as the manifest records it (available after trailer()): v1 the SHA-256 of every byte before the trailer, v2 the tree root. */
  get fileSha256(): Uint8Array {
    if (!this.digest) throw new UsageError("fileSha256 is known only after trailer()");
    return this.digest;
  }
}

/** Encodes a whole container held in memory (manifests, small members, tests). */
export function encodeContainer(
  spec: Omit<ContainerSpec, "payloadLength">,
  payload: Uint8Array,
): { bytes: Uint8Array; writer: ContainerWriter } {
  const w = new ContainerWriter({ ...spec, payloadLength: payload.length });
  const out = new Uint8Array(w.totalSize);
  let p = w.headInto(out, 0);
  for (let off = 0; off < payload.length; off += spec.chunkSize) {
    const len = Math.min(spec.chunkSize, payload.length - off);
    w.payloadWindow(len).set(payload.subarray(off, off + len));
    p += w.chunkPlacedInto(len, out, p);
  }
  p += w.trailerInto(out, p);
  // Invariant: the pieces fill the container exactly (its header records totalSize).
  if (p !== out.length) throw new Error(`container: wrote ${p} bytes, sized ${out.length}`);
  return { bytes: out, writer: w };
}

/**
 * Encodes one chunk of a container whose total length is not known yet (a streamed member):
 * the same bytes ContainerWriter.chunk() gives for chunk `index` of type `chunkType`. Returns a
 * fresh array (the caller may await a write with it while another member uses the kernel) and
 * the payload's CRC-32 for the manifest's block list.
 */
export function encodeChunkAt(
  chunkType: number,
  index: number,
  payload: Uint8Array,
): { encoded: Uint8Array; crc: number } {
  const k = kernel();
  k.io.set(payload, CHUNK_HEADER_SIZE);
  const crc = k.exports.encodeChunk(k.ioPtr, chunkType, index, payload.length) >>> 0;
  return { encoded: k.io.slice(0, CHUNK_HEADER_SIZE + payload.length), crc };
}

/** The trailer of a container of `totalSize` bytes whose preceding bytes hash to `digest` (a streamed member, patched after the fact). */
export function encodeTrailer(totalSize: number, digest: Uint8Array): Uint8Array {
  if (digest.length !== 32) throw new UsageError("encodeTrailer: pass the 32-byte SHA-256 of every preceding byte");
  return trailerView(totalSize, digest).slice();
}

/**
 * The end of a streamed v2 container (header patched after the fact): the leaf list, its CRC-32
 * and the trailer holding the root over SHA-256(head) and `leaves` (the leaves of the chunks as
 * encodeChunkAt returned them, in order). Returns those bytes and the root (the manifest's digest).
 */
export function encodeTreeTail(
  totalSize: number,
  head: Uint8Array,
  leaves: Uint8Array,
): { bytes: Uint8Array; root: Uint8Array } {
  const root = treeRoot(headDigest(head), leaves);
  const out = new Uint8Array(leaves.length + LEAVES_CRC_SIZE + TRAILER_SIZE);
  out.set(leaves);
  new DataView(out.buffer).setUint32(leaves.length, crc32(leaves), true);
  out.set(encodeTrailer(totalSize, root), leaves.length + LEAVES_CRC_SIZE);
  return { bytes: out, root };
}
