// explore(): the power-loss explorer as a product. The worked examples (examples/explore/) give
// exactly their verdicts; removing one fsync from the clean one breaks it; every reported
// violation replays to the same error; the node:fs/promises facade behaves like the real
// node:fs/promises on the same calls and refuses what it does not model with ENOTSUP; a
// 10,000-operation workload stays within its budget; the CLI exits 1 / 0 with parseable --json.
import assert from "node:assert/strict";
import * as realFs from "node:fs/promises";
import { tmpdir } from "node:os";
import { MemoryFs } from "../adapters/memory.ts";
import { explore, type ExploreOptions, type ExploreReport, replayCrash } from "../src/explore/explore.ts";
import { NodeFsFacade } from "../src/explore/node-fs.ts";
import { runtime, test } from "./kit.ts";
import { ckpt, noCrash, ROOT } from "./lib/cli.ts";

type Module = Pick<ExploreOptions, "workload" | "check" | "setup">;
const EXAMPLES = ["naive", "rename-nosync", "rename-nodirsync", "full"] as const;
const load = (name: string): Promise<Module> => import(`../examples/explore/${name}.mjs`) as Promise<Module>;

async function timed(o: ExploreOptions): Promise<{ r: ExploreReport; ms: number }> {
  const t = performance.now();
  const r = await explore(o);
  return { r, ms: performance.now() - t };
}

test("worked examples: naive, temp+rename without fsync, without a directory fsync are caught; the full protocol is clean", async () => {
  const verdicts: Record<string, ExploreReport> = {};
  for (const name of EXAMPLES) {
    const { r, ms } = await timed({ ...(await load(name)), seed: 1 });
    console.log(
      `explore ${name} [${runtime}]: ${r.ops} ops, ${r.crashPoints} crash points, ${r.crashStates} states (${r.exhaustive} exhaustive, ${r.sampled} sampled), ${r.violations.length} violations, ${
        ms.toFixed(1)
      } ms`,
    );
    assert.equal(r.exhaustive + r.sampled, r.crashStates);
    verdicts[name] = r;
  }
  const naive = verdicts.naive!;
  assert.ok(
    naive.violations.some((v) => /JSON/.test(v.error) && v.kept.includes("truncate /app/state.json 0")),
    "the truncated file is found",
  );
  const nosync = verdicts["rename-nosync"]!;
  assert.ok(
    nosync.violations.some((v) =>
      /JSON/.test(v.error) && v.lost.some((l) => l.startsWith("write /app/state.json.tmp")) &&
      v.kept.some((k) => k.startsWith("rename "))
    ),
    "the rename that overtook its data is found",
  );
  const nodir = verdicts["rename-nodirsync"]!;
  assert.equal(nodir.violations.length, 1);
  assert.deepEqual(
    nodir.violations[0]!.lost,
    ["rename /app/state.json.tmp -> /app/state.json"],
    "the lost rename, and nothing else, explains it",
  );
  assert.equal(nodir.violations[0]!.afterOp, nodir.ops, "it appears only once the save returned");
  assert.deepEqual(verdicts.full!.violations, []);
  assert.ok(verdicts.full!.crashStates > verdicts.full!.crashPoints, "subsets were explored, not only crash points");
});

test("write-file-atomic, unmodified, on the simulator: its rename is lost without a directory fsync", async () => {
  const r = await explore(await load("write-file-atomic"));
  console.log(
    `explore write-file-atomic [${runtime}]: ${r.ops} ops, ${r.crashStates} states, ${r.violations.length} violations`,
  );
  assert.equal(r.violations.length, 1, JSON.stringify(r.violations.map((v) => v.error)));
  const v = r.violations[0]!;
  assert.match(v.error, /acknowledged/);
  assert.equal(v.lost.length, 1);
  assert.match(v.lost[0]!, /^rename \/app\/state\.json\.\d+ -> \/app\/state\.json$/);
  assert.ok(v.ops.some((o) => o.startsWith("fsync /app/state.json.")), "it does fsync the temp file");
  assert.equal(await replayCrash(await load("write-file-atomic"), v), v.error);
});

