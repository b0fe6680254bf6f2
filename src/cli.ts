#!/usr/bin/env node
// The `ckpt` command. Runs unchanged as `node dist/cli.js`, `deno run -A src/cli.ts` and
// `bun src/cli.ts`; the runtime is detected, never passed.
import { tmpdir } from "node:os";
import process from "node:process";
import { UsageError } from "./errors.ts";
import { main } from "./cli/main.ts";
import { watchInterrupts } from "./cli/interrupt.ts";

const g = globalThis as { Deno?: { args: string[]; mainModule: string } };
const argv = g.Deno ? g.Deno.args : process.argv.slice(2);
const self = g.Deno
  ? [process.execPath, "run", "-A", new URL(g.Deno.mainModule).pathname]
  : [process.execPath, process.argv[1] ?? ""];

// A reader that went away (`ckpt list | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on?.("error", (err: { code?: string }) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
}

process.on("unhandledRejection", (err) => {
  process.stderr.write(`ckpt: internal error: ${(err as Error)?.message ?? err}\n`);
  process.exit(1);
});

const interrupts = watchInterrupts();
const code = await main(argv, {
  interruptible: interrupts.interruptible,
  out: (t) => process.stdout.write(`${t}\n`),
  // Back-pressure for `cat`: a full pipe buffer waits for 'drain' rather than growing memory.
  writeOut: (bytes) =>
    new Promise<void>((resolve) => {
      if (process.stdout.write(bytes)) resolve();
      else process.stdout.once("drain", resolve);
    }),
  err: (t) => process.stderr.write(`${t}\n`),
  stderrIsTTY: !!process.stderr.isTTY,
  stdoutIsTTY: !!process.stdout.isTTY,
  self,
  get tmpdir() {
    return tmpdir();
  }, // lazily: Deno without --allow-env refuses TMPDIR
  async readStdin(limit) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of process.stdin) {
      total += (chunk as Uint8Array).length;
      if (total > limit) throw new UsageError(`standard input exceeds ${limit} bytes`);
      parts.push(chunk as Uint8Array);
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  },
});
process.exitCode = interrupts.exitCode(code);
