// The durable-state workload for the power-loss explorer (`ckpt crashtest --mode powerloss`):
// a state with two changes and a snapshot made durable in setup, then three concurrent updates,
// a snapshot taken while they are in flight, and one more update. Recovery (openState on the
// crashed fs) must give an exact prefix of the six changes in issue order (no gap, no
// duplicate: "wrong-bytes"), never fewer than the two durable ones ("old-lost"), and every
// acknowledged change ("acked-lost"). Under `unsafe` the log runs with durability "none": only
// the prefix property is promised (a marker that never reached the disk can cost the fallback).
import type { Protocol } from "../protocol.ts";
import { openState, type StateOptions, StateRecoveryError } from "../state/state.ts";
import type { MemoryFs } from "../../adapters/memory.ts";
import type { Verdict, Workload } from "./explorer.ts";
import { type Durability, LogDamageError } from "../wal/log.ts";

const DIR = "/state";
const enc = new TextEncoder();
const dec = new TextDecoder();
const CHANGES = ["c1", "c2", "c3", "c4", "c5"];

function options(fs: MemoryFs, protocol: Protocol, durability: Durability): StateOptions<string[]> & { fs: MemoryFs } {
  return {
    initial: [],
    apply: (s, c) => {
      s.push(dec.decode(c));
      return s;
    },
    encode: (s) => enc.encode(JSON.stringify(s)),
    decode: (b) => JSON.parse(dec.decode(b)) as string[],
    fs,
    keepSnapshots: 1,
    log: { durability, maxSegmentBytes: 64 },
    store: { protocol, chunkSize: 256 },
  };
}

export function stateWorkload(
  protocol: Protocol,
  durability: Durability,
  durable: (build: (fs: MemoryFs) => Promise<void>) => Promise<MemoryFs>,
  promises: ReadonlySet<string>,
): Workload<string> {
  return {
    name: `state/${protocol}`,
    promises,
    setup: () =>
      durable(async (fs) => {
        const st = await openState(DIR, options(fs, "atomic_dirsync", "fsync"));
        await st.update(enc.encode("c0"));
        await st.update(enc.encode("c1"));
        await st.snapshot();
        await st.close();
      }),
    run: async (fs, ack) => {
      const st = await openState(DIR, options(fs, protocol, durability));
      try {
        const ups = ["c2", "c3", "c4"].map((c) => st.update(enc.encode(c)).then(() => ack(c)));
        const snap = st.snapshot();
        await Promise.all(ups);
        await snap;
        await st.update(enc.encode("c5"));
        ack("c5");
      } finally {
        await st.close().catch(() => {});
      }
    },
    check: async (fs, acked) => {
      const violations: Verdict["violations"] = [];
      let got: string[];
      try {
        const st = await openState(DIR, options(fs, protocol, durability));
        got = st.value;
        await st.close();
      } catch (err) {
        // Only reachable when the log ran without durability: a snapshot's marker, or records
        // before a truncation point, never reached the disk.
        if (err instanceof LogDamageError) violations.push({ property: "log-damage", message: err.message });
        else if (err instanceof StateRecoveryError) violations.push({ property: "old-lost", message: err.message });
        else throw err;
        return { outcome: "none", violations };
      }
      const all = ["c0", ...CHANGES];
      if (JSON.stringify(got) !== JSON.stringify(all.slice(0, got.length))) {
        violations.push({
          property: "wrong-bytes",
          message: `recovered ${JSON.stringify(got)}, not a prefix of ${JSON.stringify(all)}`,
        });
      }
      if (got.length < 2) {
        violations.push({ property: "old-lost", message: `recovered ${got.length} of the 2 durable changes` });
      }
      const lost = acked.filter((c) => !got.includes(c));
      if (lost.length > 0) {
        violations.push({
          property: "acked-lost",
          message: `acknowledged ${lost.join(",")} missing from ${JSON.stringify(got)}`,
        });
      }
      return { outcome: got.length === all.length ? "new" : got.length >= 2 ? "old" : "none", violations };
    },
  };
}
