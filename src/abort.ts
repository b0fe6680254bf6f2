// Cancellation for long calls (save, restore). An aborted call rejects with an error whose
// `name` is "AbortError" (the contract), whatever the caller passed to `abort(reason)`: the
// caller's own reason when it already is an AbortError, otherwise a DOMException, which Node,
// Deno and Bun all provide.

/** The error an aborted call rejects with. */
export function abortError(signal: AbortSignal, what = "the operation"): Error {
  const reason = signal.reason as unknown;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  return new DOMException(`${what} was aborted`, "AbortError");
}

/** Throws the AbortError if `signal` has fired; a property read, cheap enough for every chunk. */
export function checkAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

export function isAbortError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === "AbortError";
}

/** Pacing of abortPoint: how long a call may run before it lets the event loop turn. */
const TURN_MS = 10;
let lastTurn = 0;

// setImmediate, else a MessageChannel (a browser worker: nested setTimeout(0) is clamped to 4 ms,
// measured 5 ms a yield in Chromium against 0.03 ms for a message), else setTimeout.
const macrotask: () => Promise<void> = typeof (globalThis as { setImmediate?: unknown }).setImmediate === "function"
  ? () => new Promise((r) => (globalThis as unknown as { setImmediate(f: () => void): void }).setImmediate(r))
  : typeof MessageChannel === "function" ? channelTask : () => new Promise((r) => setTimeout(r, 0));

/** A fresh port pair per yield (at most one per TURN_MS), closed at once: an open port would keep Deno's event loop alive. */
function channelTask(): Promise<void> {
  return new Promise<void>((r) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => { port1.close(); r(); };
    port2.postMessage(0);
  });
}

/**
 * Where a long call may stop. The adapters do I/O as synchronous syscalls behind resolved
 * promises, so a save runs as one chain of microtasks: a signal handler or a timer that aborts
 * it could not run until it ended. With a signal, this lets the event loop turn at most every
 * TURN_MS (a setImmediate: a few µs) and then checks the signal; without one it costs nothing.
 */
export async function abortPoint(signal: AbortSignal | undefined, what?: string): Promise<void> {
  if (!signal) return;
  const now = Date.now();
  if (now - lastTurn >= TURN_MS) {
    lastTurn = now;
    await macrotask();
  }
  checkAborted(signal, what);
}