/** The full example on an fs whose file (or directory) fsyncs silently do nothing. */
function withoutSync(m: Module, which: "file" | "dir"): Module {
  const strip = (fs: NodeFsFacade) => {
    const open = fs.open.bind(fs);
    fs.open = async (path: unknown, flags?: unknown, mode?: unknown) => {
      const h = await open(path, flags, mode);
      const isDir = (await fs.stat(path)).isDirectory();
      if (isDir === (which === "dir")) h.sync = h.datasync = async () => {};
      return h;
    };
    return fs;
  };
  return { ...m, workload: (fs, ctx) => m.workload(strip(fs), ctx) };
}

test("removing one fsync from the clean workload makes it fail: the file's, or the directory's", async () => {
  const full = await load("full");
  const noFile = await explore(withoutSync(full, "file"));
  assert.ok(
    noFile.violations.some((v) => /JSON/.test(v.error)),
    `without the file fsync the renamed file can be empty: ${JSON.stringify(noFile.violations.map((v) => v.error))}`,
  );
  const noDir = await explore(withoutSync(full, "dir"));
  assert.ok(
    noDir.violations.some((v) => /acknowledged/.test(v.error) && v.lost.some((l) => l.startsWith("rename "))),
    "without the directory fsync the rename is lost",
  );
});

test("determinism: the same seed gives the same report, and every reported violation replays to its error", async () => {
  for (const name of EXAMPLES) {
    const m = await load(name);
    const a = await explore({ ...m, seed: 42 });
    const b = await explore({ ...m, seed: 42 });
    assert.deepEqual(a, b);
    for (const v of a.violations) {
      assert.equal(
        await replayCrash(m, v),
        v.error,
        `${name}: replay of ${JSON.stringify(v.keep)} after op ${v.afterOp}`,
      );
    }
  }
  // Sampled states replay too: an unsynced log with far more pending ops than are enumerated.
  const log: Module = {
    workload: async (fs, { ack }) => {
      const h = await fs.open("/log", "a");
      for (let i = 0; i < 40; i++) await h.write(`record ${String(i).padStart(3, "0")}\n`);
      await h.close();
      ack(40);
    },
    check: async (fs, { acked }) => {
      const text = await fs.readFile("/log", "utf8").catch(() => "");
      const lines = text.split("\n").filter((l) => l !== "");
      if (acked.length && lines.length < 40) throw new Error(`${lines.length} of 40 acknowledged records`);
      if (text.includes("\0")) throw new Error("a hole of zeros in the log");
    },
  };
  const a = await explore({ ...log, seed: 9, maxStates: 500 });
  assert.deepEqual(await explore({ ...log, seed: 9, maxStates: 500 }), a);
  assert.ok(a.sampled > 0 && a.violations.length > 0);
  for (const v of a.violations) assert.equal(await replayCrash(log, v), v.error);
});

test("the shortest story: a violation is reported at the first crash point, with the fewest lost operations", async () => {
  const r = await explore({
    setup: (fs) => fs.writeFile("/f", "old"),
    workload: async (fs) => {
      await fs.writeFile("/a", "1"); // harmless noise before the bug
      await fs.writeFile("/f", "new"); // the in-place rewrite: open(O_TRUNC) + write
      await fs.writeFile("/b", "2");
    },
    check: async (fs) => {
      const t = await fs.readFile("/f", "utf8");
      if (t !== "old" && t !== "new") throw new Error(`/f holds '${t}'`);
    },
  });
  assert.equal(r.violations.length, 1);
  const v = r.violations[0]!;
  assert.equal(v.error, "/f holds ''");
  assert.equal(v.afterOp, 3, "after the create and write of /a, then the open that truncates /f");
  assert.deepEqual(v.ops.slice(-1), ["open /f w"]);
  assert.deepEqual(v.lost, [], "nothing needs to be lost: the truncate alone reached the disk");
  assert.ok(v.states > 1);
});

