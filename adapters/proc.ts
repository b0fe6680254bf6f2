// Process identity from Linux /proc, shared by the Node/Bun and Deno adapters (each passes its
// own way to read a small text file). Elsewhere every reader returns undefined and the callers
// fall back to pid liveness alone.
import type { ProcessIdentity, ProcessState } from "../src/fs.ts";

/** Reads a small text file, or undefined if it cannot (missing, no permission, no /proc). */
export type ReadText = (path: string) => string | undefined;

export interface ProcStat {
  state: string;
  start: number;
}

/**
 * Parses /proc/<pid>/stat. Field 2 (comm) is the executable name in parentheses and may itself
 * contain spaces and ')' ("(a) b)"), so fields are counted from after the LAST ')': there,
 * field 3 (state) comes first and field 22 (starttime, clock ticks since boot) is the 20th.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const start = Number(fields[19]);
  if (fields.length < 20 || !Number.isSafeInteger(start) || start < 0) return undefined;
  return { state: fields[0]!, start };
}

export function bootIdOf(read: ReadText): string | undefined {
  const id = read("/proc/sys/kernel/random/boot_id")?.trim();
  return id && /^[0-9a-f-]{8,64}$/.test(id) ? id : undefined;
}

export function identityOf(pid: number, read: ReadText): ProcessIdentity {
  const stat = read(`/proc/${pid}/stat`);
  const start = stat === undefined ? undefined : parseProcStat(stat)?.start;
  const bootId = bootIdOf(read);
  return { pid, ...(start !== undefined ? { start } : {}), ...(bootId ? { bootId } : {}) };
}

/**
 * The state of `pid` from its /proc entry, or undefined when there is none to read (not Linux,
 * no such pid, hidepid): the caller then decides with its own liveness probe. A zombie is dead;
 * a start time other than `start` is another process that got the same pid.
 */
export function procState(pid: number, start: number | undefined, read: ReadText): ProcessState | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  const stat = parseProcStat(text);
  if (!stat) return undefined;
  if (stat.state === "Z" || stat.state === "X") return "dead";
  if (start !== undefined && stat.start !== start) return "dead";
  return "alive";
}
