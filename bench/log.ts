// Log benchmark: durable appends per second with 1, 8 and 64 concurrent appenders, with group
// commit and with it switched off (maxBatchRecords: 1: every record pays its own fdatasync), with
// segments appended to (the layout before preallocation) and preallocated (appends overwrite
// zeros in place), next to two hand-written floors through the same adapter (write + fdatasync
// growing the file; overwrite in place + fdatasync into a preallocated file) and, in Node, two
// anchors: LevelDB (classic-level, sync: true) and SQLite (better-sqlite3, WAL, synchronous=FULL),
// optional devDependencies loaded by a computed name (never bundled, never a runtime dependency;
// missing, their rows say "not installed"). Every timed run starts after one append (creating
// the first segment, table or database), so it measures the steady state; and replay
// throughput for N 128-byte records (1M, 50k with quick). Group and no-group runs alternate, after
// a warm-up, and the median of the rounds is reported, so order and JIT warm-up do not favour one.
// The orchestrator imports runLogBench; directly:
//   npx tsx bench/log.ts | npx deno run -A bench/log.ts | npx bun bench/log.ts   [--quick]
import { args, isMain, withScratch } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import type { DurableFs } from "../src/fs.ts";
import { openLog, replayLog } from "../src/wal/log.ts";
import { median } from "./stats.ts";
import { fillPreallocated } from "../src/wal/zero-tail.ts";

export interface Row {
  suite: "log";
  case: string;
  impl: string;
  runtime: string;
  metric: string;
  value: number;
  unit: string;
}

const GROUP = "ckptkit group commit";
const SINGLE = "ckptkit, one fdatasync per record";
const FLOOR = "write + fdatasync per record (by hand)";
const PRE = "ckptkit group commit, preallocated segments";
const PRE_SINGLE = "ckptkit preallocated, one fdatasync per record";
const FLOOR_PRE = "overwrite in place + fdatasync, preallocated file (by hand)";
const LEVEL = "LevelDB (classic-level, sync: true)";
const SQLITE = "SQLite (better-sqlite3 WAL, synchronous=FULL)";

type Appender = { append: () => Promise<void>; close: () => Promise<void>; syncs?: () => number };
type Variant = { impl: string; open: (dir: string) => Promise<Appender | undefined> };

/** `writers` appenders share `total` appends after one untimed append; appends/s and syncs. */
async function timed(app: Appender, writers: number, total: number): Promise<{ rate: number; syncs: number }> {
  await app.append(); // first segment / table / database files exist: the steady state is timed
  const s0 = app.syncs?.() ?? 0;
  const per = Math.ceil(total / writers);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: writers }, async () => {
    for (let i = 0; i < per; i++) await app.append();
  }));
  const rate = (per * writers) / ((performance.now() - t0) / 1000);
  const syncs = (app.syncs?.() ?? 0) - s0;
  await app.close();
  return { rate, syncs };
}

function ckpt(fs: DurableFs, preallocate: boolean, groupCommit: boolean): Variant["open"] {
  return async (dir) => {
    const log = await openLog(dir, { fs, preallocate, ...(groupCommit ? {} : { maxBatchRecords: 1 }) });
    const payload = new Uint8Array(128).fill(7);
    return {
      append: async () => {
        await log.append(payload);
      },
      close: () => log.close(),
      syncs: () => log.syncs,
    };
  };
}

/** An optional package, by a name the bundler cannot see; undefined when it is not installed. */
async function optional(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await import(name) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const levelOpen: Variant["open"] = async (dir) => {
  const mod = await optional("classic-level");
  if (!mod) return undefined;
  // deno-lint-ignore no-explicit-any
  const db = new (mod.ClassicLevel as any)(dir, { valueEncoding: "view" });
  await db.open();
  const payload = new Uint8Array(128).fill(7);
  let n = 0;
  return { append: () => db.put(String(n++).padStart(12, "0"), payload, { sync: true }), close: () => db.close() };
};

const sqliteOpen: Variant["open"] = async (dir) => {
  const mod = await optional("better-sqlite3");
  if (!mod) return undefined;
  // deno-lint-ignore no-explicit-any
  const Database = (mod.default ?? mod) as any;
  const db = new Database(`${dir}.sqlite`);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE log (seq INTEGER PRIMARY KEY, v BLOB)");
  const insert = db.prepare("INSERT INTO log (v) VALUES (?)");
  const payload = new Uint8Array(128).fill(7);
  // One autocommit transaction per append: a durable commit each (the WAL is fsynced). The API is
  // synchronous, so concurrent appenders take turns; the await lets the others in between.
  return {
    append: async () => {
      insert.run(payload);
      await Promise.resolve();
    },
    close: async () => db.close(),
  };
};

/** One timed run of ckptkit without preallocation (the warm-up). */
async function appendRun(
  fs: DurableFs,
  dir: string,
  writers: number,
  total: number,
  groupCommit: boolean,
): Promise<{ rate: number; syncs: number }> {
  return timed((await ckpt(fs, false, groupCommit)(dir))!, writers, total);
}

async function floorRun(fs: DurableFs, dir: string, total: number, preallocated = false): Promise<number> {
  await fs.mkdir(dir);
  const h = await fs.open(`${dir}/raw`, { write: true, create: true });
  const payload = new Uint8Array(148).fill(7); // a 128-byte record with its 20-byte header
  if (preallocated) {
    await fillPreallocated(h, new Uint8Array(0), (total + 1) * payload.length);
    await fs.syncDir(dir);
  }
  await h.write(payload, total * payload.length); // untimed, like the first append of the others
  await h.datasync();
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    await h.write(payload, i * payload.length);
    await h.datasync();
  }
  const rate = total / ((performance.now() - t0) / 1000);
  await h.close();
  return rate;
}

