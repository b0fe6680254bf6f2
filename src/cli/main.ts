// Dispatches `ckpt <command> …`: parses flags strictly (unknown flag = usage error, exit 2),
// maps every error to its exit code with a one-line message, and never lets a stack trace out.
import { detectRuntime } from "../../adapters/detect.ts";
import { permissionError } from "../../adapters/errno.ts";
import { fsForCommand } from "../../adapters/fs-for-path.ts";
import { CkptError, CorruptionError, EnvironmentError, FsError, UsageError } from "../errors.ts";
import type { Command, CommandContext } from "./command.ts";
import { isAbortError } from "../abort.ts";
import { COMMANDS } from "./commands.ts";
import { parseCommandArgs } from "./args.ts";
import { explainFsMessage } from "./errno-words.ts";
import { escapeText } from "./escape.ts";
import { commandUsage, globalUsage } from "./help.ts";
import { didYouMean } from "./suggest.ts";

export const EXIT = { OK: 0, FOUND_DAMAGE: 1, USAGE: 2, IO: 3, INTERRUPTED: 130 } as const;

export interface Io {
  out(text: string): void;
  /** Bytes to stdout as they are (see CommandContext.writeOut). */
  writeOut?(bytes: Uint8Array): Promise<void>;
  err(text: string): void;
  stderrIsTTY: boolean;
  /** Whether stdout is a terminal (default false). */
  stdoutIsTTY?: boolean;
  self: string[];
  tmpdir: string;
  readStdin(limit: number): Promise<Uint8Array>;
  /** See CommandContext.interruptible (the entry point wires it to SIGINT/SIGTERM). */
  interruptible?: () => AbortSignal;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    return usageError(io, [], "ckpt", "no command given (ckpt help lists them)", globalUsage(COMMANDS));
  }
  if (name === "--help" || name === "-h") return printHelp(io, undefined, false);
  if (name === "--version" || name === "-V") {
    io.out("ckptkit 0.1.0");
    return EXIT.OK;
  }
  if (name === "help") return help(rest, io);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    return usageError(
      io,
      rest,
      "ckpt",
      escapeText(`unknown command '${name}'${didYouMean(name, commandNames())}`),
      globalUsage(COMMANDS),
    );
  }
  let ctx: CommandContext;
  try {
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) return printHelp(io, command, values.json === true);
    const quiet = values.quiet === true;
    ctx = {
      positionals,
      values,
      json: values.json === true,
      quiet,
      fs: fsForCommand(positionals, values),
      out: io.out,
      writeOut: io.writeOut,
      err: io.err,
      note: (text) => {
        if (!quiet) io.err(`note: ${text}`);
      },
      stderrIsTTY: io.stderrIsTTY && !quiet,
      stdoutIsTTY: io.stdoutIsTTY ?? false,
      runtime: detectRuntime(),
      self: io.self,
      get tmpdir() {
        return io.tmpdir;
      }, // read when a command needs it: Deno asks --allow-env for it
      readStdin: io.readStdin,
      interruptible: io.interruptible,
    };
  } catch (err) {
    if (!(err instanceof UsageError)) return report(err, command, io, rest.includes("--json"));
    return usageError(io, rest, `ckpt ${name}`, escapeText(err.message), commandUsage(command, false));
  }
  try {
    return await command.run(ctx);
  } catch (err) {
    return report(err, command, io, ctx.json);
  }
}

/** Computed on use: commands.ts imports this module back (the cycle the layers work removes). */
const commandNames = () => [...COMMANDS.map((c) => c.name), "help"];

/** `ckpt help [command]`: the same text as `ckpt <command> --help`. */
function help(args: string[], io: Io): number {
  const [topic, extra] = args.filter((a) => !["--json", "--quiet", "-q", "--help", "-h"].includes(a));
  if (topic === undefined || topic === "help") return printHelp(io, undefined, args.includes("--json"));
  const command = COMMANDS.find((c) => c.name === topic);
  if (!command || extra !== undefined) {
    const msg = extra !== undefined
      ? `one command at a time, got '${extra}'`
      : `unknown command '${topic}'${didYouMean(topic, commandNames())}`;
    return usageError(io, args, "ckpt help", escapeText(msg), "usage: ckpt help [command]");
  }
  return printHelp(io, command, args.includes("--json"));
}

/** The usage text, or with --json one document holding it (--json promises JSON on stdout). */
function printHelp(io: Io, command: Command | undefined, json: boolean): number {
  const usage = command ? commandUsage(command) : globalUsage(COMMANDS);
  io.out(json ? JSON.stringify({ command: command?.name ?? null, usage }) : usage);
  return EXIT.OK;
}

/** Exit 2: the one-line message, then the usage, on stderr (and with --json, one document on stdout). */
function usageError(io: Io, args: string[], who: string, message: string, usage: string): number {
  // --json promises one document on stdout whatever happens, a bad flag included.
  if (args.includes("--json")) io.out(JSON.stringify({ error: { code: "EUSAGE", message, exit: EXIT.USAGE } }));
  io.err(`${who}: ${message}`);
  io.err(usage);
  return EXIT.USAGE;
}

/** Maps an error to its exit code with a one-line message (and, with --json, a JSON document). */
function report(err: unknown, command: Command, io: Io, json: boolean): number {
  err = permissionError(err) ?? err; // a runtime permission refused outside an adapter (exit 3, naming the flag)
  let msg = (err as Error)?.message?.split("\n")[0] ?? String(err);
  if (err instanceof FsError) msg = explainFsMessage(msg, err); // "ENOENT: no such file or directory"
  const code = exitCodeOf(err);
  if (json) {
    io.out(
      JSON.stringify({ error: { code: (err as { code?: string })?.code ?? "EINTERNAL", message: msg, exit: code } }),
    );
  }
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
    io.err(commandUsage(command, false));
  } else if (err instanceof FsError || err instanceof CorruptionError || isAbortError(err)) {
    io.err(`ckpt ${command.name}: ${msg}`);
  } else if (err instanceof CkptError) {
    io.err(`ckpt ${command.name}: ${msg} [${err.code}]`);
  } else {
    io.err(`ckpt ${command.name}: internal error: ${msg}`);
  }
  return code;
}
