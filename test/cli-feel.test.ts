// How the CLI feels to a person at a terminal: `help [command]` (the same text as
// `<command> --help`), usage errors that name the closest valid command or flag, errno codes
// in words, --quiet, and byte progress with human units on a terminal only (a pseudo-terminal
// from `script -qc`; absent on a pipe, with --json and with --quiet).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { COMMANDS } from "../src/cli/commands.ts";
import { type Io, main } from "../src/cli/main.ts";
import { byteProgress, humanBytes, NO_PROGRESS } from "../src/cli/progress.ts";
import { closest, editDistance } from "../src/cli/suggest.ts";
import { errnoInWords } from "../src/cli/errno-words.ts";
import { runtime, test } from "./kit.ts";
import { ckpt, cliArgv, noCrash } from "./lib/cli.ts";

/** Runs main() in this process (fast: for the many help and usage cases). */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    stderrIsTTY: false,
    self: [],
    tmpdir: tmpdir(),
    readStdin: async () => new Uint8Array(0),
  };
  const code = await main(argv, io);
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

function tmp(): { dir: string; done(): void } {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-feel-${runtime}-`);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a pseudo-terminal (stdout and stderr both the terminal); resolves to what it
 * drew. Asynchronous, so that independent runs overlap (the file stays fast on a busy machine).
 */
function onTerminal(args: string[], stdoutTo?: string): Promise<{ code: number; screen: string }> {
  const cmd = [...cliArgv(), ...args].map(quote).join(" ") + (stdoutTo === undefined ? "" : ` > ${quote(stdoutTo)}`);
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", cmd, "/dev/null"], {
      env: { ...process.env, NO_COLOR: "1", TERM: "xterm" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let screen = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => void (screen += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, screen });
    });
  });
}

// "12.0 KiB / 3.0 MiB": a done count and a total, both in human units.
const BYTE_BAR = /\d+(\.\d)? (B|KiB|MiB) \/ \d+\.\d (KiB|MiB)/;

test(`cli feel (${runtime}): help CMD and CMD --help print the same usage, for every command`, async () => {
  for (const c of COMMANDS) {
    const a = await run(["help", c.name]);
    const b = await run([c.name, "--help"]);
    assert.equal(a.code, 0, c.name);
    assert.equal(b.code, 0, c.name);
    assert.equal(a.stdout, b.stdout, `${c.name}: help and --help differ`);
    assert.ok(a.stdout.startsWith(`usage: ckpt ${c.usage}\n`), c.name);
    assert.match(a.stdout, /\nexit: \d/, `${c.name}: no exit codes`);
    assert.ok(c.exits, `${c.name}: exit codes not described`);
    // Every flag the synopsis shows is described on a line of its own.
    for (const [, flag] of c.usage.matchAll(/\[?(--[a-z0-9-]+)/g)) {
      const line = a.stdout.split("\nflags:\n")[1]!.split("\n").find((l) =>
        l.startsWith(`  ${flag} `) || l.startsWith(`  ${flag},`)
      );
      assert.ok(line && /\S {2,}\S/.test(line.trim()), `${c.name}: ${flag} has no description`);
    }
    for (const f of ["--json", "--quiet", "--help"]) {
      assert.ok(a.stdout.includes(`\n  ${f}`), `${c.name}: ${f} missing`);
    }
  }
  // --json keeps its promise: one document on stdout, holding the same text.
  const json = await run(["help", "save", "--json"]);
  assert.deepEqual(JSON.parse(json.stdout), { command: "save", usage: (await run(["save", "--help"])).stdout });
  assert.deepEqual(JSON.parse((await run(["save", "--help", "--json"])).stdout), JSON.parse(json.stdout));
  const all = await run(["help"]);
  assert.equal(all.code, 0);
  for (const c of COMMANDS) assert.match(all.stdout, new RegExp(`\\n  ${c.name} +\\S`));
  // On a usage error the same flags section follows the one-line message.
  const bad = await run(["restore", "s", "o", "--stpe", "3"]);
  assert.ok(bad.stderr.includes((await run(["help", "restore"])).stdout.split("\n\nflags:\n")[1]!.split("\n\n")[0]!));
});

test(`cli feel (${runtime}): did-you-mean for commands, subjects of help, and flags`, async () => {
  const cases: [string[], RegExp][] = [
    [["verfiy", "x"], /^ckpt: unknown command 'verfiy' \(did you mean 'verify'\?\)\n/],
    [["restroe"], /did you mean 'restore'\?/],
    [["help", "lsit"], /^ckpt help: unknown command 'lsit' \(did you mean 'list'\?\)\n/],
    [["list", "/tmp", "--verfy"], /^ckpt list: unknown flag --verfy \(did you mean --verify\?\)\nusage: ckpt list /],
    [["save", "s", "f", "--stpe", "3"], /^ckpt save: unknown flag --stpe \(did you mean --step\?\)\n/],
    [["save", "s", "f", "--jsno"], /did you mean --json\?/],
    [["save", "s", "f", "--protocl=unsafe"], /did you mean --protocol\?/],
    [["list", "s", "-x"], /^ckpt list: unknown flag -x\n/],
    [["log", "apend", "l", "f"], /^ckpt log: unknown log subcommand 'apend' \(did you mean 'append'\?\)\n/],
    [["list", "s", "--json=yes"], /^ckpt list: --json takes no value, got 'yes'\n/],
    [["restore", "s", "o", "--step"], /^ckpt restore: --step needs a value \(--step N\)\n/],
    [["save", "s", "f", "--step", "-4"], /^ckpt save: --step must be an integer ≥ 1, got '-4'\n/],
  ];
  for (const [argv, want] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(" "));
    assert.match(r.stderr, want, argv.join(" "));
    assert.doesNotMatch(r.stderr, /ERR_PARSE_ARGS|TypeError|Unknown option|parseArgs/, argv.join(" "));
    assert.match(r.stderr, /\nusage: ckpt /, `${argv.join(" ")}: no usage`);
    assert.equal(r.stdout, "", "nothing on stdout without --json");
  }
  // Nothing close: no suggestion rather than a wild one.
  assert.doesNotMatch((await run(["frobnicate"])).stderr, /did you mean/);
  assert.doesNotMatch((await run(["list", "s", "--zzzzzz"])).stderr, /did you mean/);
  // The same through the real entry point, with --json: one document naming the flag.
  const r = ckpt(["list", "/tmp", "--verfy", "--json"]);
  assert.equal(r.code, 2);
  assert.match(r.json<{ error: { message: string } }>().error.message, /did you mean --verify\?/);
  noCrash(r);
});

test(`cli feel (${runtime}): suggestion and wording helpers`, () => {
  assert.equal(editDistance("verfiy", "verify"), 1, "a swap is one edit");
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(closest("lst", ["save", "list", "latest"]), "list");
  assert.equal(closest("ver", ["verify", "protocol"]), "verify", "a unique prefix");
  assert.equal(closest("x".repeat(10_000), ["verify"]), undefined, "a huge word costs nothing");
  assert.equal(errnoInWords("ENOENT"), "ENOENT: no such file or directory");
  assert.equal(errnoInWords("EWHATEVER"), "EWHATEVER");
  // cat writes the member to stdout: a bar only when stdout is not the terminal it would draw on.
  const tty = { stderrIsTTY: true, json: false, quiet: false };
  assert.equal(byteProgress({ ...tty, stdoutIsTTY: true }, "cat", { writesStdout: true }), NO_PROGRESS);
  assert.notEqual(byteProgress({ ...tty, stdoutIsTTY: false }, "cat", { writesStdout: true }), NO_PROGRESS);
  assert.equal(byteProgress({ ...tty, stdoutIsTTY: false, quiet: true }, "cat", { writesStdout: true }), NO_PROGRESS);
  assert.deepEqual([0, 1023, 1024, 1536, 3 * 2 ** 20, 150 * 2 ** 30].map(humanBytes), [
    "0 B",
    "1023 B",
    "1.0 KiB",
    "1.5 KiB",
    "3.0 MiB",
    "150 GiB",
  ]);
});

test(`cli feel (${runtime}): exit codes, and errno codes in words naming path and operation`, async () => {
  const t = tmp();
  try {
    assert.equal((await run(["help"])).code, 0);
    assert.equal((await run(["help", "save", "list"])).code, 2);
    assert.equal((await run(["nope"])).code, 2);
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^ckpt: no command given \(ckpt help lists them\)\nusage: ckpt <command>/);
    const missing = ckpt(["verify", `${t.dir}/no-such-store`]);
    assert.equal(missing.code, 3);
    assert.equal(
      missing.stderr.trim(),
      `ckpt verify: verify ${t.dir}/no-such-store: ENOENT: no such file or directory`,
    );
    const list = await run(["list", `${t.dir}/no-such-store`]);
    assert.equal(list.code, 3);
    assert.equal(list.stderr, `ckpt list: open store ${t.dir}/no-such-store: ENOENT: no such file or directory`);
    const save = await run(["save", `${t.dir}/store`, `${t.dir}/absent.bin`]);
    assert.equal(save.code, 3);
    assert.match(save.stderr, new RegExp(`read ${t.dir}/absent.bin: ENOENT: no such file or directory`));
    writeFileSync(`${t.dir}/plain`, "x");
    const notDir = await run(["save", `${t.dir}/plain/store`, `${t.dir}/plain`]);
    assert.equal(notDir.code, 3);
    assert.match(notDir.stderr, /: ENOTDIR: not a directory/);
  } finally {
    t.done();
  }
});

test(`cli feel (${runtime}): --quiet drops notes and progress, keeps results and errors`, async () => {
  const t = tmp();
  try {
    writeFileSync(`${t.dir}/a.bin`, new Uint8Array(2 ** 20).fill(1));
    const debris = (step: number) => {
      mkdirSync(`${t.dir}/store`, { recursive: true });
      writeFileSync(`${t.dir}/store/step-${String(step).padStart(16, "0")}.member-0`, "left by a killed save");
    };
    debris(7);
    const loud = ckpt(["save", `${t.dir}/store`, `${t.dir}/a.bin`]);
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /^note: removed step 7's 1 file/m);
    debris(20);
    const quiet = ckpt(["save", `${t.dir}/store`, `${t.dir}/a.bin`, "--quiet"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "", "--quiet: no note");
    assert.match(quiet.stdout, /^saved step \d+ /);
    const err = ckpt(["verify", `${t.dir}/gone`, "-q"]);
    assert.equal(err.code, 3);
    assert.match(err.stderr, /ENOENT/, "--quiet keeps errors");
    // On a terminal, --quiet also means no bar.
    const term = await onTerminal(["verify", `${t.dir}/store`, "--quiet"]);
    assert.equal(term.code, 0, term.screen);
    assert.doesNotMatch(term.screen, BYTE_BAR);
    assert.match(term.screen, /all 2 checkpoints valid/);
  } finally {
    t.done();
  }
});

test(`cli feel (${runtime}): byte progress with human units on a terminal only`, async () => {
  const t = tmp();
  try {
    writeFileSync(`${t.dir}/a.bin`, new Uint8Array(2 ** 20).map((_, i) => i * 7));
    const store = `${t.dir}/store`;
    // The save first (the others read its checkpoint), then the rest at once.
    const save = ["save", store, `${t.dir}/a.bin`];
    const saved = await onTerminal(save);
    const reads = [["verify", store], ["verify", `${store}/step-0000000000000001.member-0`], [
      "restore",
      store,
      `${t.dir}/out`,
    ], ["hash", `${t.dir}/a.bin`]];
    const [json, ...screens] = await Promise.all([
      onTerminal(["verify", store, "--json"]),
      ...reads.map((a) => onTerminal(a)),
    ]);
    for (const [i, args] of [save, ...reads].entries()) {
      const term = i === 0 ? saved : screens[i - 1]!;
      assert.equal(term.code, 0, term.screen);
      assert.match(
        term.screen,
        new RegExp(`${args[0]} \\[[^\\]]*\\] \\d+% \\| ${BYTE_BAR.source}`),
        `${args.join(" ")}: no byte bar`,
      );
    }
    // The same on a pipe: stderr stays empty (every bar goes through one gate, byteProgress).
    for (const args of [["verify", store], ["hash", `${t.dir}/a.bin`]]) {
      const piped = ckpt(args);
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stderr, "", `${args[0]} on a pipe printed to stderr`);
    }
    // --json on a terminal: one document, no bar.
    assert.equal(json.code, 0);
    assert.doesNotMatch(json.screen, BYTE_BAR);
    assert.match(json.screen, /^\{"store"/);
  } finally {
    t.done();
  }
});

test(`cli feel (${runtime}): cat to a file draws byte progress on the terminal; a pipe, --quiet or the terminal itself get none`, async () => {
  const t = tmp();
  try {
    const data = new Uint8Array(2 ** 20).map((_, i) => 97 + (i % 26)); // printable: it is also drawn
    writeFileSync(`${t.dir}/a.bin`, data);
    const store = `${t.dir}/store`;
    assert.equal(ckpt(["save", store, `${t.dir}/a.bin`]).code, 0);
    const [toFile, quiet, toTerminal] = await Promise.all([
      onTerminal(["cat", store, "a.bin"], `${t.dir}/out.bin`),
      onTerminal(["cat", store, "a.bin", "--quiet"], `${t.dir}/quiet.bin`),
      onTerminal(["cat", store, "a.bin"]),
    ]);
    assert.equal(toFile.code, 0, toFile.screen);
    assert.match(
      toFile.screen,
      new RegExp(`cat \\[[^\\]]*\\] \\d+% \\| ${BYTE_BAR.source}`),
      "cat to a file: no byte bar",
    );
    assert.deepEqual(new Uint8Array(readFileSync(`${t.dir}/out.bin`)), data, "the bar never mixes into the bytes");
    assert.equal(quiet.code, 0, quiet.screen);
    assert.doesNotMatch(quiet.screen, BYTE_BAR);
    assert.deepEqual(new Uint8Array(readFileSync(`${t.dir}/quiet.bin`)), data);
    assert.equal(toTerminal.code, 0);
    assert.doesNotMatch(toTerminal.screen, BYTE_BAR);
    // On a pipe: the bytes on stdout, nothing on stderr.
    const piped = ckpt(["cat", store, "a.bin"]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, "");
  } finally {
    t.done();
  }
});
