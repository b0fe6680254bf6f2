// The s3 adapter's option types, in a module that imports no AWS SDK: the library entry's
// types (fsForPath, s3Storage) reach them, and `deno check src/index.ts` from a clean directory
// must not need the optional @aws-sdk packages (issue 14). s3.ts and s3-client.ts re-export them.
import type { DurableFs } from "../src/fs.ts";
import type { S3ChecksumMode } from "./s3-options.ts";

export interface S3ClientOptions {
  /** e.g. http://127.0.0.1:19000; default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Default AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region` in ~/.aws/config,
   *  else us-east-1. */
  region?: string;
  /** A profile of ~/.aws/credentials and ~/.aws/config (default AWS_PROFILE, else "default").
   *  When one is named, the SDK takes credentials from it, not from AWS_ACCESS_KEY_ID. */
  profile?: string;
  /** Default: true when an endpoint is set (MinIO, Swift, Ceph want path-style), else false. */
  forcePathStyle?: boolean;
  /** Default: the SDK's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The part of an S3Client the options accept: any object with `send` (checked as an S3Client inside). */
export interface S3ClientLike {
  send(...args: never[]): Promise<unknown>;
}

export interface S3FsOptions extends S3ClientOptions {
  /** A configured @aws-sdk/client-s3 S3Client (otherwise one is made from the options and the AWS
   *  environment). Typed structurally so ckptkit's public .d.ts imports no optional package. */
  client?: S3ClientLike;
  /** The local fs that answers pid/hostname/processAlive for the writer lock (default: the runtime's). */
  local?: DurableFs;
  /** Multipart part size in bytes (≥ 5 MiB; default CKPTKIT_S3_PART_SIZE_MB or 16 MiB). Servers cap
   *  the part count (AWS 10 000, Swift 1 000 by default): on Swift the largest member is ~1 000 × this.
   *  Memory per object being written is about partSize × (queueSize + 2) (measured: 512 MiB
   *  file, 16 MiB parts, queue 4: 268 MiB peak RSS for the whole CLI process). */
  partSize?: number;
  /** Parts uploaded concurrently (default 4). */
  queueSize?: number;
  /** x-amz-checksum-sha256 on uploads: off, sha256 or auto (default CKPTKIT_S3_CHECKSUM, else
   *  off). See S3ChecksumMode and docs/S3.md. */
  checksum?: S3ChecksumMode;
}
