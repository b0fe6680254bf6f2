// An event-loop probe (guarantee 12): a 1 ms timer whose largest gap between two firings is how
// long the thread was kept from running it. Used by bench/stall.ts and test/no-stall.test.ts.
// The gap includes the timer's own slack (~1 ms) and any time the OS did not schedule us, so on
// a loaded machine it is an upper bound of what the library held the thread.
import { readFileSync } from "node:fs";

export interface LoopProbe {
  /** Stops the timer; the largest gap seen (ms) and how many times it fired. */
  stop(): { maxGapMs: number; ticks: number };
}

export function startLoopProbe(): LoopProbe {
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const id = setInterval(() => {
    const t = performance.now();
    if (t - last > maxGap) maxGap = t - last;
    last = t;
    ticks++;
  }, 1);
  return {
    stop() {
      clearInterval(id);
      const t = performance.now();
      if (t - last > maxGap) maxGap = t - last; // a stall that lasted to the end counts too
      return { maxGapMs: maxGap, ticks };
    },
  };
}

/** Runs `fn` under the probe: its result, wall time and the largest gap. */
export async function probed<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; ms: number; maxGapMs: number; ticks: number }> {
  // One turn first, so the probe's first tick is not the timer's own start-up.
  await new Promise((r) => setTimeout(r, 5));
  const probe = startLoopProbe();
  await new Promise((r) => setTimeout(r, 3));
  const t0 = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - t0;
    return { value, ms, ...probe.stop() };
  } catch (err) {
    probe.stop();
    throw err;
  }
}

/**
 * A clock of the calling thread's CPU time (ms), where Linux exposes it
 * (/proc/thread-self/schedstat: nanoseconds on a CPU), else undefined. The process's CPU time
 * (process.cpuUsage) also counts the hashing workers, the runtime's I/O threads and V8's GC
 * helpers; once it passes the wall time, pace's cap at wall time counts the time the OS ran
 * other processes too. (A GC pause of the test isolate is this thread's own time: the probe test
 * collects garbage before each call for that, see test/no-stall.test.ts.)
 */
export function threadCpuClock(): (() => number) | undefined {
  const path = "/proc/thread-self/schedstat";
  const read = () => Number(readFileSync(path, "latin1").split(" ", 1)[0]) / 1e6;
  try {
    return Number.isFinite(read()) ? read : undefined;
  } catch {
    return undefined;
  }
}
