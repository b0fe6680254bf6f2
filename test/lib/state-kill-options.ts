// The state both sides of the kill test open: a count and whether every change was the next one.
import type { StateOptions } from "../../src/state/state.ts";

export interface KillState {
  n: number;
  bad: boolean;
  first?: string;
}

const dec = new TextDecoder();
const enc = new TextEncoder();

export function killStateOptions(): StateOptions<KillState> {
  return {
    initial: { n: 0, bad: false },
    apply: (s, c) => {
      const got = dec.decode(c);
      // Change i must arrive as the (i+1)-th: anything else is a gap or a duplicate.
      if (got !== `c${s.n}` && !s.bad) {
        s.bad = true;
        s.first = `change ${got} arrived as number ${s.n}`;
      }
      s.n++;
      return s;
    },
    encode: (s) => enc.encode(JSON.stringify(s)),
    decode: (b) => JSON.parse(dec.decode(b)) as KillState,
    snapshotEvery: 250,
    keepSnapshots: 2,
    log: { maxSegmentBytes: 8192 },
  };
}
