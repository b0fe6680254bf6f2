// Helpers for the tests against the real S3 server (scripts/s3-server.sh: Swift + s3api on
// loopback): where it is, a fresh store prefix per test, raw object access for corrupting or
// replacing objects behind the store's back, and fault injection at the client.
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { makeClient } from "../../adapters/s3-client.ts";
import { S3Fs } from "../../adapters/s3.ts";
import type { S3ChecksumMode } from "../../adapters/s3-options.ts";
import { env } from "../../adapters/s3-client.ts";
import { runtime } from "../kit.ts";

export const ENDPOINT = env("CKPTKIT_S3_ENDPOINT");
export const BUCKET = env("CKPTKIT_S3_BUCKET") ?? "ckptkit-test";
const credentials = {
  accessKeyId: env("AWS_ACCESS_KEY_ID") ?? "test:tester",
  secretAccessKey: env("AWS_SECRET_ACCESS_KEY") ?? "testing",
};

export const MIB = 1024 * 1024;

export function client(): S3Client {
  return makeClient({ endpoint: ENDPOINT, credentials });
}

let bucketReady: Promise<void> | undefined;
export function ensureBucket(c: S3Client): Promise<void> {
  bucketReady ??= c.send(new CreateBucketCommand({ Bucket: BUCKET })).then(
    () => undefined,
    (err: { name?: string }) => {
      if (err.name !== "BucketAlreadyOwnedByYou" && err.name !== "BucketAlreadyExists") throw err;
    },
  );
  return bucketReady;
}

let seq = 0;
/** A prefix no other test (or runtime, or earlier run) uses. */
export function freshPrefix(label: string): string {
  return `${runtime}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}-${seq++}/${label}`;
}

/** "before": the request fails unsent; "after": the server applies it and the answer is lost. */
export type Fault = (command: string, input: { Key?: string }) => boolean | "before" | "after";

/** A request as it goes on the wire (after the SDK added checksum headers). */
export interface WireRequest {
  command: string;
  key: string | undefined;
  headers: Record<string, string>;
  body: unknown;
}

export interface S3FsTestOptions {
  partSize?: number;
  fault?: Fault;
  checksum?: S3ChecksumMode;
  /** Sees every request as sent (headers lower-cased). */
  onWire?: (r: WireRequest) => void;
  /**
   * Plays a server that supports x-amz-checksum-sha256 on top of the real one (Swift 2.30 ignores
   * the header): "confirm" echoes a checksum it was sent in the answer, as AWS and MinIO do
   * (for a multipart upload: in CompleteMultipartUpload's answer);
   * "refuse" answers a request carrying one with 501 NotImplemented before it reaches the server.
   */
  checksumServer?: "confirm" | "refuse";
}

/**
 * An S3Fs on its own client. A `fault` that returns true (or "before") for a request makes it fail
 * before it is sent, as a dropped connection would; "after" lets the server apply it and then
 * fails it anyway (the ambiguous case: the writer cannot know it happened).
 */
export function s3fs(o: S3FsTestOptions = {}): S3Fs {
  const c = client();
  if (o.fault) {
    const fault = o.fault;
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const name = (context as { commandName?: string }).commandName ?? "";
        const when = fault(name, args.input as { Key?: string });
        const injected = () => Object.assign(new Error(`injected failure of ${name}`), { name: "InjectedFault" });
        if (when === true || when === "before") throw injected();
        const out = await next(args);
        if (when === "after") throw injected();
        return out;
      },
      { step: "initialize", name: "ckptkitFaultInjection" },
    );
  }
  if (o.onWire || o.checksumServer) {
    const { onWire, checksumServer } = o;
    let partsWithChecksum = 0;
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context as { commandName?: string }).commandName ?? "";
        const req = args.request as { headers: Record<string, string>; body: unknown };
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
        onWire?.({ command, key: (args.input as { Key?: string }).Key, headers, body: req.body });
        const sum = headers["x-amz-checksum-sha256"];
        if (sum && checksumServer === "refuse") {
          throw Object.assign(new Error("A header you provided implies functionality that is not implemented."), {
            name: "NotImplemented",
            Code: "NotImplemented",
            $metadata: { httpStatusCode: 501 },
          });
        }
        const out = await next(args);
        if (checksumServer === "confirm") {
          // Parts are not echoed: lib-storage would then list each part's checksum in
          // CompleteMultipartUpload, as AWS expects, and Swift 2.30 refuses that XML (MalformedXML).
          const output = out.output as { ChecksumSHA256?: string };
          if (sum && command === "UploadPartCommand") {
            partsWithChecksum++;
          } else if (sum) {
            output.ChecksumSHA256 = sum;
          } else if (command === "CompleteMultipartUploadCommand" && partsWithChecksum > 0) {
            output.ChecksumSHA256 = `composite-${partsWithChecksum}`;
            partsWithChecksum = 0;
          }
        }
        return out;
      },
      { step: "finalizeRequest", name: "ckptkitWire" },
    );
  }
  return new S3Fs({ client: c, partSize: o.partSize, checksum: o.checksum });
}

export function url(prefix: string, name = ""): string {
  return `s3://${BUCKET}/${prefix}${name ? `/${name}` : ""}`;
}

export async function getObject(c: S3Client, key: string): Promise<Uint8Array> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return r.Body!.transformToByteArray();
}

export async function putObject(c: S3Client, key: string, data: Uint8Array): Promise<void> {
  await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data }));
}

export async function keys(c: S3Client, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    for (const o of r.Contents ?? []) out.push(o.Key!.slice(prefix.length + 1));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

/** Best-effort removal of everything a test wrote. */
export async function cleanup(c: S3Client, prefix: string): Promise<void> {
  try {
    for (const k of await keys(c, prefix)) {
      await c.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${k}` }));
    }
  } catch {
    // leftovers only cost disk space under the server's data directory
  }
}
