// The bench report's shape (issue 14, item 6), from synthetic rows (no timing): the headline
// ratios come first; facets are in size order (4 KiB, 64 KiB, 1 MiB), never text order; every
// legend sits above its chart, wrapped into a few columns, and a chart wider than the page is
// scaled to it rather than scrolled (a scrollbar hid the legends of the three widest charts).
import assert from "node:assert/strict";
import { chartSpecs, LEGEND, renderCharts } from "../bench/charts.ts";
import { FLOOR, SAVE } from "../bench/headlines.ts";
import { FLOOR as PROTOCOLS_FLOOR, SAVE as PROTOCOLS_SAVE } from "../bench/protocols.ts";
import { htmlReport, markdownTables } from "../bench/report.ts";
import { inSizeOrder, labelBytes } from "../bench/stats.ts";
import type { Row } from "../bench/types.ts";
import { test } from "./kit.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const RUNTIMES = ["node", "deno"];
/** Sizes in text order, the order the old report showed its facets in. */
const SIZES = [MiB, 4 * KiB, 64 * KiB];
const SQLITE = "SQLite (better-sqlite3 WAL, synchronous=FULL)";

function rows(): Row[] {
  const out: Row[] = [];
  for (const runtime of RUNTIMES) {
    for (const size of SIZES) {
      for (const impl of ["ckptkit", "hash-wasm", "node:crypto"]) {
        out.push({
          suite: "kernels",
          case: "sha256",
          impl,
          runtime,
          metric: "MB/s",
          value: 500 + size / KiB,
          unit: "MB/s",
          size,
        });
      }
    }
    for (
      const c of [
        "atomic_dirsync 1 MiB",
        "atomic_dirsync group 4x1 MiB",
        "atomic_dirsync 4 KiB",
        "atomic_dirsync 64 KiB",
      ]
    ) {
      const size = labelBytes(c)!;
      out.push({ suite: "protocols", case: c, impl: SAVE, runtime, metric: "p50", value: 2, unit: "ms", size });
      out.push({ suite: "protocols", case: c, impl: FLOOR, runtime, metric: "p50", value: 1.6, unit: "ms", size });
      out.push({
        suite: "protocols",
        case: c,
        impl: SAVE,
        runtime,
        metric: "overhead vs floor",
        value: 1.25,
        unit: "x",
        size,
      });
    }
    out.push({
      suite: "verify",
      case: "verify 64 MiB",
      impl: "ckptkit verify",
      runtime,
      metric: "MB/s",
      value: 800,
      unit: "MB/s",
      size: 64 * MiB,
    });
    out.push({
      suite: "verify",
      case: "verify 64 MiB",
      impl: "native SHA-256 (in memory)",
      runtime,
      metric: "MB/s",
      value: 1000,
      unit: "MB/s",
      size: 64 * MiB,
    });
    out.push({
      suite: "verify",
      case: "verify 64 MiB",
      impl: "ckptkit verify",
      runtime,
      metric: "x native SHA-256",
      value: 0.8,
      unit: "x",
      size: 64 * MiB,
    });
    out.push({
      suite: "v2",
      case: "save 64 MiB",
      impl: "ckptkit save v2",
      runtime,
      metric: "x floor",
      value: 2.4,
      unit: "x",
      size: 64 * MiB,
    });
    out.push({
      suite: "v2",
      case: "save 64 MiB",
      impl: "bound: leaf hashing ÷ floor",
      runtime,
      metric: "x floor",
      value: 2.1,
      unit: "x",
      size: 64 * MiB,
    });
    out.push({
      suite: "v2",
      case: "verify 64 MiB",
      impl: "ckptkit verify v2, 2 threads",
      runtime,
      metric: "x node:crypto",
      value: 0.45,
      unit: "x",
      size: 64 * MiB,
    });
    out.push({
      suite: "log",
      case: "append x8",
      impl: "ckptkit group commit",
      runtime,
      metric: "appends/s",
      value: 7000,
      unit: "1/s",
    });
    if (runtime === "node") {
      out.push({
        suite: "log",
        case: "append x8",
        impl: "ckptkit group commit",
        runtime,
        metric: `x ${SQLITE}`,
        value: 3.5,
        unit: "x",
      });
    }
  }
  return out;
}

const data = () => ({ rows: rows(), latencies: [], spans: [] });

