// Real process kills: a child (this runtime) streams updates into a durable state with automatic
// snapshots, writing each acknowledged change to a side file; the parent SIGKILLs it at a random
// moment, reopens the state as a restarted process would, and checks that the value is an
// exact prefix of the changes (no gap, no duplicate: the state checks each change against its
// count) holding every acknowledged one. The next child continues from what was recovered, so
// every trial also recovers from the previous kill. CI runs a handful of kills per runtime;
// CKPT_LONG=1 runs 100 (figures in the report and docs/STATE.md).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { openState } from "../src/open.ts";
import { ROOT } from "./lib/cli.ts";
import { killStateOptions } from "./lib/state-kill-options.ts";
import { rng, runtime, test } from "./kit.ts";

const LONG = (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno?.env.get("CKPT_LONG") ??
  process.env.CKPT_LONG;
const TRIALS = LONG === "1" ? 100 : Number(LONG) > 1 ? Number(LONG) : 4;
const CHILD = `${ROOT}/test/lib/state-child.ts`;

/** Node runs the child bundled once by esbuild (tsx's start-up cost a second or more per kill). */
async function childArgv(dir: string): Promise<string[]> {
  if (runtime === "node") {
    const esbuild = await import("esbuild");
    await esbuild.build({
      entryPoints: [CHILD],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: `${dir}/child.mjs`,
      logLevel: "error",
    });
    return [process.execPath, `${dir}/child.mjs`];
  }
  if (runtime === "deno") return [process.execPath, "run", "-A", "--quiet", CHILD];
  return [process.execPath, CHILD];
}

/** Runs one child until `afterReadyMs` past its ready line, then SIGKILLs it. */
function killOne(
  argv: string[],
  dir: string,
  acks: string,
  afterReadyMs: number,
): Promise<{ ready: string; stderr: string }> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...args, dir, acks], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let ready = "";
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child never became ready: ${err.slice(0, 2000)}`));
    }, 60_000);
    child.stderr!.on("data", (b) => {
      err += String(b);
    });
    child.stdout!.on("data", (b) => {
      out += String(b);
      if (!ready && out.includes("\n")) {
        ready = out.split("\n")[0]!;
        setTimeout(() => child.kill("SIGKILL"), afterReadyMs);
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`child exited by itself (code ${code}): ${err.slice(0, 2000)}`));
      else resolve({ ready, stderr: err });
    });
  });
}

test("StateSurvivesSigkillDuringUpdatesAndSnapshotsWithAnExactPrefix", async () => {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-state-kill-`);
  const next = rng(1800 + TRIALS);
  let prevN = 0;
  let acked = 0;
  let fromSnapshot = 0;
  let maxReplay = 0;
  const t0 = performance.now();
  try {
    const argv = await childArgv(dir);
    for (let t = 0; t < TRIALS; t++) {
      const acks = `${dir}/acks-${t}`;
      const { ready } = await killOne(argv, `${dir}/s`, acks, 20 + ((next() * 400) | 0));
      const text = existsSync(acks) ? readFileSync(acks, "utf8") : "";
      let maxAck = -1;
      for (const line of text.split("\n")) if (line) maxAck = Math.max(maxAck, Number(line));
      acked += text.split("\n").length - 1;
      const st = await openState(`${dir}/s`, killStateOptions());
      try {
        const v = st.value;
        assert.equal(v.bad, false, `trial ${t}: ${v.first}`);
        assert.ok(
          v.n > maxAck,
          `trial ${t}: acknowledged change ${maxAck} lost (recovered ${v.n} changes; child said "${ready}")`,
        );
        assert.ok(v.n >= prevN, `trial ${t}: went back from ${prevN} to ${v.n} changes`);
        prevN = v.n;
        if (st.recovery.step !== null) fromSnapshot++;
        maxReplay = Math.max(maxReplay, st.recovery.replayed);
      } finally {
        await st.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(
    `state kills ${runtime}: ${TRIALS} kills, ${acked} acknowledged updates, ${prevN} changes recovered at the end, ${fromSnapshot} recoveries from a snapshot, longest replay ${maxReplay}, ${
      secs.toFixed(1)
    } s`,
  );
  assert.ok(prevN > 0, "no change was ever recovered");
}, 600_000);
