// "Permission denied" through the CLI of the runtime running this test: exit 3 with one line on
// stderr naming the operation and the path (EACCES), never exit 1 ("damage") and never a stack
// trace. Tests run as root on CI, where permission bits do not bite; there the CLI keeps uid 0 but
// runs without the capabilities that bypass them (`setpriv --bounding-set -dac_override,...`), so
// it can still read the checkout wherever CI cloned it (even under a 0700 /root), while the
// denied stores and files belong to uid 65534 with modes closed to others. Run as any other user,
// the CLI runs directly as that user and the modes deny the owner instead (0000).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { runtime, test } from "./kit.ts";
import { openStore } from "../src/open.ts";
import { cliArgv, type CliResult, noCrash } from "./lib/cli.ts";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync("sh", ["-c", "command -v setpriv"], { encoding: "utf8" }).status === 0;

/** Modes that deny the user the CLI runs as: root's files are closed to nobody; our own need 0000. */
const DENY_DIR = isRoot ? 0o700 : 0o000;
const DENY_FILE = isRoot ? 0o600 : 0o000;

/** Runs the CLI as the unprivileged user (root without its permission-bypassing capabilities; ourselves otherwise). */
function asUser(args: string[], home: string): CliResult {
  const argv = cliArgv();
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  let cmd = argv[0]!;
  let pre = argv.slice(1);
  if (isRoot) {
    env.HOME = home;
    cmd = "setpriv";
    pre = ["--bounding-set", "-dac_override,-dac_read_search,-fowner", ...argv];
  }
  const r = spawnSync(cmd, [...pre, ...args], {
    encoding: "utf8",
    cwd: "/",
    env: env as Record<string, string>,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return {
    code: r.status ?? -1,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    json: <T>() => JSON.parse(r.stdout ?? "") as T,
  };
}

interface Fixture {
  dir: string;
  home: string;
  input: string;
  /** root's view: a store with one valid checkpoint, mode DENY_DIR. */
  locked: string;
  /** readable, not writable (0555, files 0444). */
  readonly: string;
  /** readable directory whose member file is DENY_FILE. */
  unreadableMember: string;
  memberFile: string;
  /** an input file the user may not read. */
  secret: string;
  /** a directory the user owns (the control: saving there works). */
  own: string;
  /** a directory the user may not create entries in. */
  roParent: string;
  done(): void;
}

const STEP1 = "step-0000000000000001";

async function fixture(): Promise<Fixture> {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-perm-${runtime}-`);
  chmodSync(dir, 0o755);
  const input = `${dir}/input.bin`;
  writeFileSync(input, new Uint8Array(100_000).map((_, i) => i * 7)); // above the inline threshold: a member file of its own
  chmodSync(input, 0o644);
  // Set up in-process (the library the CLI wraps): only the commands under test pay for a child.
  const save = async (store: string) => {
    const s = await openStore(store);
    try {
      await s.save([{ name: "input.bin", path: input }]);
    } finally {
      await s.close();
    }
  };
  const locked = `${dir}/locked`;
  await save(locked);
  const readonly = `${dir}/readonly`;
  await save(readonly);
  for (const f of readdirSync(readonly)) chmodSync(`${readonly}/${f}`, 0o444);
  const unreadableMember = `${dir}/unreadable-member`;
  await save(unreadableMember);
  const memberFile = `${unreadableMember}/${STEP1}.member-0`;
  const secret = `${dir}/secret.bin`;
  writeFileSync(secret, "not yours");
  const own = `${dir}/own`;
  mkdirSync(own, { mode: 0o755 });
  const home = `${dir}/home`;
  mkdirSync(home, { mode: 0o700 });
  // Root without DAC capabilities is "other" to files of uid 65534: those are the denied ones.
  if (isRoot) { for (const p of [locked, memberFile, secret]) chownSync(p, NOBODY, NOBODY); }
  const roParent = `${dir}/ro-parent`;
  mkdirSync(roParent);
  // The denials last, once every set-up step (which may run as a non-root owner) is done.
  chmodSync(memberFile, DENY_FILE);
  chmodSync(secret, DENY_FILE);
  chmodSync(readonly, 0o555);
  chmodSync(roParent, 0o555);
  chmodSync(locked, DENY_DIR);
  return {
    dir,
    home,
    input,
    locked,
    readonly,
    unreadableMember,
    memberFile,
    secret,
    own,
    roParent,
    done() {
      // A non-root owner needs its own permissions back to remove the tree.
      for (const p of [locked, readonly, roParent]) chmodSync(p, 0o755);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Exit 3, nothing on stdout (or one JSON error), one line on stderr: `ckpt <cmd>: <op> <path>: EACCES: permission denied`. */
function denied(
  r: CliResult,
  command: string,
  ops: string[],
  path: (p: string) => boolean,
  what: string,
  json = false,
): void {
  noCrash(r);
  assert.equal(r.code, 3, `${what}: exit ${r.code}, want 3\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.replace(/\n$/, "").split("\n");
  assert.equal(lines.length, 1, `${what}: stderr must be one line:\n${r.stderr}`);
  const m = /^ckpt (\S+): (\S+) (.+): EACCES: permission denied$/.exec(lines[0]!); // the code, then its words
  assert.ok(m, `${what}: stderr does not name the operation and path with EACCES: ${lines[0]}`);
  assert.equal(m[1], command, what);
  assert.ok(ops.includes(m[2]!), `${what}: operation '${m[2]}' not one of ${ops.join(", ")}`);
  assert.ok(path(m[3]!), `${what}: path '${m[3]}' is not the one denied`);
  if (json) {
    const doc = r.json<{ error: { code: string; exit: number; message: string } }>();
    assert.equal(doc.error.code, "EACCES", what);
    assert.equal(doc.error.exit, 3, what);
    assert.equal(doc.error.message, `${m[2]} ${m[3]}: EACCES: permission denied`, what);
  } else {
    assert.equal(r.stdout, "", `${what}: nothing on stdout`);
  }
}

const inside = (dir: string) => (p: string) => p === dir || p.startsWith(`${dir}/`);
const exactly = (want: string) => (p: string) => p === want;

/** Skipped nowhere: if the CLI cannot run without privileges here, the test fails and says why. */
function preflight(f: Fixture): void {
  if (isRoot) {
    assert.ok(
      hasSetpriv,
      "running as root without setpriv (util-linux): cannot drop the capabilities that bypass permissions, so permission denial cannot be tested",
    );
  }
  const help = asUser(["--help"], f.home);
  assert.equal(help.code, 0, `the CLI does not run as the unprivileged user: ${help.stderr}`);
}

test(`cli permissions (${runtime}): a store the user cannot read or write is exit 3 naming the path, for every command`, async () => {
  const f = await fixture();
  try {
    preflight(f);
    // Control: the same binary, user and input save fine where the user may write.
    const ok = asUser(["save", `${f.own}/store`, f.input, "--json"], f.home);
    assert.equal(ok.code, 0, `control save as the unprivileged user: ${ok.stderr}`);
    assert.equal(ok.json().step, 1);
    assert.equal(asUser(["verify", `${f.own}/store`], f.home).code, 0);

    const L = f.locked;
    denied(asUser(["list", L], f.home), "list", ["readdir", "stat", "open"], inside(L), "list");
    denied(asUser(["list", L, "--verify"], f.home), "list", ["readdir", "stat", "open"], inside(L), "list --verify");
    denied(asUser(["verify", L], f.home), "verify", ["readdir", "stat", "open"], inside(L), "verify");
    denied(
      asUser(["verify", L, "--json"], f.home),
      "verify",
      ["readdir", "stat", "open"],
      inside(L),
      "verify --json",
      true,
    );
    denied(
      asUser(["verify", `${L}/${STEP1}.manifest`], f.home),
      "verify",
      ["stat", "open"],
      exactly(`${L}/${STEP1}.manifest`),
      "verify FILE",
    );
    denied(asUser(["latest", L], f.home), "latest", ["readdir", "stat", "open"], inside(L), "latest");
    denied(asUser(["save", L, f.input], f.home), "save", ["open", "mkdir"], inside(L), "save");
    denied(asUser(["save", L, f.input, "--json"], f.home), "save", ["open", "mkdir"], inside(L), "save --json", true);
    denied(
      asUser(["restore", L, `${f.own}/out`], f.home),
      "restore",
      ["readdir", "stat", "open"],
      inside(L),
      "restore",
    );
    denied(asUser(["rollback", L], f.home), "rollback", ["open", "readdir", "stat"], inside(L), "rollback");
    denied(
      asUser(["inspect", `${L}/${STEP1}.member-0`], f.home),
      "inspect",
      ["stat", "open"],
      exactly(`${L}/${STEP1}.member-0`),
      "inspect",
    );
    // A denied command leaves nothing behind (a root view of the store).
    chmodSync(L, 0o755);
    assert.deepEqual(readdirSync(L).sort(), [`${STEP1}.manifest`, `${STEP1}.member-0`]);
    assert.deepEqual(readdirSync(f.own), ["store"], "a denied restore created no output directory");
  } finally {
    f.done();
  }
});

test(`cli permissions (${runtime}): readable but not writable: reads succeed, writes are exit 3 naming the path`, async () => {
  const f = await fixture();
  try {
    preflight(f);
    const R = f.readonly;
    // Reading needs no lock: these must work, which also proves the denials below are about writing.
    const v = asUser(["verify", R, "--json"], f.home);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.json().ok, true);
    assert.equal(asUser(["latest", R, "--json"], f.home).json().step, 1);
    assert.equal(asUser(["list", R, "--verify"], f.home).code, 0);
    denied(
      asUser(["save", R, f.input], f.home),
      "save",
      ["open"],
      exactly(`${R}/.lock`),
      "save into a read-only store",
    );
    denied(
      asUser(["rollback", R], f.home),
      "rollback",
      ["open"],
      exactly(`${R}/.lock`),
      "rollback of a read-only store",
    );
    assert.deepEqual(
      readdirSync(R).sort(),
      [`${STEP1}.manifest`, `${STEP1}.member-0`],
      "no lock, temp or step file was left",
    );
    // save creating a store, and restore creating its output, under a directory closed to the user.
    denied(
      asUser(["save", `${f.roParent}/new`, f.input], f.home),
      "save",
      ["mkdir"],
      exactly(`${f.roParent}/new`),
      "save creating a store",
    );
    denied(
      asUser(["restore", R, `${f.roParent}/out`], f.home),
      "restore",
      ["mkdir"],
      exactly(`${f.roParent}/out`),
      "restore into a closed parent",
    );
    // An input file the user may not read: the input is named, and the store gets no step.
    denied(
      asUser(["save", `${f.own}/store`, f.secret], f.home),
      "save",
      ["open"],
      exactly(f.secret),
      "save of an unreadable input",
    );
    const after = asUser(["list", `${f.own}/store`, "--json"], f.home);
    assert.equal(after.code, 0, after.stderr);
    assert.deepEqual(after.json<{ checkpoints: unknown[] }>().checkpoints, []);
    assert.equal(readdirSync(R).length, 2);
  } finally {
    f.done();
  }
});

test(`cli permissions (${runtime}): an unreadable member is an I/O error (exit 3), not damage (exit 1)`, async () => {
  const f = await fixture();
  try {
    preflight(f);
    const U = f.unreadableMember;
    const M = exactly(f.memberFile);
    denied(asUser(["verify", U], f.home), "verify", ["open"], M, "verify");
    denied(asUser(["verify", U, "--json"], f.home), "verify", ["open"], M, "verify --json", true);
    denied(asUser(["verify", f.memberFile], f.home), "verify", ["open"], M, "verify FILE");
    denied(asUser(["inspect", f.memberFile], f.home), "inspect", ["open"], M, "inspect");
    denied(asUser(["latest", U], f.home), "latest", ["open"], M, "latest (unknown is not 'none valid')");
    denied(asUser(["list", U, "--verify"], f.home), "list", ["open"], M, "list --verify");
    denied(asUser(["restore", U, `${f.own}/out`], f.home), "restore", ["open"], M, "restore");
    // Listing needs only the manifest and sizes: it still works.
    const list = asUser(["list", U, "--json"], f.home);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.json<{ checkpoints: { step: number }[] }>().checkpoints.map((c) => c.step), [1]);
  } finally {
    f.done();
  }
});
