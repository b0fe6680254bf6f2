// File handles over S3 objects.
//
// Reading: ranged GETs pinned to the object's ETag (If-Match), so one handle never mixes bytes of
// two versions of an object; sequential reads grow the window (1 → 8 MiB) and prefetch the next.
//
// Writing: S3 has no partial objects and no volatile state. A write handle collects bytes and
// uploads on sync() (the durability point: the PUT or CompleteMultipartUpload was acknowledged);
// a handle closed without sync() uploads on close() too, since nothing can stay "unsynced" on a
// server. While the object fits in one part it is an in-memory buffer: any write, truncate or
// read works, and each sync() PUTs it whole. Past one part it becomes a multipart upload fed
// as bytes come (memory stays ~ partSize × (queueSize + 2)); it is append-only from then on
// (the store writes sequentially), and a handle whose multipart upload completed takes no more
// writes.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { FsError, UnsupportedError } from "../src/errors.ts";
import type { FileHandle } from "../src/fs.ts";
import { errorName, s3DurabilityError, s3Error, type S3Location, statusOf } from "./s3-client.ts";
import type { S3ChecksumMode } from "./s3-options.ts";
import { StreamingUpload } from "./s3-upload.ts";

export interface S3HandleContext {
  client: S3Client;
  partSize: number;
  queueSize: number;
  /** Whether the server honours `If-None-Match: *` on PUT; learned on first use. */
  conditionalPut: boolean | undefined;
  /** Whether uploads carry x-amz-checksum-sha256 (see S3ChecksumMode). */
  checksum: S3ChecksumMode;
  /** Whether the server confirmed a checksum it was sent; learned on first use. */
  checksumConfirmed: boolean | undefined;
}

/** Whether the next upload should carry x-amz-checksum-sha256. */
function wantChecksum(ctx: S3HandleContext): boolean {
  return ctx.checksum === "sha256" || (ctx.checksum === "auto" && ctx.checksumConfirmed !== false);
}

/** The server refused the request as a whole (so did not apply it) for a header it does not take. */
function refused(err: unknown, about?: RegExp): boolean {
  const status = statusOf(err);
  if (status === 501 || errorName(err) === "NotImplemented") return true;
  if (status !== 400 || !about) return false;
  return about.test(`${errorName(err)} ${(err as Error)?.message ?? ""}`);
}

const CHECKSUM_WORDS = /checksum/i;

function notVerified(path: string, why: string, cause?: unknown): FsError {
  return new FsError(
    "ENOTSUP",
    "fsync",
    path,
    `checksum mode sha256: ${why}; use --s3-checksum off or auto (CKPTKIT_S3_CHECKSUM)`,
    cause,
  );
}

/**
 * One PUT, with `If-None-Match: *` for an exclusive create and x-amz-checksum-sha256 as the
 * checksum mode asks, learning what the server supports. A header the server refuses (501, or a
 * 400 about checksums) means the request was not applied, so it is retried without it: at most
 * once per header, since what was learned is kept in ctx. Mode `sha256` never drops the checksum:
 * a refusal, or a server that stores the object without confirming the checksum (it ignored the
 * header), is ENOTSUP; an object created by this exclusive PUT is then removed again.
 */
