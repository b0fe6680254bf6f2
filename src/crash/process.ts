// Real process kills. A child process (the CLI itself, `crashtest --mode child`, in the runtime
// under test) saves checkpoints in a loop into one store and, after each save resolves, appends
// the step to an acknowledgement file and fsyncs it: an ack exists only once that returned. The
// parent SIGKILLs the child at a random moment, then recovers the store as a restarted process
// would and checks: the newest valid checkpoint holds exactly the bytes some save was asked to
// write (the contents are a pure function of seed and step, so the parent regenerates them),
// and no acknowledged save is missing. The next child reopens the same store, taking over the
// dead writer's lock and removing its temp files, so recovery is exercised on every trial.
//
// The same for the log: see process-log.ts.
//
// A SIGKILL is not a power loss: what a killed process wrote is in the page cache and survives.
// So in this mode every protocol must keep every acknowledged save; the protocols differ only
// under power loss (see the explorer, --mode powerloss).
import { spawn } from "node:child_process";
import { CkptError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { join } from "../path.ts";
import type { Protocol } from "../protocol.ts";
import { randInt, rng } from "../rng.ts";
import { openStore } from "../store/store.ts";
import { readAcks } from "./acks.ts";
import { judgeLogTrial } from "./process-log.ts";
import type { TrialVerdict } from "./trial-verdict.ts";
import { payload, sameBytes } from "./workloads.ts";

export interface Row {
  mode: string;
  workload: string;
  protocol: string;
  runtime: string;
  trials: number;
  /** Trials (or states) whose newest checkpoint on disk verifies. */
  newestValid: number;
  /** Trials whose recovery found a checkpoint with exactly the bytes a save wrote (or, powerloss: old or new). */
  recoverable: number;
  /** Trials whose newest step was damaged (a committed checkpoint torn or corrupt). */
  torn: number;
  /** Process mode: trials whose newest step was a save the kill interrupted before its commit (not damage, guarantee 8). */
  incomplete?: number;
  ackedLost: number;
  silent: number;
  /** States/trials in which something had been acknowledged, and in how many recovery had it. */
  ackStates?: number;
  ackKept?: number;
  /** Corrupt mode: injections detected, and clean verifies that reported damage. */
  detected?: number;
  falsePositives?: number;
  /** Promised properties that broke. */
  violations: number;
  note?: string;
}

/** What save `step` of a run seeded `seed` writes: 1–4 members of 1 B – 192 KiB. */
export function childMembers(seed: number, step: number): { name: string; data: Uint8Array }[] {
  const next = rng(seed * 1_000_003 + step);
  const count = randInt(next, 1, 5);
  return Array.from(
    { length: count },
    (_, i) => ({ name: `part-${i}.bin`, data: payload(seed * 7919 + step * 31 + i, randInt(next, 1, 192 * 1024)) }),
  );
}

/** The child: save forever, acknowledging each save through an fsynced file. */
export async function childLoop(
  fs: DurableFs,
  dir: string,
  protocol: Protocol,
  seed: number,
  ready: () => void,
): Promise<never> {
  const store = await openStore(join(dir, "store"), { fs, protocol, chunkSize: 16 * 1024 });
  const ackPath = join(dir, "acks");
  const acks = await fs.open(ackPath, { write: true, create: true });
  await acks.sync();
  await fs.syncDir(dir);
  let size = await acks.size();
  ready();
  for (;;) {
    const steps = await store.steps();
    const step = (steps[0]?.step ?? 0) + 1;
    await store.save(childMembers(seed, step), { step, keep: 4 });
    const line = new TextEncoder().encode(`${step}\n`);
    await acks.write(line, size);
    await acks.sync();
    size += line.length;
  }
}

export interface ProcessOptions {
  fs: DurableFs;
  /** "save" (a checkpoint save loop, default) or "log" (append bursts). */
  workload?: "save" | "log";
  /** A fresh directory for this runtime × protocol (created here). */
  dir: string;
  argv: string[];
  runtime: string;
  protocol: Protocol;
  trials: number;
  seed: number;
  /** Longest wait between the child's "ready" and the kill, ms. */
  maxDelayMs?: number;
  onTrial?: () => void;
}

async function killAtRandom(argv: string[], delay: number): Promise<{ stderr: string; killed: boolean }> {
  const [cmd, ...args] = argv;
  return await new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let out = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.stderr!.on("data", (d: Uint8Array) => {
      stderr += new TextDecoder().decode(d);
    });
    child.stdout!.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      if (!timer && out.includes("ready")) timer = setTimeout(() => child.kill("SIGKILL"), delay);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      resolve({ stderr, killed: signal === "SIGKILL" && code === null && timer !== undefined });
    });
  });
}