export async function runLogBench(opts: { quick: boolean; dir: string; rounds?: number }): Promise<Row[]> {
  const fs = defaultFs();
  const runtime = detectRuntime();
  const rows: Row[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) =>
    rows.push({ suite: "log", case: c, impl, runtime, metric, value, unit });
  const total = opts.quick ? 300 : 2000;
  // Direct runs may ask for more rounds with --quick (--rounds 3): fdatasync latency on a shared
  // disk swings several-fold within a minute, and rotating rounds spread that over every variant.
  const rounds = opts.rounds ?? (opts.quick ? 1 : 3);
  let n = 0;
  const fresh = () => `${opts.dir}/log-${n++}`;

  await appendRun(fs, fresh(), 8, 200, true); // warm-up: JIT, kernel instantiation, page cache
  await appendRun(fs, fresh(), 8, 200, false);
  const node = runtime === "node";
  const variants: Variant[] = [
    { impl: GROUP, open: ckpt(fs, false, true) },
    { impl: SINGLE, open: ckpt(fs, false, false) },
    { impl: PRE, open: ckpt(fs, true, true) },
    { impl: PRE_SINGLE, open: ckpt(fs, true, false) },
    // The anchors are Node packages (native addons); other runtimes skip them.
    ...(node ? [{ impl: LEVEL, open: levelOpen }, { impl: SQLITE, open: sqliteOpen }] : []),
  ];
  for (const writers of [1, 8, 64]) {
    const runs = new Map<string, { rate: number; syncs: number }[]>();
    const missing = new Set<string>();
    for (let r = 0; r < rounds; r++) {
      // The order rotates each round: the disk's fdatasync latency drifts during a run.
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(k + r) % variants.length]!;
        if (missing.has(v.impl) || (writers === 8 && (v.impl === LEVEL || v.impl === SQLITE))) continue;
        const app = await v.open(fresh());
        if (!app) {
          missing.add(v.impl);
          continue;
        }
        runs.set(v.impl, [...(runs.get(v.impl) ?? []), await timed(app, writers, total)]);
      }
    }
    const c = `append x${writers}`;
    const rate = (impl: string) => median((runs.get(impl) ?? []).map((x) => x.rate));
    for (const impl of missing) row(c, impl, "not installed", Number.NaN, "");
    for (const [impl, xs] of runs) {
      row(c, impl, "appends/s", rate(impl), "1/s");
      if (impl.startsWith("ckptkit")) row(c, impl, "syncs", median(xs.map((x) => x.syncs)), "count");
    }
    row(c, GROUP, "speedup vs one fdatasync per record", rate(GROUP) / rate(SINGLE), "x");
    if (runs.has(SQLITE)) {
      for (const impl of [GROUP, PRE]) row(c, impl, `x ${SQLITE}`, rate(impl) / rate(SQLITE), "x");
    }
  }
  const floors: number[] = [];
  const floorsPre: number[] = [];
  for (let r = 0; r < rounds; r++) {
    floors.push(await floorRun(fs, fresh(), total));
    floorsPre.push(await floorRun(fs, fresh(), total, true));
  }
  row("append x1", FLOOR, "appends/s", median(floors), "1/s");
  row("append x1", FLOOR_PRE, "appends/s", median(floorsPre), "1/s");

  const count = opts.quick ? 50_000 : 1_000_000;
  const rdir = fresh();
  const log = await openLog(rdir, { fs, maxBatchRecords: 1 << 20 });
  const payload = new Uint8Array(128).fill(7);
  const burst = Array.from({ length: 10_000 }, () => payload);
  for (let i = 0; i < count; i += burst.length) await Promise.all(burst.map((p) => log.append(p)));
  await log.close();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const rep = await replayLog(rdir, { fs, onRecord: () => {} });
    times.push((performance.now() - t0) / 1000);
    if (rep.recovered !== count || rep.damage) throw new Error(`replay returned ${rep.recovered} of ${count} records`);
  }
  const secs = median(times);
  row(`replay ${count} x 128 B`, "ckptkit", "seconds", secs, "s");
  row(`replay ${count} x 128 B`, "ckptkit", "records/s", count / secs, "1/s");
  row(`replay ${count} x 128 B`, "ckptkit", "MB/s", (count * 148) / secs / 1e6, "MB/s");
  return rows;
}

if (isMain(import.meta.url)) {
  await withScratch("log", async (dir) => {
    const at = args.indexOf("--rounds");
    const rows = await runLogBench({
      quick: args.includes("--quick"),
      dir,
      rounds: at >= 0 ? Number(args[at + 1]) : undefined,
    });
    console.log(`${"runtime".padEnd(8)}${"case".padEnd(26)}${"impl".padEnd(62)}${"metric".padEnd(38)}value`);
    for (const r of rows) {
      console.log(
        `${r.runtime.padEnd(8)}${r.case.padEnd(26)}${r.impl.padEnd(62)}${r.metric.padEnd(38)}${
          r.value.toFixed(r.value < 100 ? 2 : 0)
        }`,
      );
    }
  });
}
