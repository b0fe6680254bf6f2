// Charts of a bench run: Vega-Lite specifications rendered to SVG headless by Vega (no canvas,
// no browser), the same in Node, Deno and Bun. Loaded only by `ckpt bench`.
import type { LatencySeries, Row, Span } from "./types.ts";
import { inSizeOrder, sizeLabel } from "./stats.ts";
import { loadOptional } from "../src/optional-package.ts";

export interface BenchData {
  rows: Row[];
  latencies: LatencySeries[];
  spans: Span[];
}

export interface Chart {
  /** File name, e.g. "protocols-p50.svg". */
  file: string;
  title: string;
  svg: string;
}

type Spec = Record<string, unknown>;

const RUNTIME_COLORS = { domain: ["node", "deno", "bun"], range: ["#3c873a", "#1f6feb", "#d4a72c"] };
/** One colour per protocol-bench implementation in every chart, so the bars and the CDFs read alike. */
const IMPL_COLORS = {
  domain: ["ckptkit save", "ckptkit group save", "ckptkit write", "floor (by hand)", "write-file-atomic"],
  range: ["#1f77b4", "#17becf", "#9467bd", "#d62728", "#2ca02c"],
};

function logFloor(values: object[]): number {
  const min = Math.min(...values.map((v) => (v as { value: number }).value).filter((v) => v > 0));
  return Number.isFinite(min) ? 10 ** Math.floor(Math.log10(min)) : 1;
}

/** A facet field's values, smallest size first (an explicit list: Vega-Lite would sort text). */
function facetOrder(values: object[], field: string): string[] {
  return inSizeOrder(values.map((v) => String((v as Record<string, unknown>)[field])));
}

function bars(
  title: string,
  values: object[],
  enc: {
    x: string;
    offset: string;
    y: string;
    yTitle: string;
    column?: string;
    row?: string;
    log?: boolean;
    colors?: object;
    sortX?: string[];
  },
): Spec {
  return {
    title,
    data: { values },
    mark: { type: "bar", tooltip: true },
    ...(enc.column || enc.row ? {} : { width: { step: 14 } }),
    encoding: {
      x: {
        field: enc.x,
        type: "nominal",
        title: null,
        axis: { labelAngle: -35, labelLimit: 180 },
        ...(enc.sortX ? { sort: enc.sortX } : {}),
      },
      xOffset: { field: enc.offset, type: "nominal" },
      // Bars are not stacked, and a log axis starts at the power of ten below the smallest bar
      // (a bar on a log scale has no zero to grow from).
      y: {
        field: "value",
        type: "quantitative",
        title: enc.yTitle,
        stack: null,
        scale: enc.log ? { type: "log", domainMin: logFloor(values) } : { zero: true },
      },
      color: { field: enc.offset, type: "nominal", title: enc.offset, ...(enc.colors ? { scale: enc.colors } : {}) },
      // Facets in size order ("4 KiB", "64 KiB", "1 MiB"), never as text; others as they came.
      ...(enc.column
        ? { column: { field: enc.column, type: "nominal", title: null, sort: facetOrder(values, enc.column) } }
        : {}),
      ...(enc.row ? { row: { field: enc.row, type: "nominal", title: null, sort: facetOrder(values, enc.row) } } : {}),
    },
  };
}

function kernelCharts(rows: Row[]): [string, string, Spec][] {
  const k = rows.filter((r) => r.suite === "kernels" && r.metric === "MB/s");
  const cases = [...new Set(k.map((r) => r.case))];
  return cases.map((c) => {
    const values = k.filter((r) => r.case === c).sort((a, b) => (a.size ?? 0) - (b.size ?? 0))
      .map((r) => ({ impl: r.impl, runtime: r.runtime, size: sizeLabel(r.size ?? 0), value: r.value }));
    return [
      `kernels-${c}.svg`,
      `${c}: throughput by implementation (MB/s, log scale; higher is better)`,
      bars(`${c} throughput, MB/s`, values, {
        x: "impl",
        offset: "runtime",
        y: "value",
        yTitle: "MB/s",
        column: "size",
        log: true,
        colors: RUNTIME_COLORS,
      }),
    ];
  });
}

/** "atomic_dirsync group 4x1 MiB" → protocol and the rest. */
function splitCase(c: string): { protocol: string; variant: string } {
  const i = c.indexOf(" ");
  return i < 0 ? { protocol: c, variant: "" } : { protocol: c.slice(0, i), variant: c.slice(i + 1) };
}

