// Faults on the real S3 server: uploads that fail (before the server saw them, or after it
// applied them and only the answer was lost), multipart uploads cut short, and readers that see a
// member older than its manifest. Invariant throughout: `latest` returns a checkpoint whose every
// byte is what one save was asked to write, or an older one; never anything else.
import assert from "node:assert/strict";
import { HeadObjectCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import type { Protocol } from "../src/protocol.ts";
import { openStore } from "../src/store/store.ts";
import { test } from "./kit.ts";
import { equalMembers, type Members, members, sources } from "./lib/store-helpers.ts";
import {
  BUCKET,
  cleanup,
  client,
  ensureBucket,
  type Fault,
  freshPrefix,
  getObject,
  keys,
  MIB,
  putObject,
  s3fs,
  url,
} from "./lib/s3.ts";
import { requireServer } from "./lib/s3-gate.ts";

const MUTATING = new Set([
  "PutObjectCommand",
  "CopyObjectCommand",
  "DeleteObjectCommand",
  "CreateMultipartUploadCommand",
  "UploadPartCommand",
  "CompleteMultipartUploadCommand",
]);

function s3test(name: string, fn: (prefix: string) => Promise<void>): void {
  if (!requireServer(`s3 faults: ${name}`)) return;
  test(`s3 faults: ${name}`, async () => {
    const c = client();
    await ensureBucket(c);
    const prefix = freshPrefix("f");
    try {
      await fn(prefix);
    } finally {
      await cleanup(c, prefix);
    }
  });
}

/** What a process starting afresh would get from the store: latest and its members, or null. */
async function recover(prefix: string): Promise<{ step: number; members: Members } | null> {
  const s = await openStore(url(prefix, "store"), { fs: s3fs(), readOnly: true });
  try {
    const l = await s.latest();
    return l ? { step: l.step, members: (await s.load(l.step)).members } : null;
  } finally {
    await s.close();
  }
}

/** Saves `first` as step 1 cleanly, then `second` through an fs with `fault`; returns the error. */
async function failingSecondSave(
  prefix: string,
  first: Members,
  second: Members,
  fault: Fault,
  o: { protocol?: Protocol; partSize?: number } = {},
): Promise<unknown> {
  const ok = await openStore(url(prefix, "store"), { inlineMax: 0, fs: s3fs() });
  await ok.save(sources(first), { protocol: o.protocol });
  await ok.close();
  let armed = false;
  const s = await openStore(url(prefix, "store"), {
    inlineMax: 0,
    fs: s3fs({ partSize: o.partSize, fault: (cmd, input) => armed && fault(cmd, input) }),
  });
  armed = true;
  let error: unknown;
  try {
    await s.save(sources(second), { protocol: o.protocol });
  } catch (err) {
    error = err;
  }
  armed = false;
  await s.close();
  return error;
}

const A = members(1, ["model", "optim"], 6000);
const B = members(2, ["model", "optim"], 7000);

s3test(
  "a member upload that fails: save rejects and removes what it wrote, latest stays on the previous checkpoint, the next save reuses the never-acknowledged step",
  async (p) => {
    const err = await failingSecondSave(
      p,
      A,
      B,
      (cmd, i) => cmd === "PutObjectCommand" && /step-0+2\.member-1$/.test(i.Key ?? ""),
    );
    assert.ok(
      err instanceof Error &&
        /injected failure/.test(String((err as Error).message) + String((err as { cause?: Error }).cause?.message)),
      String(err),
    );
    const r = await recover(p);
    assert.equal(r?.step, 1);
    assert.ok(equalMembers(r!.members, A));
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs: s3fs() });
    try {
      const v = await s.verify();
      assert.deepEqual(v.checkpoints.map((c) => [c.step, c.status]), [[1, "valid"]]);
      assert.equal((await s.save(sources(B))).step, 2);
      assert.ok(equalMembers((await s.load()).members, B));
    } finally {
      await s.close();
    }
  },
);

for (
  const [label, protocol, fault] of [
    [
      "the manifest PUT fails (unsafe: direct PUT)",
      "unsafe",
      (cmd: string, i: { Key?: string }) => cmd === "PutObjectCommand" && /\.manifest$/.test(i.Key ?? ""),
    ],
    [
      "the manifest's temp PUT fails (atomic_dirsync)",
      "atomic_dirsync",
      (cmd: string, i: { Key?: string }) => cmd === "PutObjectCommand" && /\.tmp-.*\.manifest$/.test(i.Key ?? ""),
    ],
    [
      "the copy of the manifest onto its name fails (atomic_dirsync)",
      "atomic_dirsync",
      (cmd: string) => cmd === "CopyObjectCommand",
    ],
  ] as const
) {
  s3test(`${label}: save rejects and latest is the previous checkpoint`, async (p) => {
    const err = await failingSecondSave(p, A, B, fault, { protocol });
    assert.ok(err instanceof Error, "the save must fail");
    const r = await recover(p);
    assert.equal(r?.step, 1);
    assert.ok(equalMembers(r!.members, A));
    assert.ok(!(await keys(client(), `${p}/store`)).includes("step-0000000000000002.manifest"));
    // The next writer removes the dead temp object, if one was left.
    const notes: string[] = [];
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs: s3fs(), onWarning: (m) => notes.push(m) });
    await s.close();
    assert.deepEqual((await keys(client(), `${p}/store`)).filter((k) => k.includes(".tmp-")), []);
  });
}

