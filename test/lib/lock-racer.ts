// One racer of test/lock-race.test.ts, run as its own process in the runtime under test:
//   <runtime> lock-racer.ts <store-dir> <id> <journal> <go-file> <hold-ms> <die: 0|1>
// Prints "ready", waits for <go-file>, then takes the store's writer lock (retrying while a live
// process holds it), appends "enter <id>" and, <hold-ms> later, "exit <id>" to <journal> while it
// holds the lock, and releases it, or, with die=1, exits holding it (a crashed writer: its lock
// is stale for the others). Prints "took-over" for each stale lock it broke and "refused N".
import { appendFileSync, existsSync } from "node:fs";
import process from "node:process";
import { defaultFs } from "../../adapters/detect.ts";
import { LockedError } from "../../src/errors.ts";
import { StoreLock } from "../../src/lock/lock.ts";

const [dir, id, journal, go, holdMs, die] = process.argv.slice(-6) as [string, string, string, string, string, string];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const fs = defaultFs();
  console.log(`ready pid ${fs.pid()}`);
  const waitUntil = Date.now() + 30_000;
  while (!existsSync(go)) {
    if (Date.now() > waitUntil) throw new Error("no go signal");
    await sleep(1);
  }
  let refused = 0;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const lock = await StoreLock.acquire(fs, dir, () => console.log("took-over"));
      appendFileSync(journal, `enter ${id}\n`);
      await sleep(Number(holdMs));
      appendFileSync(journal, `exit ${id}\n`);
      console.log(`refused ${refused}`);
      if (die === "1") process.exit(0); // holding the lock: a crashed writer
      await lock.release();
      return;
    } catch (err) {
      if (!(err instanceof LockedError) || Date.now() > deadline) throw err;
      refused++;
      await sleep(1 + Math.random() * 4);
    }
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(`racer ${id}: ${String(err)}`);
  process.exit(2);
});