function protocolCharts(rows: Row[], latencies: LatencySeries[]): [string, string, Spec][] {
  const out: [string, string, Spec][] = [];
  const p50 = rows.filter((r) => r.suite === "protocols" && r.metric === "p50");
  if (p50.length) {
    const values = p50.map((r) => ({ ...splitCase(r.case), impl: r.impl, runtime: r.runtime, value: r.value }));
    out.push([
      "protocols-p50.svg",
      "Save latency p50 per protocol, size and runtime (ms, log scale; lower is better)",
      bars("save latency p50, ms", values, {
        x: "protocol",
        offset: "impl",
        y: "value",
        yTitle: "p50 ms",
        column: "variant",
        row: "runtime",
        log: true,
        colors: IMPL_COLORS,
        sortX: ["unsafe", "atomic_nodirsync", "atomic_dirsync"],
      }),
    ]);
  }
  const series = latencies.filter((s) => s.suite === "protocols");
  for (const variant of [...new Set(series.map((s) => splitCase(s.case).variant))]) {
    const points: object[] = [];
    for (const s of series.filter((x) => splitCase(x.case).variant === variant)) {
      const sorted = [...s.ms].sort((a, b) => a - b);
      sorted.forEach((ms, i) =>
        points.push({
          protocol: splitCase(s.case).protocol,
          impl: s.impl,
          runtime: s.runtime,
          ms,
          fraction: (i + 1) / sorted.length,
        })
      );
    }
    out.push([
      `protocols-cdf-${variant.replace(/[^A-Za-z0-9]+/g, "")}.svg`,
      `Latency CDF, ${variant} (fraction of saves done within x ms)`,
      {
        title: `latency CDF, ${variant}`,
        data: { values: points },
        mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "ms (log)" },
          y: { field: "fraction", type: "quantitative", title: "fraction ≤ x" },
          color: { field: "impl", type: "nominal", scale: IMPL_COLORS },
          row: { field: "runtime", type: "nominal", title: null, sort: null },
          column: {
            field: "protocol",
            type: "nominal",
            title: null,
            sort: ["unsafe", "atomic_nodirsync", "atomic_dirsync"],
          },
        },
        width: 220,
        height: 140,
      },
    ]);
  }
  return out;
}

function timelineChart(spans: Span[]): [string, string, Spec][] {
  if (!spans.length) return [];
  const values = spans.map((s) => ({
    save: `${s.runtime} · ${s.case}`,
    op: s.op,
    path: s.path,
    start: s.startMs,
    end: s.startMs + Math.max(s.durMs, 0.001),
    ms: s.durMs,
  }));
  return [["timeline.svg", "One traced save per protocol and runtime: each primitive's start and duration (ms)", {
    title: "timeline of one save",
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      x: { field: "start", type: "quantitative", title: "ms since the save began" },
      x2: { field: "end" },
      y: { field: "op", type: "nominal", title: null },
      color: { field: "op", type: "nominal" },
      row: { field: "save", type: "nominal", title: null, header: { labelAngle: 0, labelAlign: "left" } },
    },
    width: 520,
  }]];
}

function simpleCharts(rows: Row[]): [string, string, Spec][] {
  const out: [string, string, Spec][] = [];
  const log = rows.filter((r) => r.suite === "log" && r.metric === "appends/s");
  if (log.length) {
    out.push([
      "log.svg",
      "Durable log appends per second by concurrent appenders (log scale; higher is better)",
      bars("log appends/s", log.map((r) => ({ case: r.case, impl: r.impl, runtime: r.runtime, value: r.value })), {
        x: "case",
        offset: "impl",
        y: "value",
        yTitle: "appends/s",
        column: "runtime",
        log: true,
      }),
    ]);
  }
  const verify = rows.filter((r) => r.suite === "verify" && r.metric === "MB/s");
  if (verify.length) {
    out.push([
      "verify.svg",
      "verify throughput next to raw SHA-256 and a plain read (MB/s, log scale)",
      bars("verify, MB/s", verify.map((r) => ({ impl: r.impl, runtime: r.runtime, value: r.value })), {
        x: "impl",
        offset: "runtime",
        y: "value",
        yTitle: "MB/s",
        log: true,
        colors: RUNTIME_COLORS,
      }),
    ]);
  }
  const s3 = rows.filter((r) => r.suite === "s3" && r.unit === "ms");
  if (s3.length) {
    out.push([
      "s3.svg",
      "Object store (local S3 server): latency of ckptkit operations next to raw PUT/GET (ms, log scale)",
      bars(
        "object store latency, ms",
        s3.map((r) => ({ case: r.case, impl: r.impl, runtime: r.runtime, value: r.value })),
        { x: "case", offset: "impl", y: "value", yTitle: "ms", column: "runtime", log: true },
      ),
    ]);
  }
  return out;
}

/** vega and vega-lite, optional peer dependencies: a MissingPackageError (exit 3) names them when absent. */
export function chartLibraries(): Promise<[typeof import("vega"), typeof import("vega-lite")]> {
  return loadOptional<[typeof import("vega"), typeof import("vega-lite")]>("bench charts", [
    { name: "vega", load: () => import("vega") },
    { name: "vega-lite", load: () => import("vega-lite") },
  ]);
}

/**
 * Legends go above the plot, wrapped into rows of LEGEND_COLUMNS entries, so a legend is never
 * wider than the page (beside a wide faceted chart it sat past the right edge, behind a
 * scrollbar). The report scales a chart wider than the page down to it (report.ts).
 */
export const LEGEND = { orient: "top", direction: "horizontal", columns: 3, labelLimit: 260 } as const;

/** Every chart the data has material for: file, title and the full Vega-Lite specification. */
export function chartSpecs(data: BenchData): [string, string, Spec][] {
  const specs = [
    ...kernelCharts(data.rows),
    ...protocolCharts(data.rows, data.latencies),
    ...timelineChart(data.spans),
    ...simpleCharts(data.rows),
  ];
  return specs.map(([file, title, spec]) => [file, title, {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    config: { font: "sans-serif", legend: LEGEND },
    ...spec,
  }]);
}

/** Renders every chart the data has material for. */
export async function renderCharts(data: BenchData): Promise<Chart[]> {
  const [vega, { compile }] = await chartLibraries();
  const charts: Chart[] = [];
  for (const [file, title, full] of chartSpecs(data)) {
    const view = new vega.View(vega.parse(compile(full as never).spec), { renderer: "none" });
    charts.push({ file, title, svg: await view.toSVG() });
    view.finalize();
  }
  return charts;
}