test("a 10,000-operation workload finishes within its budget with sampling, and says how many states were exhaustive vs sampled", async () => {
  // A page file of SLOTS 8-byte records overwritten in turn (record i in slot i % SLOTS), with an
  // fsync after every 9 writes that acknowledges the records written so far. Every slot must hold
  // its newest acknowledged record or a later one (unacknowledged writes may or may not be there).
  const N = 10_000;
  const SLOTS = 500;
  const rec = (i: number) => `${String(i).padStart(7, "0")}\n`;
  const setup = (fs: NodeFsFacade) => fs.writeFile("/pages", "-------\n".repeat(SLOTS));
  const pages = (ops: number): ExploreOptions["workload"] => async (fs, { ack }) => {
    const h = await fs.open("/pages", "r+");
    let records = 0;
    for (let op = 1; op <= ops; op++) {
      if (op % 10 === 0) {
        await h.sync();
        ack(records);
      } else {
        await h.write(rec(records), (records % SLOTS) * 8);
        records++;
      }
    }
    await h.close();
  };
  const check: ExploreOptions["check"] = async (fs, { acked }) => {
    const durable = (acked.at(-1) as number | undefined) ?? 0;
    const text = await fs.readFile("/pages", "utf8");
    for (let s = 0; s < SLOTS; s++) {
      const field = text.slice(s * 8, s * 8 + 8);
      const v = field === "-------\n" ? -1 : Number(field);
      const newestAcked = durable - 1 - ((((durable - 1 - s) % SLOTS) + SLOTS) % SLOTS);
      if (!Number.isInteger(v) || (v >= 0 && v % SLOTS !== s) || v < newestAcked) {
        throw new Error(`slot ${s} holds '${field.trim()}', older than acknowledged record ${newestAcked}`);
      }
    }
  };
  const budgetMs = 15_000; // measured 1-3 s per runtime on a 2-core machine; the budget leaves room for a loaded CI
  const { r, ms } = await timed({ setup, workload: pages(N), check, maxStates: 4_000, seed: 3 });
  console.log(
    `explore 10k-op page file [${runtime}]: ${r.ops} ops, ${r.pointsExplored}/${r.crashPoints} crash points, ${r.crashStates} states (${r.exhaustive} exhaustive, ${r.sampled} sampled), ${
      ms.toFixed(0)
    } ms`,
  );
  assert.equal(r.ops, N);
  assert.equal(r.crashPoints, N + 1);
  assert.ok(r.crashStates <= 4_000 && r.crashStates > 3_000, `${r.crashStates} states`);
  assert.equal(r.exhaustive + r.sampled, r.crashStates);
  assert.ok(r.exhaustive > 0 && r.sampled > 0, "both kinds are reported");
  assert.deepEqual(r.violations, []);
  assert.ok(ms < budgetMs, `${ms.toFixed(0)} ms exceeds the ${budgetMs} ms budget`);
  // The same workload (2,000 ops) with its fsyncs gone: acknowledged records are lost, and the
  // sampled exploration finds it.
  const unsynced = await explore({
    setup,
    check,
    maxStates: 500,
    seed: 3,
    workload: (fs, ctx) => {
      const open = fs.open.bind(fs);
      fs.open = async (p: unknown, f?: unknown) => Object.assign(await open(p, f), { sync: async () => {} });
      return pages(2_000)(fs, ctx);
    },
  });
  assert.ok(
    unsynced.violations.length > 0 && unsynced.violations.every((v) => /older than acknowledged/.test(v.error)),
  );
});

test("calls in flight at once (Promise.all) are explored one crash point at a time, deterministically", async () => {
  const m: Module = {
    workload: async (fs, { ack }) => {
      await Promise.all(["a", "b", "c"].map((n) => fs.writeFile(`/${n}`, n.repeat(3))));
      const d = await fs.open("/", "r");
      await d.sync();
      await d.close();
      ack("all");
    },
    check: async (fs, { acked }) => {
      if (!acked.length) return;
      for (const n of ["a", "b", "c"]) {
        if ((await fs.readFile(`/${n}`, "utf8").catch(() => "")) !== n.repeat(3)) throw new Error(`/${n} lost`);
      }
    },
  };
  const a = await explore(m);
  assert.deepEqual(await explore(m), a);
  assert.equal(a.ops, 3 * 2 + 1);
  assert.ok(a.violations.length > 0, "the file data was never fsynced: the directory fsync alone keeps empty files");
  for (const v of a.violations) assert.equal(await replayCrash(m, v), v.error);
});

test("explore honours an AbortSignal and reports a workload that fails by itself", async () => {
  const m = await load("full");
  await assert.rejects(explore({ ...m, signal: AbortSignal.abort() }), (e: Error) => e.name === "AbortError");
  const ac = new AbortController();
  await assert.rejects(
    explore({ ...m, signal: ac.signal, onProgress: () => ac.abort() }),
    (e: Error) => e.name === "AbortError",
  );
  await assert.rejects(
    explore({
      workload: async (fs) => {
        await fs.readFile("/missing");
      },
      check: () => {},
    }),
    (e: { code?: string; message: string }) => e.code === "EEXPLORE" && /ENOENT/.test(e.message),
  );
});

