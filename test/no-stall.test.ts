// Guarantee 12: the library does not stall its caller. Three kinds of evidence, each of which
// goes red when its protection is removed:
// - the adapters put long syscalls on the thread pool (a macrotask runs while they are pending)
//   and keep small-file calls synchronous (none does): deterministic, whatever the machine's load;
// - around save, load, verify and restore of a large checkpoint, the library's own longest stretch
//   without a turn of the event loop (src/pace.ts instrumentation, in this thread's CPU time) stays ≤ 25 ms,
//   and the 1 ms timer's largest gap is reported (asserted ≤ 25 ms with CKPT_STRICT_STALL=1: on
//   a loaded shared machine wall-clock gaps measure the scheduler, not the library);
// - aborts at random moments: always AbortError, nothing left behind, every handle closed.
// CKPT_LONG=1: 256 MiB and 50 abort trials.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import process from "node:process";
import { defaultFs } from "../adapters/detect.ts";
import * as offload from "../adapters/offload.ts";
import { LARGE_FILE_BYTES, SYNC_INLINE_BYTES } from "../adapters/offload.ts";
import { probed, threadCpuClock } from "../bench/loop-probe.ts";
import {
  decodeMemberTablePaced,
  encodeManifest,
  encodeManifestPaced,
  encodeMemberTable,
  type MemberEntry,
} from "../src/format/manifest.ts";
import { pace, paceStats, resetPaceStats } from "../src/pace.ts";
import { unlessAborted } from "../src/abort.ts";
import { memberFilePrefix } from "../src/store/layout.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { rng, runtime, test } from "./kit.ts";
import { repeating } from "./lib/interrupt-helpers.ts";

const MiB = 1 << 20;
const env = (k: string) => process.env[k];
const LONG = env("CKPT_LONG") === "1";
const STRICT = env("CKPT_STRICT_STALL") === "1";
const SIZE = (LONG ? 256 : 48) * MiB;
const BUDGET_MS = 25;

const scratch = (tag: string) => mkdtempSync(`${process.cwd()}/.test-nostall-${tag}-`);
const openFds = () => readdirSync("/proc/self/fd").length;

/**
 * The number of open descriptors once it is back to `fds`, or what it still is after 5 s. An
 * abort abandons an fsync or a flush-behind datasync already on the thread pool (src/abort.ts);
 * Deno closes a file only when its last pending operation ends, so its descriptor may outlive the
 * rejection by that sync's duration. A leak never comes back down.
 */
