// `ckpt explore <workload.mjs>`: loads a module exporting workload(fs), check(fs) and optionally
// setup(fs), runs the power-loss explorer on them (src/explore/explore.ts) and prints every
// violation with the operations that led to it. Exit 0 none, 1 violations.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { EnvironmentError, UsageError } from "../errors.ts";
import { explore, type ExploreOptions, type ExploreReport, type ExploreViolation } from "../explore/explore.ts";
import type { Command, CommandContext } from "./command.ts";
import { intFlag } from "./flags.ts";
import { progressReporter } from "./progress.ts";

/** Text from user code (their check's messages, file previews) with control characters escaped. */
function clean(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => (c === "\n" ? "\\n" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  );
}

async function load(path: string): Promise<Pick<ExploreOptions, "workload" | "check" | "setup">> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new EnvironmentError(
      "ENOMODULE",
      `cannot load ${path}: ${clean(String((err as Error)?.message ?? err).split("\n")[0]!)}`,
    );
  }
  for (const name of ["workload", "check"] as const) {
    if (typeof mod[name] !== "function") throw new UsageError(`${path} must export a function '${name}(fs)'`);
  }
  if (mod.setup !== undefined && typeof mod.setup !== "function") {
    throw new UsageError(`${path}: 'setup' must be a function`);
  }
  return mod as unknown as Pick<ExploreOptions, "workload" | "check" | "setup">;
}

/** At most `head` + `tail` lines of a long list, saying how many were left out (--json has them all). */
function shorten(xs: string[], head = 5, tail = 15): string[] {
  if (xs.length <= head + tail + 1) return xs;
  return [...xs.slice(0, head), `… ${xs.length - head - tail} more (--json lists them all)`, ...xs.slice(-tail)];
}

export function formatViolation(v: ExploreViolation, i: number, total: number, ops: number): string[] {
  const list = (
    xs: string[],
    none: string,
  ) => (xs.length ? shorten(xs).map((x) => `      ${clean(x)}`) : [`      ${none}`]);
  return [
    `violation ${i + 1} of ${total}: ${clean(v.error)}`,
    `  power cut after operation ${v.afterOp} of ${ops} (the same error in ${v.states} crash state${
      v.states === 1 ? "" : "s"
    }):`,
    ...(v.ops.length
      ? shorten(v.ops.map((o, k) => `${k + 1}. ${o}`)).map((o) => `      ${clean(o)}`)
      : ["      (before the first operation)"]),
    ...(v.acked.length ? [`  acknowledged before the crash: ${clean(JSON.stringify(v.acked))}`] : []),
    "  unsynced operations lost:",
    ...list(v.lost, "none"),
    "  unsynced operations that reached the disk:",
    ...list(v.kept, "none"),
    "  what check saw:",
    ...list(v.durable, "(empty)"),
  ];
}

export function formatReport(path: string, r: ExploreReport): string {
  const head = `${clean(path)}: ${r.ops} operations, ${r.crashPoints} crash points${
    r.pointsExplored < r.crashPoints ? ` (${r.pointsExplored} explored)` : ""
  }, ${r.crashStates} crash states (${r.exhaustive} exhaustive, ${r.sampled} sampled), seed ${r.seed}`;
  if (r.violations.length === 0) return `${head}\nno violations: check passed in every crash state`;
  const lines = [
    head,
    `${r.violations.length} violation${
      r.violations.length === 1 ? "" : "s"
    } (check threw in ${r.violationStates} crash states)`,
  ];
  r.violations.forEach((v, i) => lines.push("", ...formatViolation(v, i, r.violations.length, r.ops)));
  return lines.join("\n");
}

export const exploreCommand: Command = {
  name: "explore",
  usage: "explore <workload.mjs> [--seed N] [--max-states N] [--no-torn]",
  summary: "crash-check your own code: run a workload's every power-loss state through its check",
  help: [
    "The module exports workload(fs, { ack }), check(fs, { acked }) and optionally setup(fs); fs is",
    "shaped like node:fs/promises. The workload runs on the power-loss simulator; after every",
    "operation the states a reboot could find (subsets of the unsynced operations, torn writes)",
    "are built and check runs on each: a throw is a violation. See docs/EXPLORE.md.",
  ].join("\n"),
  options: {
    seed: { type: "string", arg: "N", help: "seed for the crash states' choices" },
    "max-states": { type: "string", arg: "N", help: "stop after N crash states" },
    "no-torn": { type: "boolean", help: "no torn writes, only subsets of unsynced operations" },
  },
  exits: "0 no violation, 1 violations found, 2 usage error, 3 the module cannot be loaded",
  async run(ctx: CommandContext): Promise<number> {
    const [path] = ctx.positionals;
    if (path === undefined) throw new UsageError("missing the workload module");
    if (ctx.positionals.length > 1) throw new UsageError(`unexpected argument '${ctx.positionals[1]}'`);
    const seed = intFlag(ctx.values, "seed") ?? 1;
    const maxStates = intFlag(ctx.values, "max-states", 1);
    const mod = await load(path);
    const bar = progressReporter(ctx.stderrIsTTY && !ctx.json, "explore");
    let r: ExploreReport;
    try {
      r = await explore({
        ...mod,
        seed,
        maxStates,
        torn: ctx.values["no-torn"] !== true,
        onProgress: (d, t) => bar.update(d, t),
      });
    } finally {
      bar.stop();
    }
    ctx.out(ctx.json ? JSON.stringify({ module: path, ...r }) : formatReport(path, r));
    return r.violations.length > 0 ? 1 : 0;
  },
};
