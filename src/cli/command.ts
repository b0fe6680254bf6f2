// The shape every CLI command shares. Commands parse their flags with node:util parseArgs
// (present in Node, Deno and Bun), print one JSON document with --json, and signal outcomes by
// exit code: 0 ok, 1 damage/none found, 2 usage, 3 environment or I/O.
import type { DurableFs } from "../fs.ts";

export type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

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
  /** Whether stderr is a terminal (progress bars only then). */
  stderrIsTTY: boolean;
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
  /** Longer help text shown by `ckpt <command> --help`. */
  help?: string;
  options: OptionSpec;
  /** Returns the exit code. Throws UsageError for bad arguments, FsError for I/O. */
  run(ctx: CommandContext): Promise<number>;
}