async function fdsSettled(fds: number): Promise<number> {
  const deadline = performance.now() + 5000;
  while (openFds() !== fds && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return openFds();
}
const listing = (dir: string) => readdirSync(dir).sort();

/**
 * Whether `fn`'s work left this thread: a synchronous syscall behind a promise settles within a
 * few microtasks; a call on the thread pool cannot settle before the event loop turns.
 */
async function leftThread(fn: () => Promise<unknown>): Promise<boolean> {
  const calls = offload.pooledCalls;
  let settled = false;
  const p = fn().then(() => {
    settled = true;
  });
  for (let i = 0; i < 100; i++) await null;
  const pending = !settled;
  await p;
  const pooled = offload.pooledCalls > calls;
  // Node and Bun (libuv / Bun's pool): a pooled call cannot settle before the loop turns. Deno
  // may poll a finished op within a microtask checkpoint, so there only the decision is checked.
  if (runtime !== "deno") assert.equal(pending, pooled, "a call went to the pool iff it did not settle synchronously");
  return pooled;
}

test(`adapter (${runtime}): small-file calls stay synchronous; fsync after > 1 MiB and I/O past ${LARGE_FILE_BYTES / MiB} MiB go to the thread pool`, async () => {
  const dir = scratch("adapter");
  const fs = defaultFs();
  try {
    const h = await fs.open(`${dir}/f`, { write: true, create: true });
    const small = new Uint8Array(4096).fill(1);
    assert.equal(await leftThread(() => h.write(small, 0)), false, "a 4 KiB write must stay a synchronous call");
    assert.equal(await leftThread(() => h.sync()), false, "an fsync after 4 KiB must stay a synchronous call");
    const piece = new Uint8Array(SYNC_INLINE_BYTES).fill(2);
    await h.write(piece, 4096);
    await h.write(piece, 4096 + piece.length);
    assert.equal(await leftThread(() => h.sync()), true, "an fsync after 2 MiB written must run on the thread pool");
    assert.equal(
      await leftThread(() => h.write(piece, LARGE_FILE_BYTES)),
      true,
      "a write past the large-file mark must run on the thread pool",
    );
    const back = new Uint8Array(piece.length);
    assert.equal(
      await leftThread(() => h.read(back, LARGE_FILE_BYTES)),
      true,
      "a read of a large file must run on the thread pool",
    );
    assert.deepEqual(back, piece);
    await h.close();
    const r = await fs.open(`${dir}/f`);
    const head = new Uint8Array(4096);
    assert.equal(await leftThread(() => r.read(head, 0)), false, "a read at the start of a file stays synchronous");
    assert.deepEqual(head, small);
    await r.close();
    // A file opened with a large sizeHint (a member whose size the save knows) is large from its
    // first byte: a synchronous 1 MiB write into a fresh file took up to 32 ms on a busy disk.
    const hinted = await fs.open(`${dir}/g`, { write: true, create: true, sizeHint: LARGE_FILE_BYTES });
    assert.equal(
      await leftThread(() => hinted.write(small, 0)),
      true,
      "the first write of a file hinted large must run on the thread pool",
    );
    await hinted.close();
    const hintedRead = await fs.open(`${dir}/f`, { sizeHint: LARGE_FILE_BYTES + piece.length });
    assert.equal(
      await leftThread(() => hintedRead.read(head, 0)),
      true,
      "a read of a file hinted large must run on the thread pool",
    );
    await hintedRead.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`every yield of pace lets the caller's due timers run (${runtime})`, async () => {
  // A yield that resumes before the timers phase starves the caller's timers (a MessageChannel
  // post in these runtimes: a 1 ms interval never fired in 500 ms of paced work). Here a loop of
  // 1 ms work items paced like the library's runs ~300 ms; each yield must be followed by a tick.
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
  }, 1);
  let missed = 0;
  let yieldsSeen = 0;
  try {
    await new Promise((r) => setTimeout(r, 5));
    resetPaceStats();
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      const s = performance.now();
      while (performance.now() - s < 1) { /* one item's work */ }
      const before = ticks;
      const p = pace();
      if (p) {
        await p;
        yieldsSeen++;
        if (ticks === before) missed++;
      }
    }
  } finally {
    clearInterval(timer);
  }
  assert.ok(yieldsSeen >= 10, `pace yielded only ${yieldsSeen} times in 300 ms`);
  assert.equal(missed, 0, `${missed} of ${yieldsSeen} yields resumed before the caller's due 1 ms timer ran`);
});

/** The largest timer gap while `data`, written to `path` through the adapter, is fsynced on the pool. */
async function bareFsyncGap(path: string, data: Uint8Array): Promise<number> {
  const h = await defaultFs().open(path, { write: true, create: true, sizeHint: data.length });
  try {
    for (let o = 0; o < data.length; o += MiB) await h.write(data.subarray(o, Math.min(o + MiB, data.length)), o);
    return (await probed(() => h.sync())).maxGapMs;
  } finally {
    await h.close();
    rmSync(path, { force: true });
  }
}

