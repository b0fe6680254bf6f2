// The S3 client ckptkit uses, configured from the standard AWS environment, plus the two
// translations every S3 call needs: `s3://bucket/key` paths to (bucket, key), and S3 errors to
// FsErrors with a system errno, so the store and CLI treat an object store like any other fs.
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { DurabilityError, FsError } from "../src/errors.ts";
import { env } from "../src/env.ts";
export { env };
export { isS3Path, parseS3Path, type S3Location } from "./s3-path.ts";
import type { S3ClientOptions } from "./s3-types.ts";

export type { S3ClientOptions } from "./s3-types.ts";

export function makeClient(o: S3ClientOptions = {}): S3Client {
  // The SDK prints a multi-line deprecation notice for Node 20 on first use; ckptkit supports
  // Node 20 and its CLI keeps stderr to one-line messages. A user's own setting wins.
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  try {
    if (g.process?.env && g.process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === undefined) {
      g.process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
    }
  } catch {
    // no env access (Deno without --allow-env): the notice may appear, nothing else changes
  }
  const endpoint = o.endpoint ?? env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL");
  const region = o.region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION");
  let fromProfile: Promise<string> | undefined;
  const config: S3ClientConfig = {
    region: region ?? (() => (fromProfile ??= profileRegion(o.profile))),
    forcePathStyle: o.forcePathStyle ?? endpoint !== undefined,
    // Only the checksums S3 requires: by default the SDK streams bodies with aws-chunked
    // encoding and a CRC32 trailer, which S3-compatible servers (Swift 2.30, older MinIO and
    // Ceph) refuse with 501. ckptkit's own SHA-256 and per-block CRC-32 cover the bytes.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (o.credentials) config.credentials = o.credentials;
  if (o.profile !== undefined) config.profile = o.profile;
  // The SDK's default logger is silent already; a silent one of our own also keeps its credential
  // chain from falling back to console.warn when a profile is named while AWS_ACCESS_KEY_ID is
  // set too (a multi-line note on stderr; the profile wins, as --profile says it should).
  config.logger = QUIET;
  return new S3Client(config);
}

const QUIET = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** The `region` of the profile in ~/.aws/config as the SDK reads it, else us-east-1 (no network). */
async function profileRegion(profile: string | undefined): Promise<string> {
  const probe = new S3Client({ profile, logger: QUIET });
  try {
    return (await probe.config.region()) || "us-east-1";
  } catch {
    return "us-east-1";
  } finally {
    probe.destroy();
  }
}

interface SdkError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The HTTP status of an SDK error (undefined for network failures). */
export function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode;
}

export function errorName(err: unknown): string {
  const e = err as SdkError;
  return e?.Code ?? e?.name ?? e?.code ?? "Error";
}

/** Maps an S3 failure to the errno a file system would have given. */
export function errnoOf(err: unknown): string {
  const name = errorName(err);
  const status = statusOf(err);
  if (name === "NoSuchKey" || name === "NoSuchBucket" || name === "NotFound" || status === 404) return "ENOENT";
  if (name === "AccessDenied" || name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch" || status === 403) {
    return "EACCES";
  }
  if (name === "PreconditionFailed" || status === 412) return "EEXIST";
  if (name === "EntityTooLarge") return "EFBIG";
  if (name === "NotImplemented" || status === 501) return "ENOTSUP";
  if (name === "QuotaExceeded") return "ENOSPC";
  return "EIO";
}

function detail(err: unknown): string {
  const status = statusOf(err);
  const msg = ((err as SdkError)?.message ?? String(err)).split("\n")[0];
  return `${errorName(err)}${status ? ` ${status}` : ""}: ${msg}`;
}

export function s3Error(err: unknown, op: string, path: string): FsError {
  if (err instanceof FsError) return err;
  return new FsError(errnoOf(err), op, path, detail(err), err);
}

/** An upload that did not complete: the data it carried must be presumed not stored. */
export function s3DurabilityError(err: unknown, op: string, path: string): DurabilityError {
  if (err instanceof DurabilityError) return err;
  return new DurabilityError(
    err instanceof FsError ? err.errno : errnoOf(err),
    `${op} (upload: ${detail(err)})`,
    path,
    err,
  );
}
