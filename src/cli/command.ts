// The shape every CLI command shares. Commands parse their flags with node:util parseArgs
// (present in Node, Deno and Bun), print one JSON document with --json, and signal outcomes by
// exit code: 0 ok, 1 damage/none found, 2 usage, 3 environment or I/O.
import type { DurableFs } from "../fs.ts";

/**
 * A command's flags. `help` is the flag's one-line description in `ckpt help <command>` and
 * `arg` names its value (`--step N`); a flag without `help` is internal: neither listed nor
 * suggested. Only type, multiple and short reach parseArgs (src/cli/args.ts).
 */
export type OptionSpec = Record<
  string,
  { type: "string" | "boolean"; multiple?: boolean; short?: string; help?: string; arg?: string }
>;

export interface CommandContext {
  /** Positional arguments after the command name. */
  positionals: string[];
  /** Parsed flags (strings, booleans, or string arrays for `multiple`). */
  values: Record<string, string | boolean | string[] | undefined>;
  json: boolean;
  fs: DurableFs;
  /** Writes a line to stdout. With --json, commands call it once with the document. */
  out(text: string): void;
  /** Writes bytes to stdout as they are (`cat`), resolving once the stream can take more. */
  writeOut?(bytes: Uint8Array): Promise<void>;
  /** Writes a line to stderr (human notes, warnings). */
  err(text: string): void;
  /**
   * Whether progress may be drawn on stderr: it is a terminal and --quiet was not given (then
   * this is false). Byte progress goes through progress.ts's byteProgress, which also checks --json.
   */
  stderrIsTTY: boolean;
  /** Whether stdout is a terminal (`cat` to a file shows progress, `cat` to a terminal does not). */
  stdoutIsTTY: boolean;
  /** --quiet: no progress and no notes (errors and results still print). */
  quiet: boolean;
  /** A human note on stderr ("note: …"), dropped under --quiet. The text is escaped by the caller. */
  note(text: string): void;
  /** The runtime running the CLI. */
  runtime: string;
  /** All of standard input (for `-` arguments), at most `limit` bytes. */
  readStdin(limit: number): Promise<Uint8Array>;
  /** The system's temp directory. */
  tmpdir: string;
  /** Path of the CLI entry and the argv prefix to re-run it in this runtime (for child processes). */
  self: string[];
  /**
   * A command that cleans up after itself calls this and passes the signal on: SIGINT/SIGTERM
   * then abort it (it removes what it wrote and the CLI exits 130/143). A command that does not
   * call it is ended at once by the signal.
   */
  interruptible?: () => AbortSignal;
}

export interface Command {
  name: string;
  /** One line: `save <store> <file>… [--step N] ...`. */
  usage: string;
  summary: string;
  /** Longer help text shown by `ckpt help <command>` and `ckpt <command> --help`. */
  help?: string;
  /** What each exit code means for this command: `0 saved, 2 usage error, 3 I/O error`. */
  exits?: string;
  options: OptionSpec;
  /** Returns the exit code. Throws UsageError for bad arguments, FsError for I/O. */
  run(ctx: CommandContext): Promise<number>;
}
