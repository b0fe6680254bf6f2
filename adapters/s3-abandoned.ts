// Abandoned multipart uploads. A writer killed mid-upload (SIGKILL, power loss, a lost network)
// leaves a multipart upload that S3 keeps, and bills, until someone aborts it: no object ever
// appears, so no readdir sees it and nothing else would clean it up. The holder of a store's
// writer lock knows that no other writer of that store is live, so every upload of one of the
// store's own files is dead and is aborted when the lock is taken (as dead temp files are).
//
// Invariant: only uploads whose key is directly in the store's prefix (`<dir>/<name>`, no
// deeper "/") and whose name the store recognizes as its own are aborted: another store or an
// unrelated writer sharing the bucket (`<dir>-2/…`, `<dir>/sub/…`, `<dir>/notes.txt`) is never
// touched.
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from "@aws-sdk/client-s3";
import { errnoOf, errorName } from "./s3-client.ts";

/** Aborts `bucket`'s unfinished uploads of keys `<prefix><name>` with `ours(name)`; returns notes. */
export async function abortAbandonedUploads(
  client: S3Client,
  bucket: string,
  prefix: string,
  ours: (name: string) => boolean,
): Promise<string[]> {
  const notes: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  try {
    do {
      // Delimiter "/": uploads deeper under the prefix come back as CommonPrefixes, not Uploads.
      const r = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          Delimiter: "/",
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const u of r.Uploads ?? []) {
        const name = u.Key?.slice(prefix.length) ?? "";
        if (!u.Key?.startsWith(prefix) || name === "" || name.includes("/") || !ours(name) || !u.UploadId) continue;
        try {
          await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
          notes.push(
            `aborted an abandoned upload of ${name} (started ${
              u.Initiated?.toISOString() ?? "at an unknown time"
            } by a writer that is gone)`,
          );
        } catch (err) {
          if (errorName(err) !== "NoSuchUpload" && errnoOf(err) !== "ENOENT") throw err; // gone already: fine
        }
      }
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
      uploadIdMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
    } while (keyMarker);
  } catch (err) {
    // Best effort: a server without the API (501) or a policy without s3:ListBucketMultipartUploads
    // must not keep the store from opening; the uploads only cost storage. Say so once.
    notes.push(
      `could not clean up abandoned uploads under ${prefix} (${errorName(err)}: ${
        errnoOf(err)
      }); they cost storage until aborted`,
    );
  }
  return notes;
}
