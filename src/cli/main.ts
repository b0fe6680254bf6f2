// Dispatches `ckpt <command> …`: parses flags strictly (unknown flag = usage error, exit 2),
// maps every error to its exit code with a one-line message, and never lets a stack trace out.
import { parseArgs } from "node:util";
import { detectRuntime } from "../../adapters/detect.ts";
import { permissionError } from "../../adapters/errno.ts";
import { S3_FLAGS, S3_FLAGS_HELP, fsForCommand } from "../../adapters/fs-for-path.ts";
import { CkptError, CorruptionError, EnvironmentError, FsError, UsageError } from "../errors.ts";
import type { Command, CommandContext } from "./command.ts";
import { isAbortError } from "../abort.ts";
import { COMMANDS } from "./commands.ts";
import { escapeText } from "./escape.ts";

export const EXIT = { OK: 0, FOUND_DAMAGE: 1, USAGE: 2, IO: 3, INTERRUPTED: 130 } as const;

export interface Io {
  out(text: string): void;
  /** Bytes to stdout as they are (see CommandContext.writeOut). */
  writeOut?(bytes: Uint8Array): Promise<void>;
  err(text: string): void;
  stderrIsTTY: boolean;
  self: string[];
  tmpdir: string;
  readStdin(limit: number): Promise<Uint8Array>;
  /** See CommandContext.interruptible (the entry point wires it to SIGINT/SIGTERM). */
  interruptible?: () => AbortSignal;
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: ckpt <command> [options]   (every command takes --json and --help)",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "exit codes: 0 ok, 1 damage found / nothing valid, 2 usage error, 3 I/O or environment error",
    "s3://bucket/prefix paths: every command also takes --endpoint, --region, --profile, --s3-checksum",
  ].join("\n");
}

function commandHelp(c: Command): string {
  // Commands that take paths take the s3:// flags too.
  const s3 = c.usage.includes("<") ? ["", S3_FLAGS_HELP] : [];
  return [`usage: ckpt ${c.usage}`, "", c.summary, ...(c.help ? ["", c.help] : []), ...s3].join("\n");
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? io.err : io.out)(usage());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === "--version" || name === "-V") {
    io.out("ckptkit 0.1.0");
    return EXIT.OK;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`ckpt: unknown command '${name}'`);
    io.err(usage());
    return EXIT.USAGE;
  }
  let ctx: CommandContext;
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...S3_FLAGS, ...command.options, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.out(commandHelp(command));
      return EXIT.OK;
    }
    ctx = {
      positionals,
      values: values as CommandContext["values"],
      json: values.json === true,
      fs: fsForCommand(positionals, values),
      out: io.out,
      writeOut: io.writeOut,
      err: io.err,
      stderrIsTTY: io.stderrIsTTY,
      runtime: detectRuntime(),
      self: io.self,
      get tmpdir() { return io.tmpdir; }, // read when a command needs it: Deno asks --allow-env for it
      readStdin: io.readStdin,
      interruptible: io.interruptible,
    };
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0]!;
    // --json promises one document on stdout whatever happens, a bad flag included.
    if (rest.includes("--json")) io.out(JSON.stringify({ error: { code: "EUSAGE", message: msg, exit: EXIT.USAGE } }));
    io.err(`ckpt ${name}: ${msg}`);
    io.err(`usage: ckpt ${command.usage}`);
    return EXIT.USAGE;
  }
  try {
    return await command.run(ctx);
  } catch (err) {
    return report(err, command, io, ctx.json);
  }
}

/** Maps an error to its exit code with a one-line message (and, with --json, a JSON document). */
function report(err: unknown, command: Command, io: Io, json: boolean): number {
  err = permissionError(err) ?? err; // a runtime permission refused outside an adapter (exit 3, naming the flag)
  const msg = (err as Error)?.message?.split("\n")[0] ?? String(err);
  const code = exitCodeOf(err);
  if (json) io.out(JSON.stringify({ error: { code: (err as { code?: string })?.code ?? "EINTERNAL", message: msg, exit: code } }));
  return emit(err, command, io, escapeText(msg), code); // messages may quote a store's names
}

function exitCodeOf(err: unknown): number {
  if (isAbortError(err)) return EXIT.INTERRUPTED; // the entry point makes it 143 for SIGTERM
  if (err instanceof UsageError) return EXIT.USAGE;
  if (err instanceof FsError) return EXIT.IO;
  if (err instanceof CkptError && err.code === "ELOCKED") return EXIT.IO;
  if (err instanceof EnvironmentError) return EXIT.IO;
  return EXIT.FOUND_DAMAGE;
}

function emit(err: unknown, command: Command, io: Io, msg: string, code: number): number {
  if (err instanceof UsageError) {
    io.err(`ckpt ${command.name}: ${msg}`);
    io.err(`usage: ckpt ${command.usage}`);
  } else if (err instanceof FsError || err instanceof CorruptionError || isAbortError(err)) {
    io.err(`ckpt ${command.name}: ${msg}`);
  } else if (err instanceof CkptError) {
    io.err(`ckpt ${command.name}: ${msg} [${err.code}]`);
  } else {
    io.err(`ckpt ${command.name}: internal error: ${msg}`);
  }
  return code;
}

/** Parses a non-negative integer flag, or throws a UsageError naming it. */
export function intFlag(values: CommandContext["values"], name: string, min = 0): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${String(v)}'`);
  }
  return Number(v);
}

/** Exactly n positionals, or a UsageError. */
export function need(ctx: CommandContext, n: number, what: string): string[] {
  if (ctx.positionals.length < n) throw new UsageError(`missing ${what}`);
  return ctx.positionals;
}
