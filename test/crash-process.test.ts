// Real SIGKILLs: `ckpt crashtest --mode process --trials 30` in the runtime under test (the issue's
// CI run: 30 kills per protocol and of the log appender, in each of the three runners; the
// 300-kill run is in the closing note), plus the trial judge on hand-made stores, so a check
// that cannot fail is not mistaken for evidence.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { MemoryFs } from "../adapters/memory.ts";
import { parseAcks } from "../src/crash/acks.ts";
import { corruptionExperiment } from "../src/crash/corruption.ts";
import { childError, childMembers, judgeTrial, processTrials } from "../src/crash/process.ts";
import { CkptError } from "../src/errors.ts";
import { judgeLogTrial, recordFor } from "../src/crash/process-log.ts";
import { openLog } from "../src/wal/log.ts";
import { openStore } from "../src/store/store.ts";
import { byDepth, runtime, test } from "./kit.ts";
import { ckpt, cliArgv, type CliResult, noCrash, ROOT } from "./lib/cli.ts";

interface Report {
  ok: boolean;
  violations: number;
  rows: {
    protocol: string;
    runtime: string;
    trials: number;
    recoverable: number;
    ackedLost: number;
    silent: number;
    note: string;
  }[];
}

/** 30 kills per protocol and of the log appender under Node (and CKPT_LONG=1), 12 under Deno and Bun in CI. */
const KILLS = byDepth(30, 30, 12);

/** The CLI as a child without blocking the runner (30 kills × 4 take ~30 s on two cores). */
function ckptAsync(args: string[], timeoutMs: number): Promise<CliResult> {
  const [cmd, ...pre] = cliArgv();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, [...pre, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout!.on("data", (d: Uint8Array) => {
      stdout += new TextDecoder().decode(d);
    });
    child.stderr!.on("data", (d: Uint8Array) => {
      stderr += new TextDecoder().decode(d);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, json: <T>() => JSON.parse(stdout) as T });
    });
  });
}

test(
  `crashtest --mode process --trials ${KILLS} (${runtime}): children killed mid save loop and mid append burst; every recovery exact, nothing acknowledged lost`,
  async () => {
    const r = await ckptAsync(
      ["crashtest", "--mode", "process", "--trials", String(KILLS), "--json", "--seed", "5"],
      280_000,
    );
    noCrash(r);
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json<Report>();
    assert.equal(rep.ok, true);
    assert.deepEqual(rep.rows.map((x) => `${(x as { workload?: string }).workload}/${x.protocol}`).sort(), [
      "log-append/fdatasync",
      "save-loop/atomic_dirsync",
      "save-loop/atomic_nodirsync",
      "save-loop/unsafe",
    ]);
    for (const row of rep.rows) {
      console.log(`process kills ${row.runtime}/${row.protocol}: ${JSON.stringify(row)}`);
      assert.equal(row.runtime, runtime);
      assert.equal(row.trials, KILLS);
      assert.equal(row.recoverable, KILLS);
      assert.equal(row.ackedLost + row.silent, 0);
      assert.match(row.note, /^\d+ (saves|appends) acknowledged/);
    }
    // The children really saved between kills (otherwise the kills tested nothing).
    assert.ok(rep.rows.some((x) => Number(/^(\d+)/.exec(x.note)![1]) > 0), "some save was acknowledged");
  },
  300_000,
);

async function trialDir(steps: number[], acks: string, tamper?: (fs: MemoryFs) => void): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/t");
  const s = await openStore("/t/store", { fs, chunkSize: 16 * 1024 });
  for (const step of steps) await s.save(childMembers(9, step), { step });
  await s.close();
  const h = await fs.open("/t/acks", { write: true, create: true });
  await h.write(new TextEncoder().encode(acks), 0);
  await h.close();
  tamper?.(fs);
  return fs;
}

test("trial judge: exact recovery passes; a lost acknowledged save and other bytes are both caught", async () => {
  const good = await judgeTrial(await trialDir([1, 2], "1\n2\n3"), "/t", 9); // "3" never completed its ack line
  assert.deepEqual({ ...good }, {
    newest: "valid",
    recoverable: true,
    silent: false,
    ackedLost: false,
    acked: 2,
    maxAck: 2,
  });
  const lost = await judgeTrial(await trialDir([1], "1\n2\n"), "/t", 9);
  assert.equal(lost.ackedLost, true);
  // A checkpoint that verifies but holds what another step's save wrote: silent corruption.
  const fs = new MemoryFs();
  await fs.mkdir("/t");
  const s = await openStore("/t/store", { fs });
  await s.save(childMembers(9, 7), { step: 1 });
  await s.close();
  const h = await fs.open("/t/acks", { write: true, create: true });
  await h.close();
  const wrong = await judgeTrial(fs, "/t", 9);
  assert.equal(wrong.silent, true);
  assert.equal(wrong.recoverable, false);
});

test("log trial judge: an exact prefix passes; a lost acknowledged append and a foreign record are both caught", async () => {
  const make = async (records: Uint8Array[], acks: string) => {
    const fs = new MemoryFs();
    await fs.mkdir("/t");
    const log = await openLog("/t/log", { fs });
    for (const r of records) await log.append(r);
    await log.close();
    const h = await fs.open("/t/acks", { write: true, create: true });
    await h.write(new TextEncoder().encode(acks), 0);
    await h.close();
    return fs;
  };
  const good = await judgeLogTrial(await make([recordFor(3, 1), recordFor(3, 2)], "1\n2\n"), "/t", 3);
  assert.deepEqual({ ...good }, {
    newest: "valid",
    recoverable: true,
    silent: false,
    ackedLost: false,
    acked: 2,
    maxAck: 2,
  });
  assert.equal((await judgeLogTrial(await make([recordFor(3, 1)], "1\n2\n"), "/t", 3)).ackedLost, true);
  const foreign = await judgeLogTrial(await make([recordFor(3, 1), recordFor(4, 2)], "1\n"), "/t", 3);
  assert.equal(foreign.silent, true);
});

