// Flag helpers shared by every command. They live below main.ts and the command files so that
// the CLI's imports point one way (main → commands → *-commands → flags), with no cycle.
import { UsageError } from "../errors.ts";
import type { CommandContext } from "./command.ts";

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
