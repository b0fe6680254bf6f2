// `s3://bucket/key` paths, kept apart from the SDK so the CLI can route by path without loading it.
import { FsError } from "../src/errors.ts";

export interface S3Location { bucket: string; key: string }

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