test(
  "acks of a long run: a million lines are counted and their maximum found (a spread into Math.max overflowed the stack)",
  async () => {
    assert.deepEqual(parseAcks("1\n5\n3\n4"), { count: 3, max: 5 }, "the unterminated last piece is a cut-short write");
    assert.deepEqual(parseAcks(""), { count: 0, max: 0 });
    // 300 trials of the log child leave a few hundred thousand lines; JavaScriptCore's spread limit is ~1M.
    const lines = 1_100_000;
    const many = "1\n2\n".repeat(lines / 2);
    const save = await judgeTrial(await trialDir([1, 2], many), "/t", 9);
    assert.deepEqual({ ...save }, {
      newest: "valid",
      recoverable: true,
      silent: false,
      ackedLost: false,
      acked: lines,
      maxAck: 2,
    });
    const fs = new MemoryFs();
    await fs.mkdir("/t");
    const log = await openLog("/t/log", { fs });
    for (const seq of [1, 2]) await log.append(recordFor(3, seq));
    await log.close();
    const h = await fs.open("/t/acks", { write: true, create: true });
    await h.write(new TextEncoder().encode(many + "3\n"), 0);
    await h.close();
    const lost = await judgeLogTrial(fs, "/t", 3);
    assert.equal(lost.acked, lines + 1);
    assert.equal(lost.maxAck, 3);
    assert.equal(lost.ackedLost, true);
  },
  120_000,
);

test(`a child that dies on its own fails the run naming why (${runtime}): the error line, not just the runtime's banner`, async () => {
  const fs = new MemoryFs();
  const dir = mkdtempSync(`${tmpdir()}/ckpt-deadchild-${runtime}-`);
  try {
    await assert.rejects(
      processTrials({
        fs,
        dir: "/p",
        argv: ["node", `${dir}/no-such-cli.js`],
        runtime,
        protocol: "atomic_dirsync",
        trials: 1,
        seed: 1,
      }),
      (err: Error) =>
        err instanceof CkptError &&
        /trial 1\) exited before it was killed: Error: Cannot find module/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(childError(""), "(no output)");
  assert.equal(
    childError("ckpt crashtest: /s is locked by a live writer (pid 3) [ELOCKED]\n"),
    "ckpt crashtest: /s is locked by a live writer (pid 3) [ELOCKED]",
  );
});

test("corruption experiment: N injections are N corruptions (a draw that changes no byte is redrawn), every one detected", async () => {
  const rows = await corruptionExperiment(2000, 100, 1);
  const damaging = rows.filter((r) => r.mode !== "clean");
  const noops = damaging.reduce((n, r) => n + r.noops, 0);
  assert.ok(noops > 0, "zeros over zeros occurs at this seed, so the redraw is exercised");
  assert.equal(damaging.reduce((n, r) => n + r.injections - r.noops, 0), 2000);
  assert.equal(damaging.reduce((n, r) => n + r.detected, 0), 2000);
  const clean = rows.find((r) => r.mode === "clean")!;
  assert.equal(clean.cleanVerifies, 100);
  assert.equal(clean.falsePositives, 0);
});

test(`crashtest usage errors (${runtime})`, () => {
  for (
    const args of [["--mode", "nope"], ["--runtimes", "python"], ["--trials", "0"], ["--protocol", "fast"], [
      "--workload",
      "x",
    ]]
  ) {
    const r = ckpt(["crashtest", ...args]);
    noCrash(r);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  }
});

test(`crashtest --mode corrupt and powerloss through the CLI (${runtime}): exit 0, rows, CSV`, () => {
  const out = mkdtempSync(`${tmpdir()}/ckpt-crashtest-${runtime}-`);
  try {
    const c = ckpt(["crashtest", "--mode", "corrupt", "--trials", "300", "--json", "--out", out]);
    noCrash(c);
    assert.equal(c.code, 0, c.stderr);
    const rows = c.json<Report>().rows as unknown as {
      workload: string;
      trials: number;
      detected: number;
      falsePositives: number;
    }[];
    assert.deepEqual(rows.map((x) => x.workload).sort(), ["bitflip", "clean", "truncate", "zerorange"]);
    for (const x of rows) {
      if (x.workload !== "clean") {
        assert.equal(x.detected, x.trials, `${x.workload}: every effective injection detected`);
      }
    }
    // Manifests and headers are hit, not only member payloads, and the note says so per kind and region.
    const notes = (rows as unknown as { note: string }[]).map((x) => x.note).join("; ");
    for (
      const where of [
        "manifest header",
        "manifest body",
        "manifest trailer",
        "member header",
        "member body",
        "member trailer",
      ]
    ) assert.match(notes, new RegExp(`${where} \\d+/\\d+`), notes);
    assert.match(readFileSync(`${out}/crashtest-corrupt.csv`, "utf8"), /^mode,workload,protocol,runtime,trials/);
    // Every crash state of seven workloads at the full 2^14 subset limit: ~1 min in Node on an
    // idle 2-core machine since the lock publishes through temp + link, so more than ckpt's 60 s default.
    const p = ckpt(["crashtest", "--protocol", "atomic_dirsync"], { timeoutMs: 600_000 });
    noCrash(p);
    assert.equal(p.code, 0, p.stderr);
    for (const w of ["save", "group", "save-keep", "rollback", "prune", "log", "state"]) {
      assert.match(p.stdout, new RegExp(`^${w}\\s+atomic_dirsync\\s+${runtime}`, "m"));
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 900_000);
