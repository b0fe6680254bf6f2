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
