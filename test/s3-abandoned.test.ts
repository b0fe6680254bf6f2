// A writer killed mid-upload leaves a multipart upload that S3 keeps forever. The next writer to
// take the store's lock aborts the store's own abandoned uploads (keys directly in the store
// prefix, named like a store file or one of its temps) and nothing else: not another store's
// (a sibling prefix, a nested one), not a non-store key, and not when opened read-only.
// Runs against the real server (scripts/test-s3.sh), gated like test/s3.test.ts.
import assert from "node:assert/strict";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { defaultFs } from "../adapters/detect.ts";
import { RoutingFs } from "../adapters/fs-for-path.ts";
import { openStore } from "../src/store/store.ts";
import { test } from "./kit.ts";
import { BUCKET, cleanup, client, ensureBucket, freshPrefix, s3fs, url } from "./lib/s3.ts";
import { requireServer } from "./lib/s3-gate.ts";

/** Starts a multipart upload of `key` with one part and never completes it, as a SIGKILLed writer would. */
async function abandonUpload(key: string): Promise<void> {
  const c = client();
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  await c.send(
    new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: new Uint8Array(1024).fill(7) }),
  );
}

async function uploadsUnder(prefix: string): Promise<{ Key: string; UploadId: string }[]> {
  const r = await client().send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${prefix}/` }));
  return (r.Uploads ?? []).map((u) => ({ Key: u.Key!, UploadId: u.UploadId! }));
}

if (requireServer("s3: abandoned uploads")) {
  test("s3: taking the writer lock aborts the store's abandoned multipart uploads, and only those", async () => {
    const c = client();
    await ensureBucket(c);
    const p = freshPrefix("mpu");
    try {
      const fs = s3fs();
      const s0 = await openStore(url(p, "store"), { fs });
      await s0.save([{ name: "a.bin", data: new Uint8Array([1, 2, 3]) }]);
      await s0.close();
      const dead = [
        `${p}/store/step-0000000000000002.member-0`,
        `${p}/store/.tmp-4242-abc-step-0000000000000002.manifest`,
      ];
      const others = [
        `${p}/store/notes.txt`,
        `${p}/store/sub/step-0000000000000001.member-0`,
        `${p}/store-2/step-0000000000000001.member-0`,
      ];
      for (const k of [...dead, ...others]) await abandonUpload(k);
      const all = (await uploadsUnder(p)).map((u) => u.Key).sort();
      assert.deepEqual(all, [...dead, ...others].sort(), "the server lists every abandoned upload");

      // A reader holds no lock: it cannot know the uploads are dead and leaves them.
      const reader = await openStore(url(p, "store"), { fs, readOnly: true });
      await reader.close();
      assert.equal((await uploadsUnder(p)).length, dead.length + others.length);

      // The writer (through the CLI's routing fs, as `ckpt save s3://…` runs) aborts the two dead ones.
      const notes: string[] = [];
      const w = await openStore(url(p, "store"), {
        fs: new RoutingFs(defaultFs(), fs),
        onWarning: (m) => notes.push(m),
      });
      try {
        assert.deepEqual(
          (await uploadsUnder(p)).map((u) => u.Key).sort(),
          [...others].sort(),
          "only the store's own uploads were aborted",
        );
        assert.equal(notes.filter((n) => /aborted an abandoned upload/.test(n)).length, dead.length, notes.join("\n"));
        // The store still works: the next save and latest.
        assert.equal((await w.save([{ name: "b.bin", data: new Uint8Array([4]) }])).step, 2);
        assert.equal((await w.latest())?.step, 2);
      } finally {
        await w.close();
      }
    } finally {
      for (const u of await uploadsUnder(p)) {
        await c.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: u.Key, UploadId: u.UploadId }));
      }
      await cleanup(c, p);
    }
  });
}
