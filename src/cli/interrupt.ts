// SIGINT and SIGTERM for the `ckpt` process (contract: exit 130 / 143, having removed what the
// interrupted operation had written). A command that can clean up after itself (save, restore)
// asks for an AbortSignal: the first signal aborts it, it removes its own partial files and
// returns, and the exit code becomes 130 or 143. Any other command, or a second signal, ends
// the process at once: it has written nothing that needs removing. A signal after the command
// returned ends the process with the command's own code (its work is complete). The listeners
// stay to the end: none of them keeps a runtime alive, and removing them would let a late signal
// kill the process by default action, as if it had been interrupted.
import process from "node:process";

type SignalName = "SIGINT" | "SIGTERM";
const CODES: Record<SignalName, number> = { SIGINT: 130, SIGTERM: 143 };

interface DenoSignals {
  addSignalListener(sig: SignalName, fn: () => void): void;
}

export interface Interrupts {
  /** For CommandContext.interruptible. */
  interruptible(): AbortSignal;
  /** The exit code to use once the command returned `code`. */
  exitCode(code: number): number;
}

export function watchInterrupts(): Interrupts {
  const controller = new AbortController();
  let taken = false;
  let received: SignalName | undefined;
  let finished: number | undefined;
  const handlers = new Map<SignalName, () => void>();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    handlers.set(sig, () => {
      if (finished !== undefined) process.exit(finished);
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
    exitCode(code) {
      finished = received && code === CODES.SIGINT ? CODES[received] : code;
      return finished;
    },
  };
}