// ---- the node:fs/promises facade ----------------------------------------------------------

type AnyFs = typeof realFs | NodeFsFacade;

/**
 * One scenario of node:fs/promises calls; returns what each call gave (values, or error codes
 * and the path relative to `root`). Run on the real fs and on the facade, the logs must match.
 */
async function scenario(fs: AnyFs, root: string): Promise<unknown[]> {
  const f = fs as NodeFsFacade; // the same calls on both: typed once
  const log: unknown[] = [];
  const rel = (p: unknown) => (typeof p === "string" ? p.replace(root, "<root>") : p);
  const step = async (label: string, fn: () => Promise<unknown>) => {
    try {
      const v = await fn();
      log.push([label, v instanceof Uint8Array ? `bytes:${new TextDecoder().decode(v)}` : rel(v)]);
    } catch (e) {
      const err = e as { code?: string; path?: string; syscall?: string };
      log.push([label, "error", err.code, rel(err.path)]);
    }
  };
  await step("mkdir -p", () => f.mkdir(`${root}/a/b`, { recursive: true }));
  await step("mkdir -p again", () => f.mkdir(`${root}/a/b`, { recursive: true }));
  await step("mkdir existing", () => f.mkdir(`${root}/a`));
  await step("mkdir no parent", () => f.mkdir(`${root}/x/y`));
  await step("writeFile", () => f.writeFile(`${root}/a/f.txt`, "hello"));
  await step("readFile utf8", () => f.readFile(`${root}/a/f.txt`, "utf8"));
  await step("readFile bytes", () => f.readFile(`${root}/a/f.txt`));
  await step("readFile { encoding }", () => f.readFile(`${root}/a/f.txt`, { encoding: "utf8" }));
  await step("handle r+", async () => {
    const h = await f.open(`${root}/a/f.txt`, "r+");
    const w = await h.write("J", 0);
    const buf = new Uint8Array(4);
    const r = await h.read(buf, 0, 4, 1);
    const st = await h.stat();
    await h.truncate(3);
    await h.sync();
    await h.datasync();
    await h.close();
    return [w.bytesWritten, r.bytesRead, new TextDecoder().decode(buf), st.size, st.isFile()];
  });
  await step("after truncate", () => f.readFile(`${root}/a/f.txt`, "utf8"));
  await step("append", async () => {
    const h = await f.open(`${root}/a/f.txt`, "a");
    await h.write("XY");
    await h.write(new TextEncoder().encode("Z"), 0, 1, 0); // O_APPEND: the position is ignored
    await h.close();
    return f.readFile(`${root}/a/f.txt`, "utf8");
  });
  await step("sequential writes at the file position", async () => {
    const h = await f.open(`${root}/a/seq`, "w");
    await h.write("ab");
    await h.write("cd");
    await h.write(new TextEncoder().encode("xyz"), 1, 1);
    await h.close();
    return f.readFile(`${root}/a/seq`, "utf8");
  });
  await step("a+ reads from the start", async () => {
    const h = await f.open(`${root}/a/seq`, "a+");
    const { bytesRead, buffer } = await h.read(new Uint8Array(10), 0, 10, null);
    await h.close();
    return new TextDecoder().decode(buffer.subarray(0, bytesRead));
  });
  await step("wx on existing", () => f.open(`${root}/a/f.txt`, "wx"));
  await step("wx new", async () => (await f.open(`${root}/a/new`, "wx")).close());
  await step("r on missing", () => f.open(`${root}/a/missing`, "r"));
  await step("write on r handle", async () => {
    const h = await f.open(`${root}/a/f.txt`, "r");
    try {
      return await h.write("no");
    } finally {
      await h.close();
    }
  });
  await step("handle writeFile/readFile", async () => {
    const h = await f.open(`${root}/a/hf`, "w+");
    await h.writeFile("via handle");
    await h.close();
    const r = await f.open(`${root}/a/hf`, "r");
    const text = await r.readFile("utf8");
    await r.close();
    return text;
  });
  await step("appendFile", async () => {
    await f.appendFile(`${root}/a/hf`, "!");
    return f.readFile(`${root}/a/hf`, "utf8");
  });
  await step("truncate path", async () => {
    await f.truncate(`${root}/a/hf`, 3);
    return f.readFile(`${root}/a/hf`, "utf8");
  });
  await step("rename", () => f.rename(`${root}/a/f.txt`, `${root}/a/g.txt`));
  await step("rename missing", () => f.rename(`${root}/a/f.txt`, `${root}/a/h.txt`));
  await step("readdir", () => f.readdir(`${root}/a`).then((n) => [...n].sort()));
  await step(
    "readdir withFileTypes",
    async () =>
      (await f.readdir(`${root}/a`, { withFileTypes: true })).map((d) => `${d.name}:${d.isDirectory()}`).sort(),
  );
  await step("readdir missing", () => f.readdir(`${root}/nope`));
  await step("readdir a file", () => f.readdir(`${root}/a/g.txt`));
  await step("stat file", async () => {
    const s = await f.stat(`${root}/a/g.txt`);
    return [s.isFile(), s.isDirectory(), s.size];
  });
  await step("stat dir", async () => {
    const s = await f.stat(`${root}/a/b`);
    return [s.isFile(), s.isDirectory()];
  });
  await step("stat missing", () => f.stat(`${root}/a/nope`));
  await step("directory fsync", async () => {
    const d = await f.open(`${root}/a`, "r");
    await d.sync();
    await d.close();
    return "ok";
  });
  await step("open a directory for writing", () => f.open(`${root}/a`, "w"));
  await step("readFile a directory", () => f.readFile(`${root}/a`));
  await step("unlink", () => f.unlink(`${root}/a/g.txt`));
  await step("unlink missing", () => f.unlink(`${root}/a/g.txt`));
  await step("rename dir onto non-empty dir", async () => {
    await f.mkdir(`${root}/c/d`, { recursive: true });
    return f.rename(`${root}/a/b`, `${root}/c`);
  });
  await step("rm missing", () => f.rm(`${root}/a/nope`));
  await step("rm missing force", () => f.rm(`${root}/a/nope`, { force: true }));
  await step("rm file", () => f.rm(`${root}/a/seq`));
  await step("rm -r", () => f.rm(`${root}/a`, { recursive: true }));
  await step("gone", () => f.readdir(root).then((n) => [...n].sort()));
  return log;
}

