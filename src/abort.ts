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

/**
 * Waits for `p` unless `signal` fires first: then rejects at once with the AbortError and leaves
 * `p` to finish on its own (its result or error is dropped). Only for a call that is safe to
 * abandon while the caller undoes its work: an fsync of a file that is about to be removed (an
 * fsync queued on the thread pool that finds its descriptor closed, or reused, syncs nothing
 * that matters), never a write. This is what keeps an abort within 25 ms while an fsync of
 * hundreds of MiB runs for seconds (guarantee 12).
 */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, what?: string): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, what));
    // `p` is already running, whatever the signal says: it gets its handlers before anything
    // else, or an fsync abandoned by an abort that came first would reject unhandled (its
    // descriptor closed under it: EBADF), which fails the process in strict runtimes.
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
