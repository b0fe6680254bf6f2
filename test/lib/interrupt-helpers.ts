// Helpers for the interrupted-save tests: a large member from a repeating buffer, the CLI as a
// child process that can be signalled mid-save, polling, and a store directory's listing.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { cliArgv, ROOT } from "./cli.ts";

export const MiB = 1024 * 1024;

/** `size` bytes of a 4 KiB pseudo-random block repeated (cheap to build, not all one byte). */
export function repeating(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  const block = Math.min(4096, size);
  for (let i = 0; i < block; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  for (let filled = block; filled < size; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, size - filled));
  return out;
}

export interface Exit {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI in this runtime as a child; `done` resolves when it has exited. Signal it with `kill`
 * (process.kill by pid): Deno's child.kill() makes the child report that signal as its end even
 * when it handled it and exited with a code (and refuses a SIGCONT after a SIGSTOP).
 */
export function startCli(
  args: string[],
): { child: ChildProcess; done: Promise<Exit>; kill(sig: NodeJS.Signals): void } {
  const [cmd, ...pre] = cliArgv();
  const child = spawn(cmd!, [...pre, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Uint8Array) => {
    stdout += new TextDecoder().decode(d);
  });
  child.stderr!.on("data", (d: Uint8Array) => {
    stderr += new TextDecoder().decode(d);
  });
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const done = new Promise<Exit>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(child.pid!, sig);
    } catch (err) {
      if ((err as { code?: string }).code !== "ESRCH") throw err; // it had already exited
    }
  };
  return { child, done, kill };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every millisecond or so until it holds (false after `timeoutMs`). */
export async function waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(1);
  }
  return false;
}

/** A directory's entries, sorted (nothing hidden is skipped: temps and the lock count). */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * A fresh directory for real-runtime trials: on /dev/shm when there is one (tmpfs: the fsyncs of
 * hundreds of MiB are free, so the trials measure interruption, not the disk), else the temp dir.
 * CKPT_TEST_TMP picks another place (e.g. a real disk, where a signal may land during an fsync).
 */
export function scratchDir(tag: string): string {
  const base = process.env.CKPT_TEST_TMP ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
  return mkdtempSync(`${base}/ckpt-${tag}-`);
}

/** Trials for the real-process experiments: `ci` normally, `long` with CKPT_LONG=1. */
export function trials(ci: number, long: number): number {
  const n = Number(process.env.CKPT_TRIALS);
  if (Number.isSafeInteger(n) && n > 0) return n;
  return process.env.CKPT_LONG === "1" ? long : ci;
}
