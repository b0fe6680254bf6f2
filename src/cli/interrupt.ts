// SIGINT and SIGTERM for the `ckpt` process (contract: exit 130 / 143, having removed what the
// interrupted operation had written). A command that can clean up after itself (save, restore)
// asks for an AbortSignal: the first signal aborts it, it removes its own partial files and
// returns, and the exit code becomes 130 or 143. Any other command, or a second signal, ends
// the process at once: it has written nothing that needs removing.
import process from "node:process";

type SignalName = "SIGINT" | "SIGTERM";
const CODES: Record<SignalName, number> = { SIGINT: 130, SIGTERM: 143 };

interface DenoSignals {
  addSignalListener(sig: SignalName, fn: () => void): void;
  removeSignalListener(sig: SignalName, fn: () => void): void;
}

export interface Interrupts {
  /** For CommandContext.interruptible. */
  interruptible(): AbortSignal;
  /** The exit code to use once the command returned `code`. */
  exitCode(code: number): number;
  /** Removes the listeners (a Deno signal listener would otherwise keep the process alive). */
  dispose(): void;
}

export function watchInterrupts(): Interrupts {
  const controller = new AbortController();
  let taken = false;
  let received: SignalName | undefined;
  const handlers = new Map<SignalName, () => void>();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    handlers.set(sig, () => {
      if (!taken || received) process.exit(CODES[sig]);
      received = sig;
      controller.abort(new DOMException(`interrupted by ${sig}`, "AbortError"));
    });
  }
  const deno = (globalThis as { Deno?: DenoSignals }).Deno;
  for (const [sig, fn] of handlers) {
    if (deno) deno.addSignalListener(sig, fn);
    else process.on(sig, fn);
  }
  return {
    interruptible() {
      taken = true;
      return controller.signal;
    },
    // An operation that finished despite the signal (its commit had happened) keeps its code.
    exitCode: (code) => (received && code === CODES.SIGINT ? CODES[received] : code),
    dispose() {
      for (const [sig, fn] of handlers) {
        if (deno) deno.removeSignalListener(sig, fn);
        else process.off(sig, fn);
      }
    },
  };
}
