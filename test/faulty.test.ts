// The fault adapter itself: rules fire exactly where asked, errors are typed, counters count,
// and a failed fsync loses the file's unsynced data (Linux semantics) on the simulator.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { defaultFs } from "../adapters/detect.ts";
import { failAfterWrites, failAfterWritesTo, failNth, failOnPaths, FaultyFs } from "../adapters/faulty.ts";
import { MemoryFs } from "../adapters/memory.ts";
import { DurabilityError, FsError } from "../src/errors.ts";
import { openStore } from "../src/store/store.ts";
import { runtime, test } from "./kit.ts";

const bytes = (n: number, v = 7) => new Uint8Array(n).fill(v);

async function rejectsWith(p: Promise<unknown>, errno: string, cls: typeof FsError = FsError): Promise<FsError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal((err as FsError).errno, errno);
    return err as FsError;
  }
  assert.fail("expected a rejection");
}

test("the 3rd write fails with the chosen errno and only that one", async () => {
  const fs = new FaultyFs(new MemoryFs(), [failNth("write", 3, "ENOSPC")]);
  const h = await fs.open("/f", { write: true, create: true });
  await h.write(bytes(4), 0);
  await h.write(bytes(4), 4);
  const e = await rejectsWith(h.write(bytes(4), 8), "ENOSPC");
  assert.equal(e.op, "write");
  assert.equal(e.path, "/f");
  await h.write(bytes(4), 8);
  assert.equal(fs.counts.write, 4);
  assert.deepEqual(fs.failures.map((f) => [f.op, f.errno, f.call]), [["write", "ENOSPC", 3]]);
});

test("a failing block device: every write after N fails, on matching files only", async () => {
  const fs = new FaultyFs(new MemoryFs(), [failAfterWritesTo(1, /victim/, "EIO")]);
  const a = await fs.open("/victim", { write: true, create: true });
  const b = await fs.open("/bystander", { write: true, create: true });
  await a.write(bytes(1), 0);
  for (let i = 0; i < 3; i++) await b.write(bytes(1), i);
  await rejectsWith(a.write(bytes(1), 1), "EIO");
  await rejectsWith(a.write(bytes(1), 2), "EIO");
  const dev = new FaultyFs(new MemoryFs(), [failAfterWrites(2, "EROFS")]);
  const c = await dev.open("/c", { write: true, create: true });
  await c.write(bytes(1), 0);
  await c.write(bytes(1), 1);
  await rejectsWith(c.write(bytes(1), 2), "EROFS");
});

test("sync failures are DurabilityErrors: fsync, fdatasync and directory fsync", async () => {
  const fs = new FaultyFs(new MemoryFs(), [
    failNth("fsync", 1),
    failNth("fdatasync", 1, "ENOSPC"),
    failNth("fsync-dir", 1, "EROFS"),
  ]);
  const h = await fs.open("/f", { write: true, create: true });
  await rejectsWith(h.sync(), "EIO", DurabilityError);
  await rejectsWith(h.datasync(), "ENOSPC", DurabilityError);
  await rejectsWith(fs.syncDir("/"), "EROFS", DurabilityError);
  await h.sync();
  assert.equal(fs.counts.fsync, 2);
});

test("a failed fsync loses the file's unsynced data, and a later fsync does not bring it back", async () => {
  const mem = new MemoryFs();
  const fs = new FaultyFs(mem, [failNth("fsync", 1)]);
  const h = await fs.open("/f", { write: true, create: true });
  await fs.syncDir("/");
  await h.write(bytes(600, 1), 0);
  await rejectsWith(h.sync(), "EIO", DurabilityError);
  await h.sync(); // succeeds: the "retry" the fsyncgate programs relied on
  const after = mem.crash({ keep: () => true });
  assert.equal(after.peek("/f")?.length, 0, "the write whose fsync failed must not survive");
  // Other files' pending data is untouched.
  const g = await fs.open("/g", { write: true, create: true });
  await g.write(bytes(3), 0);
  assert.equal(mem.pending.filter((p) => p.kind === "write" && p.path === "/g").length, 1);
});

test("path rules match either side of a rename; 'after' faults apply the call first", async () => {
  const mem = new MemoryFs();
  const fs = new FaultyFs(mem, [failOnPaths("target", "EPERM", "rename")]);
  await (await fs.open("/a", { write: true, create: true })).close();
  await rejectsWith(fs.rename("/a", "/target"), "EPERM");
  assert.ok(mem.peek("/a"), "a 'before' fault leaves the fs untouched");
  fs.clearRules().addRule({ op: "rename", nth: 1, when: "after" });
  await rejectsWith(fs.rename("/a", "/b"), "EIO");
  assert.ok(mem.peek("/b") && !mem.peek("/a"), "an 'after' fault reports failure for a rename that happened");
});

test("counters count every call per operation, failed ones included", async () => {
  const fs = new FaultyFs(new MemoryFs(), [{ op: "stat", after: 1 }]);
  await fs.mkdir("/d");
  await fs.stat("/d");
  await rejectsWith(fs.stat("/d"), "EIO");
  await fs.readdir("/d");
  assert.equal(fs.counts.stat, 2);
  assert.equal(fs.counts.mkdir, 1);
  assert.equal(fs.total("stat", "readdir"), 3);
  fs.resetCounts();
  assert.equal(fs.total(), 0);
  assert.throws(() => fs.addRule({ nth: 0 }), RangeError);
});

test(`wraps the real ${runtime} adapter too: a save into a real directory fails typed at the first member fsync`, async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-faulty-${runtime}-`);
  try {
    const fs = new FaultyFs(defaultFs(), [{ op: "fsync", path: ".member-", nth: 1, errno: "EIO" }]);
    const s = await openStore(`${dir}/store`, { fs });
    await rejectsWith(s.save([{ name: "a", data: bytes(100_000) }]), "EIO", DurabilityError); // above the inline threshold: a member file
    await s.close();
    assert.equal(fs.failures.length, 1);
    assert.match(fs.failures[0]!.path, /\.member-0$/);
    assert.ok(fs.counts.write > 0 && fs.counts.open > 0);
    const again = await openStore(`${dir}/store`, { fs: defaultFs() });
    assert.equal(await again.latest(), null, "the failed save left no checkpoint");
    // Guarantee 8: the failed save removed its own files, so its never-acknowledged step is free again.
    assert.deepEqual(
      readdirSync(`${dir}/store`).filter((n) => n.startsWith("step-")),
      [],
      "the failed save left no file",
    );
    assert.equal(
      (await again.save([{ name: "a", data: bytes(10) }])).step,
      1,
      "a step never acknowledged may be used again",
    );
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
