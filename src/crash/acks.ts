// The acknowledgement file a process-mode child writes: one decimal step or sequence per line,
// each line written and fsynced after the save or append it names resolved. It grows across all
// trials of a run (a log child acknowledges hundreds of records per trial, so 300 trials leave a
// few hundred thousand lines): count and maximum come from one pass, never from spreading the
// lines into Math.max, which exceeds the call stack past ~120,000 arguments (V8) or ~1,000,000
// (JavaScriptCore) and used to end a 300-trial run with "Maximum call stack size exceeded".
import type { DurableFs } from "../fs.ts";
import { readFile } from "../fs-util.ts";

export interface Acks {
  count: number;
  max: number;
}

/** Complete lines only: the last piece is a line whose write the kill cut short, or empty. */
export function parseAcks(text: string): Acks {
  let count = 0;
  let max = 0;
  let start = 0;
  for (let nl = text.indexOf("\n"); nl !== -1; start = nl + 1, nl = text.indexOf("\n", start)) {
    const v = Number(text.slice(start, nl));
    count++;
    if (v > max) max = v;
  }
  return { count, max };
}

export async function readAcks(fs: DurableFs, path: string): Promise<Acks> {
  return parseAcks(new TextDecoder().decode(await readFile(fs, path)));
}
