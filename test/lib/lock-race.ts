// The harness of test/lock-race.test.ts: N real processes of the current runtime race for a
// store whose lock was left by a dead process; each holder records itself in a journal while it
// holds the lock. Never two holders: "enter" always follows an "exit" (or the start).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import process from "node:process";
import { runtime } from "../kit.ts";
import { ROOT } from "./cli.ts";

export interface RaceReport {
  trials: number;
  processes: number;
  holds: number;
  takeovers: number;
  refusals: number;
  overlaps: number;
  failures: string[];
}

let bundled: string | undefined;

/** The racer's command line: Deno and Bun run the TypeScript; Node runs an esbuild bundle of it. */
export function racerArgv(): string[] {
  const src = `${ROOT}/test/lib/lock-racer.ts`;
  if (runtime === "deno") return [process.execPath, "run", "-A", "--quiet", src];
  if (runtime === "bun") return [process.execPath, src];
  if (!bundled || !existsSync(bundled)) {
    bundled = `${mkdtempSync(`${tmpdir()}/ckpt-racer-`)}/racer.mjs`;
    const r = spawnSync(`${ROOT}/node_modules/.bin/esbuild`, [
      src,
      "--bundle",
      "--platform=node",
      "--format=esm",
      `--outfile=${bundled}`,
      "--log-level=error",
    ], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`esbuild failed: ${r.stderr}`);
  }
  return [process.execPath, bundled];
}

/** A pid that was a real process on this host and has exited. */
export function deadPid(): number {
  const r = spawnSync("true");
  if (!r.pid) throw new Error("could not spawn `true`");
  return r.pid;
}

/** Overlapping holders in a journal of "enter <id>" / "exit <id>" lines. */
export function overlapsIn(journal: string): number {
  let holder: string | undefined;
  let overlaps = 0;
  for (const line of journal.split("\n").filter(Boolean)) {
    const [what, id] = line.split(" ");
    if (what === "enter") {
      if (holder !== undefined) overlaps++;
      holder = id;
    } else if (holder === id) {
      holder = undefined;
    }
  }
  return overlaps;
}

export interface Child {
  out: string;
  err: string;
  code: number | null;
  ready: Promise<void>;
  done: Promise<void>;
}

export function start(argv: string[]): Child {
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"] });
  const c: Child = { out: "", err: "", code: null, ready: Promise.resolve(), done: Promise.resolve() };
  c.ready = new Promise((resolve, reject) => {
    child.stdout!.on("data", (d: Uint8Array) => {
      c.out += new TextDecoder().decode(d);
      if (c.out.includes("ready")) resolve();
    });
    child.on("error", reject);
    child.on("close", () => resolve());
  });
  child.stderr!.on("data", (d: Uint8Array) => {
    c.err += new TextDecoder().decode(d);
  });
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000);
  c.done = new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(guard);
      c.code = code;
      resolve();
    })
  );
  return c;
}

export async function raceTrials(trials: number, processes: number, holdMs = 3): Promise<RaceReport> {
  const argv = racerArgv();
  const report: RaceReport = { trials, processes, holds: 0, takeovers: 0, refusals: 0, overlaps: 0, failures: [] };
  const root = mkdtempSync(`${tmpdir()}/ckpt-lockrace-`);
  try {
    for (let t = 0; t < trials; t++) {
      const dir = `${root}/store-${t}`;
      mkdirSync(dir);
      const journal = `${root}/journal-${t}`;
      const go = `${root}/go-${t}`;
      writeFileSync(journal, "");
      // The stale lock: an old-format one in even trials, a full one (nonce, boot id) in odd ones.
      const pid = deadPid();
      const stale = t % 2 === 0
        ? { pid, host: hostname(), since: Date.now() }
        : { pid, host: hostname(), since: Date.now(), bootId: readBootId(), start: 1, nonce: "ab".repeat(16) };
      writeFileSync(`${dir}/.lock`, JSON.stringify(stale));
      // Half of them die holding the lock, so most holds begin with a stale-lock takeover.
      const kids = Array.from(
        { length: processes },
        (_, i) => start([...argv, dir, String(i), journal, go, String(holdMs), i % 2 === 1 ? "1" : "0"]),
      );
      await Promise.all(kids.map((k) => k.ready));
      writeFileSync(go, "");
      await Promise.all(kids.map((k) => k.done));
      const text = readFileSync(journal, "utf8");
      report.overlaps += overlapsIn(text);
      report.holds += text.split("\n").filter((l) => l.startsWith("enter")).length;
      for (const [i, k] of kids.entries()) {
        report.takeovers += (k.out.match(/took-over/g) ?? []).length;
        report.refusals += Number(/refused (\d+)/.exec(k.out)?.[1] ?? 0);
        if (k.code !== 0) report.failures.push(`trial ${t} racer ${i}: exit ${k.code}: ${k.err.trim().slice(0, 300)}`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return report;
}

export function readBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "no-boot-id";
  }
}