test("sizes order by bytes, not text", () => {
  assert.deepEqual(inSizeOrder(["1 MiB", "4 KiB", "group 4x1 MiB", "64 KiB", "node"]), [
    "4 KiB",
    "64 KiB",
    "1 MiB",
    "group 4x1 MiB",
    "node",
  ]);
  assert.equal(labelBytes("verify 4 × 16 MiB"), 64 * MiB);
  assert.equal(SAVE, PROTOCOLS_SAVE);
  assert.equal(FLOOR, PROTOCOLS_FLOOR);
});

test("bench charts: facets in size order, legends above the plot in at most a few columns", () => {
  const specs = chartSpecs(data());
  const byFile = new Map(
    specs.map((
      [file, , spec],
    ) => [file, spec as { encoding: Record<string, { sort?: unknown }>; config: { legend: typeof LEGEND } }]),
  );
  assert.deepEqual(byFile.get("kernels-sha256.svg")!.encoding.column!.sort, ["4 KiB", "64 KiB", "1 MiB"]);
  assert.deepEqual(byFile.get("protocols-p50.svg")!.encoding.column!.sort, [
    "4 KiB",
    "64 KiB",
    "1 MiB",
    "group 4x1 MiB",
  ]);
  for (const [file, , spec] of specs) {
    const legend = (spec as { config: { legend: typeof LEGEND } }).config.legend;
    assert.equal(legend.orient, "top", file);
    // A legend row is at most `columns` entries of at most labelLimit px: within the page's 1100 px.
    assert.ok(legend.columns * (legend.labelLimit + 40) <= 1100, file);
  }
});

test("bench report: headline ratios first, in size order; charts scale to the page instead of scrolling", async () => {
  const d = data();
  const charts = await renderCharts(d);
  assert.deepEqual(charts.map((c) => c.file).sort(), [
    "kernels-sha256.svg",
    "log.svg",
    "protocols-p50.svg",
    "verify.svg",
  ]);
  for (const c of charts) {
    assert.match(c.svg, /^<svg[^>]* viewBox="0 0 [\d.]+ [\d.]+"/, `${c.file}: no viewBox, it cannot scale`);
  }
  const info = {
    startedAt: "2026-12-02T00:00:00Z",
    quick: true,
    runtimes: { node: "22", deno: "2" },
    skipped: [],
    machine: { cpu: "test", cores: 2, flags: {}, memoryGiB: 4, os: "linux" },
  } as unknown as Parameters<typeof htmlReport>[2];
  const html = htmlReport(d, charts, info);
  const table = /<table id="headlines">([\s\S]*?)<\/table>/.exec(html);
  assert.ok(table, "no headline table");
  assert.ok(
    html.indexOf('id="headlines"') < html.indexOf("<figure>"),
    "the headline table comes before the first chart",
  );
  const labels = [...table[1]!.matchAll(/<tr><td>([^<]*)<\/td>/g)].map((m) => m[1]!);
  assert.deepEqual(labels.map((l) => l.replace(/ \(node:crypto\)|, in| \(by hand\)/g, "")), [
    "save ÷ floor, atomic_dirsync 4 KiB",
    "save ÷ floor, atomic_dirsync 64 KiB",
    "save ÷ floor, atomic_dirsync 1 MiB",
    "save ÷ floor, atomic_dirsync group 4x1 MiB",
    "verify ÷ native SHA-256, verify 64 MiB",
    "save ÷ floor, v2 suite, 64 MiB",
    "bound: leaf hashing ÷ floor, 64 MiB (the least a save can reach)",
    "verify ÷ node:crypto, v2, 2 threads, verify 64 MiB",
    "log appends/s, ckptkit group commit ÷ SQLite, append x8",
  ]);
  assert.match(table[1]!, /<td class="n">1\.25×<\/td><td class="n">1\.25×<\/td>/);
  assert.match(
    table[1]!,
    /SQLite, append x8<\/td><td class="n">3\.50×<\/td><td class="n">-<\/td>/,
    "no SQLite under deno: a dash",
  );
  assert.match(html, /figure svg\{max-width:100%;height:auto\}/);
  assert.doesNotMatch(html, /overflow-x:auto/);
  const md = markdownTables(d.rows, RUNTIMES);
  assert.ok(md.startsWith("## headline ratios"), md.slice(0, 80));
});
