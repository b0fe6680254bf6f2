// Snapshot + log: appenders run concurrently while checkpoints are taken; a marker ties each
// checkpoint to its log position. After a power loss at any step, recovery (newest valid
// checkpoint, then the records after its marker) must yield an exact prefix of the log that
// contains every acknowledged append: no gaps, no duplicates, nothing acknowledged lost.
import assert from "node:assert/strict";
import { MemoryFs, SimulatedCrash } from "../adapters/memory.ts";
import { openStore } from "../src/store/store.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { test } from "./kit.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function workload(fs: MemoryFs, acked: Set<number>): Promise<void> {
  const store = await openStore("/db/snap", { fs });
  const log = await openLog("/db/wal", { fs });
  const applied: number[] = []; // the application state: sequences applied, in order
  let stop = false;
  const appender = async (w: number) => {
    for (let i = 0; i < 6 && !stop; i++) {
      const seq = await log.append(enc.encode(`w${w}-${i}`));
      applied.push(seq);
      acked.add(seq);
    }
  };
  const checkpointer = async () => {
    for (let round = 0; round < 2; round++) {
      await Promise.resolve();
      const step = round + 1;
      // The marker's acknowledgement runs after those of every earlier record, so the state
      // captured right now is exactly the records before the marker.
      await log.mark(step);
      const state = applied.slice().sort((a, b) => a - b);
      await store.save([{ name: "state.json", data: enc.encode(JSON.stringify(state)) }], { step });
    }
  };
  try {
    await Promise.all([appender(0), appender(1), appender(2), checkpointer()]);
  } finally {
    stop = true;
  }
  await log.close();
  await store.close();
}

async function recoverState(fs: MemoryFs): Promise<number[]> {
  let state: number[] = [];
  let after: number | undefined;
  if (await fs.stat("/db/snap")) {
    const store = await openStore("/db/snap", { fs, readOnly: true });
    const latest = await store.latest();
    if (latest) {
      state = JSON.parse(dec.decode((await store.load(latest.step)).members.get("state.json")!));
      after = latest.step;
    }
  }
  if (await fs.stat("/db/wal")) {
    await replayLog("/db/wal", {
      fs,
      afterMarker: after,
      onRecord: (r) => {
        if (r.type === "data") state.push(r.sequence);
      },
    });
  }
  return state;
}

test("SnapshotPlusLogRecoversAnExactPrefixAfterACrashAtEveryStep", async () => {
  let k = 0;
  let checked = 0;
  for (; k < 400; k++) {
    const fs = new MemoryFs();
    await fs.mkdir("/db");
    await fs.syncDir("/");
    fs.crashAfter(k);
    const acked = new Set<number>();
    let finished = false;
    try {
      await workload(fs, acked);
      finished = true;
    } catch (err) {
      if (!(err instanceof SimulatedCrash) && (err as { code?: string }).code !== "EPOISONED") throw err;
    }
    for (const variant of [{}, { keep: () => true as const }]) {
      const crashed = fs.crash(variant);
      const state = await recoverState(crashed);
      const seqs = [...state].sort((a, b) => a - b);
      // Snapshot + tail must equal the whole durable log's data records: an exact prefix.
      const inLog: number[] = [];
      if (await crashed.stat("/db/wal")) {
        await replayLog("/db/wal", {
          fs: crashed,
          onRecord: (r) => {
            if (r.type === "data") inLog.push(r.sequence);
          },
        });
      }
      assert.deepEqual(seqs, inLog, `k=${k}: recovered state is not the log's prefix`);
      assert.equal(new Set(seqs).size, seqs.length, `k=${k}: a record was applied twice`);
      // Markers take sequence numbers too: data sequences have holes exactly where markers sit,
      // so compare against the acknowledged set rather than 1..n.
      for (const a of acked) assert.ok(seqs.includes(a), `k=${k}: acknowledged record ${a} lost`);
      const max = seqs[seqs.length - 1] ?? 0;
      for (const s of seqs) assert.ok(s <= max);
      checked++;
    }
    if (finished) break;
  }
  assert.ok(k > 20, `the workload ran ${k} steps`);
  assert.ok(checked > 40);
});
