#!/usr/bin/env node
// The browser beside the server runtimes: the same benchmark (test/browser/bench-core.js) in
// Node, Deno and Bun over dist/index.js on a temp dir, and in headless Chromium over OPFS in a
// dedicated worker. Prints one table. Usage: node scripts/browser-bench.mjs [--mib N] [--runtimes node,deno,bun,browser]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromiumPresent, launch, ROOT, serve } from "../test/browser/chromium.mjs";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "32" },
    runtimes: { type: "string", default: "node,deno,bun,browser" },
    child: { type: "string" },
  },
});
const mib = Number(values.mib);

if (values.child) {
  // One server runtime: print its results as JSON.
  const ck = await import(join(ROOT, "dist/index.js"));
  const { runBench } = await import(join(ROOT, "test/browser/bench-core.js"));
  const dir = mkdtempSync(join(tmpdir(), "ckpt-bench-"));
  try {
    console.log(JSON.stringify(await runBench(ck, dir, { mib })));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

const results = {};
const self = join(ROOT, "scripts/browser-bench.mjs");
for (const rt of values.runtimes.split(",")) {
  if (rt === "browser") {
    if (!chromiumPresent()) {
      results.browser = null;
      continue;
    }
    const server = await serve();
    const profile = mkdtempSync(join(tmpdir(), "ckpt-chromium-bench-"));
    const b = await launch(profile);
    try {
      await b.page.goto(`${server.url}/test/browser/index.html`);
      await b.page.waitForFunction(() => window.pageReady === true);
      results.browser = await b.page.evaluate((o) => window.runBench(o), { mib });
    } finally {
      await b.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    }
    continue;
  }
  const cmd = rt === "node"
    ? ["node", [self]]
    : rt === "deno"
    ? ["npx", ["deno", "run", "-A", self]]
    : ["npx", ["bun", self]];
  results[rt] = JSON.parse(
    execFileSync(cmd[0], [...cmd[1], "--child", rt, "--mib", String(mib)], { cwd: ROOT, encoding: "utf8" }).trim()
      .split("\n").pop(),
  );
}
const rts = Object.keys(results);
const keys = [...new Set(rts.flatMap((r) => Object.keys(results[r] ?? {})))];
console.log(`| ${mib} MiB | ${rts.join(" | ")} |`);
console.log(`| --- | ${rts.map(() => "---:").join(" | ")} |`);
for (const k of keys) console.log(`| ${k} | ${rts.map((r) => results[r]?.[k] ?? "NOT RUN").join(" | ")} |`);
