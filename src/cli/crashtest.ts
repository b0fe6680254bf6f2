// `ckpt crashtest`: the crash and corruption experiments, with a table, CSV and an exit code that
// says whether every invariant the protocols promise held.
//   --mode powerloss  the explorer over save, group save, save with keep, rollback, prune, log append
//   --mode process    children saving in a loop, SIGKILLed at random moments, in each runtime
//   --mode corrupt    bitflip/zerorange/truncate injections + clean verifies (guarantee 2)
// Runtimes other than the one running this command get the whole experiment delegated to a
// child CLI in that runtime (--json), so every row is measured where its runtime name says.
import { spawn } from "node:child_process";
import { CkptError, EnvironmentError, UsageError } from "../errors.ts";
import { join } from "../path.ts";
import { parseProtocol, type Protocol, PROTOCOLS } from "../protocol.ts";
import { explore } from "../crash/explorer.ts";
import { corruptionExperiment } from "../crash/corruption.ts";
import { childLoop, processTrials, type Row } from "../crash/process.ts";
import { childLogLoop } from "../crash/process-log.ts";
import { workload, WORKLOADS } from "../crash/workloads.ts";
import type { Command, CommandContext } from "./command.ts";
import { intFlag } from "./flags.ts";
import { progress } from "./progress.ts";
import { csv, removeTree, table } from "../crash/report.ts";
import { isRuntime, requireCliArgv, type RuntimeName, RUNTIMES } from "./runtimes.ts";

const MODES = ["powerloss", "process", "corrupt"] as const;

function delegate(argv: string[], args: string[]): Promise<Row[]> {
  const [cmd, ...pre] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
    });
    child.on("error", (e) => reject(new EnvironmentError("ENORUNTIME", `cannot start ${cmd}: ${e.message}`)));
    child.on("close", () => {
      try {
        resolve((JSON.parse(out) as { rows: Row[] }).rows);
      } catch {
        reject(new CkptError("ECRASHTEST", `${cmd}: no crashtest report (${out.slice(0, 200)})`));
      }
    });
  });
}

async function powerloss(protocols: Protocol[], runtime: string, seed: number, tty: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const bar = progress(tty, "powerloss", protocols.length * WORKLOADS.length);
  for (const p of protocols) {
    for (const name of WORKLOADS) {
      const w = workload(name, p);
      const r = await explore(w, { seed });
      rows.push({
        mode: "powerloss",
        workload: name,
        protocol: p,
        runtime,
        trials: r.states,
        newestValid: r.outcomes.new,
        recoverable: r.outcomes.new + r.outcomes.old,
        torn: r.torn,
        ackedLost: r.broken["acked-lost"] ?? 0,
        ackStates: r.afterAck.states,
        ackKept: r.afterAck.kept,
        silent: r.broken["wrong-bytes"] ?? 0,
        violations: r.violations,
        note:
          `${r.crashPoints} crash points, ${r.exhaustivePoints} exhaustive; acknowledged effects kept in ${r.afterAck.kept}/${r.afterAck.states} states after an ack${
            Object.keys(r.broken).length ? `; broken ${JSON.stringify(r.broken)}` : ""
          }`,
      });
      bar.tick();
    }
  }
  bar.stop();
  return rows;
}

