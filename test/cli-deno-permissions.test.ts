// Deno's own permissions (the contract, after the command table): a permission the CLI needs
// and was not given (`deno run` without `--allow-sys`, `--allow-write`, …) is exit 3 with one line
// naming the flag, and leaves nothing behind: no `.lock`, no temp, no new store directory. The
// CLI under test is always Deno's (node_modules/.bin/deno); the test itself runs in every runtime.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { ckpt, type CliResult, noCrash, ROOT } from "./lib/cli.ts";
import { runtime, test } from "./kit.ts";

const DENO = `${ROOT}/node_modules/.bin/deno`;

/** `deno run <flags> src/cli.ts <args>`, with only the given permissions. */
function denoCli(flags: string[], args: string[]): CliResult {
  const r = spawnSync(DENO, ["run", "--quiet", "--no-prompt", ...flags, `${ROOT}/src/cli.ts`, ...args], {
    encoding: "utf8",
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  const stdout = r.stdout ?? "";
  return { code: r.status ?? -1, stdout, stderr: r.stderr ?? "", json: <T>() => JSON.parse(stdout) as T };
}

function refused(r: CliResult, flag: string, what: string): void {
  noCrash(r);
  assert.equal(r.code, 3, `${what}: exit 3, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: one line on stderr: ${r.stderr}`);
  assert.ok(lines[0]!.includes(flag), `${what}: the message names ${flag}: ${lines[0]}`);
  assert.doesNotMatch(r.stderr, /internal error/, what);
}

const listing = (dir: string) => readdirSync(dir).sort();

test("Deno save without --allow-sys (and without --allow-env): exit 3 naming --allow-sys; no .lock, no new store directory", () => {
  const root = mkdtempSync(`${tmpdir()}/ckpt-denoperm-${runtime}-`);
  try {
    writeFileSync(`${root}/in.bin`, "payload");
    const rw = [`--allow-read=${ROOT},${root}`, `--allow-write=${root}`];
    // A store that does not exist yet: save would create it, but not before it can lock it.
    refused(denoCli(rw, ["save", `${root}/new-store`, `${root}/in.bin`]), "--allow-sys", "save into a new store");
    assert.equal(existsSync(`${root}/new-store`), false, "the store directory was not created");
    // An existing store with a checkpoint: nothing in it changes.
    assert.equal(ckpt(["save", `${root}/store`, `${root}/in.bin`], { rt: "deno" }).code, 0);
    const before = listing(`${root}/store`);
    refused(denoCli(rw, ["save", `${root}/store`, `${root}/in.bin`]), "--allow-sys", "save into an existing store");
    assert.deepEqual(listing(`${root}/store`), before, "no .lock, no temp, no member left behind");
    assert.ok(!before.includes(".lock"));
    // --json: one document with the code, still exit 3.
    const j = denoCli([...rw, "--allow-env"], ["save", `${root}/store`, `${root}/in.bin`, "--json"]);
    assert.equal(j.code, 3);
    assert.equal(j.json<{ error: { code: string; exit: number } }>().error.code, "ENOTCAPABLE");
    assert.deepEqual(listing(`${root}/store`), before);
    // The log takes the same lock: same refusal, no .lock in its directory.
    mkdirSync(`${root}/log`);
    refused(denoCli(rw, ["log", "append", `${root}/log`, `${root}/in.bin`]), "--allow-sys", "log append");
    assert.deepEqual(listing(`${root}/log`), [], "no .lock in the log directory");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("Deno without --allow-write or --allow-read: exit 3 naming that flag; read-only commands need neither --allow-sys nor --allow-env", () => {
  const root = mkdtempSync(`${tmpdir()}/ckpt-denoperm-${runtime}-`);
  try {
    writeFileSync(`${root}/in.bin`, "payload");
    assert.equal(ckpt(["save", `${root}/store`, `${root}/in.bin`], { rt: "deno" }).code, 0);
    const before = listing(`${root}/store`);
    refused(
      denoCli([`--allow-read=${ROOT},${root}`, "--allow-sys", "--allow-env"], [
        "save",
        `${root}/store`,
        `${root}/in.bin`,
      ]),
      "--allow-write",
      "save without --allow-write",
    );
    refused(
      denoCli([`--allow-read=${ROOT}`, "--allow-sys", "--allow-env"], ["list", `${root}/store`]),
      "--allow-read",
      "list without read access to the store",
    );
    assert.deepEqual(listing(`${root}/store`), before);
    // Reading needs only --allow-read.
    const list = denoCli([`--allow-read=${ROOT},${root}`], ["list", `${root}/store`]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /step 1/);
    const verify = denoCli([`--allow-read=${ROOT},${root}`], ["verify", `${root}/store`]);
    assert.equal(verify.code, 0, verify.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
