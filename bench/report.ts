// The written forms of a bench run: Markdown tables (printed), CSV (one file per shape), and one
// self-contained HTML page with the charts inline. Runtimes are columns, side by side, so every
// comparison a reader makes is within one run.
import type { BenchData, Chart } from "./charts.ts";
import { sizeLabel } from "./stats.ts";
import { headlineRatios, type Headlines } from "./headlines.ts";
import type { MachineInfo } from "./machine.ts";
import type { Row } from "./types.ts";

export interface RunInfo {
  startedAt: string;
  quick: boolean;
  machine: MachineInfo;
  /** Runtime → its version, for the runtimes that ran. */
  runtimes: Record<string, string>;
  /** Runtimes asked for but not found, and suites that failed, with why. */
  skipped: { runtime: string; suite?: string; reason: string }[];
}

/** Which metrics each suite's printed table shows (all of them go to CSV and HTML). */
const PRINTED: Record<string, (r: Row) => boolean> = {
  protocols: (r) => r.metric === "p50" || r.metric === "p99" || r.metric.startsWith("overhead"),
  log: (r) => r.metric !== "syncs",
};

/** Each kernel case's native anchors: the first one a runtime's rows hold is the ratio's denominator. */
export const NATIVE_ANCHORS: Record<string, string[]> = {
  crc32: ["zlib.crc32", "Bun.hash.crc32"],
  sha256: ["node:crypto"],
  "sha256-many-4KiB": ["node:crypto"],
};