async function corrupt(trials: number, runtime: string, seed: number, tty: boolean): Promise<Row[]> {
  const bar = progress(tty, "corrupt", trials * 2);
  const out = await corruptionExperiment(trials, trials, seed, () => bar.tick());
  bar.stop();
  return out.map((c) => {
    const clean = c.mode === "clean";
    const effective = clean ? c.cleanVerifies : c.injections - c.noops;
    return {
      mode: "corrupt",
      workload: c.mode,
      protocol: "-",
      runtime,
      trials: effective,
      newestValid: 0,
      recoverable: 0,
      torn: 0,
      ackedLost: 0,
      silent: c.silent,
      detected: clean ? 0 : c.detected,
      falsePositives: c.falsePositives,
      violations: c.silent + c.falsePositives + (clean ? 0 : c.missed),
      note: clean
        ? "clean verifies of undamaged checkpoints"
        : `${c.noops} no-op draws (zeros over zeros) redrawn; ${
          Object.entries(c.regions).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${v.detected}/${v.n}`)
            .join(", ")
        }`,
    };
  });
}

async function processMode(
  ctx: CommandContext,
  protocols: Protocol[],
  rt: RuntimeName,
  trials: number,
  seed: number,
  workloads: string[],
): Promise<Row[]> {
  const argv = await requireCliArgv(ctx, rt);
  const base = join(ctx.tmpdir, `ckpt-crashtest-${ctx.fs.pid()}-${Math.floor(Math.random() * 1e9).toString(36)}`);
  await ctx.fs.mkdir(base);
  const rows: Row[] = [];
  const runs = (workloads.includes("save") ? protocols.length : 0) + (workloads.includes("log") ? 1 : 0);
  const bar = progress(ctx.stderrIsTTY, `process ${rt}`, runs * trials);
  try {
    if (workloads.includes("save")) {
      for (const p of protocols) {
        rows.push(
          await processTrials({
            fs: ctx.fs,
            dir: join(base, `${rt}-${p}`),
            argv,
            runtime: rt,
            protocol: p,
            trials,
            seed,
            onTrial: () => bar.tick(),
          }),
        );
      }
    }
    if (workloads.includes("log")) {
      rows.push(
        await processTrials({
          fs: ctx.fs,
          dir: join(base, `${rt}-log`),
          argv,
          runtime: rt,
          protocol: protocols[0]!,
          trials,
          seed,
          workload: "log",
          onTrial: () => bar.tick(),
        }),
      );
    }
  } finally {
    bar.stop();
    await removeTree(ctx.fs, base);
  }
  return rows;
}

export const crashtestCommand: Command = {
  name: "crashtest",
  usage:
    "crashtest [--protocol P] [--mode process|powerloss|corrupt] [--trials N] [--runtimes node,deno,bun] [--workload save|log|all] [--seed N] [--json] [--out DIR]",
  summary: "crash and corruption experiments: power-loss states, real process kills, injected damage",
  help: [
    "powerloss (default): every crash state of save, group save, save --keep, rollback, prune and log append on the simulator (--trials does not apply).",
    "process: children save in a loop (and append to a log) and are SIGKILLed at random; --trials kills per runtime and",
    "  protocol (default 30); --workload save|log|all (default all).",
    "corrupt: --trials injections (default 10000) into random checkpoint files, and as many clean verifies.",
    "Exit 1 if an invariant the protocol promises broke. CSV goes to --out DIR.",
  ].join("\n"),
  options: {
    protocol: { type: "string", arg: "P", help: "unsafe, atomic_nodirsync or atomic_dirsync (default: all three)" },
    mode: { type: "string", arg: "M", help: "powerloss (default), process or corrupt" },
    trials: { type: "string", arg: "N", help: "process: kills per runtime and protocol; corrupt: injections" },
    runtimes: { type: "string", arg: "LIST", help: "process: node,deno,bun (default: every one found)" },
    seed: { type: "string", arg: "N", help: "seed, so a run reproduces" },
    out: { type: "string", arg: "DIR", help: "write the results as CSV into DIR" },
    workload: { type: "string", arg: "W", help: "process: save, log or all (default)" },
  },
  exits: "0 every invariant held, 1 an invariant broke, 2 usage error, 3 a runtime cannot be found",
  async run(ctx) {
    const mode = (ctx.values.mode as string | undefined) ?? "powerloss";
    const seed = intFlag(ctx.values, "seed", 1) ?? 1;
    const protocols = ctx.values.protocol === undefined
      ? [...PROTOCOLS]
      : [parseProtocol(ctx.values.protocol as string)];
    if (mode === "child") {
      // Internal: the process-mode child. Never returns; the parent kills it.
      const dir = ctx.values.out as string;
      if (ctx.values.workload === "log") await childLogLoop(ctx.fs, dir, seed, () => ctx.out("ready"));
      await childLoop(ctx.fs, dir, protocols[0]!, seed, () => ctx.out("ready"));
    }
    if (!(MODES as readonly string[]).includes(mode)) {
      throw new UsageError(`--mode must be one of ${MODES.join(", ")}, got '${mode}'`);
    }
    const runtimes: RuntimeName[] = [];
    for (const rt of ((ctx.values.runtimes as string | undefined) ?? ctx.runtime).split(",").filter(Boolean)) {
      if (!isRuntime(rt)) throw new UsageError(`unknown runtime '${rt}' (expected ${RUNTIMES.join(", ")})`);
      runtimes.push(rt);
    }
    const trials = intFlag(ctx.values, "trials", 1) ?? (mode === "corrupt" ? 10_000 : 30);
    const workloadFlag = (ctx.values.workload as string | undefined) ?? "all";
    if (!["save", "log", "all"].includes(workloadFlag)) {
      throw new UsageError(`--workload must be save, log or all, got '${workloadFlag}'`);
    }
    const workloads = workloadFlag === "all" ? ["save", "log"] : [workloadFlag];
    const rows: Row[] = [];
    for (const rt of runtimes) {
      if (mode === "process") rows.push(...(await processMode(ctx, protocols, rt, trials, seed, workloads)));
      else if (rt !== ctx.runtime) {
        const args = [
          "crashtest",
          "--mode",
          mode,
          "--trials",
          String(trials),
          "--seed",
          String(seed),
          "--runtimes",
          rt,
          "--json",
        ];
        if (ctx.values.protocol !== undefined) args.push("--protocol", ctx.values.protocol as string);
        rows.push(...(await delegate(await requireCliArgv(ctx, rt), args)));
      } else if (mode === "powerloss") rows.push(...(await powerloss(protocols, rt, seed, ctx.stderrIsTTY)));
      else rows.push(...(await corrupt(trials, rt, seed, ctx.stderrIsTTY)));
    }
    const violations = rows.reduce((n, r) => n + r.violations, 0);
    if (typeof ctx.values.out === "string") {
      await ctx.fs.mkdir(ctx.values.out);
      const path = join(ctx.values.out, `crashtest-${mode}.csv`);
      const h = await ctx.fs.open(path, { write: true, create: true, truncate: true });
      try {
        await h.write(new TextEncoder().encode(csv(rows)), 0);
        await h.sync();
      } finally {
        await h.close();
      }
    }
    if (ctx.json) ctx.out(JSON.stringify({ mode, ok: violations === 0, violations, rows }));
    else {
      ctx.out(table(rows));
      ctx.out(
        violations === 0
          ? "every invariant the protocols promise held"
          : `${violations} violation(s) of a promised invariant`,
      );
    }
    return violations === 0 ? 0 : 1;
  },
};
