// CLI argument fuzzing: seeded argument vectors built from the real commands and flags, wrong
// ones, hostile values and paths — all paths inside one scratch directory (a valid store, a
// checkpoint file, a log, garbage, missing names), so the fuzzer never touches anything else.
// main() runs in-process with an in-memory Io: it must return 0, 1, 2 or 3 and never throw,
// and nothing it prints may be a stack trace. Commands that spawn processes or run for long
// (crashtest, bench, demo) are not fuzzed here.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { type Io, main } from "../../src/cli/main.ts";
import { rng } from "../../src/rng.ts";
import { openLog, openStore } from "../../src/open.ts";

const COMMANDS = [
  "save",
  "list",
  "verify",
  "latest",
  "restore",
  "cat",
  "rollback",
  "inspect",
  "corrupt",
  "log",
  "hash",
  "help",
  "--help",
  "-V",
  "",
  "savee",
  "LIST",
  "--json",
];
const LOG_SUBS = ["append", "replay", "truncate", "repair", "nope", ""];
// Flags that take a value (the next argument); every other flag is followed by nothing or a path,
// so a value can never become a positional (which would be a path relative to the cwd).
const VALUED = [
  "--step",
  "--protocol",
  "--meta",
  "--keep",
  "--mode",
  "--seed",
  "--offset",
  "--length",
  "--before",
  "--trials",
];
const FLAGS = [
  "--json",
  "--verify",
  "--salvage",
  "--help",
  "-h",
  "--bogus",
  "-x",
  "--step=",
  "--keep=0",
  "--protocol=atomic_dirsync",
  "--mode=bitflip",
  "--seed=-1",
  "--length=99999999999",
];
const VALUES = [
  "0",
  "1",
  "2",
  "-1",
  "3.5",
  "1e3",
  "9007199254740993",
  "99999999999999999999",
  "",
  " ",
  "abc",
  "unsafe",
  "atomic_nodirsync",
  "atomic_dirsync",
  "bitflip",
  "zerorange",
  "truncate",
  "k=v",
  "=",
  "k=",
  "\u0000",
  "é",
  "../..",
  "%s%n",
];

export interface CliFuzzStats {
  runs: number;
  codes: Record<number, number>;
}

async function fixture(root: string): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const s = await openStore(`${root}/store`, { chunkSize: 256 });
  await s.save([{ name: "a.bin", data: new Uint8Array(700).map((_, i) => i) }, {
    name: "b",
    data: new TextEncoder().encode("hello"),
  }]);
  await s.close();
  const log = await openLog(`${root}/log`);
  await log.append(new TextEncoder().encode("one"));
  await log.close();
  writeFileSync(`${root}/garbage`, new Uint8Array(300).map((_, i) => (i * 37) & 255));
  writeFileSync(`${root}/empty`, new Uint8Array(0));
  mkdirSync(`${root}/emptydir`);
}

export async function fuzzCli(iterations: number, seed = 1, resetEvery = 400): Promise<CliFuzzStats> {
  const scratch = mkdtempSync(`${tmpdir()}/ckpt-fuzz-cli-`);
  const root = `${scratch}/w`;
  const paths = [
    "store",
    "store/step-0000000000000001.manifest",
    "store/step-0000000000000001.member-0",
    "store/.lock",
    "log",
    "log/seg-0000000000000001.wal",
    "garbage",
    "empty",
    "emptydir",
    "missing",
    "store/missing",
    "out",
    "out2",
    ".",
    "store/..",
  ].map((p) => `${root}/${p}`);
  const stats: CliFuzzStats = { runs: 0, codes: {} };
  const cwdBefore = new Set(readdirSync("."));
  const next = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!;
  try {
    for (let i = 0; i < iterations; i++) {
      if (i % resetEvery === 0) await fixture(root);
      const argv: string[] = [pick(COMMANDS)];
      if (argv[0] === "log") argv.push(pick(LOG_SUBS));
      const extra = Math.floor(next() * 6);
      for (let k = 0; k < extra; k++) {
        const r = next();
        // "-" (stdin) only as log append's data argument, after the log directory.
        const dataArg = argv[1] === "append" && argv.length >= 3 && argv[2]!.startsWith(root);
        if (r < 0.5) argv.push(dataArg && next() < 0.3 ? "-" : pick(paths));
        else if (r < 0.8) argv.push(pick(VALUED), pick(VALUES));
        else argv.push(pick(FLAGS));
      }
      const out: string[] = [];
      const io: Io = {
        out: (t) => void out.push(t),
        err: (t) => void out.push(t),
        stderrIsTTY: false,
        self: [],
        tmpdir: scratch,
        readStdin: async (limit) => new Uint8Array(Math.min(limit, Math.floor(next() * 64))),
      };
      let code: number;
      try {
        code = await main(argv, io);
      } catch (err) {
        throw new Error(
          `cli fuzz input ${i} (seed ${seed}) threw: ${JSON.stringify(argv)}: ${(err as Error)?.stack ?? err}`,
        );
      }
      if (![0, 1, 2, 3].includes(code)) {
        throw new Error(`cli fuzz input ${i}: exit ${code} for ${JSON.stringify(argv)}`);
      }
      const text = out.join("\n");
      if (/\n\s+at [^\n]+:\d+:\d+/.test(text) || /internal error|RuntimeError|unreachable/.test(text)) {
        throw new Error(`cli fuzz input ${i}: crash output for ${JSON.stringify(argv)}:\n${text.slice(0, 1500)}`);
      }
      stats.runs++;
      stats.codes[code] = (stats.codes[code] ?? 0) + 1;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // Only names the fuzzer itself could have produced (other test files may write elsewhere).
  const ours = new Set([...VALUES, "-"]);
  const strays = readdirSync(".").filter((n) => !cwdBefore.has(n) && ours.has(n));
  if (strays.length > 0) throw new Error(`cli fuzz wrote outside its scratch directory: ${strays.join(", ")}`);
  return stats;
}
