// Process kills for the log (guarantee 6): a child appends records in bursts (concurrent appends
// share a group commit) and, once a burst's appends resolved, writes their sequence numbers to an
// fsynced acks file. After the SIGKILL the parent replays the log read-only: the records must be
// gapless run of sequences ending at n whose payloads are exactly what was appended (a pure
// function of seed and sequence), with no damage reported and every acknowledged sequence at or
// below n. The next child reopens the log, cutting any torn tail and taking over the dead
// appender's lock. The child now and then truncates whole old segments (as an application does
// after a checkpoint), keeping at least its last 500 records, so the run starts above 1.
import type { DurableFs } from "../fs.ts";
import { readAcks } from "./acks.ts";
import { join } from "../path.ts";
import { randInt, rng } from "../rng.ts";
import { openLog, replayLog } from "../wal/log.ts";
import type { TrialVerdict } from "./trial-verdict.ts";
import { payload, sameBytes } from "./workloads.ts";

/** The payload of record `seq` in a run seeded `seed`: 0 B – 8 KiB. */
export function recordFor(seed: number, seq: number): Uint8Array {
  const next = rng(seed * 7_777_777 + seq);
  return payload(seed * 131 + seq, randInt(next, 0, 8 * 1024));
}

/** Records the child keeps when it truncates (older whole segments go). */
const KEEP_RECORDS = 500;

export async function childLogLoop(fs: DurableFs, dir: string, seed: number, ready: () => void): Promise<never> {
  const log = await openLog(join(dir, "log"), { fs, maxSegmentBytes: 256 * 1024 });
  const acks = await fs.open(join(dir, "acks"), { write: true, create: true });
  await acks.sync();
  await fs.syncDir(dir);
  let size = await acks.size();
  const next = rng(seed + log.nextSequence);
  ready();
  for (;;) {
    const burst = randInt(next, 1, 9);
    const appends: Promise<number>[] = [];
    for (let i = 0; i < burst; i++) appends.push(log.append(recordFor(seed, log.nextSequence)));
    const seqs = await Promise.all(appends);
    const line = new TextEncoder().encode(seqs.map((s) => `${s}\n`).join(""));
    await acks.write(line, size);
    await acks.sync();
    size += line.length;
    // Keep the log short (replay after each kill stays cheap) and put truncate under the kills too.
    if (next() < 0.05) await log.truncate({ before: Math.max(1, log.nextSequence - KEEP_RECORDS) });
  }
}

export async function judgeLogTrial(fs: DurableFs, dir: string, seed: number): Promise<TrialVerdict> {
  const { count, max: maxAck } = await readAcks(fs, join(dir, "acks"));
  let n = 0;
  let first: number | undefined;
  let exact = true;
  const rep = await replayLog(join(dir, "log"), {
    fs,
    onRecord: (r) => {
      // Sequences strictly increase; they may skip where a reopen cut a torn tail (the cut
      // sequences are never handed out again, docs/LOG.md "Sequence floor").
      if (first !== undefined && r.sequence <= n) exact = false;
      first ??= r.sequence;
      n = r.sequence;
      if (r.type !== "data" || !sameBytes(r.payload, recordFor(seed, r.sequence))) exact = false;
    },
  });
  // Truncation removes whole old segments only: what remains must still reach back far enough
  // that nothing recent was dropped (the child keeps its last KEEP_RECORDS records).
  if (first !== undefined && first > 1 && n - first + 1 < Math.min(KEEP_RECORDS, n)) exact = false;
  const clean = exact && rep.damage === null;
  return {
    newest: rep.truncatedBytes > 0 || rep.tornSegmentHeader ? "torn" : "valid",
    recoverable: clean,
    silent: !clean,
    ackedLost: maxAck > n,
    acked: count,
    maxAck,
  };
}
