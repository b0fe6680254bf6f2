// `s3://bucket/key` paths, kept apart from the SDK so the CLI can route by path without loading it.
import { FsError, UsageError } from "../src/errors.ts";

export interface S3Location {
  bucket: string;
  key: string;
}

/**
 * `s3://bucket/a/b` → {bucket, key "a/b"}. The store joins paths with helpers that collapse "//",
 * so `s3:/bucket/a/b` is the same path. Keys are normalized: no empty, "." or trailing parts.
 */
export function parseS3Path(path: string): S3Location {
  const m = /^s3:\/\/?([^/]+)(\/.*)?$/.exec(path);
  if (!m) throw new FsError("EINVAL", "parse", path, "not an s3://bucket/key path");
  const parts: string[] = [];
  for (const p of (m[2] ?? "").split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return { bucket: m[1]!, key: parts.join("/") };
}

export function isS3Path(path: string): boolean {
  return /^s3:\/\/?[^/]/.test(path);
}

/** Whether a path is meant for the object store, well-formed or not: `s3:/…` in any case. */
export function looksLikeS3Url(path: string): boolean {
  return /^s3:\//i.test(path);
}

// What S3 (including buckets made before 2018 in us-east-1, which allowed capitals and "_") and
// Swift's s3api accept as a bucket name: anything else can only be a typo.
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;

/**
 * What is wrong with an object-store path, or undefined if it is a usable `s3://bucket[/key]`.
 * Paths that do not look like s3:// URLs are not checked (they are local).
 */
export function s3UrlProblem(path: string): string | undefined {
  if (!looksLikeS3Url(path)) return undefined;
  if (!path.startsWith("s3:")) return `'${path}': write the scheme in lower case, s3://bucket/prefix`;
  const m = /^s3:\/\/?([^/]*)/.exec(path)!;
  const bucket = m[1]!;
  if (bucket === "") return `'${path}' names no bucket: use s3://bucket/prefix`;
  if (!BUCKET.test(bucket)) {
    return `'${path}': '${bucket}' is not a bucket name (3 to 255 letters, digits, '.', '-' or '_', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Throws a UsageError for a malformed s3:// path (see s3UrlProblem). */
export function checkS3Url(path: string): void {
  const problem = s3UrlProblem(path);
  if (problem) throw new UsageError(problem);
}
