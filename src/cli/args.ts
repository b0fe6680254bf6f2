// Parses one command's arguments. node:util parseArgs does the parsing (the same in Node, Deno
// and Bun); this file first walks the flags itself so that every mistake becomes a one-line
// UsageError in our words, naming the closest valid flag, instead of parseArgs' raw text.
import { parseArgs } from "node:util";
import { S3_FLAGS } from "../../adapters/fs-for-path.ts";
import { UsageError } from "../errors.ts";
import type { Command, CommandContext, OptionSpec } from "./command.ts";
import { didYouMean } from "./suggest.ts";

/** Flags every command takes (listed by `ckpt help <command>`). */
export const GLOBAL_FLAGS: OptionSpec = {
  json: { type: "boolean", help: "one JSON document on stdout, nothing else on stdout" },
  quiet: { type: "boolean", short: "q", help: "no progress bars and no notes (results and errors still print)" },
  help: { type: "boolean", short: "h", help: "this help" },
};

/** Every flag `command` accepts: its own, the global ones and the s3:// ones. */
export function flagsOf(command: Command): OptionSpec {
  return { ...(S3_FLAGS as unknown as OptionSpec), ...command.options, ...GLOBAL_FLAGS };
}

export interface ParsedArgs {
  values: CommandContext["values"];
  positionals: string[];
}

/** Parses `args` against the command's flags, or throws a UsageError naming what is wrong. */
export function parseCommandArgs(command: Command, args: string[]): ParsedArgs {
  const spec = flagsOf(command);
  const normalized = precheck(spec, args);
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
  for (const [name, o] of Object.entries(spec)) {
    options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: normalized, options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (err) {
    // precheck caught every case we know of; whatever parseArgs still refuses, in one line.
    throw new UsageError((err as Error).message.split("\n")[0]!.replace(/^TypeError( \[\w+\])?: /, ""));
  }
}

/**
 * Walks the flags before parseArgs: unknown long or short flags (with the closest valid one),
 * a value on a boolean flag, a missing value. Returns the arguments with `--flag -4` rewritten
 * as `--flag=-4`, so a negative number reaches the command's own range check.
 */
function precheck(spec: OptionSpec, args: string[]): string[] {
  const listed = Object.keys(spec).filter((n) => spec[n]!.help !== undefined || n in S3_FLAGS);
  const shorts = new Map(Object.entries(spec).flatMap(([n, o]) => (o.short ? [[o.short, n] as const] : [])));
  const show = (n: string) => `--${n}`;
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const o = spec[name];
      if (!o) throw new UsageError(`unknown flag --${name}${didYouMean(name, listed, show)}`);
      if (o.type === "boolean") {
        if (eq >= 0) throw new UsageError(`--${name} takes no value, got '${a.slice(eq + 1)}'`);
        out.push(a);
        continue;
      }
      if (eq >= 0) {
        out.push(a);
        continue;
      }
      const v = args[i + 1];
      if (v === undefined || (v.startsWith("-") && v !== "-" && !/^-\d/.test(v))) {
        throw new UsageError(`--${name} needs a value${o.arg ? ` (--${name} ${o.arg})` : ""}`);
      }
      out.push(`--${name}=${v}`);
      i++;
      continue;
    }
    if (a.startsWith("-") && a !== "-") {
      // Short flags are booleans only (-h, -q), so a cluster (-qh) is a run of them.
      for (const ch of a.slice(1)) {
        if (!shorts.has(ch)) throw new UsageError(`unknown flag ${a}${didYouMean(a.slice(1), listed, show)}`);
        if (spec[shorts.get(ch)!]!.type !== "boolean") {
          throw new UsageError(`-${ch} needs a value: write --${shorts.get(ch)} …`);
        }
      }
    }
    out.push(a);
  }
  return out;
}
