// `ckpt bench --quick` checks its own outputs: every file written, CSV columns as documented,
// every chart well-formed SVG with marks drawn, every anchor measured beside ckptkit in every
// runtime, and no suite failed (the kernel suite itself refuses to time implementations whose
// results differ). No timing assertions: only ratios within one run mean anything.
// Under vitest the orchestrator (Node) runs children in all three runtimes; under deno test and
// bun test the orchestrator runs in that runtime over its own children, so the parent side
// (charts, report) is exercised in every runtime too.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { XMLValidator } from "fast-xml-parser";
import { ckpt, noCrash } from "./lib/cli.ts";
import { runtime, test } from "./kit.ts";

const RUNTIMES = runtime === "node" ? ["node", "deno", "bun"] : [runtime];
const CSV_COLUMNS = ["suite", "case", "impl", "runtime", "metric", "value", "unit", "size"];

/** RFC 4180 fields: quoted fields may hold commas and doubled quotes. */
function parseCsv(text: string): string[][] {
  const lines: string[][] = [];
  for (const line of text.trimEnd().split("\n")) {
    const fields: string[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let v = "";
        i++;
        while (i < line.length && !(line[i] === '"' && line[i + 1] !== '"')) {
          v += line[i] === '"' ? (i++, '"') : line[i];
          i++;
        }
        fields.push(v);
        i += 2;
      } else {
        const end = line.indexOf(",", i);
        fields.push(line.slice(i, end < 0 ? line.length : end));
        i = end < 0 ? line.length + 1 : end + 1;
      }
    }
    lines.push(fields);
  }
  return lines;
}

interface Row {
  suite: string;
  case: string;
  impl: string;
  runtime: string;
  metric: string;
  value: number;
  unit: string;
  size?: number;
}

