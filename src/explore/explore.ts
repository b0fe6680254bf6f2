// `explore`: the power-loss explorer for the user's own code. The workload runs once on the
// simulator through a node:fs/promises facade; after every operation that changed the simulator
// (a crash point) the run pauses and the states a reboot could find there are built — the
// durable state plus subsets of the unsynced operations, torn writes at 512-byte boundaries
// (src/explore/crash-states.ts) — and `check` runs on each. A throw is a violation. Each distinct
// error is reported once, from the first crash point where it appears and, there, the state that
// loses the least: the shortest story that breaks the check.
//
// Budget: a first run counts the crash points and their states; when they exceed `maxStates`
// every point still gets an equal share (the state with every unsynced op lost first; past one
// state per point, the points themselves are spread evenly), so a long workload is sampled evenly
// rather than explored only at its start. Deterministic for a seed;
// `replayCrash` rebuilds one reported state from its decisions.
import { MemoryFs, SimulatedCrash } from "../../adapters/memory.ts";
import { CkptError } from "../errors.ts";
import { rng } from "../rng.ts";
import {
  crashStates,
  type Decisions,
  describeDecision,
  describeOp,
  lossWeight,
  sampleStates,
  stateCount,
  type StateOptions,
} from "./crash-states.ts";
import { NodeFsFacade } from "./node-fs.ts";
import { describeTree } from "./tree.ts";

export type ExploreFs = NodeFsFacade;

/** The workload's second argument: `ack(x)` records that x was acknowledged to its caller. */
export interface WorkloadContext {
  ack(value: unknown): void;
}
/** The check's second argument: what the workload had acknowledged when the power was cut. */
export interface CheckContext {
  /** Values passed to ack() before the crash, in order. */
  acked: unknown[];
  /** Operations performed before the crash. */
  afterOp: number;
  /** The workload had returned (the crash came after it finished). */
  done: boolean;
}
type SetupFn = (fs: ExploreFs) => unknown;
type WorkloadFn = (fs: ExploreFs, ctx: WorkloadContext) => unknown;
type CheckFn = (fs: ExploreFs, ctx: CheckContext) => unknown;