export async function putObject(
  ctx: S3HandleContext,
  input: PutObjectCommandInput,
  path: string,
  exclusive: boolean,
): Promise<void> {
  let conditional = exclusive && ctx.conditionalPut !== false;
  let checksum = wantChecksum(ctx);
  let conditionalDropped = false;
  for (;;) {
    let r;
    try {
      r = await ctx.client.send(
        new PutObjectCommand({
          ...input,
          ...(conditional ? { IfNoneMatch: "*" } : {}),
          ...(checksum ? { ChecksumAlgorithm: "SHA256" } : {}),
        }),
      );
    } catch (err) {
      if (conditional && statusOf(err) === 412) {
        throw new FsError("EEXIST", "open", path, "created by someone else meanwhile", err);
      }
      if (conditional && checksum && refused(err)) {
        // Either header may be the one refused: try without the conditional first (Swift 2.30
        // answers 501 to it), and put it back if the checksum turns out to be the culprit.
        conditional = false;
        conditionalDropped = true;
        continue;
      }
      if (checksum && refused(err, CHECKSUM_WORDS)) {
        if (ctx.checksum === "sha256") throw notVerified(path, "the server refused x-amz-checksum-sha256", err);
        ctx.checksumConfirmed = false;
        checksum = false;
        if (conditionalDropped) conditional = true;
        conditionalDropped = false;
        continue;
      }
      if (conditional && refused(err)) {
        // Swift 2.30's s3api answers 501: exclusivity is then only the check made at open.
        ctx.conditionalPut = false;
        conditional = false;
        continue;
      }
      throw err;
    }
    if (conditional) ctx.conditionalPut = true;
    if (conditionalDropped) ctx.conditionalPut = false; // the checksum was not the culprit
    if (!checksum) return;
    if (r.ChecksumSHA256) {
      ctx.checksumConfirmed = true;
      return;
    }
    // Stored, but the server did not say it checked the bytes: it ignored the header.
    ctx.checksumConfirmed = false;
    if (ctx.checksum !== "sha256") return;
    if (exclusive) {
      try {
        await ctx.client.send(new DeleteObjectCommand({ Bucket: input.Bucket, Key: input.Key }));
      } catch {
        // best effort: a lock object left behind names this (exiting) process and is taken over
      }
    }
    throw notVerified(
      path,
      "the server stored the object without confirming its x-amz-checksum-sha256 (it does not verify it)",
    );
  }
}

const MIN_WINDOW = 1 << 20;
const MAX_WINDOW = 8 << 20;

function body(b: unknown): Promise<Uint8Array> {
  return (b as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
}

export class S3ReadHandle implements FileHandle {
  private win: { pos: number; data: Uint8Array } | undefined;
  private next: { pos: number; data: Promise<Uint8Array> } | undefined;
  private window = MIN_WINDOW;
  private closed = false;

  private constructor(
    private readonly ctx: S3HandleContext,
    private readonly loc: S3Location,
    readonly path: string,
    private readonly total: number,
    private readonly etag: string | undefined,
  ) {}

  /** Opens with one GET of the first window, which also gives the size and the ETag. */
  static async open(ctx: S3HandleContext, loc: S3Location, path: string): Promise<S3ReadHandle> {
    try {
      const r = await ctx.client.send(
        new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, Range: `bytes=0-${MIN_WINDOW - 1}` }),
      );
      const data = await body(r.Body);
      const total = Number(/\/(\d+)$/.exec(r.ContentRange ?? "")?.[1] ?? data.length);
      const h = new S3ReadHandle(ctx, loc, path, total, r.ETag);
      h.win = { pos: 0, data };
      return h;
    } catch (err) {
      // An empty object has no byte 0: the ranged GET is refused (416); it still exists.
      if (statusOf(err) !== 416 && errorName(err) !== "InvalidRange") throw s3Error(err, "open", path);
    }
    try {
      const h = await ctx.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return new S3ReadHandle(ctx, loc, path, h.ContentLength ?? 0, h.ETag);
    } catch (err) {
      throw s3Error(err, "open", path);
    }
  }

  private fetch(pos: number, len: number): Promise<Uint8Array> {
    const end = Math.min(pos + len, this.total) - 1;
    return this.ctx.client
      .send(
        new GetObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.loc.key,
          Range: `bytes=${pos}-${end}`,
          IfMatch: this.etag,
        }),
      )
      .then((r) => body(r.Body))
      .catch((err: unknown) => {
        if (statusOf(err) === 412) {
          throw new FsError("ESTALE", "read", this.path, "the object was replaced while being read", err);
        }
        throw s3Error(err, "read", this.path);
      });
  }

  async read(buf: Uint8Array, position: number): Promise<number> {
    if (this.closed) throw new FsError("EBADF", "read", this.path);
    if (position >= this.total || buf.length === 0) return 0;
    const w = this.win;
    if (!w || position < w.pos || position >= w.pos + w.data.length) {
      const sequential = w !== undefined && position === w.pos + w.data.length;
      if (this.next && this.next.pos === position) this.win = { pos: position, data: await this.next.data };
      else this.win = { pos: position, data: await this.fetch(position, Math.max(this.window, buf.length)) };
      this.next = undefined;
      if (sequential) this.window = Math.min(this.window * 2, MAX_WINDOW);
      const end = this.win.pos + this.win.data.length;
      if (sequential && end < this.total) {
        const data = this.fetch(end, this.window);
        data.catch(() => {}); // a prefetch nobody reads must not be an unhandled rejection
        this.next = { pos: end, data };
      }
    }
    const cur = this.win!;
    const off = position - cur.pos;
    const n = Math.min(buf.length, cur.data.length - off);
    buf.set(cur.data.subarray(off, off + n));
    return n;
  }

  async write(): Promise<void> {
    throw new FsError("EBADF", "write", this.path, "opened for reading");
  }
  async sync(): Promise<void> {}
  async datasync(): Promise<void> {}
  async truncate(): Promise<void> {
    throw new FsError("EBADF", "truncate", this.path, "opened for reading");
  }
  async size(): Promise<number> {
    return this.total;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.win = undefined;
    this.next = undefined;
  }
}

