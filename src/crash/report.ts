// Tables (stdout) and CSV (--out) for crashtest rows, and removal of the experiment's temp tree.
import type { DurableFs } from "../fs.ts";
import { join } from "../path.ts";
import type { Row } from "./process.ts";

const pct = (n: number, d: number) => (d === 0 ? "-" : `${((100 * n) / d).toFixed(d >= 1000 ? 2 : 1)}%`);

function render(head: string[], body: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i < 3 && !/^\d/.test(c) ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ");
  return [fmt(head), w.map((n) => "-".repeat(n)).join("  "), ...body.map(fmt)].join("\n");
}

export function table(rows: Row[]): string {
  const parts: string[] = [];
  const crash = rows.filter((r) => r.mode !== "corrupt");
  if (crash.length) {
    parts.push(render(
      [
        "workload",
        "protocol",
        "runtime",
        "trials",
        "newest valid",
        "recoverable",
        "acked kept",
        "torn",
        "acked-lost",
        "silent corruption",
        "violations",
      ],
      crash.map((
        r,
      ) => [
        r.workload,
        r.protocol,
        r.runtime,
        String(r.trials),
        pct(r.newestValid, r.trials),
        pct(r.recoverable, r.trials),
        r.ackStates ? `${pct(r.ackKept ?? 0, r.ackStates)} of ${r.ackStates}` : "-",
        String(r.torn),
        String(r.ackedLost),
        String(r.silent),
        String(r.violations),
      ]),
    ));
  }
  const corrupt = rows.filter((r) => r.mode === "corrupt");
  if (corrupt.length) {
    parts.push(render(
      ["injection", "runtime", "trials", "detected", "missed", "silent corruption", "false positives", "note"],
      corrupt.map((
        r,
      ) => [
        r.workload,
        r.runtime,
        String(r.trials),
        r.workload === "clean" ? "-" : pct(r.detected ?? 0, r.trials),
        r.workload === "clean" ? "-" : String(r.trials - (r.detected ?? 0)),
        String(r.silent),
        String(r.falsePositives ?? 0),
        r.note ?? "",
      ]),
    ));
  }
  return parts.join("\n\n");
}

const COLUMNS: (keyof Row)[] = [
  "mode",
  "workload",
  "protocol",
  "runtime",
  "trials",
  "newestValid",
  "recoverable",
  "torn",
  "incomplete",
  "ackedLost",
  "ackStates",
  "ackKept",
  "silent",
  "detected",
  "falsePositives",
  "violations",
  "note",
];

export function csv(rows: Row[]): string {
  const cell = (v: unknown) => {
    const s = v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [COLUMNS.join(","), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

/** rm -r through DurableFs (the experiment's own temp directory only). */
export async function removeTree(fs: DurableFs, path: string): Promise<void> {
  const st = await fs.stat(path);
  if (!st) return;
  if (!st.isDirectory) return fs.unlink(path);
  for (const name of await fs.readdir(path)) await removeTree(fs, join(path, name));
  await fs.rmdir(path);
}