for (
  const [label, fault] of [
    [
      "the second part upload fails",
      (() => {
        let n = 0;
        return (cmd: string) => cmd === "UploadPartCommand" && ++n === 2;
      })(),
    ],
    ["CompleteMultipartUpload fails", (cmd: string) => cmd === "CompleteMultipartUploadCommand"],
  ] as const
) {
  s3test(
    `a 12 MiB multipart member where ${label}: no object appears, no upload lingers, latest is the previous checkpoint`,
    async (p) => {
      const big = members(3, ["model"], 12 * MIB);
      const err = await failingSecondSave(p, A, big, fault, { partSize: 5 * MIB });
      assert.ok(err instanceof Error, "the save must fail");
      const c = client();
      await assert.rejects(
        c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${p}/store/step-0000000000000002.member-0` })),
      );
      const mpu = await c.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${p}/` }));
      assert.deepEqual((mpu.Uploads ?? []).map((u) => u.Key), [], "the failed upload was aborted");
      const r = await recover(p);
      assert.equal(r?.step, 1);
      assert.ok(equalMembers(r!.members, A));
    },
  );
}

// The crash experiment adapted: the k-th mutating request of a save fails, either before the
// server saw it or after the server applied it (only the answer lost: the ambiguous case).
for (const protocol of ["atomic_dirsync", "unsafe"] as const) {
  s3test(
    `every request of a save failing in turn (${protocol}, before and after the server applied it) never yields other bytes`,
    async (p) => {
      const outcomes = new Set<number>();
      let sweeps = 0;
      for (const when of ["before", "after"] as const) {
        for (let k = 1; k <= 40; k++) {
          const prefix = `${p}/${when}-${k}`;
          let n = 0;
          let fired = false;
          const err = await failingSecondSave(prefix, A, B, (cmd) => {
            if (!MUTATING.has(cmd) || ++n !== k) return false;
            fired = true;
            return when;
          }, { protocol });
          if (!fired) {
            assert.equal(err, undefined, `k=${k}: a save with no fault succeeds`);
            assert.equal((await recover(prefix))?.step, 2);
            sweeps++;
            break; // k is past the save's last mutating request
          }
          assert.ok(err instanceof Error, `k=${k} ${when}: the failure reaches the caller`);
          const r = await recover(prefix);
          assert.ok(r !== null, `k=${k} ${when}: step 1 must survive`);
          const exact = r.step === 1 ? equalMembers(r.members, A) : r.step === 2 && equalMembers(r.members, B);
          assert.ok(exact, `k=${k} ${when}: latest is step ${r.step} with bytes no save wrote`);
          outcomes.add(r.step);
          await cleanup(client(), prefix);
        }
      }
      assert.equal(sweeps, 2, "each sweep reached the end of the save");
      assert.deepEqual(
        [...outcomes].sort(),
        [1, 2],
        "failures before the commit keep step 1; after it, step 2 is whole",
      );
    },
  );
}

s3test("a reader that sees a member older than the manifest never gets that checkpoint", async (p) => {
  const c = client();
  const s = await openStore(url(p, "store"), { inlineMax: 0, fs: s3fs() });
  await s.save(sources(A));
  await s.save(sources(B));
  await s.close();
  // An unrelated save of the same step and member names, elsewhere: same header, other bytes.
  const o = await openStore(url(p, "other"), { inlineMax: 0, fs: s3fs() });
  await o.save(sources(A));
  await o.save(sources(members(9, ["model", "optim"], 7000)));
  await o.close();
  const key = `${p}/store/step-0000000000000002.member-1`;
  const right = await getObject(c, key);
  const views: [string, () => Promise<void>][] = [
    ["not yet visible (404)", async () => {
      await s3fs().unlink(url(p, "store/step-0000000000000002.member-1"));
    }],
    [
      "the previous checkpoint's member",
      async () => putObject(c, key, await getObject(c, `${p}/store/step-0000000000000001.member-1`)),
    ],
    [
      "another save's member for the same step and name",
      async () => putObject(c, key, await getObject(c, `${p}/other/step-0000000000000002.member-1`)),
    ],
  ];
  for (const [what, stale] of views) {
    await stale();
    const r = await recover(p);
    assert.equal(r?.step, 1, `member ${what}: latest must fall back`);
    assert.ok(equalMembers(r!.members, A), `member ${what}: step 1's bytes`);
    const ro = await openStore(url(p, "store"), { inlineMax: 0, fs: s3fs(), readOnly: true });
    await assert.rejects(ro.load(2), `member ${what}: loading step 2 must fail`);
    await ro.close();
    await putObject(c, key, right); // the store catches up
    const now = await recover(p);
    assert.equal(now?.step, 2);
    assert.ok(equalMembers(now!.members, B));
  }
});
