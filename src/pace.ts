// Pacing (guarantee 12, docs/ENGINE.md "Pacing: the 25 ms rule"). Every loop over chunks,
// members, table entries, checkpoints or log records awaits pace() once per iteration (or once
// per batch of cheap iterations). It checks the abort signal on every call and lets the event
// loop turn once PACE_MS have passed since it last turned, so no call of the library holds its
// caller's thread for longer than one iteration's work past PACE_MS (< 25 ms).
//
// Invariant: pace never yields before PACE_MS have passed since the loop was last seen turning,
// so a short call (a 4 KiB save) never pays for a macrotask. "Seen turning" is tracked by a
// probe: a macrotask armed by pace that stamps the time when it runs, so time the caller's own
// event loop spent elsewhere between two calls is not counted against the next one.
import { checkAborted } from "./abort.ts";

/** Work between two turns of the event loop, at most (ms); one chunk's work (≤ ~5 ms) fits under 25 ms. */
export const PACE_MS = 8;

const now: () => number = typeof performance !== "undefined" && typeof performance.now === "function"
  ? () => performance.now()
  : () => Date.now();

type Immediate = (f: () => void) => void;
const g = globalThis as { setImmediate?: Immediate; MessageChannel?: typeof MessageChannel };

/**
 * The probe's macrotask. In the server runtimes (those with setImmediate: Node, Deno 2, Bun) it is
 * a setTimeout(0): a turn then runs in the timers phase, after every timer of the caller's that is
 * due. Measured around 8 ms stretches with a 1 ms interval, the largest gap was 9–11 ms with the
 * timer against 17–18 ms with setImmediate, in all three runtimes (docs/ENGINE.md). The timer
 * costs no idle time: it is armed when a stretch begins, so it is long due when pace yields
 * PACE_MS later. Browsers have no setImmediate and throttle timers in background tabs (to 1 s or
 * more), so there it is a MessageChannel post, which is not throttled.
 */
const macrotask: (f: () => void) => void = (() => {
  if (typeof g.setImmediate === "function") {
    return (f: () => void) => {
      setTimeout(f, 0);
    };
  }
  if (typeof g.MessageChannel === "function") {
    const ch = new g.MessageChannel();
    const queue: (() => void)[] = [];
    ch.port1.onmessage = () => queue.shift()?.();
    return (f: () => void) => {
      queue.push(f);
      ch.port2.postMessage(0);
    };
  }
  return (f: () => void) => {
    setTimeout(f, 0);
  };
})();

/** When the current stretch without a turn of the event loop began (as far as pace knows). */
let lastTurn = now();
/**
 * A probe macrotask is pending. When it has run, the event loop has turned since pace last
 * looked: the stretch that counts starts at the next call (time the caller's own code spent
 * in between, or the loop spent idle, is not the library's).
 */
let armed = false;
/** Calls waiting for the probe: pace yields by waiting for it. */
let waiting: (() => void)[] = [];
/** Instrumentation: the longest stretch pace saw without a turn, and how often it yielded. */
let longest = 0;
let yields = 0;
let calls = 0;
/**
 * Optional instrumentation in CPU time (tests, benchmarks): on a loaded machine wall time also
 * counts the time the OS did not run this process, so a stretch is also measured as the process's
 * CPU time (process.cpuUsage, a getrusage: ~1 µs) when a test turns it on, capped by the stretch's
 * wall time (see pace()).
 */
type CpuUsage = () => { user: number; system: number };
let cpuClock: (() => number) | undefined;
let cpuAtTurn = 0;
let longestCpu = 0;

function probe(): void {
  armed = false;
  const w = waiting;
  waiting = [];
  for (const resolve of w) resolve();
}

/**
 * Checks `signal` (throws its AbortError, naming `what`) and, when PACE_MS have passed since the
 * event loop last turned, waits one macrotask. Returns undefined (no promise, nothing to wait
 * for) in the common case, so `await pace(…)` in a hot loop costs one microtask.
 */
export function pace(signal?: AbortSignal, what?: string): Promise<void> | undefined {
  checkAborted(signal, what);
  calls++;
  const t = now();
  if (!armed) {
    armed = true;
    lastTurn = t;
    if (cpuClock) cpuAtTurn = cpuClock();
    macrotask(probe);
    return undefined;
  }
  const ran = t - lastTurn;
  if (ran > longest) longest = ran;
  if (cpuClock) {
    // The process's CPU time also counts its other threads (V8's concurrent GC, a runtime's I/O
    // threads), and this thread cannot have run longer than the wall time: the smaller of the two
    // bounds this thread's work from above.
    const c = Math.min(cpuClock() - cpuAtTurn, ran);
    if (c > longestCpu) longestCpu = c;
  }
  if (ran < PACE_MS) return undefined;
  return yieldTurn(signal, what);
}

/**
 * pace()'s slow path, a function of its own: closures inside pace() would capture its arguments,
 * and JavaScriptCore then allocates an environment on every call, yielding or not.
 */
function yieldTurn(signal: AbortSignal | undefined, what: string | undefined): Promise<void> {
  yields++;
  // Checked again after the turn: an abort fired by a handler that ran in it is seen now, not
  // one iteration later.
  return new Promise<void>((resolve) => waiting.push(resolve)).then(() => checkAborted(signal, what));
}

/**
 * Instrumentation for tests and benchmarks: the longest run pace saw without a turn of the event
 * loop, in wall time and (after resetPaceStats({ cpu: true })) in CPU time (ms), its yields and
 * its calls (a loop whose I/O runs on the thread pool turns at every call and may never yield).
 */
export function paceStats(): { longestMs: number; longestCpuMs: number; yields: number; calls: number } {
  return { longestMs: longest, longestCpuMs: longestCpu, yields, calls };
}

/**
 * `cpu: true` measures stretches in the process's CPU time too; a function instead is a clock of
 * this thread's CPU time in ms (a test reads /proc/thread-self/schedstat, which the core cannot:
 * it imports no file system), so the hashing workers' and the GC helpers' time is not counted
 * against the thread whose stretch is measured.
 */
export function resetPaceStats(options: { cpu?: boolean | (() => number) } = {}): void {
  longest = 0;
  longestCpu = 0;
  yields = 0;
  calls = 0;
  lastTurn = now();
  const usage = (globalThis as { process?: { cpuUsage?: CpuUsage } }).process?.cpuUsage;
  cpuClock = typeof options.cpu === "function" ? options.cpu : options.cpu && typeof usage === "function"
    ? () => {
      const u = usage();
      return (u.user + u.system) / 1000;
    }
    : undefined;
  if (cpuClock) cpuAtTurn = cpuClock();
}