test("the facade answers node:fs/promises calls as the real node:fs/promises does (values and error codes)", async () => {
  const root = await realFs.mkdtemp(`${tmpdir()}/ckpt-explore-`);
  try {
    const real = await scenario(realFs, root);
    const mem = new NodeFsFacade(new MemoryFs());
    await mem.mkdir("/root");
    const sim = await scenario(mem, "/root");
    assert.deepEqual(sim, real);
  } finally {
    await realFs.rm(root, { recursive: true, force: true });
  }
});

test("facade details: relative paths resolve against '/', errors are shaped like Node's, Buffers come back where the runtime has them", async () => {
  const fs = new NodeFsFacade(new MemoryFs());
  await fs.writeFile("state.json", '{"v":1}');
  assert.equal(await fs.readFile("/state.json", "utf8"), '{"v":1}');
  assert.equal(await fs.readFile("./x/../state.json", "utf8"), '{"v":1}');
  const bytes = await fs.readFile("/state.json");
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual(JSON.parse(String(bytes)), { v: 1 }, "a Buffer decodes itself, as code written for Node expects");
  await assert.rejects(
    fs.open("/nope/x", "r"),
    (e: { code: string; errno: number; syscall: string; path: string; message: string }) => {
      assert.equal(e.code, "ENOENT");
      assert.equal(e.errno, -2);
      assert.equal(e.syscall, "open");
      assert.equal(e.path, "/nope/x");
      assert.equal(e.message, "ENOENT: no such file or directory, open '/nope/x'");
      return true;
    },
  );
  await assert.rejects(
    fs.rename("/a", "/b"),
    (e: { dest?: string; syscall: string }) => e.syscall === "rename" && e.dest === "/b",
  );
  // unlink(2) of a directory is EISDIR on Linux and in Node and Bun (Deno's node:fs removes an
  // empty one instead, so this is outside the differential scenario).
  await fs.mkdir("/dir");
  await assert.rejects(fs.unlink("/dir"), (e: { code: string }) => e.code === "EISDIR");
  await fs.writeFile("/flushed", "x", { flush: true });
  assert.deepEqual(
    fs.mem.pending.filter((p) => p.path === "/flushed").map((p) => p.kind),
    ["link"],
    "flush: true syncs the data; the name stays pending",
  );
});

