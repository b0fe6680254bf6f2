// Ctrl-C during a CLI restore: the adapters do synchronous I/O, so restore lets the event loop
// turn (src/pace.ts, every 8 ms) before every chunk it writes and while it verifies which
// checkpoint to restore; SIGINT then aborts it, it removes everything it created (no out-dir if
// there was none, no staging directory, no temp files), and the CLI exits 130 at once instead of
// after the whole restore (before: up to three full passes over the checkpoint).
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "../src/path.ts";
import { runtime, test } from "./kit.ts";
import { ckpt } from "./lib/cli.ts";
import { listing, MiB, repeating, scratchDir, sleep, startCli, trials, waitFor } from "./lib/interrupt-helpers.ts";

const SIZE = 256 * MiB;
/** The contract asks for promptness; the figure measured is ~20–60 ms (the report). */
const PROMPT_MS = 1000;

interface Trial {
  label: string;
  existingOut: boolean;
  when: (dir: string, out: string) => Promise<void>;
}

const staging = (dir: string) => listing(dir).some((n) => n.startsWith(".ckpt-restore-"));
const temps = (out: string) => {
  try {
    return readdirSync(out).some((n) => n.startsWith(".ckpt-tmp-"));
  } catch {
    return false;
  }
};

const kinds: Trial[] = [
  { label: "300 ms after start", existingOut: false, when: () => sleep(300) },
  {
    label: "while writing into a new out-dir",
    existingOut: false,
    when: async (dir) => {
      assert.ok(await waitFor(() => staging(dir), 60_000), "no staging directory appeared");
      await sleep(30);
    },
  },
  {
    label: "while writing into an empty out-dir",
    existingOut: true,
    when: async (_dir, out) => {
      assert.ok(await waitFor(() => temps(out), 60_000), "no temp file appeared");
      await sleep(30);
    },
  },
];

test(
  `SIGINT during a CLI restore of a 256 MiB checkpoint (${runtime}): exit 130 within ${PROMPT_MS} ms, nothing left behind`,
  async () => {
    const dir = scratchDir(`restore-int-${runtime}`);
    try {
      const store = join(dir, "store");
      const src = join(dir, "big.bin");
      writeFileSync(src, repeating(SIZE, 5));
      const saved = ckpt(["save", store, src], { timeoutMs: 120_000 });
      assert.equal(saved.code, 0, saved.stderr);
      rmSync(src);
      const storeBefore = listing(store);
      const n = trials(1, 10);
      const latencies: number[] = [];
      let beforeHandler = 0;
      for (let t = 0; t < n; t++) {
        for (const k of kinds) {
          const out = join(dir, `out-${t}`);
          if (k.existingOut) mkdirSync(out);
          const before = listing(dir);
          const run = startCli(["restore", store, out]);
          await k.when(dir, out);
          const sent = Date.now();
          run.kill("SIGINT");
          const e = await run.done;
          const ms = Date.now() - sent;
          latencies.push(ms);
          assert.ok(
            !e.stdout.includes("restored step"),
            `${k.label}: the restore completed before the signal (${ms} ms)`,
          );
          // Early after the spawn the runtime may not have installed its handler yet: then the
          // default action ends it (it had opened nothing). Once restoring, it must exit 130.
          const early = k.existingOut === false && k.label.startsWith("300 ms") && e.code === null &&
            e.signal === "SIGINT";
          if (early) beforeHandler++;
          else assert.equal(e.code, 130, `${k.label}: exit ${e.code} (signal ${e.signal}): ${e.stderr}`);
          assert.ok(ms < PROMPT_MS, `${k.label}: exited ${ms} ms after SIGINT`);
          assert.deepEqual(listing(dir), before, `${k.label}: left files beside out-dir`);
          if (k.existingOut) {
            assert.deepEqual(listing(out), [], `${k.label}: left files in out-dir`);
            rmSync(out, { recursive: true });
          }
          assert.deepEqual(listing(store), storeBefore, `${k.label}: the store changed`);
        }
      }
      console.log(
        `restore SIGINT (${runtime}): ${latencies.length} trials, exit after ${Math.min(...latencies)}–${
          Math.max(...latencies)
        } ms, ${beforeHandler} signal(s) before the handler was installed`,
      );
      // And uninterrupted, the same command restores it all.
      const ok = ckpt(["restore", store, join(dir, "done")], { timeoutMs: 120_000 });
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(listing(join(dir, "done")), ["big.bin"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  300_000,
);