export interface WriteHandleOptions {
  /** The object exists and was not truncated: its bytes are loaded on first use. */
  existingSize?: number;
  /** Created with O_EXCL: the first PUT is conditional where the server supports it. */
  exclusive: boolean;
}

export class S3WriteHandle implements FileHandle {
  private cur: Uint8Array = new Uint8Array(0);
  private curLen = 0;
  /** Bytes handed to the multipart upload (then `cur` is empty and writes must append). */
  private flushed = 0;
  private upload: StreamingUpload | undefined;
  private loaded: boolean;
  private dirty: boolean;
  private sealed = false;
  private failed: unknown;
  private closed = false;
  private exclusive: boolean;

  constructor(
    private readonly ctx: S3HandleContext,
    private readonly loc: S3Location,
    readonly path: string,
    private readonly o: WriteHandleOptions,
  ) {
    this.loaded = o.existingSize === undefined;
    // A created or truncated object must exist (possibly empty) once the handle is synced or closed.
    this.dirty = this.loaded;
    this.exclusive = o.exclusive;
  }

  private check(op: string): void {
    if (this.closed) throw new FsError("EBADF", op, this.path);
    if (this.failed !== undefined) throw new FsError("EIO", op, this.path, "an earlier upload of this handle failed");
    if (this.sealed && op !== "read" && op !== "stat") {
      throw new UnsupportedError(
        `${op} ${this.path} after its multipart upload completed (S3 objects are immutable)`,
        "s3",
      );
    }
  }