test("unsupported node:fs calls and options throw ENOTSUP, never silently succeed", async () => {
  const typed = new NodeFsFacade(new MemoryFs());
  await typed.writeFile("/f", "x");
  // Called the way untyped JavaScript would call it.
  type Call = (...a: unknown[]) => Promise<unknown>;
  const fs = typed as unknown as
    & Record<"open" | "writeFile" | "readFile" | "stat" | "readdir" | "rmdir" | "mkdir", Call>
    & Record<string, Call | undefined>;
  const isNotSup = (e: { code?: string }) => e.code === "ENOTSUP";
  for (
    const call of [
      "copyFile",
      "cp",
      "symlink",
      "link",
      "readlink",
      "utimes",
      "chown",
      "access",
      "opendir",
      "watch",
      "statfs",
    ]
  ) {
    await assert.rejects(Promise.resolve().then(() => fs[call]!("/f", "/g")), isNotSup, call);
  }
  const cases: [string, () => Promise<unknown>][] = [
    ["open rs+ (O_SYNC)", () => fs.open("/f", "rs+")],
    ["open numeric flags", () => fs.open("/f", 2)],
    ["writeFile base64", () => fs.writeFile("/f", "eA==", "base64")],
    ["readFile latin1", () => fs.readFile("/f", "latin1")],
    ["writeFile from a stream", () => fs.writeFile("/f", { [Symbol.asyncIterator]: () => ({}) })],
    ["stat bigint", () => fs.stat("/f", { bigint: true })],
    ["readdir recursive", () => fs.readdir("/", { recursive: true })],
    ["rmdir recursive", () => fs.rmdir("/", { recursive: true })],
    ["mkdir unknown option", () => fs.mkdir("/d", { recursive: true, signal: AbortSignal.timeout(1) })],
    ["an http URL", () => fs.readFile(new URL("http://example.com/f"))],
    ["a Buffer path", () => fs.readFile(new Uint8Array([47, 102]))],
    ["handle.readv", async () => ((await typed.open("/f")) as unknown as { readv(b: unknown[]): unknown }).readv([])],
    [
      "handle.createReadStream",
      async () => ((await typed.open("/f")) as unknown as { createReadStream(): unknown }).createReadStream(),
    ],
  ];
  for (const [label, fn] of cases) await assert.rejects(Promise.resolve().then(fn), isNotSup, label);
  assert.equal(await typed.readFile("/f", "utf8"), "x", "nothing above changed the file");
});

// ---- the CLI ------------------------------------------------------------------------------

test("ckpt explore: naive.mjs exits 1 naming the lost operations, full.mjs exits 0, --json parses", () => {
  const naive = ckpt(["explore", "examples/explore/naive.mjs"]);
  noCrash(naive);
  assert.equal(naive.code, 1, naive.stderr);
  assert.match(naive.stdout, /violation 1 of 2: SyntaxError/);
  assert.match(naive.stdout, /power cut after operation 1 of 2/);
  assert.match(naive.stdout, /truncate \/app\/state\.json 0/);
  const nodir = ckpt(["explore", "examples/explore/rename-nodirsync.mjs", "--json"]);
  assert.equal(nodir.code, 1);
  const j = nodir.json<
    {
      crashStates: number;
      exhaustive: number;
      sampled: number;
      violations: { afterOp: number; ops: string[]; lost: string[]; error: string }[];
    }
  >();
  assert.equal(j.violations.length, 1);
  assert.deepEqual(j.violations[0]!.lost, ["rename /app/state.json.tmp -> /app/state.json"]);
  assert.equal(j.crashStates, j.exhaustive + j.sampled);
  const full = ckpt(["explore", `${ROOT}/examples/explore/full.mjs`, "--json", "--seed", "7", "--max-states", "100"]);
  assert.equal(full.code, 0, full.stderr);
  assert.deepEqual(full.json<{ violations: unknown[] }>().violations, []);
  assert.equal(full.stderr, "", "no progress bar off a terminal");
  const missing = ckpt(["explore", "examples/explore/nope.mjs"]);
  noCrash(missing);
  assert.equal(missing.code, 3);
  const bad = ckpt(["explore", "examples/explore/common.mjs"]);
  assert.equal(bad.code, 2, "a module without workload() is a usage error");
});