/** The lines of a dead child's stderr that say why: the first error line (a runtime's own report ends in its version banner) and the last. */
export function childError(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return "(no output)";
  const first = lines.find((l) => /\b\w*Error\b|^error:|\[E[A-Z]+\]$/.test(l));
  return [...new Set([first, lines[lines.length - 1]!].filter((l): l is string => !!l))].join(" | ");
}

/** Recovery after one kill: what a restarted process finds in `dir`/store, against `dir`/acks. */
export async function judgeTrial(fs: DurableFs, dir: string, seed: number): Promise<TrialVerdict> {
  const { count, max: maxAck } = await readAcks(fs, join(dir, "acks"));
  const store = await openStore(join(dir, "store"), { fs, readOnly: true });
  const steps = await store.steps();
  const newest = steps[0] ? (await store.check(steps[0].step)).status : "none";
  const latest = await store.latest();
  let exact = false;
  if (latest) {
    const { members } = await store.load(latest.step);
    const want = childMembers(seed, latest.step);
    exact = want.length === members.size && want.every((m) => sameBytes(m.data, members.get(m.name)));
  }
  return {
    newest,
    recoverable: !!latest && exact,
    silent: !!latest && !exact,
    ackedLost: maxAck > 0 && (!latest || latest.step < maxAck),
    acked: count,
    maxAck,
  };
}

export async function processTrials(o: ProcessOptions): Promise<Row> {
  const log = o.workload === "log";
  const row: Row = {
    mode: "process",
    workload: log ? "log-append" : "save-loop",
    protocol: log ? "fdatasync" : o.protocol,
    runtime: o.runtime,
    trials: 0,
    newestValid: 0,
    recoverable: 0,
    torn: 0,
    ackedLost: 0,
    silent: 0,
    violations: 0,
  };
  const next = rng(o.seed);
  await o.fs.mkdir(o.dir);
  let acked = 0;
  let maxAck = 0;
  const argv = [
    ...o.argv,
    "crashtest",
    "--mode",
    "child",
    "--out",
    o.dir,
    "--protocol",
    o.protocol,
    "--seed",
    String(o.seed),
    "--workload",
    log ? "log" : "save",
  ];
  for (let t = 0; t < o.trials; t++) {
    const r = await killAtRandom(argv, randInt(next, 0, o.maxDelayMs ?? 250));
    if (!r.killed) {
      throw new CkptError(
        "ECRASHTEST",
        `the ${o.runtime} child (trial ${t + 1}) exited before it was killed: ${childError(r.stderr)}`,
      );
    }
    const j = await (log ? judgeLogTrial : judgeTrial)(o.fs, o.dir, o.seed);
    row.trials++;
    if (j.newest === "valid") row.newestValid++;
    else if (j.newest === "incomplete") row.incomplete = (row.incomplete ?? 0) + 1;
    else if (j.newest !== "none") row.torn++;
    if (j.recoverable) row.recoverable++;
    if (j.silent) row.silent++;
    if (j.ackedLost) row.ackedLost++;
    if (j.maxAck > 0) {
      row.ackStates = (row.ackStates ?? 0) + 1;
      if (!j.ackedLost) row.ackKept = (row.ackKept ?? 0) + 1;
    }
    // A kill is not a power loss: under the atomic protocols the manifest appears whole or not at
    // all, so a killed save leaves an incomplete step, never damage (unsafe writes it in place).
    const damaged = !log && o.protocol !== "unsafe" && (j.newest === "torn" || j.newest === "corrupt");
    if (j.ackedLost || j.silent || damaged) row.violations++;
    acked = j.acked;
    maxAck = j.maxAck;
    row.note = log
      ? `${acked} appends acknowledged over the trials, newest acknowledged sequence ${maxAck}`
      : `${acked} saves acknowledged over the trials, newest acknowledged step ${maxAck}`;
    o.onTrial?.();
  }
  return row;
}
