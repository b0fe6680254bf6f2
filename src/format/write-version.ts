// Which format version new files are written in: FORMAT_VERSION (2) unless a process asks for 1,
// e.g. so that a store stays readable by an older ckptkit, or to measure v1 beside v2 in one run
// (bench/v2.ts). CKPTKIT_FORMAT_VERSION sets it for a process; setWriteFormatVersion() overrides.
import { UsageError } from "../errors.ts";
import { env } from "../env.ts";
import { FORMAT_VERSION, FORMAT_VERSION_MIN } from "./constants.ts";

let chosen: number | undefined;

function parse(v: unknown, from: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < FORMAT_VERSION_MIN || n > FORMAT_VERSION) {
    throw new UsageError(
      `${from}: expected a format version ${FORMAT_VERSION_MIN}..${FORMAT_VERSION}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

export function writeFormatVersion(): number {
  if (chosen !== undefined) return chosen;
  const e = env("CKPTKIT_FORMAT_VERSION");
  return e === undefined || e === "" ? FORMAT_VERSION : parse(e, "CKPTKIT_FORMAT_VERSION");
}

/** undefined restores the default (the environment, else FORMAT_VERSION). */
export function setWriteFormatVersion(v: number | undefined): void {
  chosen = v === undefined ? undefined : parse(v, "setWriteFormatVersion");
}
