// `ckpt bench`: every benchmark suite in a child process of each runtime (same code, same sizes),
// merged into one report: Markdown tables on stdout; CSV, JSON, SVG charts and a self-contained
// HTML page in --out. Children run one at a time so no two measurements share the CPU or disk.
import { spawn } from "node:child_process";
import process from "node:process";
import { EnvironmentError, UsageError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { readFile } from "../fs-util.ts";
import { join } from "../path.ts";
import { writeFileWithProtocol } from "../protocol.ts";
import { removeTree } from "../crash/report.ts";
import { runSuite, s3Configured, type SuiteName, SUITES } from "../../bench/suites.ts";
import type { LatencySeries, Row, Span, SuiteResult } from "../../bench/types.ts";
import type { Command, CommandContext } from "./command.ts";
import { progress } from "./progress.ts";
import { cliArgvFor, requireCliArgv, type RuntimeName, RUNTIMES, runtimeVersion } from "./runtimes.ts";

/** What a child hands back, through a file (its stdout carries progress lines). */
interface ChildReport {
  runtime: string;
  version: string;
  result: SuiteResult;
}

const STEP_UNITS = 100;

function list<T extends string>(flag: unknown, all: readonly T[], what: string): T[] | undefined {
  if (typeof flag !== "string") return undefined;
  const names = flag.split(",").map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new UsageError(`--${what} is empty`);
  for (const n of names) {
    if (!(all as readonly string[]).includes(n)) {
      throw new UsageError(`unknown ${what.replace(/s$/, "")} '${n}' (expected ${all.join(", ")})`);
    }
  }
  return names as T[];
}

/** Report files and child results need no durability: written in place, like `unsafe`. */
function writeText(fs: DurableFs, path: string, text: string): Promise<void> {
  return writeFileWithProtocol(fs, path, new TextEncoder().encode(text), "unsafe");
}

/** The child side: one suite in this runtime, result written to `resultPath`. */
async function child(
  ctx: CommandContext,
  suite: SuiteName,
  resultPath: string,
  workDir: string,
  quick: boolean,
): Promise<number> {
  const result = await runSuite(suite, {
    quick,
    dir: workDir,
    onProgress: (done, total) => ctx.out(JSON.stringify({ progress: [done, total] })),
  });
  const report: ChildReport = { runtime: ctx.runtime, version: runtimeVersion(), result };
  await writeText(ctx.fs, resultPath, JSON.stringify(report));
  return 0;
}

/** Runs argv to completion; progress lines on its stdout go to `onProgress`. Rejects with its last stderr line. */
function runChild(argv: string[], onProgress: (fraction: number) => void): Promise<void> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const c = spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let pending = "";
    let stderr = "";
    c.stdout!.on("data", (d: Uint8Array) => {
      pending += new TextDecoder().decode(d);
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const m = /^\{"progress":\[(\d+),(\d+)\]\}$/.exec(line.trim());
        if (m && Number(m[2]) > 0) onProgress(Number(m[1]) / Number(m[2]));
      }
    });
    c.stderr!.on("data", (d: Uint8Array) => {
      stderr = (stderr + new TextDecoder().decode(d)).slice(-4000);
    });
    c.on("error", (e) => reject(new EnvironmentError("EBENCH", `cannot start ${cmd}: ${e.message}`)));
    c.on("close", (code, signal) => {
      if (code === 0) resolve();
      else {
        const last = stderr.trim().split("\n").filter(Boolean).pop() ?? "";
        reject(new EnvironmentError("EBENCH", `exited with ${signal ?? code}${last ? `: ${last}` : ""}`));
      }
    });
  });
}

