// The tracing adapter records each primitive of a protocol write in call order, with the paths
// it touched, and changes nothing: the same results, the same error objects, the same durable
// state. The protocol and timeline benchmarks, run quick on a real directory, return a row for
// every protocol and implementation (structure only: timings on a shared machine prove nothing).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { failNth, FaultyFs } from "../adapters/faulty.ts";
import { MemoryFs } from "../adapters/memory.ts";
import { tracingFs } from "../adapters/tracing.ts";
import { FLOOR, GROUP_SAVE, runProtocolBench, SAVE, WFA, WRITE } from "../bench/protocols.ts";
import { runTimeline } from "../bench/timeline.ts";
import type { Row } from "../bench/types.ts";
import { DurabilityError, FsError } from "../src/errors.ts";
import { PROTOCOLS, writeFileWithProtocol } from "../src/protocol.ts";
import { runtime, test } from "./kit.ts";

const data = new Uint8Array(5000).map((_, i) => i * 7);

/** A clock that ticks once per reading, so every start and duration is exact. */
function ticks(): () => number {
  let t = 0;
  return () => ++t;
}

function tempDir(tag: string): string {
  return mkdtempSync(`${tmpdir()}/ckpt-${tag}-${runtime}-`);
}

test("an atomic_dirsync write of a new file is traced as stat, open, write, fsync, close, rename, then the directory fsync", async () => {
  const mem = new MemoryFs();
  const fs = tracingFs(mem, ticks());
  await fs.mkdir("/d");
  await fs.syncDir("/");
  fs.reset();
  await writeFileWithProtocol(fs, "/d/f.bin", data, "atomic_dirsync");
  const ev = fs.events;
  // A new file takes 0o666 less the umask at create: no chmod. The stat looks for a mode to keep.
  assert.deepEqual(ev.map((e) => e.op), ["stat", "open", "write", "sync", "close", "rename", "syncDir"]);
  const tmp = ev[1]!.path;
  assert.match(tmp, /^\.tmp-\d+-[0-9a-z]+-f\.bin$/);
  assert.deepEqual(ev.map((e) => e.path), ["f.bin", tmp, tmp, tmp, tmp, `${tmp} -> f.bin`, "d"]);
  assert.ok(
    ev.findIndex((e) => e.op === "syncDir") > ev.findIndex((e) => e.op === "rename"),
    "the directory fsync comes after the rename",
  );
  // Each call reads the clock twice (start, end): starts 1, 3, 5, … from the reset, 1 tick long.
  assert.deepEqual(ev.map((e) => [e.startMs, e.durMs]), ev.map((_, i) => [1 + 2 * i, 1]));
  assert.ok(ev.every((e) => e.error === undefined));
  assert.deepEqual(
    mem.crash().peek("/d/f.bin"),
    data,
    "the syncs reached the inner fs: the file survives a power loss",
  );
  // Replacing an existing file keeps its mode: a chmod of the temp before the rename.
  fs.reset();
  await writeFileWithProtocol(fs, "/d/f.bin", data, "atomic_dirsync");
  assert.deepEqual(fs.events.map((e) => e.op), [
    "stat",
    "open",
    "write",
    "sync",
    "close",
    "chmod",
    "rename",
    "syncDir",
  ]);
});

test("results pass through unchanged, and unsafe traces no fsync at all", async () => {
  const fs = tracingFs(new MemoryFs());
  await writeFileWithProtocol(fs, "/a", data, "unsafe");
  assert.deepEqual(fs.events.map((e) => e.op), ["open", "write", "close"]);
  assert.equal(await fs.stat("/missing"), null);
  assert.equal((await fs.stat("/a"))?.size, data.length);
  assert.deepEqual(await fs.readdir("/"), ["a"]);
  const h = await fs.open("/a");
  const buf = new Uint8Array(10);
  assert.equal(await h.read(buf, data.length - 4), 4);
  assert.equal(await h.size(), data.length);
  assert.equal(h.path, "/a");
  await h.close();
  assert.deepEqual(fs.events.slice(3).map((e) => `${e.op} ${e.path}`), [
    "stat missing",
    "stat a",
    "readdir ",
    "open a",
    "read a",
    "size a",
    "close a",
  ]);
});

test("a failed fsync is the inner fs's DurabilityError, recorded with its errno, and the cleanup after it is traced too", async () => {
  const fs = tracingFs(new FaultyFs(new MemoryFs(), [failNth("fsync", 1)]));
  await assert.rejects(
    writeFileWithProtocol(fs, "/f", data, "atomic_dirsync"),
    (err: unknown) => err instanceof DurabilityError && err.errno === "EIO",
  );
  assert.deepEqual(fs.events.map((e) => [e.op, e.error]), [
    ["stat", undefined],
    ["open", undefined],
    ["write", undefined],
    ["sync", "EIO"],
    ["close", undefined],
    ["unlink", undefined],
  ]);
});

