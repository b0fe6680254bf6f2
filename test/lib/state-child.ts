// The child of test/state-kill.test.ts: reopens the durable state at argv[0] (recovering what the
// previous child left), then streams updates from 16 concurrent writers forever, with automatic
// snapshots, and writes each acknowledged change's index to the side file argv[1] (one write per
// ack: the page cache outlives a SIGKILL). Change i is the bytes of `c<i>`; the state checks
// each change against its own count, so a gap or a duplicate anywhere shows as `bad`.
import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";
import { openState } from "../../src/open.ts";
import { killStateOptions } from "./state-kill-options.ts";

const g = globalThis as { Deno?: { args: string[] } };
const [dir, ackPath] = g.Deno ? g.Deno.args : process.argv.slice(2);
const st = await openState(dir!, killStateOptions());
const ack = openSync(ackPath!, "a");
let next = st.value.n;
const enc = new TextEncoder();
process.stdout.write(`ready ${next} ${st.recovery.step ?? "-"} ${st.recovery.replayed}\n`);
async function writer(): Promise<never> {
  for (;;) {
    const i = next++;
    await st.update(enc.encode(`c${i}`));
    writeSync(ack, `${i}\n`);
  }
}
try {
  await Promise.all(Array.from({ length: 16 }, writer));
} finally {
  closeSync(ack);
}