  /** Read-modify-write of an existing object: only objects that fit in one part are loaded. */
  private async ensureLoaded(op: string): Promise<void> {
    if (this.loaded) return;
    const size = this.o.existingSize!;
    if (size > this.ctx.partSize) {
      throw new UnsupportedError(
        `modify ${this.path} in place (${size} bytes; only objects up to the ${this.ctx.partSize}-byte part size can be rewritten)`,
        "s3",
      );
    }
    try {
      const r = await this.ctx.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.loc.key }));
      this.cur = await body(r.Body);
      this.curLen = this.cur.length;
    } catch (err) {
      throw s3Error(err, op, this.path);
    }
    this.loaded = true;
  }

  private reserve(len: number): void {
    if (len <= this.cur.length) return;
    const next = new Uint8Array(Math.max(len, Math.min(this.cur.length * 2, this.ctx.partSize)));
    next.set(this.cur.subarray(0, this.curLen));
    this.cur = next;
  }

  private immutable(op: string, position: number): never {
    throw new UnsupportedError(
      `${op} ${this.path} at byte ${position}: bytes before ${this.flushed} are already in a multipart upload (only appends are possible)`,
      "s3",
    );
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.check("write");
    await this.ensureLoaded("write");
    this.dirty = true;
    if (this.upload) {
      // Streaming: bytes go to the uploader as they come (copied: the caller may reuse its buffer).
      if (position !== this.flushed) this.immutable("write", position);
      this.flushed += data.length;
      return this.hand(data.slice());
    }
    this.reserve(position + data.length);
    if (position > this.curLen) this.cur.fill(0, this.curLen, position); // a hole reads as zeros
    this.cur.set(data, position);
    this.curLen = Math.max(this.curLen, position + data.length);
    // Only once more than a part exists is it certain the object needs a multipart upload;
    // from then on it is append-only and nothing of it stays here.
    if (this.curLen > this.ctx.partSize) {
      // A multipart upload cannot drop its checksum halfway: in auto mode parts carry one only
      // once a single PUT showed the server confirms it.
      const checksum = this.ctx.checksum === "sha256" ||
        (this.ctx.checksum === "auto" && this.ctx.checksumConfirmed === true);
      this.upload = new StreamingUpload(
        this.ctx.client,
        this.loc.bucket,
        this.loc.key,
        this.ctx.partSize,
        this.ctx.queueSize,
        checksum,
      );
      const all = this.cur.subarray(0, this.curLen);
      this.flushed = this.curLen;
      this.cur = new Uint8Array(0);
      this.curLen = 0;
      await this.hand(all);
    }
  }

  private async hand(piece: Uint8Array): Promise<void> {
    try {
      await this.upload!.push(piece);
    } catch (err) {
      this.failed = err;
      throw s3Error(err, "write", this.path);
    }
  }

  async truncate(length: number): Promise<void> {
    this.check("truncate");
    await this.ensureLoaded("truncate");
    if (this.upload && length !== this.flushed) this.immutable("truncate", length);
    const rel = length - this.flushed;
    this.reserve(rel);
    if (rel > this.curLen) this.cur.fill(0, this.curLen, rel);
    this.curLen = rel;
    this.dirty = true;
  }

  async read(buf: Uint8Array, position: number): Promise<number> {
    this.check("read");
    await this.ensureLoaded("read");
    if (position < this.flushed) {
      throw new UnsupportedError(
        `read ${this.path} at byte ${position} while its multipart upload is in progress`,
        "s3",
      );
    }
    const rel = position - this.flushed;
    if (rel >= this.curLen) return 0;
    const n = Math.min(buf.length, this.curLen - rel);
    buf.set(this.cur.subarray(rel, rel + n));
    return n;
  }

  async size(): Promise<number> {
    if (this.closed) throw new FsError("EBADF", "stat", this.path);
    return this.loaded ? this.flushed + this.curLen : this.o.existingSize!;
  }

  /** Uploads what was written; once it resolves the object is stored. Failures are fatal. */
  async sync(): Promise<void> {
    if (this.closed) throw new FsError("EBADF", "fsync", this.path);
    if (!this.dirty) return;
    this.check("fsync");
    try {
      if (this.upload) {
        try {
          await this.upload.finish();
        } catch (err) {
          if (this.ctx.checksum === "sha256" && refused(err, CHECKSUM_WORDS)) {
            throw notVerified(this.path, "the server refused x-amz-checksum-sha256 on a multipart upload", err);
          }
          throw err;
        }
        this.sealed = true;
        if (this.ctx.checksum === "sha256" && !this.upload.confirmed) {
          this.ctx.checksumConfirmed = false;
          throw notVerified(
            this.path,
            "the server completed the multipart upload without confirming its x-amz-checksum-sha256 (it does not verify it)",
          );
        }
      } else {
        await this.put(this.cur.subarray(0, this.curLen));
      }
      this.dirty = false;
    } catch (err) {
      this.failed = err;
      if (err instanceof FsError && (err.errno === "EEXIST" || err.errno === "ENOTSUP")) throw err;
      throw s3DurabilityError(err, "fsync", this.path);
    }
  }

  async datasync(): Promise<void> {
    return this.sync();
  }

  private async put(data: Uint8Array): Promise<void> {
    await putObject(
      this.ctx,
      { Bucket: this.loc.bucket, Key: this.loc.key, Body: data, ContentLength: data.length },
      this.path,
      this.exclusive,
    );
    this.exclusive = false;
  }

  /** Uploads unsynced bytes (S3 cannot hold volatile data), or abandons a failed upload. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.dirty && this.failed === undefined) await this.sync();
    } finally {
      this.closed = true;
      this.cur = new Uint8Array(0);
      if (this.upload && !this.sealed) await this.upload.abort();
    }
  }
}
