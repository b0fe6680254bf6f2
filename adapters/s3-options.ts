// Settings of the object-store backend that the CLI and fsForPath need before the AWS SDK is
// loaded: reading the environment in every runtime, and the checksum modes.
import { FsError } from "../src/errors.ts";
import { env } from "../src/env.ts";

/**
 * Whether uploads carry `x-amz-checksum-sha256` so the server verifies the bytes it received:
 * - `off`: no checksum headers (works everywhere; ckptkit's own SHA-256 and CRCs still cover
 *   every byte on every read);
 * - `sha256`: every PUT and multipart part carries one, and the server must confirm it (AWS S3
 *   and MinIO echo it back); a server that refuses it or stores the object without confirming it
 *   (Swift 2.30 ignores the header) fails the first upload with ENOTSUP;
 * - `auto`: sent until the first single-request upload shows the server does not confirm it
 *   (a refusal is retried once without), then no longer sent.
 */
export type S3ChecksumMode = "off" | "sha256" | "auto";
export const S3_CHECKSUM_MODES: readonly S3ChecksumMode[] = ["off", "sha256", "auto"];

export function isChecksumMode(v: string): v is S3ChecksumMode {
  return (S3_CHECKSUM_MODES as readonly string[]).includes(v);
}

/** The mode given, else CKPTKIT_S3_CHECKSUM, else off; an unknown value is EINVAL. */
export function checksumMode(given?: string): S3ChecksumMode {
  const v = given ?? env("CKPTKIT_S3_CHECKSUM") ?? "off";
  if (!isChecksumMode(v)) {
    const from = given === undefined ? "CKPTKIT_S3_CHECKSUM" : "checksum";
    throw new FsError("EINVAL", "configure", "s3", `${from} must be ${S3_CHECKSUM_MODES.join(", ")}; got '${v}'`);
  }
  return v;
}
