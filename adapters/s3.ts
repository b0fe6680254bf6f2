// DurableFs over an S3-compatible object store, so the unchanged Store runs on `s3://bucket/prefix`.
//
// Mapping (paths are `s3://bucket/key`; "directories" are key prefixes ending in "/"):
//   open(read)    ranged GETs pinned to the ETag          open(write)  upload on sync()/close()
//   stat          HEAD (file), else a 1-key LIST (dir)     readdir      LIST with delimiter, paged
//   rename        CopyObject + DeleteObject: NOT atomic; a crash between leaves both copies
//   unlink        HEAD + DeleteObject (ENOENT like POSIX)  mkdir -p     "prefix/" marker objects
//   syncDir       no-op: a PUT, copy or delete is durable when acknowledged; there is no
//                 separate directory entry to flush (hence capabilities.dirSync = true)
//   exclusive create  HEAD at open, then `If-None-Match: *` on the PUT where the server supports
//                 it (AWS since 2024, MinIO); Swift 2.30 does not (501): the writer lock is then
//                 a check-then-put race and one writer per store is the user's responsibility.
// Commit semantics: a PUT is atomic (readers see the old object or the new one, never a part),
// so the manifest's own PUT is the commit point. The atomic protocols still work (temp PUT, then
// copy onto the name, then delete): correct but two requests and a server-side copy more than
// `unsafe`, which on S3 is equally safe. docs/S3.md has the guarantees and limits.
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { FsError, UnsupportedError } from "../src/errors.ts";
import type {
  DurableFs,
  FileHandle,
  FileStat,
  FsCapabilities,
  OpenOptions,
  ProcessIdentity,
  ProcessState,
} from "../src/fs.ts";
import { defaultFs } from "./detect.ts";
import { env, errnoOf, isS3Path, makeClient, parseS3Path, s3Error, type S3Location } from "./s3-client.ts";
import { checksumMode, type S3ChecksumMode } from "./s3-options.ts";
import { type S3HandleContext, S3ReadHandle, S3WriteHandle } from "./s3-handles.ts";
import { abortAbandonedUploads } from "./s3-abandoned.ts";
import type { S3FsOptions } from "./s3-types.ts";

export { isS3Path, parseS3Path };

export type { S3ClientLike, S3FsOptions } from "./s3-types.ts";

const MIB = 1024 * 1024;

export class S3Fs implements DurableFs {
  readonly name = "s3";
  readonly capabilities: FsCapabilities;
  readonly client: S3Client;
  private readonly local: DurableFs;
  private readonly ctx: S3HandleContext;

  constructor(o: S3FsOptions = {}) {
    this.client = (o.client as S3Client | undefined) ?? makeClient(o);
    this.local = o.local ?? defaultFs();
    const partSize = o.partSize ?? Number(env("CKPTKIT_S3_PART_SIZE_MB") ?? 16) * MIB;
    if (!Number.isFinite(partSize) || partSize < 5 * MIB) {
      throw new FsError("EINVAL", "configure", "s3", `part size must be at least 5 MiB, got ${partSize} bytes`);
    }
    this.ctx = {
      client: this.client,
      partSize,
      queueSize: o.queueSize ?? 4,
      conditionalPut: undefined,
      checksum: checksumMode(o.checksum),
      checksumConfirmed: undefined,
    };
    // dirSync/datasync: every acknowledged S3 mutation is already durable, so both are honest.
    // link: objects have no second names. The writer lock then publishes by exclusive create
    // (If-None-Match: * where the server honours it), see src/lock/lock.ts and docs/S3.md.
    this.capabilities = {
      dirSync: true,
      datasync: true,
      processAlive: this.local.capabilities.processAlive,
      link: false,
    };
  }

  /** Whether the server refused or honoured conditional PUTs so far (undefined: not tried yet). */
  get conditionalPut(): boolean | undefined {
    return this.ctx.conditionalPut;
  }

