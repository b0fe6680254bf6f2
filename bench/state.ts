// Durable-state recovery: how long openState takes to come back — load the newest snapshot
// (verifying every byte) and replay the log after its marker — next to reading the same files
// raw (node:fs readFile, no checks), warm page cache for both. Big case: a 64 MiB byte-array
// state, snapshot, then 100,000 changes of 12 bytes (offset + 8 bytes) after it; small case: an
// 8-byte counter with 100 changes after its snapshot (the "restart in N ms" figure). Also the
// snapshot's critical section (how long updates are held while the value is captured) for each,
// with the default encode-inside capture and with `immutable: true` (capture by reference).
// `ckpt bench --suites state` runs it in each runtime (not in the default --quick test set); directly:
//   npx tsx bench/state.ts | npx deno run -A bench/state.ts | npx bun bench/state.ts   [--quick]
import { readdir, readFile } from "node:fs/promises";
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { StateOptions } from "../src/state/state.ts";
import { openState } from "../src/open.ts";
import { median } from "./stats.ts";

export interface Row {
  suite: "state";
  case: string;
  impl: string;
  runtime: string;
  metric: string;
  value: number;
  unit: string;
  size?: number;
}

/** A byte array; a change is [u32 offset][8 bytes] written at that offset. Mutated in place. */
function bytesState(size: number, immutable = false): StateOptions<Uint8Array> {
  return {
    initial: new Uint8Array(size),
    apply: (s, c) => {
      const off = new DataView(c.buffer, c.byteOffset, c.byteLength).getUint32(0, true) % (size - 8);
      s.set(c.subarray(4, 12), off);
      return s;
    },
    // The default capture encodes inside the critical section: a copy, as any mutable state needs.
    encode: (s) => (immutable ? s : s.slice()),
    decode: (b) => b,
    immutable,
    fs: defaultFs(),
    keepSnapshots: 1,
  };
}

function counterState(): StateOptions<bigint> {
  return {
    initial: 0n,
    apply: (s, c) => s + BigInt(c[0]!),
    encode: (s) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, s, true);
      return b;
    },
    decode: (b) => new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true),
    immutable: true,
    fs: defaultFs(),
  };
}

function change(i: number): Uint8Array {
  const c = new Uint8Array(12);
  const v = new DataView(c.buffer);
  v.setUint32(0, (i * 2654435761) >>> 0, true);
  v.setFloat64(4, i, true);
  return c;
}

async function updates(
  st: { update(c: Uint8Array): Promise<number> },
  n: number,
  make: (i: number) => Uint8Array,
): Promise<void> {
  const burst = 1000;
  for (let i = 0; i < n; i += burst) {
    await Promise.all(Array.from({ length: Math.min(burst, n - i) }, (_, j) => st.update(make(i + j))));
  }
}

/** Every file recovery reads (snapshot files, log segments), read raw. */
async function rawRead(dir: string): Promise<number> {
  let bytes = 0;
  for (const sub of ["snap", "wal"]) {
    for (const name of await readdir(`${dir}/${sub}`)) {
      if (name.startsWith(".")) continue;
      bytes += (await readFile(`${dir}/${sub}/${name}`)).length;
    }
  }
  return bytes;
}

export async function runStateBench(opts: { quick: boolean; dir: string }): Promise<Row[]> {
  const runtime = detectRuntime();
  const rows: Row[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string, size?: number) =>
    rows.push({ suite: "state", case: c, impl, runtime, metric, value, unit, ...(size ? { size } : {}) });
  const rounds = opts.quick ? 1 : 3;
  const size = opts.quick ? 8 << 20 : 64 << 20;
  const records = opts.quick ? 10_000 : 100_000;
  const big = `${size >> 20} MiB + ${records} changes`;

  // Build: snapshot the big state, then `records` changes after its marker.
  const bdir = `${opts.dir}/big`;
  {
    const st = await openState(bdir, bytesState(size));
    await updates(st, 1000, change);
    await st.snapshot();
    row(big, "snapshot, encode inside (copy)", "updates held", st.stats.lastHoldMs, "ms", size);
    // The floor of that critical section: the same copy alone, in the same process, right after.
    const t0 = performance.now();
    st.value.slice();
    row(big, "the state's copy alone (slice)", "ms", performance.now() - t0, "ms", size);
    await updates(st, records, (i) => change(i + 1000));
    await st.close();
  }
  {
    const st = await openState(`${opts.dir}/big-imm`, bytesState(size, true));
    await updates(st, 1000, change);
    await st.snapshot();
    row(big, "snapshot, immutable (reference)", "updates held", st.stats.lastHoldMs, "ms", size);
    await st.close();
  }
  const open: number[] = [];
  const raw: number[] = [];
  let rawBytes = 0;
  for (let r = 0; r < rounds + 1; r++) {
    let t0 = performance.now();
    const st = await openState(bdir, bytesState(size));
    const t = performance.now() - t0;
    if (st.recovery.step === null || st.recovery.replayed !== records) {
      throw new Error(`recovery replayed ${st.recovery.replayed} of ${records} from step ${st.recovery.step}`);
    }
    await st.close();
    t0 = performance.now();
    rawBytes = await rawRead(bdir);
    const tr = performance.now() - t0;
    if (r > 0) {
      open.push(t);
      raw.push(tr);
    } // round 0 warms up JIT and page cache
  }
  row(big, "openState (load + verify + replay)", "ms", median(open), "ms", rawBytes);
  row(big, "read the same files raw", "ms", median(raw), "ms", rawBytes);
  row(big, "openState / raw read", "ratio", median(open) / median(raw), "x", rawBytes);
  row(big, "openState", "MB/s", rawBytes / (median(open) / 1000) / 1e6, "MB/s", rawBytes);

  // Small: a counter, snapshot, 100 changes after it.
  const sdir = `${opts.dir}/small`;
  {
    const st = await openState(sdir, counterState());
    await updates(st, 100, () => new Uint8Array([1]));
    await st.snapshot();
    row("counter + 100 changes", "snapshot, immutable (reference)", "updates held", st.stats.lastHoldMs, "ms");
    await updates(st, 100, () => new Uint8Array([1]));
    await st.close();
  }
  const small: number[] = [];
  const smallRaw: number[] = [];
  for (let r = 0; r < rounds * 5 + 1; r++) {
    let t0 = performance.now();
    const st = await openState(sdir, counterState());
    const t = performance.now() - t0;
    if (st.value !== 200n) throw new Error(`counter recovered ${st.value}`);
    await st.close();
    t0 = performance.now();
    const b = await rawRead(sdir);
    const tr = performance.now() - t0;
    if (r > 0) {
      small.push(t);
      smallRaw.push(tr);
    }
    if (b === 0) throw new Error("nothing to read");
  }
  row("counter + 100 changes", "openState (load + verify + replay)", "ms", median(small), "ms");
  row("counter + 100 changes", "read the same files raw", "ms", median(smallRaw), "ms");
  return rows;
}

if (isMain(import.meta.url)) {
  await withScratch("state", async (dir) => {
    const rows = await runStateBench({ quick: args.includes("--quick"), dir });
    console.log(`${"runtime".padEnd(8)}${"case".padEnd(28)}${"impl".padEnd(38)}${"metric".padEnd(14)}value`);
    for (const r of rows) {
      console.log(
        `${r.runtime.padEnd(8)}${r.case.padEnd(28)}${r.impl.padEnd(38)}${r.metric.padEnd(14)}${
          r.value.toFixed(r.value < 100 ? 2 : 0)
        } ${r.unit}`,
      );
    }
  });
}