/** Ratios the kernel issue is judged by, derived from the kernel rows of each runtime. */
export function kernelRatios(rows: Row[]): Row[] {
  const out: Row[] = [];
  const mbs = rows.filter((r) => r.suite === "kernels" && r.metric === "MB/s");
  const find = (r: Row, impl: string) =>
    mbs.find((x) => x.case === r.case && x.size === r.size && x.runtime === r.runtime && x.impl === impl);
  for (const r of mbs) {
    if (!r.impl.startsWith("ckptkit")) continue;
    const hw = find(r, "hash-wasm");
    if (hw) out.push({ ...r, metric: "x hash-wasm", value: r.value / hw.value, unit: "x" });
    const native = (NATIVE_ANCHORS[r.case] ?? []).map((n) => find(r, n)).find((x) => x !== undefined);
    if (native) out.push({ ...r, metric: `x ${native.impl}`, value: r.value / native.value, unit: "x" });
  }
  return out;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

interface Pivot {
  head: string[];
  body: string[][];
}

/** One line per (case, impl, metric), one column per runtime. */
function pivot(rows: Row[], runtimes: string[]): Pivot {
  const keyOf = (r: Row) => {
    const size = r.size !== undefined ? sizeLabel(r.size) : "";
    // Cases that name their own size ("atomic_dirsync group 4x1 MiB") keep it; others get it appended.
    const c = size && !/\d\s?[KMG]iB/.test(r.case) ? `${r.case} ${size}` : r.case;
    return [c, r.impl, r.unit && r.unit !== r.metric ? `${r.metric} (${r.unit})` : r.metric];
  };
  const lines = new Map<string, { key: string[]; cells: Map<string, number> }>();
  for (const r of rows) {
    const key = keyOf(r);
    const id = key.join("\u0000");
    const line = lines.get(id) ?? { key, cells: new Map() };
    line.cells.set(r.runtime, r.value);
    lines.set(id, line);
  }
  return {
    head: ["case", "impl", "metric", ...runtimes],
    body: [...lines.values()].map((
      l,
    ) => [...l.key, ...runtimes.map((rt) => (l.cells.has(rt) ? fmt(l.cells.get(rt)!) : "-"))]),
  };
}

function suitesOf(rows: Row[]): string[] {
  return [...new Set(rows.map((r) => r.suite))];
}

const escMd = (s: string) => s.replace(/\|/g, "\\|");

/** The headline ratios as a pivot ("-" where a runtime has none). */
function headlinePivot(h: Headlines): Pivot {
  return {
    head: h.head,
    body: h.body.map((l) => [l.label, ...l.cells.map((v) => (v === undefined ? "-" : `${fmt(v)}×`))]),
  };
}

export function markdownTables(rows: Row[], runtimes: string[]): string {
  const parts: string[] = [];
  const top = headlinePivot(headlineRatios(rows, runtimes));
  if (top.body.length > 0) {
    parts.push(
      "## headline ratios\n",
      `| ${top.head.join(" | ")} |`,
      `|${top.head.map((_, i) => (i >= 1 ? "---:" : "---")).join("|")}|`,
    );
    for (const line of top.body) parts.push(`| ${line.map(escMd).join(" | ")} |`);
    parts.push("");
  }
  for (const suite of suitesOf(rows)) {
    const keep = PRINTED[suite] ?? (() => true);
    const p = pivot(rows.filter((r) => r.suite === suite && keep(r)), runtimes);
    parts.push(
      `## ${suite}\n`,
      `| ${p.head.join(" | ")} |`,
      `|${p.head.map((_, i) => (i >= 3 ? "---:" : "---")).join("|")}|`,
    );
    for (const line of p.body) parts.push(`| ${line.map(escMd).join(" | ")} |`);
    parts.push("");
  }
  return parts.join("\n");
}

function csvCell(v: string | number | undefined): string {
  const s = v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvOf(head: string[], lines: (string | number | undefined)[][]): string {
  return [head, ...lines].map((l) => l.map(csvCell).join(",")).join("\n") + "\n";
}

export const CSV_COLUMNS = ["suite", "case", "impl", "runtime", "metric", "value", "unit", "size"];

/** results.csv (every number), latencies.csv (every sample), timeline.csv (every traced primitive). */
export function csvFiles(data: BenchData): Record<string, string> {
  return {
    "results.csv": csvOf(
      CSV_COLUMNS,
      data.rows.map((r) => [r.suite, r.case, r.impl, r.runtime, r.metric, r.value, r.unit, r.size]),
    ),
    "latencies.csv": csvOf(
      ["suite", "case", "impl", "runtime", "sample", "ms"],
      data.latencies.flatMap((s) => s.ms.map((ms, i) => [s.suite, s.case, s.impl, s.runtime, i, ms])),
    ),
    "timeline.csv": csvOf(
      ["runtime", "case", "op", "path", "start_ms", "dur_ms"],
      data.spans.map((s) => [s.runtime, s.case, s.op, s.path, s.startMs, s.durMs]),
    ),
  };
}

const escHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function htmlTable(p: Pivot, firstNumeric = 3, id?: string): string {
  const n = (i: number) => (i >= firstNumeric ? ' class="n"' : "");
  const head = p.head.map((h, i) => `<th${n(i)}>${escHtml(h)}</th>`).join("");
  const body = p.body.map((l) => `<tr>${l.map((c, i) => `<td${n(i)}>${escHtml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table${id ? ` id="${id}"` : ""}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * One page a person can open anywhere: no scripts, no external files; SVG charts inline. The
 * headline ratios come first; a chart wider than the page is scaled down to it (its SVG has a
 * viewBox), never scrolled: a scrollbar hid the legends of the widest charts.
 */
export function htmlReport(data: BenchData, charts: Chart[], info: RunInfo): string {
  const runtimes = Object.keys(info.runtimes);
  const m = info.machine;
  const machineRows: [string, string][] = [
    ["CPU", `${m.cpu} (${m.cores} cores)`],
    ["hash flags", Object.entries(m.flags).map(([f, on]) => `${f} ${on ? "yes" : "no"}`).join(", ")],
    ["memory", `${m.memoryGiB} GiB`],
    ["OS", m.os],
    [
      "filesystem",
      m.filesystem ? `${m.filesystem.type} (${m.filesystem.device} on ${m.filesystem.mountPoint})` : "unknown",
    ],
    ["runtimes", runtimes.map((r) => `${r} ${info.runtimes[r]}`).join(", ")],
    ["started", `${info.startedAt}${info.quick ? " (--quick: fewer sizes and samples)" : ""}`],
  ];
  const sections = suitesOf(data.rows).map((suite) => {
    const own = charts.filter((c) => c.file.startsWith(suite));
    const figures = own.map((c) =>
      `<figure>${c.svg}<figcaption>${escHtml(c.title)} — <code>${escHtml(c.file)}</code></figcaption></figure>`
    ).join("\n");
    return `<section><h2>${escHtml(suite)}</h2>\n${figures}\n${
      htmlTable(pivot(data.rows.filter((r) => r.suite === suite), runtimes))
    }</section>`;
  });
  const top = headlinePivot(headlineRatios(data.rows, runtimes));
  const headlines = top.body.length > 0 ? `<h2>Headline ratios</h2>\n${htmlTable(top, 1, "headlines")}` : "";
  const skipped = info.skipped.length
    ? `<p class="warn">Not measured: ${
      info.skipped.map((s) => escHtml(`${s.runtime}${s.suite ? ` ${s.suite}` : ""}: ${s.reason}`)).join("; ")
    }</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ckptkit bench ${escHtml(info.startedAt)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1em 0}figcaption{font-size:13px;color:#555}
figure svg{max-width:100%;height:auto}
.warn{color:#a40}
</style></head><body>
<h1>ckptkit bench</h1>
<p>Only ratios within this run mean anything: every implementation ran in the same run, interleaved, on the machine below.</p>
${headlines}
<table>${machineRows.map(([k, v]) => `<tr><th>${escHtml(k)}</th><td>${escHtml(v)}</td></tr>`).join("")}</table>
${skipped}
${sections.join("\n")}
</body></html>
`;
}
