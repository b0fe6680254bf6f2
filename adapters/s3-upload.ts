// A multipart upload fed part by part as a writer produces bytes: the SDK's lib-storage `Upload`
// reads a web ReadableStream that we push into with backpressure, so about partSize ×
// (queueSize + 2) bytes of one object are in memory (parts in flight, one being assembled),
// however large it is.
import type { CompleteMultipartUploadCommandOutput, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

export class StreamingUpload {
  private ctrl!: ReadableStreamDefaultController<Uint8Array>;
  private waiter: (() => void) | undefined;
  private error: unknown;
  private failed = false;
  private finished = false;
  private readonly upload: Upload;
  /** Settles when the multipart upload completes (or fails and is aborted). */
  readonly done: Promise<void>;
  /** Whether the server confirmed the object's x-amz-checksum-sha256 (set once done). */
  confirmed = false;

  /** `checksum`: every part carries x-amz-checksum-sha256 (the upload is created for it). */
  constructor(client: S3Client, bucket: string, key: string, partSize: number, queueSize: number, checksum = false) {
    // highWaterMark 1: a part waits in the stream only while the uploader has not taken the
    // previous one; push() blocks until it does (backpressure).
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.ctrl = c;
        },
        pull: () => this.wake(),
      },
      { highWaterMark: 1 },
    );
    // leavePartsOnError false: a failed upload is aborted, so no parts linger billed and unseen.
    const params = {
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(checksum ? { ChecksumAlgorithm: "SHA256" as const } : {}),
    };
    this.upload = new Upload({ client, params, partSize, queueSize, leavePartsOnError: false });
    this.done = this.upload.done().then(
      (r) => {
        // AWS answers CompleteMultipartUpload with the checksum of the checksums ("…-<parts>").
        this.confirmed = !!(r as CompleteMultipartUploadCommandOutput).ChecksumSHA256;
      },
      (err: unknown) => {
        this.failed = true;
        this.error = err;
        this.wake();
        throw err;
      },
    );
    // Observed by push()/finish(); this only keeps an early failure from being "unhandled".
    this.done.catch(() => {});
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Hands one part to the uploader; resolves once it has room, rejects if the upload failed. */
  async push(part: Uint8Array): Promise<void> {
    while (!this.failed && (this.ctrl.desiredSize ?? 0) <= 0) {
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
    if (this.failed) throw this.error;
    this.ctrl.enqueue(part);
  }

  /** Ends the object and waits for CompleteMultipartUpload: the durability point. */
  async finish(): Promise<void> {
    if (!this.failed && !this.finished) {
      this.finished = true;
      this.ctrl.close();
    }
    await this.done;
  }

  /** Abandons the object: nothing of it becomes visible. */
  async abort(): Promise<void> {
    if (this.finished && !this.failed) return;
    this.finished = true;
    try {
      this.ctrl.error(new Error("upload abandoned"));
    } catch {
      // already closed or errored
    }
    try {
      await this.upload.abort();
    } catch {
      // best effort: the upload may already have failed and aborted itself
    }
    await this.done.catch(() => {});
  }
}
