#!/usr/bin/env node
// The browser suite: builds nothing (run `npx tsup` first: it serves dist/browser.js), starts
// the static server and headless Chromium with a fresh profile, runs the suite worker and the
// page tests, prints one line per test and exits 0 (all passed), 1 (a failure) or 77 (no
// Chromium here: NOT RUN). scripts/test-all.sh runs it after the Bun step.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumPresent, launch, ROOT, serve } from "./chromium.mjs";

if (!chromiumPresent()) {
  console.log("browser: NOT RUN (no /usr/bin/chromium; scripts/chromium.sh install)");
  process.exit(77);
}
const bundle = join(ROOT, "dist/browser.js");
if (!existsSync(bundle)) {
  console.error("browser: dist/browser.js is missing: run npx tsup first");
  process.exit(1);
}
// The contract line: no node: import anywhere in the bundle.
const nodeImports = readFileSync(bundle, "utf8").match(/["']node:[a-z_/]+["']/g);
if (nodeImports) {
  console.error(`browser: dist/browser.js imports ${[...new Set(nodeImports)].join(", ")}`);
  process.exit(1);
}

const t0 = Date.now();
const profile = mkdtempSync(join(tmpdir(), "ckpt-chromium-"));
const server = await serve();
let b;
let failed = 0;
try {
  b = await launch(profile);
  const errors = [];
  b.page.on("pageerror", (e) => errors.push(String(e)));
  await b.page.goto(`${server.url}/test/browser/index.html`);
  await b.page.waitForFunction(() => window.pageReady === true, null, { timeout: 20_000 }).catch(() => {
    throw new Error(`the test page did not load: ${errors.join("; ")}`);
  });
  const results = [
    ...(await b.page.evaluate(() => window.runSuite())),
    ...(await b.page.evaluate(() => window.runPageTests())),
  ];
  for (const r of results) {
    console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.ms} ms)${r.note ? `: ${r.note}` : ""}`);
    if (!r.ok) {
      failed++;
      console.log(`     ${r.error.replace(/\n/g, "\n     ")}`);
    }
  }
  const version = b.browser.version();
  console.log(
    `browser (Chromium ${version}): ${results.length - failed} passed, ${failed} failed in ${
      ((Date.now() - t0) / 1000).toFixed(1)
    } s`,
  );
} catch (err) {
  failed++;
  console.error(`browser: ${err?.stack ?? err}`);
} finally {
  await b?.close();
  await server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
