// Runs the `ckpt` CLI as a child process in a given runtime, the way the contract documents:
// node dist/cli.js, deno run -A src/cli.ts, bun src/cli.ts.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runtime as current } from "../kit.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
type Rt = "node" | "deno" | "bun";

function bin(name: string): string {
  return `${ROOT}/node_modules/.bin/${name}`;
}

export function cliArgv(rt: Rt = current): string[] {
  if (rt === "node") {
    if (!existsSync(`${ROOT}/dist/cli.js`)) {
      throw new Error("dist/cli.js is missing: run `npx tsup` (npm test builds it)");
    }
    return [rt === current ? process.execPath : "node", `${ROOT}/dist/cli.js`];
  }
  if (rt === "deno") {
    return [rt === current ? process.execPath : bin("deno"), "run", "-A", "--quiet", `${ROOT}/src/cli.ts`];
  }
  return [rt === current ? process.execPath : bin("bun"), `${ROOT}/src/cli.ts`];
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

export function ckpt(
  args: string[],
  opts: { rt?: Rt; input?: string; cwd?: string; timeoutMs?: number } = {},
): CliResult {
  const [cmd, ...pre] = cliArgv(opts.rt);
  const r = spawnSync(cmd!, [...pre, ...args], {
    encoding: "utf8",
    input: opts.input,
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    timeout: opts.timeoutMs ?? 60_000,
  });
  if (r.error) throw r.error;
  const stdout = r.stdout ?? "";
  return {
    code: r.status ?? -1,
    stdout,
    stderr: r.stderr ?? "",
    json<T>() {
      return JSON.parse(stdout) as T;
    },
  };
}

/** A stack trace or a raw runtime error in output means bad input escaped as a crash. */
export function noCrash(r: CliResult): void {
  const text = r.stdout + r.stderr;
  if (/\n\s+at [^\n]+:\d+:\d+/.test(text) || /Uncaught|RuntimeError: unreachable|panicked/.test(text)) {
    throw new Error(`crash output (exit ${r.code}):\n${text.slice(0, 2000)}`);
  }
}
