// Usage text, rendered from each command's one description (src/cli/command.ts: usage, summary,
// help, the flags' `help`, exits). `ckpt help CMD`, `ckpt CMD --help` and the usage printed
// after a usage error all come from here, so they cannot drift apart.
import { S3_FLAGS_HELP } from "../../adapters/fs-for-path.ts";
import { GLOBAL_FLAGS } from "./args.ts";
import type { Command, OptionSpec } from "./command.ts";

const EXIT_CODES = "exit codes: 0 ok, 1 damage found / nothing valid, 2 usage error, 3 I/O or environment error";

/** `ckpt help`: every command with its summary. */
export function globalUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), "help".length);
  return [
    "usage: ckpt <command> [options]   (every command takes --json, --quiet and --help)",
    "",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  the usage of one command: ckpt help <command>`,
    "",
    EXIT_CODES,
    "s3://bucket/prefix paths: every command also takes --endpoint, --region, --profile, --s3-checksum",
  ].join("\n");
}

function flagLines(spec: OptionSpec): string[] {
  const rows = Object.entries(spec)
    .filter(([, o]) => o.help !== undefined)
    .map(([name, o]) => [`--${name}${o.arg ? ` ${o.arg}` : ""}${o.short ? `, -${o.short}` : ""}`, o.help!] as const);
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`);
}

/**
 * One command's usage: synopsis, flags with their descriptions, exit codes. `full` adds the
 * summary, the long help and the s3:// flags (help and --help); after a usage error the short
 * form goes to stderr under the one-line message.
 */
export function commandUsage(c: Command, full = true): string {
  const lines = [`usage: ckpt ${c.usage}`];
  if (full) lines.push("", c.summary, ...(c.help ? ["", c.help] : []));
  lines.push("", "flags:", ...flagLines({ ...c.options, ...GLOBAL_FLAGS }));
  lines.push("", `exit: ${c.exits ?? EXIT_CODES.replace(/^exit codes: /, "")}`);
  // Commands that take paths take the s3:// flags too.
  if (full && c.usage.includes("<")) lines.push("", S3_FLAGS_HELP);
  else lines.push(`details: ckpt help ${c.name}`);
  return lines.join("\n");
}