test("the error object thrown is the very one the inner fs threw", async () => {
  const boom = new FsError("EXDEV", "rename", "/a -> /b");
  class RenameFails extends MemoryFs {
    override async rename(): Promise<void> {
      throw boom;
    }
  }
  const fs = tracingFs(new RenameFails());
  await assert.rejects(fs.rename("/a", "/b"), (err: unknown) => err === boom);
  assert.deepEqual(fs.events.map((e) => [e.op, e.path, e.error]), [["rename", "a -> b", "EXDEV"]]);
});

function assertLatencyRows(rows: Row[], c: string, impl: string): void {
  const get = (metric: string) => rows.find((r) => r.case === c && r.impl === impl && r.metric === metric);
  const ps = ["p50", "p90", "p99"].map((m) => get(m));
  for (const r of ps) {
    assert.ok(r, `${c} / ${impl}: a row for every percentile`);
    assert.ok(Number.isFinite(r.value) && r.value > 0, `${c} / ${impl} ${r.metric} = ${r.value}`);
    assert.equal(r.unit, "ms");
    assert.ok((r.size ?? 0) > 0);
  }
  assert.ok(ps[0]!.value <= ps[1]!.value && ps[1]!.value <= ps[2]!.value, `${c} / ${impl}: p50 ≤ p90 ≤ p99`);
}

test(`the protocol suite, quick, measures every protocol, size and implementation under ${runtime}`, async () => {
  const dir = tempDir("bench-protocols");
  try {
    let last: [number, number] = [0, -1];
    const { rows, latencies = [] } = await runProtocolBench({
      quick: true,
      dir,
      onProgress: (d, t) => {
        last = [d, t];
      },
    });
    assert.equal(last[0], last[1], "progress reaches its total");
    assert.ok(rows.every((r) => r.suite === "protocols" && r.runtime === runtime));
    for (const p of PROTOCOLS) {
      for (const size of ["4 KiB", "1 MiB"]) {
        const c = `${p} ${size}`;
        const impls = [SAVE, WRITE, FLOOR, ...(p === "atomic_nodirsync" ? [WFA] : [])];
        assert.deepEqual(new Set(rows.filter((r) => r.case === c).map((r) => r.impl)), new Set(impls), c);
        for (const impl of impls) assertLatencyRows(rows, c, impl);
        const g = `${p} group 4x${size}`;
        for (const impl of [GROUP_SAVE, FLOOR]) assertLatencyRows(rows, g, impl);
        for (const [cc, impl] of [[c, SAVE], [c, WRITE], [g, GROUP_SAVE]] as const) {
          const o = rows.find((r) => r.case === cc && r.impl === impl && r.metric === "overhead vs floor");
          assert.ok(
            o && o.unit === "x" && Number.isFinite(o.value) && o.value > 0,
            `${cc} / ${impl}: overhead vs floor`,
          );
        }
      }
    }
    assert.ok(!rows.some((r) => r.case.includes("64 MiB")), "quick leaves out 64 MiB");
    const series = new Set(latencies.map((l) => `${l.case} / ${l.impl}`));
    const measured = new Set(rows.filter((r) => r.metric === "p50").map((r) => `${r.case} / ${r.impl}`));
    assert.deepEqual(series, measured, "one latency series per measured (case, impl)");
    for (const l of latencies) {
      assert.ok(l.ms.length > 0 && l.ms.every((x) => Number.isFinite(x) && x > 0), `${l.case} / ${l.impl}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test(`the timeline accounts for a whole save per protocol under ${runtime}`, async () => {
  const dir = tempDir("bench-timeline");
  try {
    const { rows, spans = [] } = await runTimeline({ quick: true, dir });
    for (const p of PROTOCOLS) {
      const c = `${p} save 1 MiB`;
      const mine = spans.filter((s) => s.case === c);
      const total = rows.find((r) => r.case === c && r.metric === "total");
      assert.ok(total && Number.isFinite(total.value) && total.value > 0, `${c}: total`);
      const ops = new Set(mine.map((s) => s.op));
      for (const op of ["open", "write", "close", "compute"]) assert.ok(ops.has(op), `${c}: a ${op} span`);
      assert.equal(ops.has("fsync"), p !== "unsafe", `${c}: fsync spans`);
      assert.equal(ops.has("rename"), p !== "unsafe", `${c}: rename span`);
      assert.equal(ops.has("dirsync"), p === "atomic_dirsync", `${c}: dirsync span`);
      // Gap-filled: each span starts where the previous ended, and together they make the total.
      let end = 0;
      for (const s of mine) {
        assert.ok(
          Math.abs(s.startMs - end) < 1e-6,
          `${c}: ${s.op} starts at ${s.startMs}, the previous span ended at ${end}`,
        );
        end = s.startMs + s.durMs;
      }
      assert.ok(Math.abs(end - total.value) < 1e-6, `${c}: spans end at ${end}, the save took ${total.value}`);
      for (const op of ops) {
        const r = rows.find((x) => x.case === c && x.metric === op);
        assert.ok(r && r.unit === "ms" && Number.isFinite(r.value) && r.value > 0, `${c}: the sum of ${op}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