test(`bench --quick in ${RUNTIMES.join(", ")}: report, CSV, charts and every anchor`, () => {
  const out = mkdtempSync(`${tmpdir()}/ckpt-bench-test-`);
  try {
    const r = ckpt([
      "bench",
      "--quick",
      "--json",
      "--out",
      out,
      "--runtimes",
      RUNTIMES.join(","),
      "--suites",
      "kernels,protocols,timeline,log,verify",
    ], { timeoutMs: 600_000 });
    noCrash(r);
    assert.equal(r.code, 0, r.stderr);
    const doc = r.json<
      { ok: boolean; files: string[]; runtimes: Record<string, string>; skipped: unknown[]; rows: Row[] }
    >();
    assert.equal(doc.ok, true);
    assert.deepEqual(doc.skipped, []);
    assert.deepEqual(Object.keys(doc.runtimes).sort(), [...RUNTIMES].sort());

    const files = readdirSync(out).sort();
    assert.deepEqual(files, doc.files, "--json lists exactly the files written (no work or result files left behind)");
    const charts = [
      "kernels-crc32.svg",
      "kernels-sha256.svg",
      "kernels-sha256-many-4KiB.svg",
      "protocols-p50.svg",
      "timeline.svg",
      "log.svg",
      "verify.svg",
    ];
    for (
      const f of ["report.html", "report.md", "results.json", "results.csv", "latencies.csv", "timeline.csv", ...charts]
    ) assert.ok(files.includes(f), `${f} written`);
    const cdfs = files.filter((f) => f.startsWith("protocols-cdf-") && f.endsWith(".svg"));
    assert.ok(cdfs.length >= 2, "a latency CDF per save kind");

    const html = readFileSync(`${out}/report.html`, "utf8");
    assert.doesNotMatch(html, /<script|src="http/, "the report is self-contained");
    for (const f of [...charts, ...cdfs]) {
      const svg = readFileSync(`${out}/${f}`, "utf8");
      assert.equal(XMLValidator.validate(svg), true, `${f} is well-formed XML`);
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, `${f} is an SVG document`);
      assert.ok((svg.match(/<path /g) ?? []).length > 10, `${f} has marks drawn`);
      assert.ok(html.includes(svg), `${f} is inline in report.html`);
    }

    const csv = parseCsv(readFileSync(`${out}/results.csv`, "utf8"));
    assert.deepEqual(csv[0], CSV_COLUMNS);
    assert.equal(csv.length - 1, doc.rows.length);
    for (const line of csv.slice(1)) {
      assert.equal(line.length, CSV_COLUMNS.length, line.join(","));
      assert.ok(Number.isFinite(Number(line[5])) && Number(line[5]) >= 0, `value of ${line.join(",")}`);
    }
    const latencies = parseCsv(readFileSync(`${out}/latencies.csv`, "utf8"));
    assert.deepEqual(latencies[0], ["suite", "case", "impl", "runtime", "sample", "ms"]);
    assert.ok(latencies.length > 100);
    const timeline = parseCsv(readFileSync(`${out}/timeline.csv`, "utf8"));
    assert.deepEqual(timeline[0], ["runtime", "case", "op", "path", "start_ms", "dur_ms"]);

    const has = (suite: string, impl: string, rt: string, metric?: string) =>
      doc.rows.some((x) =>
        x.suite === suite && x.impl === impl && x.runtime === rt && (metric === undefined || x.metric === metric)
      );
    for (const rt of RUNTIMES) {
      for (const impl of ["ckptkit-wasm", "hash-wasm", "node:crypto", "webcrypto", "@chainsafe/as-sha256"]) {
        assert.ok(has("kernels", impl, rt), `kernels ${impl} in ${rt}`);
      }
      assert.ok(has("kernels", rt === "bun" ? "Bun.hash.crc32" : "zlib.crc32", rt), `native CRC-32 anchor in ${rt}`);
      assert.ok(has("kernels", "ckptkit-wasm", rt, "x hash-wasm"), `kernel ratio to hash-wasm in ${rt}`);
      for (const p of ["unsafe", "atomic_nodirsync", "atomic_dirsync"]) {
        for (const impl of ["ckptkit save", "ckptkit write", "floor (by hand)"]) {
          assert.ok(
            doc.rows.some((x) =>
              x.suite === "protocols" && x.case.startsWith(p) && x.impl === impl && x.runtime === rt &&
              x.metric === "p99"
            ),
            `${p} ${impl} in ${rt}`,
          );
        }
        assert.ok(
          doc.rows.some((x) => x.suite === "protocols" && x.case.startsWith(`${p} group`) && x.runtime === rt),
          `${p} group save in ${rt}`,
        );
        assert.ok(
          doc.rows.some((x) => x.suite === "timeline" && x.case.startsWith(p) && x.runtime === rt),
          `${p} timeline in ${rt}`,
        );
      }
      if (rt !== "deno") assert.ok(has("protocols", "write-file-atomic", rt), `write-file-atomic in ${rt}`);
      assert.ok(
        doc.rows.some((x) => x.suite === "protocols" && x.runtime === rt && x.metric.startsWith("overhead")),
        `overhead ratios in ${rt}`,
      );
      assert.ok(
        doc.rows.some((x) => x.suite === "log" && x.runtime === rt && /by hand/.test(x.impl)),
        `log floor in ${rt}`,
      );
      assert.ok(
        has("verify", "native SHA-256 (in memory)", rt) && has("verify", "ckptkit verify", rt, "x kernel SHA-256"),
        `verify vs SHA-256 in ${rt}`,
      );
      assert.ok(
        has("verify", "ckptkit verify, two cores (hash worker)", rt, "x one core"),
        `verify of four checkpoints on two cores in ${rt}`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 600_000);

test("bench refuses unknown runtimes and suites (exit 2, usage)", () => {
  for (const args of [["--runtimes", "node,java"], ["--suites", "kernels,nope"], ["--runtimes", ""]]) {
    const r = ckpt(["bench", ...args, "--out", `${tmpdir()}/ckpt-bench-never`]);
    noCrash(r);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /usage: ckpt bench/);
  }
});
