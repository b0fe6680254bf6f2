// Flush-behind (src/store/flush-behind.ts): a large member is flushed while it is written, so the
// closing fsync covers only its tail; a flush never replaces that fsync, a failed flush fails
// the save, and nothing flushes where it means something else (the simulator, unsafe saves,
// files below the threshold). The adapters' sync accounting keeps bytes written during a flush.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { defaultFs } from "../adapters/detect.ts";
import { FaultyFs } from "../adapters/faulty.ts";
import { MemoryFs } from "../adapters/memory.ts";
import { Offload, SYNC_INLINE_BYTES } from "../adapters/offload.ts";
import { type TraceEvent, tracingFs } from "../adapters/tracing.ts";
import { DurabilityError } from "../src/errors.ts";
import { FLUSH_BEHIND_BYTES } from "../src/store/flush-behind.ts";
import { openStore } from "../src/store/store.ts";
import { runtime, test } from "./kit.ts";
import { repeating } from "./lib/interrupt-helpers.ts";

const MiB = 1 << 20;
const scratch = (tag: string) => mkdtempSync(`${tmpdir()}/ckpt-flush-${tag}-${runtime}-`);
const memberOps = (events: TraceEvent[]) =>
  events.filter((e) => /\.member-0$/.test(e.path) && ["write", "datasync", "sync"].includes(e.op));

test(`a ${3 * FLUSH_BEHIND_BYTES / MiB} MiB member is flushed while it is written, then fsynced; it verifies (${runtime})`, async () => {
  const dir = scratch("big");
  try {
    const fs = tracingFs(defaultFs());
    const s = await openStore(dir, { fs });
    try {
      await s.save([{ name: "big", data: repeating(3 * FLUSH_BEHIND_BYTES + 12345, 3) }]);
      const ops = memberOps(fs.events).map((e) => e.op);
      const flushes = ops.filter((o) => o === "datasync").length;
      assert.ok(flushes >= 1 && flushes <= 3, `flushes during the writes: ${flushes} (${ops.join(" ")})`);
      assert.ok(ops.indexOf("datasync") < ops.lastIndexOf("write"), "a flush ran before the last write");
      assert.equal(ops.at(-1), "sync", "the member's closing fsync comes after every write and flush");
      assert.ok((await s.verify()).ok);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`no flush-behind below the threshold, on an unsafe save, or on the simulator (${runtime})`, async () => {
  const dir = scratch("none");
  try {
    const fs = tracingFs(defaultFs());
    const s = await openStore(dir, { fs });
    try {
      await s.save([{ name: "small", data: repeating(FLUSH_BEHIND_BYTES - MiB, 1) }]);
      await s.save([{ name: "unsafe", data: repeating(3 * FLUSH_BEHIND_BYTES, 2) }], { protocol: "unsafe" });
      assert.deepEqual(memberOps(fs.events).filter((e) => e.op === "datasync"), []);
    } finally {
      await s.close();
    }
    const mem = tracingFs(new MemoryFs());
    const m = await openStore("/s", { fs: mem });
    await m.save([{ name: "big", data: repeating(3 * FLUSH_BEHIND_BYTES, 4) }]);
    assert.deepEqual(
      memberOps(mem.events).filter((e) => e.op === "datasync"),
      [],
      "the simulator's syncs are crash points, not flushes",
    );
    await m.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`a flush that fails fails the save: DurabilityError, no member left, the previous checkpoint still latest (${runtime})`, async () => {
  const dir = scratch("fail");
  try {
    const fs = new FaultyFs(defaultFs(), [{ op: "fdatasync", path: /\.member-0$/, nth: 1, errno: "EIO" }]);
    const s = await openStore(dir, { fs });
    try {
      const first = await s.save([{ name: "a", data: repeating(4096, 1) }]);
      await assert.rejects(
        s.save([{ name: "big", data: repeating(3 * FLUSH_BEHIND_BYTES, 5) }]),
        (e: unknown) => e instanceof DurabilityError,
      );
      assert.equal(fs.failures.length, 1, "the flush was the call that failed");
      assert.equal((await s.latest())?.step, first.step);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.includes(`${first.step + 1}`.padStart(16, "0"))),
        [],
        "the failed save left no file",
      );
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the adapters' sync accounting: bytes written while a sync runs still count for the next one", () => {
  const o = new Offload();
  o.wrote(0, 2 * SYNC_INLINE_BYTES);
  const atStart = o.pending; // a flush begins here ...
  o.wrote(2 * SYNC_INLINE_BYTES, 2 * SYNC_INLINE_BYTES); // ... the save writes on ...
  o.synced(atStart); // ... and the flush ends
  assert.equal(o.pending, 2 * SYNC_INLINE_BYTES);
  assert.equal(o.sync(), true, "the closing fsync of 2 MiB written during the flush still goes to the thread pool");
});
