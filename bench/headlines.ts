// The short table at the top of a bench report: the few ratios the project is judged by, one line
// each, one column per runtime, before any chart. Each is a ratio within one run (both sides
// measured in the same process, interleaved), so it can be compared across machines where the
// raw numbers cannot. A ratio whose suite did not run is simply absent.
//   - save ÷ floor: ckptkit's save p50 over the hand-written floor (write, fsync, rename, fsync
//     the directory) of the same bytes, per protocol and size (bench/protocols.ts);
//   - verify ÷ native SHA-256: verify's throughput over node:crypto's SHA-256 in memory
//     (bench/verify.ts: what bounds a verify);
//   - v2 suite (bench/v2.ts): save ÷ floor at 64 MiB beside its bound (leaf hashing alone ÷
//     floor, and node:crypto's ÷ floor), and verify ÷ node:crypto per number of hashing threads;
//   - log appends ÷ SQLite: group-commit appends per second over SQLite's WAL with
//     synchronous=FULL, per number of concurrent appenders, when better-sqlite3 ran (bench/log.ts).
import { inSizeOrder, sizeLabel } from "./stats.ts";
import type { Row } from "./types.ts";

/** bench/protocols.ts's SAVE and FLOOR names (not imported: that module loads the whole suite; a test holds them equal). */
export const SAVE = "ckptkit save";
export const FLOOR = "floor (by hand)";

export interface Headlines {
  head: string[];
  body: { label: string; cells: (number | undefined)[] }[];
}

/** One line per ratio found in `rows`, in a fixed order (saves by size), one cell per runtime. */
export function headlineRatios(rows: Row[], runtimes: string[]): Headlines {
  const lines = new Map<string, Map<string, number>>();
  const put = (label: string, r: Row) => {
    const line = lines.get(label) ?? new Map<string, number>();
    line.set(r.runtime, r.value);
    lines.set(label, line);
  };
  const saves = rows.filter((r) => r.suite === "protocols" && r.impl === SAVE && r.metric === "overhead vs floor");
  const saveLabel = (r: Row) =>
    `save ÷ ${FLOOR}, ${
      /\d\s?[KMG]iB/.test(r.case) || r.size === undefined ? r.case : `${r.case} ${sizeLabel(r.size)}`
    }`;
  for (const label of inSizeOrder(saves.map(saveLabel))) {
    for (const r of saves) if (saveLabel(r) === label) put(label, r);
  }
  for (
    const r of rows.filter((x) =>
      x.suite === "verify" && x.impl === "ckptkit verify" && x.metric === "x native SHA-256"
    )
  ) {
    put(`verify ÷ native SHA-256 (node:crypto), ${r.case}`, r);
  }
  for (
    const r of rows.filter((x) =>
      x.suite === "v2" && x.metric === "x floor" && /^(ckptkit save v2|bound: )/.test(x.impl) &&
      x.size === 64 * 1024 * 1024
    )
  ) {
    put(
      r.impl === "ckptkit save v2"
        ? "save ÷ floor, v2 suite, 64 MiB"
        : `${r.impl}, 64 MiB (the least a save can reach)`,
      r,
    );
  }
  for (
    const r of rows.filter((x) => x.suite === "v2" && x.metric === "x node:crypto" && /^ckptkit verify v2/.test(x.impl))
  ) put(`verify ÷ node:crypto, ${r.impl.replace("ckptkit verify ", "")}, ${r.case}`, r);
  for (const r of rows.filter((x) => x.suite === "log" && /^x SQLite/.test(x.metric))) {
    put(`log appends/s, ${r.impl} ÷ SQLite, ${r.case}`, r);
  }
  return {
    head: ["ratio (within one run)", ...runtimes],
    body: [...lines].map(([label, cells]) => ({ label, cells: runtimes.map((rt) => cells.get(rt)) })),
  };
}
