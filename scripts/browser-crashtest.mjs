#!/usr/bin/env node
// Crash experiment in a real browser: headless Chromium with a persistent profile saves
// checkpoints (atomic_nodirsync, OPFS's strongest protocol) and appends log records in a worker,
// and the whole browser process group is SIGKILLed at a random moment; then it is relaunched on
// the same profile and the invariants are checked: latest is the newest acknowledged save or a
// newer one that committed (never older: nothing acknowledged lost), its bytes are exactly what
// that save was asked to write, no committed checkpoint is damaged, and every acknowledged log
// record replays with its exact bytes.
//
// Usage: node scripts/browser-crashtest.mjs [--trials N] [--seed S] [--json]   (needs `npx tsup`)
// Exit 0 when every invariant held, 1 otherwise, 77 when there is no Chromium (NOT RUN).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromiumPresent, launch, serve } from "../test/browser/chromium.mjs";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "50" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    port: { type: "string", default: "0" },
  },
});
const trials = Number(values.trials);
if (!Number.isSafeInteger(trials) || trials < 1) {
  console.error("--trials: expected a positive integer");
  process.exit(2);
}
if (!chromiumPresent()) {
  console.log("browser crashtest: NOT RUN (no /usr/bin/chromium; scripts/chromium.sh install)");
  process.exit(77);
}

let s = Number(values.seed) >>> 0 || 1;
const random = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const profile = mkdtempSync(join(tmpdir(), "ckpt-chromium-crash-"));
const server = await serve(Number(values.port));
const acked = { saves: new Map(), maxStep: 0, ids: new Set() };
const tally = {
  trials: 0,
  kills: 0,
  newest: 0,
  newerInFlight: 0,
  lost: 0,
  lostRecords: 0,
  torn: 0,
  silent: 0,
  errors: 0,
  savesAcked: 0,
  appendsAcked: 0,
  relaunchMs: [],
  saveMs: [],
};
const problems = [];
const problem = (p) => {
  problems.push(p);
  if (!values.json) process.stderr.write(`\n  ${p}\n`);
};

let current;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    void current?.kill().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  });
}

async function open() {
  const t0 = Date.now();
  const b = (current = await launch(profile));
  await b.page.exposeBinding("__ack", (_src, m) => {
    if (m.error) {
      tally.errors++;
      problem(`worker: ${m.error}`);
      return;
    }
    if (m.ack === "save") {
      tally.saveMs.push(m.ms);
      acked.saves.set(m.step, m.seed);
      acked.maxStep = Math.max(acked.maxStep, m.step);
      tally.savesAcked++;
    } else {
      acked.ids.add(m.id);
      tally.appendsAcked++;
    }
  });
  await b.page.goto(`${server.url}/test/browser/crash.html`);
  await b.page.waitForFunction(() => window.crashReady === true, null, { timeout: 20_000 });
  tally.relaunchMs.push(Date.now() - t0);
  return b;
}

function judge(trial, r) {
  const where = `after kill ${trial}`;
  if (acked.maxStep > 0 && (r.latest === null || r.latest < acked.maxStep)) {
    tally.lost++;
    problem(`${where}: latest ${r.latest} < acknowledged ${acked.maxStep}`);
  } else if (r.latest === acked.maxStep) tally.newest++;
  else if (r.latest !== null) tally.newerInFlight++;
  if (r.latest !== null && !r.exact) {
    tally.silent++;
    problem(
      `${where}: latest ${r.latest} verifies but holds other bytes than seed ${r.seed} gives: ${
        JSON.stringify(r.detail)
      }`,
    );
  } else if (r.latest !== null && acked.saves.has(r.latest) && acked.saves.get(r.latest) !== r.seed) {
    tally.lost++;
    problem(
      `${where}: step ${r.latest} was acknowledged with seed ${
        acked.saves.get(r.latest)
      } but holds the save with seed ${r.seed} (the acknowledged save was lost and its step reused)`,
    );
  }
  if (r.damaged.length > 0) {
    tally.torn++;
    problem(`${where}: committed checkpoints damaged: ${r.damaged.join(", ")}`);
  }
  if (r.badRecords > 0) {
    tally.silent++;
    problem(`${where}: ${r.badRecords} log records replay with other bytes`);
  }
  const have = new Set(r.records);
  const missing = [...acked.ids].filter((id) => !have.has(id));
  if (missing.length > 0) {
    tally.lostRecords += missing.length;
    problem(`${where}: acknowledged log records missing: ${missing.slice(0, 5).join(", ")}…`);
  }
  if (r.logDamage) problem(`${where}: log damage ${r.logDamage}`);
  if (r.latest !== null) acked.maxStep = Math.max(acked.maxStep, r.latest);
}

const t0 = Date.now();
try {
  for (let t = 0; t < trials; t++) {
    const b = await open();
    try {
      if (t > 0) judge(t, await b.page.evaluate(() => window.check()));
      await b.page.evaluate(([trial, firstId]) => window.run(trial, firstId), [t + 1, t * 400 + 1]);
      await new Promise((r) => setTimeout(r, 200 + random() * 1800));
    } catch (err) {
      tally.errors++;
      problem(`trial ${t + 1}: ${err?.message ?? err}`);
    }
    await b.kill();
    tally.kills++;
    tally.trials++;
    if (!values.json) {
      process.stderr.write(
        `\rkill ${tally.kills}/${trials}: ${tally.savesAcked} saves, ${tally.appendsAcked} appends acknowledged, ${problems.length} problems`,
      );
    }
  }
  const b = await open();
  try {
    judge(trials, await b.page.evaluate(() => window.check()));
  } finally {
    await b.close();
  }
} finally {
  await server.close();
  if (problems.length === 0) rmSync(profile, { recursive: true, force: true });
  else problem(`profile kept for inspection: ${profile} (origin ${server.url})`);
}

const ms = tally.relaunchMs.sort((a, b) => a - b);
const saveMs = tally.saveMs.sort((a, b) => a - b);
const summary = {
  ...tally,
  relaunchMs: undefined,
  saveMs: undefined,
  saveMedianMs: saveMs[saveMs.length >> 1] ?? null,
  relaunchMedianMs: ms[ms.length >> 1],
  seconds: Math.round((Date.now() - t0) / 100) / 10,
  problems,
};
if (!values.json) process.stderr.write("\n");
if (values.json) console.log(JSON.stringify(summary));
else {
  console.log("browser crashtest (Chromium, OPFS, atomic_nodirsync, SIGKILL of the whole browser)");
  console.log(
    "kills | latest = newest acked | newer (in flight) | lost | lost records | torn | silent corruption | errors | saves acked | appends acked | save median | relaunch median",
  );
  console.log(
    `${tally.kills} | ${tally.newest} | ${tally.newerInFlight} | ${tally.lost} | ${tally.lostRecords} | ${tally.torn} | ${tally.silent} | ${tally.errors} | ${tally.savesAcked} | ${tally.appendsAcked} | ${summary.saveMedianMs} ms | ${summary.relaunchMedianMs} ms`,
  );
  for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
  console.log(
    `browser crashtest: ${
      problems.length === 0 ? "every invariant held" : `${problems.length} problems`
    } over ${tally.kills} kills in ${summary.seconds} s`,
  );
}
process.exit(problems.length === 0 ? 0 : 1);