  /** The checksum mode, and whether the server confirmed an x-amz-checksum-sha256 it was sent
   *  (undefined: none sent yet, or mode off). */
  get checksum(): { mode: S3ChecksumMode; confirmed: boolean | undefined } {
    return { mode: this.ctx.checksum, confirmed: this.ctx.checksumConfirmed };
  }

  private loc(path: string, op: string): S3Location {
    if (!isS3Path(path)) throw new FsError("EINVAL", op, path, "the s3 adapter takes s3://bucket/key paths");
    return parseS3Path(path);
  }

  private async head(l: S3Location, op: string, path: string): Promise<{ size: number; mtimeMs: number } | null> {
    if (l.key === "") return null;
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: l.bucket, Key: l.key }));
      return { size: h.ContentLength ?? 0, mtimeMs: h.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return null;
      throw s3Error(err, op, path);
    }
  }

  /** One page after another of LIST under `prefix`, grouped at "/". */
  private async *list(
    l: S3Location,
    prefix: string,
    op: string,
    path: string,
    maxKeys?: number,
  ): AsyncGenerator<{ keys: string[]; prefixes: string[] }> {
    let token: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(
          new ListObjectsV2Command({
            Bucket: l.bucket,
            Prefix: prefix,
            Delimiter: "/",
            ContinuationToken: token,
            MaxKeys: maxKeys,
          }),
        );
      } catch (err) {
        throw s3Error(err, op, path);
      }
      yield { keys: (r.Contents ?? []).map((c) => c.Key!), prefixes: (r.CommonPrefixes ?? []).map((p) => p.Prefix!) };
      token = r.IsTruncated && !maxKeys ? r.NextContinuationToken : undefined;
    } while (token);
  }

  private dirPrefix(l: S3Location): string {
    return l.key === "" ? "" : `${l.key}/`;
  }

  // An object store has no symbolic links: OpenOptions.noFollow and stat's noFollow change nothing.
  async open(path: string, o: OpenOptions = {}): Promise<FileHandle> {
    const l = this.loc(path, "open");
    if (l.key === "") throw new FsError("EISDIR", "open", path);
    if (!o.write) return S3ReadHandle.open(this.ctx, l, path);
    // Only what the flags need is asked: a plain create+truncate costs no request at all.
    const existing = o.exclusive || !o.create || !o.truncate ? await this.head(l, "open", path) : null;
    if (o.create && o.exclusive && existing) throw new FsError("EEXIST", "open", path);
    if (!o.create && !existing) throw new FsError("ENOENT", "open", path);
    return new S3WriteHandle(this.ctx, l, path, {
      existingSize: o.truncate || !existing ? undefined : existing.size,
      exclusive: !!(o.create && o.exclusive),
    });
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.loc(from, "rename");
    const b = this.loc(to, "rename");
    if (a.key === "" || b.key === "") throw new FsError("EISDIR", "rename", from);
    const source = `${a.bucket}/${a.key.split("/").map(encodeURIComponent).join("/")}`;
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: b.bucket, Key: b.key, CopySource: source }));
    } catch (err) {
      throw s3Error(err, "rename", from);
    }
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: a.bucket, Key: a.key }));
    } catch (err) {
      throw s3Error(err, "rename", from);
    }
  }

  async unlink(path: string): Promise<void> {
    const l = this.loc(path, "unlink");
    if (!(await this.head(l, "unlink", path))) throw new FsError("ENOENT", "unlink", path);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: l.bucket, Key: l.key }));
    } catch (err) {
      throw s3Error(err, "unlink", path);
    }
  }

  async readdir(path: string): Promise<string[]> {
    const l = this.loc(path, "readdir");
    const prefix = this.dirPrefix(l);
    const names: string[] = [];
    let exists = l.key === "";
    for await (const page of this.list(l, prefix, "readdir", path)) {
      for (const k of page.keys) {
        exists = true;
        if (k.length > prefix.length) names.push(k.slice(prefix.length)); // k === prefix: the marker
      }
      for (const p of page.prefixes) {
        exists = true;
        names.push(p.slice(prefix.length, -1));
      }
    }
    if (!exists) {
      throw new FsError(l.key !== "" && (await this.head(l, "readdir", path)) ? "ENOTDIR" : "ENOENT", "readdir", path);
    }
    return names;
  }

  /** mkdir -p: a zero-byte "key/" marker per level, so an empty directory exists (S3 has none). */
  async mkdir(path: string): Promise<void> {
    const l = this.loc(path, "mkdir");
    if (l.key === "") {
      if (!(await this.stat(path))) {
        throw new FsError("ENOENT", "mkdir", path, `bucket ${l.bucket} does not exist (create it first)`);
      }
      return;
    }
    const parts = l.key.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const key = parts.slice(0, i).join("/");
      if (i === parts.length && (await this.head({ bucket: l.bucket, key }, "mkdir", path))) {
        throw new FsError("EEXIST", "mkdir", path, "a file has that name");
      }
      try {
        await this.client.send(new PutObjectCommand({ Bucket: l.bucket, Key: `${key}/`, Body: new Uint8Array(0) }));
      } catch (err) {
        throw s3Error(err, "mkdir", path);
      }
    }
  }

  async rmdir(path: string): Promise<void> {
    const l = this.loc(path, "rmdir");
    const prefix = this.dirPrefix(l);
    let marker = false;
    for await (const page of this.list(l, prefix, "rmdir", path, 2)) {
      if (page.prefixes.length > 0 || page.keys.some((k) => k !== prefix)) {
        throw new FsError("ENOTEMPTY", "rmdir", path);
      }
      marker = page.keys.includes(prefix);
    }
    if (!marker) throw new FsError("ENOENT", "rmdir", path);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: l.bucket, Key: prefix }));
    } catch (err) {
      throw s3Error(err, "rmdir", path);
    }
  }

  /** No-op: an acknowledged PUT/copy/delete is already durable (see the header). */
  async syncDir(path: string): Promise<void> {
    this.loc(path, "fsync-dir");
  }

  async stat(path: string): Promise<FileStat | null> {
    const l = this.loc(path, "stat");
    if (l.key === "") {
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: l.bucket }));
        return { isFile: false, isDirectory: true, size: 0, mtimeMs: 0, mode: 0o755 };
      } catch (err) {
        if (errnoOf(err) === "ENOENT") return null;
        throw s3Error(err, "stat", path);
      }
    }
    const h = await this.head(l, "stat", path);
    if (h) return { isFile: true, isDirectory: false, size: h.size, mtimeMs: h.mtimeMs, mode: 0o644 };
    try {
      for await (const page of this.list(l, this.dirPrefix(l), "stat", path, 1)) {
        if (page.keys.length + page.prefixes.length > 0) {
          return { isFile: false, isDirectory: true, size: 0, mtimeMs: 0, mode: 0o755 };
        }
      }
    } catch (err) {
      if (err instanceof FsError && err.errno === "ENOENT") return null; // no such bucket
      throw err;
    }
    return null;
  }

  /** Objects have no permission bits; access is the bucket policy's business. */
  async chmod(path: string): Promise<void> {
    this.loc(path, "chmod");
  }

  pid(): number {
    return this.local.pid();
  }
  hostname(): string {
    return this.local.hostname();
  }
  processAlive(pid: number): boolean {
    return this.local.processAlive(pid);
  }
  async link(existing: string): Promise<void> {
    this.loc(existing, "link");
    throw new UnsupportedError("make hard links (objects have one name)", "s3");
  }
  processIdentity(): ProcessIdentity {
    return this.local.processIdentity();
  }
  processState(pid: number, start?: number): ProcessState {
    return this.local.processState(pid, start);
  }

  /** The lock holder's cleanup: aborts the store's abandoned multipart uploads (s3-abandoned.ts). */
  async dropUnfinishedWrites(dir: string, ours: (name: string) => boolean): Promise<string[]> {
    const l = this.loc(dir, "open store");
    return abortAbandonedUploads(this.client, l.bucket, this.dirPrefix(l), ours);
  }
}

export function s3Fs(options: S3FsOptions = {}): S3Fs {
  return new S3Fs(options);
}
