// Member sources (docs/ENGINE.md "Sources"): bytes in memory, a Blob, a ReadableStream, an
// AsyncIterable of bytes or a file all become one pull-based reader of exact-size chunks.
// Pull-based: a piece is asked of the producer only when the writer needs more bytes for the
// chunk it is filling, so back-pressure reaches the producer through the stream's own reader
// (a ReadableStream is read with getReader().read(), an iterator with next(), one at a time).
// At most one chunk is buffered here; a piece larger than a chunk is sliced, never copied whole.
import { FsError, UsageError } from "../errors.ts";
import type { DurableFs, FileHandle } from "../fs.ts";
import { attempt, readFully } from "../fs-util.ts";

export type MemberData = Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
export type MemberSource = { name: string; data: MemberData } | { name: string; path: string };

/** The payload size when it is known before reading (bytes, a Blob, a file: from stat), else undefined. */
export function knownSize(source: MemberSource, statSize?: number): number | undefined {
  if ("path" in source) return statSize;
  const d = source.data;
  if (d instanceof Uint8Array) return d.length;
  if (isBlob(d)) return d.size;
  return undefined;
}

export function isBlob(v: unknown): v is Blob {
  const B = (globalThis as { Blob?: abstract new () => Blob }).Blob;
  return !!B && v instanceof B;
}

/**
 * Hands out a member's payload chunk by chunk. `next(len)` resolves to exactly `len` bytes, or
 * fewer only when the source has ended (0 bytes: nothing left). The bytes are valid until the
 * next call. `close()` releases the source (cancels a stream that was not read to its end).
 */
export interface ChunkReader {
  next(len: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Opens a reader over `source`; `maxChunk` bounds the one buffer it may allocate. */
export async function openChunks(fs: DurableFs, source: MemberSource, maxChunk: number): Promise<ChunkReader> {
  if ("path" in source) return fileChunks(await fs.open(source.path), source.path, maxChunk);
  const d = source.data;
  if (d instanceof Uint8Array) return bytesChunks(d);
  if (isBlob(d)) return pieceChunks(streamPieces(d.stream() as ReadableStream<Uint8Array>), maxChunk, source.name);
  if (typeof (d as ReadableStream<Uint8Array>).getReader === "function") {
    return pieceChunks(streamPieces(d as ReadableStream<Uint8Array>), maxChunk, source.name);
  }
  return pieceChunks(iterablePieces(d as AsyncIterable<Uint8Array>), maxChunk, source.name);
}

function bytesChunks(data: Uint8Array): ChunkReader {
  let off = 0;
  return {
    async next(len) {
      const piece = data.subarray(off, off + len);
      off += piece.length;
      return piece;
    },
    async close() {},
  };
}

function fileChunks(h: FileHandle, path: string, maxChunk: number): ChunkReader {
  let buf: Uint8Array | undefined;
  let off = 0;
  return {
    async next(len) {
      if (len > maxChunk) throw new UsageError(`chunk of ${len} bytes asked of a reader bounded at ${maxChunk}`);
      buf ??= new Uint8Array(maxChunk);
      const n = await readFully(h, buf.subarray(0, len), off);
      off += n;
      return buf.subarray(0, n);
    },
    close: () => attempt(() => h.close()),
  };
}

/** Pieces of a producer: `pull()` gives the next piece or undefined at its end. */
interface Pieces {
  pull(): Promise<Uint8Array | undefined>;
  /** Stops the producer early (its resources go); after the end, a no-op. */
  stop(): Promise<void>;
}

function streamPieces(stream: ReadableStream<Uint8Array>): Pieces {
  const reader = stream.getReader();
  let done = false;
  return {
    async pull() {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return undefined;
      }
      return r.value;
    },
    async stop() {
      if (!done) await attempt(() => reader.cancel());
      reader.releaseLock();
    },
  };
}

function iterablePieces(it: AsyncIterable<Uint8Array>): Pieces {
  const iter = it[Symbol.asyncIterator]();
  let done = false;
  return {
    async pull() {
      const r = await iter.next();
      if (r.done) {
        done = true;
        return undefined;
      }
      return r.value;
    },
    async stop() {
      // return() lets a generator run its finally blocks (close its file, …).
      if (!done && iter.return) {
        await attempt(async () => {
          await iter.return!();
        });
      }
    },
  };
}

/**
 * Assembles exact-size chunks from pieces of any size. Invariant: `rest` is the unread tail of
 * the last piece pulled; a chunk is either a slice of one piece (no copy) or assembled in `buf`.
 */
function pieceChunks(pieces: Pieces, maxChunk: number, name: string): ChunkReader {
  let rest: Uint8Array = new Uint8Array(0);
  let ended = false;
  let buf: Uint8Array | undefined;
  const pull = async (): Promise<boolean> => {
    if (ended) return false;
    const p = await pieces.pull();
    if (p === undefined) {
      ended = true;
      return false;
    }
    if (!(p instanceof Uint8Array)) {
      throw new UsageError(`member '${name}': the source yielded ${p === null ? "null" : typeof p}, not a Uint8Array`);
    }
    rest = p;
    return true;
  };
  return {
    async next(len) {
      if (len > maxChunk) throw new UsageError(`chunk of ${len} bytes asked of a reader bounded at ${maxChunk}`);
      while (rest.length === 0) if (!(await pull())) return rest;
      if (rest.length >= len) {
        const piece = rest.subarray(0, len);
        rest = rest.subarray(len);
        return piece;
      }
      buf ??= new Uint8Array(maxChunk);
      let filled = 0;
      while (filled < len) {
        if (rest.length === 0 && !(await pull())) break;
        const take = Math.min(len - filled, rest.length);
        buf.set(rest.subarray(0, take), filled);
        rest = rest.subarray(take);
        filled += take;
      }
      return buf.subarray(0, filled);
    },
    close: () => pieces.stop(),
  };
}

/** A source that delivered fewer or more bytes than its known size said. */
export function sizeChanged(source: MemberSource, expected: number, got: number): FsError | UsageError {
  if ("path" in source) {
    return new FsError(
      "EIO",
      "read",
      source.path,
      `file ${got < expected ? "shrank" : "grew"} while being saved (${got} of ${expected} bytes)`,
    );
  }
  return new UsageError(
    `member '${source.name}': the source delivered ${
      got < expected ? "only " : "more than "
    }${got} bytes, not the ${expected} its size said`,
  );
}