test(
  `event-loop probe around save, load, verify and restore of ${
    SIZE / MiB
  } MiB (${runtime}): no stretch without a turn > ${BUDGET_MS} ms`,
  async () => {
    const dir = scratch("probe");
    let s: Store | undefined;
    try {
      s = await openStore(`${dir}/store`, { fs: defaultFs() });
      const data = repeating(SIZE, 3);
      const store = s;
      const calls: [string, (attempt: number) => Promise<unknown>][] = [
        ["save", () => store.save([{ name: "weights", data }])],
        ["load", () => store.load()],
        ["verify", () => store.verify()],
        ["restore", (attempt) => store.restore(`${dir}/out-${attempt}`)],
      ];
      const lines: string[] = [];
      // The machine's own floor: timer gaps while an fsync of SIZE dirty bytes runs on the thread
      // pool and this thread runs no JavaScript at all. On this VM writeback delays timer wakeups by
      // 17-31 ms for 256 MiB (measured with node:fs alone). The calls that fsync that much (save,
      // restore) are held to that floor in strict mode, not to less than the machine can do.
      const floorGap = STRICT
        ? Math.max(await bareFsyncGap(`${dir}/floor`, data), await bareFsyncGap(`${dir}/floor`, data))
        : 0;
      if (STRICT) {
        lines.push(
          `floor: an fsync of ${SIZE / MiB} MiB alone (worst of two), timer gap ${floorGap.toFixed(1)} ms`,
        );
      }
      for (const [what, fn] of calls) {
        // A stretch over the budget is measured up to twice more: a missing pace() repeats on every run
        // (removing pacing fails all three); a major GC of the test isolate lands where it likes.
        let r: Awaited<ReturnType<typeof probed>>;
        let p: ReturnType<typeof paceStats>;
        let pooled = 0;
        for (let attempt = 1;; attempt++) {
          // A full collection first, so no mark-compact falls inside the call: an isolate of
          // `deno test` holds 83 MB of the runner's own heap before a test starts (an empty test
          // measures it; this library adds ~4 MB), so each mark-compact there pauses 15-31 ms
          // (--trace-gc), and a load's 48 MiB result, with the last run's still uncollected,
          // passes V8's external-memory limit and starts one. CI's load measured 32.5 and then
          // 28.6 ms on every run; the same suite measured 24.4 ms here once. That pause is the
          // runner's heap, not the library's work.
          collectGarbage();
          resetPaceStats({ cpu: threadCpuClock() ?? true });
          const calls0 = offload.pooledCalls;
          r = await probed(() => fn(attempt));
          p = paceStats();
          pooled = offload.pooledCalls - calls0;
          if (p.longestCpuMs <= BUDGET_MS || attempt === 3) break;
          lines.push(`${what}: ${p.longestCpuMs.toFixed(1)} ms of CPU in one stretch on the first run; measured again`);
        }
        lines.push(
          `${what}: ${r.ms.toFixed(0)} ms, timer gap ${r.maxGapMs.toFixed(1)} ms, library stretch ${
            p.longestMs.toFixed(1)
          } ms wall / ${p.longestCpuMs.toFixed(1)} ms CPU, ${p.yields} yields, ${pooled} pooled calls`,
        );
        assert.ok(
          p.longestCpuMs <= BUDGET_MS,
          `${what}: the library ran ${p.longestCpuMs.toFixed(1)} ms of CPU without letting the event loop turn`,
        );
        // Paced: every loop calls pace. It yields unless the loop already turns at every pooled call.
        assert.ok(p.calls > 0, `${what}: pace was never called`);
        assert.ok(
          p.yields > 0 || pooled >= SIZE / (1 << 20),
          `${what}: pace never yielded and the I/O stayed on this thread`,
        );
        const limit = what === "save" || what === "restore" ? Math.max(BUDGET_MS, floorGap + 5) : BUDGET_MS;
        if (STRICT) {
          assert.ok(
            r.maxGapMs <= limit,
            `${what}: the event loop stalled ${r.maxGapMs.toFixed(1)} ms (limit ${limit.toFixed(1)} ms)`,
          );
        }
      }
      console.log(`no-stall (${runtime}, ${SIZE / MiB} MiB):\n  ${lines.join("\n  ")}`);
    } finally {
      await s?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  300_000,
);

/**
 * A full collection where the runtime exposes one (Deno with --v8-flags=--expose-gc, as
 * scripts/test-all.sh runs it; Bun.gc), so a measured stretch does not also pay the test process's
 * GC debt. In Deno's test isolate (83 MB of the runner's heap before a test starts) the 100,000
 * entries this test builds were still young when the encoder ran, and V8 scavenges of 25-70 ms copied them while
 * encodeManifestPaced held the thread (--trace-gc; alone the encode stretch is 11 ms).
 */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

test(`a manifest of 100,000 members is encoded and decoded without a stretch > ${BUDGET_MS} ms (${runtime})`, async () => {
  const n = 100_000;
  const step = 7;
  const sha = new Uint8Array(32).fill(9);
  const members: MemberEntry[] = Array.from({ length: n }, (_, i) => ({
    name: `layer-${i}/w.bin`,
    file: `${memberFilePrefix(step)}${i}`,
    payloadSize: 100 + i,
    fileSize: 200 + i,
    chunkSize: 262144,
    fileSha256: sha,
    blockCrcs: [i >>> 0],
  }));
  const m = { step, createdAt: 1, meta: {}, members };
  // The best of three: a real stall is in every run; a GC thread's burst (process CPU time counts
  // every thread) or a descheduling is not.
  let bytes: Uint8Array = new Uint8Array(0);
  let enc = { longestMs: Infinity, longestCpuMs: Infinity, yields: 0, calls: 0 };
  for (let k = 0; k < 3; k++) {
    collectGarbage();
    resetPaceStats({ cpu: threadCpuClock() ?? true });
    bytes = await encodeManifestPaced(m);
    if (paceStats().longestCpuMs < enc.longestCpuMs) enc = paceStats();
  }
  const plain = encodeManifest(m);
  assert.equal(bytes.length, plain.length);
  for (let i = 0; i < plain.length; i++) {
    if (bytes[i] !== plain[i]) assert.fail(`the paced encoder differs at byte ${i}`);
  }
  // The table alone (what readManifest hands the decoder).
  const t = encodeMemberTable(members);
  let back: MemberEntry[] = [];
  let dec = { longestMs: Infinity, longestCpuMs: Infinity, yields: 0, calls: 0 };
  for (let k = 0; k < 3; k++) {
    collectGarbage();
    resetPaceStats({ cpu: threadCpuClock() ?? true });
    back = await decodeMemberTablePaced(t, "m", 0, memberFilePrefix(step));
    if (paceStats().longestCpuMs < dec.longestCpuMs) dec = paceStats();
  }
  assert.equal(back.length, n);
  assert.equal(back[n - 1]!.name, `layer-${n - 1}/w.bin`);
  console.log(
    `100,000-member manifest (${runtime}): encode stretch ${
      enc.longestCpuMs.toFixed(1)
    } ms CPU (${enc.yields} yields), decode ${dec.longestCpuMs.toFixed(1)} ms CPU (${dec.yields} yields)`,
  );
  assert.ok(enc.longestCpuMs <= BUDGET_MS, `encode held the thread ${enc.longestCpuMs.toFixed(1)} ms`);
  assert.ok(dec.longestCpuMs <= BUDGET_MS, `decode held the thread ${dec.longestCpuMs.toFixed(1)} ms`);
  assert.ok(enc.yields > 0 && dec.yields > 0, "encoding and decoding 100,000 entries must let the event loop turn");
});

test(`an fsync abandoned by an abort that fired before it was awaited rejects handled, not unhandled (${runtime})`, async () => {
  // The save aborted during its last write, then awaited the member's fsync under the signal: the
  // fsync was already running, its descriptor was closed by the cleanup, and its EBADF must not
  // escape as an unhandled rejection (Bun failed the abort trials with exactly that).
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => {
    unhandled.push(reason);
  };
  process.on("unhandledRejection", onUnhandled);
  try {
    const ac = new AbortController();
    ac.abort();
    let fail!: (e: Error) => void;
    const fsync = new Promise<void>((_, reject) => {
      fail = reject;
    });
    await assert.rejects(unlessAborted(fsync, ac.signal, "the save"), (e: Error) => e.name === "AbortError");
    fail(new Error("EBADF: bad file descriptor, fsync"));
    // Unhandled rejections are reported after the microtask queue drains: give it a few turns.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(unhandled, [], "the abandoned fsync's error was unhandled");
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test(
  `abort at random moments of a ${
    SIZE / MiB
  } MiB save (${runtime}): AbortError, no file left, latest unchanged, every handle closed`,
  async () => {
    const dir = scratch("abort");
    const trials = LONG ? 50 : 5;
    let s: Store | undefined;
    try {
      s = await openStore(`${dir}/store`, { fs: defaultFs() });
      const data = repeating(SIZE, 5);
      const t0 = performance.now();
      await s.save([{ name: "w", data }]); // the previous checkpoint, and the duration to aim at
      const full = performance.now() - t0;
      let prev = (await s.latest())!.step;
      let before = listing(`${dir}/store`);
      const fds = openFds();
      const next = rng(15);
      const latencies: number[] = [];
      let aborted = 0;
      for (let t = 0; t < trials; t++) {
        const ac = new AbortController();
        let firedAt = 0;
        // Anywhere from before the first chunk to the last fsync (90% of a full save's time).
        const timer = setTimeout(() => {
          firedAt = performance.now();
          ac.abort();
        }, Math.floor(next() * full * 0.9));
        try {
          const r = await s.save([{ name: "w", data }], { signal: ac.signal });
          // The timer came too late (this save ran faster than the first): it is the checkpoint the
          // next trials must leave untouched.
          clearTimeout(timer);
          assert.ok(r.step > prev);
          await s.prune(1);
          prev = r.step;
          before = listing(`${dir}/store`);
          continue;
        } catch (err) {
          assert.equal((err as Error).name, "AbortError", String(err));
          latencies.push(performance.now() - firedAt);
          aborted++;
        }
        assert.deepEqual(listing(`${dir}/store`), before, `trial ${t}: the aborted save left files`);
        assert.equal((await s.latest())?.step, prev, "the previous checkpoint is still latest");
        assert.equal(await fdsSettled(fds), fds, `trial ${t}: the aborted save left a descriptor open`);
      }
      const worst = Math.max(...latencies);
      console.log(
        `abort (${runtime}): ${aborted}/${trials} trials aborted mid-save, abort → rejection at most ${
          worst.toFixed(1)
        } ms (a full save: ${full.toFixed(0)} ms)`,
      );
      assert.ok(aborted >= Math.ceil(trials / 2), "most aborts must land mid-save");
      if (STRICT) assert.ok(worst <= BUDGET_MS, `an abort took ${worst.toFixed(1)} ms to reject`);
    } finally {
      await s?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  600_000,
);

test(
  `abort of load, verify and restore mid-way (${runtime}): AbortError, every handle closed, restore's staging removed`,
  async () => {
    const dir = scratch("abort-read");
    let s: Store | undefined;
    try {
      s = await openStore(`${dir}/store`, { fs: defaultFs() });
      await s.save([{ name: "w", data: repeating(SIZE, 6) }]);
      const store = s;
      const fds = openFds();
      const calls: [string, (signal: AbortSignal, onProgress: (d: number, t: number) => void) => Promise<unknown>][] = [
        ["load", (signal, onProgress) => store.load(undefined, { signal, onProgress })],
        ["verify", (signal, onProgress) => store.verify({ signal, onProgress })],
        ["restore", (signal, onProgress) => store.restore(`${dir}/out`, { signal, onProgress })],
      ];
      for (const [what, call] of calls) {
        const ac = new AbortController();
        let progressed = 0;
        // Abort once a third of the bytes are through: mid-way, whatever the machine's speed.
        const err = await call(ac.signal, (done, total) => {
          progressed = done;
          if (done >= total / 3) ac.abort();
        }).then(() => undefined, (e) => e as Error);
        assert.equal(err?.name, "AbortError", `${what}: ${String(err)}`);
        assert.ok(progressed > 0 && progressed < SIZE, `${what}: aborted mid-way (${progressed} bytes)`);
        assert.equal(await fdsSettled(fds), fds, `${what}: a descriptor was left open`);
      }
      assert.equal(existsSync(`${dir}/out`), false, "the aborted restore left its output");
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.startsWith(".ckpt-restore-")),
        [],
        "the aborted restore left its staging",
      );
      assert.equal((await s.verify()).ok, true);
    } finally {
      await s?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  300_000,
);
