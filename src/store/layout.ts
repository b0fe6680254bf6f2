// Names inside a store directory. A checkpoint of step N is the files
//   step-<N, 16 digits>.member-<i>   each member, a container (kind MEMBER)
//   step-<N, 16 digits>.manifest     the member table, a container (kind MANIFEST): the commit point
// plus, store-wide, `.lock` (the writer lock, with its short-lived `.lock.<nonce>` temp files and
// `.lock.break-<nonce>-<k>` takeover tickets: docs/LOCK.md), `.quarantine/` (what rollback moved
// aside) and `.tmp-<pid>-<random>-<name>` temp files of in-flight atomic writes.
import { UsageError } from "../errors.ts";

export { LOCK_NAME } from "../lock/lock.ts"; // the lock lives below the store and the log, which share it
export const QUARANTINE_DIR = ".quarantine";
const STEP_DIGITS = 16;
const NAME_RE = /^step-(\d{16})\.(manifest|member-(\d{1,6}))$/;

export function stepPrefix(step: number): string {
  return `step-${String(step).padStart(STEP_DIGITS, "0")}`;
}
export function manifestName(step: number): string {
  return `${stepPrefix(step)}.manifest`;
}
export function memberName(step: number, index: number): string {
  return `${memberFilePrefix(step)}${index}`;
}
/** Member i of `step` is this prefix followed by i in decimal. */
export function memberFilePrefix(step: number): string {
  return `${stepPrefix(step)}.member-`;
}

export interface ParsedName {
  step: number;
  manifest: boolean;
  member?: number;
}

/** Parses a checkpoint file name; undefined for anything else (never touched by the store). */
export function parseName(name: string): ParsedName | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  return m[2] === "manifest"
    ? { step: Number(m[1]), manifest: true }
    : { step: Number(m[1]), manifest: false, member: Number(m[3]) };
}

export const MAX_STEP = 10 ** STEP_DIGITS - 1;

export function checkStep(step: number): number {
  if (!Number.isSafeInteger(step) || step < 1 || step > MAX_STEP) {
    throw new UsageError(`step must be an integer from 1 to ${MAX_STEP}, got ${step}`);
  }
  return step;
}

// The member-name rules live in one place (src/format/member-name.ts), shared by save and every
// read path; re-exported here for the callers that always found them beside the file names.
export { checkMemberName } from "../format/member-name.ts";