export const benchCommand: Command = {
  name: "bench",
  usage:
    "bench [--runtimes node,deno,bun] [--out DIR] [--quick] [--suites kernels,protocols,timeline,log,verify,v2,state,stall,s3] [--json]",
  summary: "benchmarks of protocols, kernels, log and verify in each runtime, side by side with their anchors",
  help: [
    "Runs each suite in a child process of each runtime, one at a time, and writes to DIR (default ./ckpt-bench):",
    "  report.html (tables and charts, self-contained), report.md, results.json, results.csv,",
    "  latencies.csv (every save latency sample), timeline.csv (one traced save per protocol), *.svg charts.",
    "Suites: kernels (CRC-32/SHA-256 vs hash-wasm, node:crypto, zlib, WebCrypto, Bun), protocols (save latency",
    "  p50/p90/p99 vs the same syscalls by hand and write-file-atomic), timeline, log (appends/s, replay), verify",
    "  (1 GiB store vs raw SHA-256), s3 (only when CKPTKIT_S3_ENDPOINT is set). The measuring happens in DIR,",
    "  so its filesystem is the one measured. --quick: fewer sizes and samples (about a minute).",
    "Runtimes default to every one found (deno and bun from node_modules/.bin or PATH); one asked for by",
    "  --runtimes that cannot be found is exit 3. Only ratios within one run mean anything.",
  ].join("\n"),
  options: {
    runtimes: { type: "string", arg: "LIST", help: "node,deno,bun (default: every one found)" },
    out: { type: "string", arg: "DIR", help: "where to measure and write the reports (default ./ckpt-bench)" },
    quick: { type: "boolean", help: "fewer sizes and samples (about a minute)" },
    suites: {
      type: "string",
      arg: "LIST",
      help: "kernels,protocols,timeline,log,verify,state,s3 (default: all that apply)",
    },
    child: { type: "string" },
    result: { type: "string" },
    work: { type: "string" },
  },
  exits: "0 every suite ran, 2 usage error, 3 a suite or a runtime asked for could not run (the rest is still written)",
  async run(ctx) {
    const quick = ctx.values.quick === true;
    if (typeof ctx.values.child === "string") {
      const [suite] = list(ctx.values.child, SUITES, "suites")!;
      if (typeof ctx.values.result !== "string" || typeof ctx.values.work !== "string") {
        throw new UsageError("--child needs --result and --work");
      }
      return child(ctx, suite!, ctx.values.result, ctx.values.work, quick);
    }
    const asked = list(ctx.values.runtimes, RUNTIMES, "runtimes");
    const suites = list(ctx.values.suites, SUITES, "suites") ??
      SUITES.filter((s) => s !== "s3" || s3Configured(process.env));
    const out = typeof ctx.values.out === "string" ? ctx.values.out : "ckpt-bench";
    await ctx.fs.mkdir(out);

    // Charts need the optional vega packages: without them, exit 3 naming them before any suite runs.
    await (await import("../../bench/charts.ts")).chartLibraries();
    const { machineInfo } = await import("../../bench/machine.ts");
    const machine = machineInfo(out);
    const skipped: { runtime: string; suite?: string; reason: string }[] = [];
    const argvs = new Map<RuntimeName, string[]>();
    for (const rt of asked ?? RUNTIMES) {
      // A runtime asked for by name must be there (exit 3); of the default three, missing ones are reported.
      if (asked) argvs.set(rt, await requireCliArgv(ctx, rt));
      else {
        const argv = await cliArgvFor(ctx, rt);
        if (argv) argvs.set(rt, argv);
        else skipped.push({ runtime: rt, reason: "not found" });
      }
    }
    for (const s of skipped) ctx.err(`ckpt bench: ${s.runtime} ${s.reason}, not measured`);

    const steps = [...argvs.keys()].flatMap((rt) => suites.map((suite) => ({ rt, suite })));
    const bar = progress(ctx.stderrIsTTY, "bench", steps.length * STEP_UNITS);
    const rows: Row[] = [];
    const latencies: LatencySeries[] = [];
    const spans: Span[] = [];
    const versions: Record<string, string> = {};
    const startedAt = new Date().toISOString();
    try {
      for (const { rt, suite } of steps) {
        const work = join(out, `.work-${rt}-${suite}-${ctx.fs.pid()}`);
        const resultPath = join(out, `.result-${rt}-${suite}-${ctx.fs.pid()}.json`);
        let shown = 0;
        const advance = (fraction: number) => {
          const units = Math.min(STEP_UNITS, Math.floor(fraction * STEP_UNITS));
          if (units > shown) bar.tick(units - shown);
          shown = Math.max(shown, units);
        };
        try {
          await ctx.fs.mkdir(work);
          await runChild([
            ...argvs.get(rt)!,
            "bench",
            "--child",
            suite,
            "--result",
            resultPath,
            "--work",
            work,
            ...(quick ? ["--quick"] : []),
          ], advance);
          const report = JSON.parse(new TextDecoder().decode(await readFile(ctx.fs, resultPath))) as ChildReport;
          versions[rt] = report.version;
          rows.push(...report.result.rows);
          latencies.push(...(report.result.latencies ?? []));
          spans.push(...(report.result.spans ?? []));
        } catch (err) {
          skipped.push({ runtime: rt, suite, reason: (err as Error).message.split("\n")[0]! });
        } finally {
          await removeTree(ctx.fs, work);
          await removeTree(ctx.fs, resultPath);
          advance(1);
        }
      }
    } finally {
      bar.stop();
    }

    const failures = skipped.filter((s) => s.suite !== undefined).map((s) => `${s.runtime} ${s.suite}: ${s.reason}`);
    const { kernelRatios, markdownTables, csvFiles, htmlReport } = await import("../../bench/report.ts");
    const { renderCharts } = await import("../../bench/charts.ts");
    rows.push(...kernelRatios(rows));
    const data = { rows, latencies, spans };
    const info = { startedAt, quick, machine, runtimes: versions, skipped };
    const charts = await renderCharts(data);
    const ran = [...argvs.keys()].filter((rt) => versions[rt] !== undefined);
    const markdown = markdownTables(rows, ran);
    const files: Record<string, string> = {
      ...csvFiles(data),
      "results.json": JSON.stringify({ ...info, ...data }, null, 1),
      "report.md": `# ckptkit bench ${startedAt}\n\n${
        ran.map((rt) => `${rt} ${versions[rt]}`).join(", ")
      }; ${machine.cpu}, ${machine.cores} cores\n\n${markdown}`,
      "report.html": htmlReport(data, charts, info),
    };
    for (const c of charts) files[c.file] = c.svg;
    for (const [name, text] of Object.entries(files)) await writeText(ctx.fs, join(out, name), text);

    if (ctx.json) {
      ctx.out(
        JSON.stringify({
          out,
          ok: failures.length === 0,
          files: Object.keys(files).sort(),
          machine,
          runtimes: versions,
          skipped,
          rows,
        }),
      );
    } else {
      ctx.out(markdown);
      ctx.out(`report: ${join(out, "report.html")} (charts, CSV and JSON beside it)`);
    }
    for (const f of failures) ctx.err(`ckpt bench: ${f}`);
    // A suite that could not run is an environment error (exit 3), reported after the rest is written.
    return failures.length ? 3 : 0;
  },
};
