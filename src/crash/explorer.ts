// The crash-state explorer. A workload runs on the power-loss simulator (adapters/memory.ts);
// the explorer cuts the power after mutating operation k for every k from 0 to the end, and at
// each k builds the states a reboot could find: which of the pending (unsynced) operations
// reached the disk — every subset when there are few, seeded random subsets plus every in-order
// prefix when there are many — with kept writes torn at 512-byte boundaries. Each state is
// handed to the workload's recovery check, which names the properties that broke. Counts and the
// first counter-example per property come back, the latter as a readable operation trace.
import { type CrashOptions, type MemoryFs, type PendingOp, SimulatedCrash } from "../../adapters/memory.ts";
import { crashStates, describeOp } from "../explore/crash-states.ts";
import { rng } from "../rng.ts";

/** What a recovery check saw in one crash state. */
export interface Verdict {
  /** "new": the operation's effect is there; "old": the state before it; "none": nothing valid. */
  outcome: "new" | "old" | "none";
  /** The newest thing on disk was torn or damaged (recovery had to skip it). */
  torn?: boolean;
  /** Broken properties, e.g. { property: "wrong-bytes", message }. Empty when all held. */
  violations: { property: string; message: string }[];
}

export interface Workload<A = unknown> {
  name: string;
  /** A fresh fs holding the durable starting state. */
  setup(): Promise<MemoryFs>;
  /** The operation under test; calls `ack` when something is acknowledged to the caller. */
  run(fs: MemoryFs, ack: (what: A) => void): Promise<void>;
  /** Recovers from a crashed fs and judges it against what was acknowledged. */
  check(fs: MemoryFs, acked: A[]): Promise<Verdict>;
  /** Properties this workload promises (a broken one is a violation; others are "permitted"). */
  promises: ReadonlySet<string>;
}

export interface ExploreOptions {
  seed?: number;
  /** Enumerate every subset of the pending ops when there are at most this many (default 14). */
  exhaustiveLimit?: number;
  /** Random subsets per crash point when there are more (default 24). */
  samples?: number;
  /** Tear points tried per pending write in the torn variants (default 3: first, middle, last). */
  tearsPerWrite?: number;
}

export interface CounterExample {
  property: string;
  message: string;
  crashAfter: number;
  kept: string[];
  trace: string[];
}

export interface ExploreResult {
  workload: string;
  /** Mutating operations the workload performs (crash points are 0..ops). */
  ops: number;
  crashPoints: number;
  states: number;
  exhaustivePoints: number;
  outcomes: { new: number; old: number; none: number };
  torn: number;
  /** States reached after the workload acknowledged something, and in how many all of it survived. */
  afterAck: { states: number; kept: number };
  /** States in which each property broke (promised or not). */
  broken: Record<string, number>;
  /** States that broke a promised property. */
  violations: number;
  first: Record<string, CounterExample>;
}

type Keep = NonNullable<CrashOptions["keep"]>;
interface Variant {
  keep: Keep;
  label: (ops: PendingOp[]) => string[];
}

export { describeOp };

/** The states a reboot at this point could find, as keep-decisions over `pending` (src/explore/crash-states.ts). */
export function crashVariants(
  pending: PendingOp[],
  next: () => number,
  o: Required<Omit<ExploreOptions, "seed">>,
): { variants: Variant[]; exhaustive: boolean } {
  const { states, exhaustive } = crashStates(pending, next, o);
  const variants = states.map((d): Variant => ({
    keep: (_op, i) => d[i] ?? false,
    label: (ops) =>
      ops.flatMap((
        op,
        i,
      ) => (d[i] === false || d[i] === undefined
        ? []
        : [`${describeOp(op)}${typeof d[i] === "number" ? ` (torn after ${d[i]} bytes)` : ""}`])
      ),
  }));
  return { variants, exhaustive };
}

/** Runs the workload to completion once and returns how many mutating ops it performs. */
async function measure<A>(w: Workload<A>): Promise<number> {
  const fs = await w.setup();
  const before = fs.steps;
  await w.run(fs, () => {});
  return fs.steps - before;
}

/** Runs the workload with the power cut after k ops; returns the stopped fs and the acks. */
async function runToCrash<A>(w: Workload<A>, k: number): Promise<{ fs: MemoryFs; acked: A[]; traceFrom: number }> {
  const fs = await w.setup();
  const before = fs.steps;
  const traceFrom = fs.trace.length;
  const acked: A[] = [];
  fs.crashAfter(k);
  try {
    await w.run(fs, (a) => acked.push(a));
  } catch (err) {
    // After the cut every call throws; code that catches and wraps errors may surface something
    // else, which is still the crash as long as the cut was reached.
    if (!(err instanceof SimulatedCrash) && fs.steps - before < k) throw err;
  }
  return { fs, acked, traceFrom };
}

export async function explore<A>(w: Workload<A>, options: ExploreOptions = {}): Promise<ExploreResult> {
  const o = {
    exhaustiveLimit: options.exhaustiveLimit ?? 14,
    samples: options.samples ?? 24,
    tearsPerWrite: options.tearsPerWrite ?? 3,
  };
  const next = rng(options.seed ?? 1);
  const ops = await measure(w);
  const res: ExploreResult = {
    workload: w.name,
    ops,
    crashPoints: ops + 1,
    states: 0,
    exhaustivePoints: 0,
    outcomes: { new: 0, old: 0, none: 0 },
    torn: 0,
    afterAck: { states: 0, kept: 0 },
    broken: {},
    violations: 0,
    first: {},
  };
  for (let k = 0; k <= ops; k++) {
    const { fs, acked, traceFrom } = await runToCrash(w, k);
    const { variants, exhaustive } = crashVariants(fs.pending, next, o);
    if (exhaustive) res.exhaustivePoints++;
    for (const v of variants) {
      const crashed = fs.crash({ keep: v.keep });
      let verdict: Verdict;
      try {
        verdict = await w.check(crashed, acked);
      } catch (err) {
        verdict = {
          outcome: "none",
          violations: [{ property: "recovery-threw", message: String((err as Error)?.stack ?? err) }],
        };
      }
      res.states++;
      res.outcomes[verdict.outcome]++;
      if (verdict.torn) res.torn++;
      if (acked.length > 0) {
        res.afterAck.states++;
        if (!verdict.violations.some((x) => x.property === "acked-lost")) res.afterAck.kept++;
      }
      let promisedBroken = false;
      for (const { property, message } of verdict.violations) {
        res.broken[property] = (res.broken[property] ?? 0) + 1;
        if (w.promises.has(property) || property === "recovery-threw") promisedBroken = true;
        res.first[property] ??= {
          property,
          message,
          crashAfter: k,
          kept: v.label(fs.pending),
          trace: fs.trace.slice(traceFrom),
        };
      }
      if (promisedBroken) res.violations++;
    }
  }
  return res;
}

/** A counter-example as text: what broke, where the power was cut, what reached the disk. */
export function formatCounterExample(w: string, c: CounterExample): string {
  const lines = [
    `${w}: ${c.property}: ${c.message}`,
    `  power cut after operation ${c.crashAfter}; the workload's operations:`,
    ...c.trace.map((t) => `    ${t}`),
    c.kept.length ? "  unsynced operations that reached the disk:" : "  no unsynced operation reached the disk",
    ...c.kept.map((t) => `    ${t}`),
  ];
  return lines.join("\n");
}