export interface ExploreOptions {
  /** The code under test: writes through `fs` as it would through node:fs/promises. */
  workload: WorkloadFn;
  /** Judges one crash state: throws if it is not acceptable. */
  check: CheckFn;
  /** Builds the initial state, which is then made durable. */
  setup?: SetupFn;
  seed?: number;
  /** Most crash states to check (default 20,000); past it, states are sampled evenly. */
  maxStates?: number;
  /** Also try writes torn at 512-byte sector boundaries (default true). */
  torn?: boolean;
  /** At most this many unsynced ops get every subset tried (default 10, i.e. 1,024 subsets). */
  exhaustiveLimit?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ExploreViolation {
  /** The power was cut after this many operations of the workload (0: before the first). */
  afterOp: number;
  /** Those operations, in order. */
  ops: string[];
  /** Unsynced operations that did not reach the disk (or only partly: torn). */
  lost: string[];
  /** Unsynced operations that did reach the disk. */
  kept: string[];
  /** The files `check` saw: path, size, the first bytes. */
  durable: string[];
  error: string;
  /** What the workload had acknowledged (ack) before the crash. */
  acked: unknown[];
  /** The crash came after the workload returned (for replayCrash). */
  done: boolean;
  /** Crash states in which this same error occurred. */
  states: number;
  /** Per unsynced op at the crash point: false lost, true kept, n torn after n bytes (for replayCrash). */
  keep: Decisions;
}

export interface ExploreReport {
  /** Crash states checked. */
  crashStates: number;
  /** Of them, states from crash points whose every subset was tried, and sampled ones. */
  exhaustive: number;
  sampled: number;
  /** Operations the workload performed; crash points are 0..ops. */
  ops: number;
  crashPoints: number;
  pointsExplored: number;
  seed: number;
  violations: ExploreViolation[];
  /** States in which check threw (all violations, counted per state). */
  violationStates: number;
}

const MAX_REPORTED = 100;
const DEFAULTS = { maxStates: 20_000, samples: 24, tearsPerWrite: 3 };

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name && err.name !== "Error" ? `${err.name}: ` : ""}${err.message}`;
  return String(err);
}

async function durableBase(setup: SetupFn | undefined): Promise<MemoryFs> {
  const mem = new MemoryFs();
  if (setup) {
    try {
      await setup(new NodeFsFacade(mem));
    } catch (err) {
      throw new CkptError("EEXPLORE", `setup threw before any crash: ${errorText(err)}`, { cause: err });
    }
  }
  return mem.crash({ keep: () => true }); // the initial state is durable
}

async function runWorkload(fs: NodeFsFacade, workload: WorkloadFn, acked: unknown[], what: string): Promise<void> {
  try {
    await workload(fs, {
      ack: (v) => {
        acked.push(v);
      },
    });
  } catch (err) {
    if (err instanceof SimulatedCrash || (err as Error)?.name === "AbortError") throw err;
    if (fs.dead) throw fs.dead;
    throw new CkptError("EEXPLORE", `${what} threw without a crash: ${errorText(err)}`, { cause: err });
  }
  if (fs.dead) throw fs.dead;
}

/** The largest per-point share b with Σ min(count, b) ≤ max. */
function share(counts: number[], max: number): number {
  if (counts.reduce((a, c) => a + c, 0) <= max) return Infinity;
  let lo = 1;
  let hi = Math.max(...counts);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (counts.reduce((a, c) => a + Math.min(c, mid), 0) <= max) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Which crash points get explored: all of them, or `max` spread evenly (always the last). */
function pointsToExplore(points: number, max: number): Set<number> {
  const out = new Set<number>();
  if (points <= max) { for (let k = 0; k < points; k++) out.add(k); }
  else for (let i = 0; i < max; i++) out.add(Math.floor(((i + 1) * points) / max) - 1);
  return out;
}

export async function explore(options: ExploreOptions): Promise<ExploreReport> {
  const { workload, check, setup, signal, onProgress } = options;
  if (typeof workload !== "function" || typeof check !== "function") {
    throw new CkptError("EUSAGE", "explore needs workload(fs) and check(fs) functions");
  }
  const seed = options.seed ?? 1;
  const maxStates = options.maxStates ?? DEFAULTS.maxStates;
  const so: StateOptions = {
    exhaustiveLimit: options.exhaustiveLimit ?? 10,
    samples: DEFAULTS.samples,
    tearsPerWrite: DEFAULTS.tearsPerWrite,
    torn: options.torn !== false,
  };
  signal?.throwIfAborted();
  const base = await durableBase(setup);

  // Pass 1: how many crash points, and how many states each would have.
  const counts: number[] = [1];
  const probe: NodeFsFacade = new NodeFsFacade(base.crash(), {
    after: () => {
      counts.push(stateCount(probe.mem.pending, so).count);
    },
  });
  await runWorkload(probe, workload, [], "the workload");
  const points = pointsToExplore(counts.length, maxStates);
  const b = share(counts.filter((_, k) => points.has(k)), maxStates);
  let total = 0;
  for (const k of points) total += Math.min(counts[k]!, b);

  const report: ExploreReport = {
    crashStates: 0,
    exhaustive: 0,
    sampled: 0,
    ops: 0,
    crashPoints: 0,
    pointsExplored: 0,
    seed,
    violations: [],
    violationStates: 0,
  };
  const byError = new Map<string, ExploreViolation>();
  const next = rng(seed);
  const ops: string[] = [];

  const acked: unknown[] = [];
  const explorePoint = async (mem: MemoryFs, done: boolean): Promise<void> => {
    const ctx = (): CheckContext => ({ acked: acked.slice(), afterOp: ops.length, done });
    const pending = mem.pending;
    const { count, exhaustive } = stateCount(pending, so);
    const complete = exhaustive && count <= b;
    const chosen = count <= b ? crashStates(pending, next, so).states : sampleStates(pending, next, so, b);
    const ordered = chosen.map((d, i) => ({ d, i, w: lossWeight(d) })).sort((x, y) => x.w - y.w || x.i - y.i);
    report.pointsExplored++;
    for (const { d } of ordered) {
      signal?.throwIfAborted();
      const keep = (_: unknown, i: number) => d[i] ?? false;
      let error: string | null = null;
      try {
        await check(new NodeFsFacade(mem.crash({ keep })), ctx());
      } catch (err) {
        error = errorText(err);
      }
      report.crashStates++;
      if (complete) report.exhaustive++;
      else report.sampled++;
      if (error !== null) {
        report.violationStates++;
        const seen = byError.get(error);
        if (seen) seen.states++;
        else if (byError.size < MAX_REPORTED) {
          byError.set(error, {
            afterOp: ops.length,
            ops: ops.slice(),
            error,
            states: 1,
            keep: d.slice(),
            acked: acked.slice(),
            done,
            lost: pending.flatMap((
              op,
              i,
            ) => (d[i] === true ? [] : [typeof d[i] === "number" ? describeDecision(op, d[i]!) : describeOp(op)])),
            kept: pending.flatMap((op, i) => (d[i] === true ? [describeOp(op)] : [])),
            durable: await describeTree(mem.crash({ keep })),
          });
        }
      }
      onProgress?.(report.crashStates, total);
    }
  };

  // Pass 2: the same run, pausing before each call that may change the simulator to check the
  // crash point the previous change made (and at the end, the point after the last one).
  let pendingPoint = true;
  let ackedWhenChecked = 0;
  let checking: Promise<void> | null = null;
  const fs: NodeFsFacade = new NodeFsFacade(base.crash(), {
    after: (description) => {
      ops.push(description);
      pendingPoint = true;
    },
    before: async () => {
      // Calls in flight at once (Promise.all) wait for a point being checked: the simulator must
      // not change under it.
      while (checking) await checking;
      if (!pendingPoint) return;
      pendingPoint = false;
      ackedWhenChecked = acked.length;
      if (!points.has(ops.length)) return;
      checking = explorePoint(fs.mem, false).catch((err: Error) => {
        fs.dead = err; // the workload may catch it; every later call throws it again
        throw err;
      }).finally(() => {
        checking = null;
      });
      await checking;
    },
  });
  await runWorkload(fs, workload, acked, "the workload");
  // The last point, once the workload returned: checked again if it acknowledged something after
  // the point was checked (a call that failed without changing anything, such as the unlink of a
  // temp file already renamed, checks the point early).
  if ((pendingPoint || acked.length !== ackedWhenChecked) && points.has(ops.length)) await explorePoint(fs.mem, true);
  report.ops = ops.length;
  report.crashPoints = ops.length + 1;
  report.violations = [...byError.values()];
  return report;
}

/**
 * Rebuilds one crash state — the power cut after `afterOp` operations, the unsynced ones kept
 * or lost per `keep` — and runs `check` on it: the error it throws, or null. A reported
 * violation replays to the same error.
 */
export async function replayCrash(
  options: Pick<ExploreOptions, "workload" | "check" | "setup">,
  at: { afterOp: number; keep: Decisions; done?: boolean },
): Promise<string | null> {
  const base = await durableBase(options.setup);
  const acked: unknown[] = [];
  let done = 0;
  let finished = false;
  const fs: NodeFsFacade = new NodeFsFacade(base.crash(), {
    after: () => {
      done++;
    },
    before: () => {
      if (done < at.afterOp || at.done === true) return;
      fs.dead = new SimulatedCrash(done);
      throw fs.dead;
    },
  });
  try {
    await runWorkload(fs, options.workload, acked, "the workload");
    finished = true;
  } catch (err) {
    if (!(err instanceof SimulatedCrash)) throw err;
  }
  if (done !== at.afterOp) {
    throw new CkptError(
      "EEXPLORE",
      `the workload performed ${done} operations, not ${at.afterOp}: is it deterministic?`,
    );
  }
  try {
    await options.check(new NodeFsFacade(fs.mem.crash({ keep: (_, i) => at.keep[i] ?? false })), {
      acked,
      afterOp: done,
      done: finished,
    });
    return null;
  } catch (err) {
    return errorText(err);
  }
}
