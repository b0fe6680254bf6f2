// Guarantee 7, untrusted stores: a store may come from anywhere, and its CRCs and SHA-256 prove
// integrity, not authenticity. Crafted checkpoints (test/lib/craft.ts: sealed by the format's own
// encoders, only the names wrong) must be `corrupt` with finding `bad-name`: verify reports them,
// latest skips them, restore and load refuse them, and nothing appears anywhere on disk. Restore
// never writes through a symlink it finds (or that appears) in its output directory, creates
// nested names' directories inside out-dir, and into a new out-dir is all or nothing, also across
// a power loss on the simulator.
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { defaultFs } from "../adapters/detect.ts";
import { MemoryFs, SimulatedCrash } from "../adapters/memory.ts";
import { tracingFs } from "../adapters/tracing.ts";
import { CorruptionError, FsError, UsageError } from "../src/errors.ts";
import type { DurableFs } from "../src/fs.ts";
import { memberNameProblem, memberNamesProblem } from "../src/format/member-name.ts";
import { memberName } from "../src/store/layout.ts";
import { openStore } from "../src/open.ts";
import { rng, runtime, test } from "./kit.ts";
import { ckpt, noCrash } from "./lib/cli.ts";
import { badTables, craftCheckpoint, membersFor } from "./lib/craft.ts";

const enc = new TextEncoder();

/** Every path under `dir` (symlinks not followed) with its kind and size: a disk snapshot. */
function tree(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(`${dir}${rel}`).sort()) {
    const p = `${rel}/${name}`;
    const st = lstatSync(`${dir}${p}`);
    out.push(`${p} ${st.isSymbolicLink() ? "link" : st.isDirectory() ? "dir" : `file ${st.size}`}`);
    if (st.isDirectory() && !st.isSymbolicLink()) out.push(...tree(dir, p));
  }
  return out;
}

function tempBase(): { base: string; done: () => void } {
  const base = mkdtempSync(`${tmpdir()}/ckpt-untrusted-`);
  return { base, done: () => rmSync(base, { recursive: true, force: true }) };
}

/** base/store with step 1 valid ("good.bin") and steps 2.. crafted from `tables`. */
async function craftedStore(base: string, tables: string[][]): Promise<string> {
  const dir = `${base}/store`;
  const s = await openStore(dir);
  await s.save([{ name: "good.bin", data: enc.encode("the valid one\n") }]);
  await s.close();
  const fs = defaultFs();
  for (let i = 0; i < tables.length; i++) await craftCheckpoint(fs, dir, 2 + i, membersFor(tables[i]!));
  return dir;
}

// ---- the rule itself --------------------------------------------------------------------------

test("member names: nested relative paths pass; every bad name and table is refused with a reason", () => {
  for (
    const ok of [
      "a",
      "optimizer/state.bin",
      "model/w.bin",
      "x".repeat(255),
      ["a", "b", "c", "d"].map((c) => c.repeat(255)).join("/"),
      "ünïcode/名前",
      ".hidden",
      "a..b",
      "...",
    ]
  ) {
    assert.equal(memberNameProblem(ok), undefined, JSON.stringify(ok));
  }
  for (const { label, names } of badTables()) assert.ok(memberNamesProblem(names), label);
  assert.match(memberNamesProblem(["a", "a/b"])!.problem, /also a member/);
  assert.match(memberNamesProblem(["x/y", "x/y"])!.problem, /twice/);
  assert.equal(memberNamesProblem(["a/b", "a/c", "ab"]), undefined, "a shared directory is not a clash");
  assert.ok(memberNameProblem("\ud800x"), "a lone surrogate would not round-trip through UTF-8");
  assert.ok(memberNameProblem(42 as unknown as string), "plain-JS callers get a reason, not a crash");
});

test("the crafting helper seals like save: with good names its checkpoint verifies and loads", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/store");
  const names = ["top", "optimizer/state.bin"];
  await craftCheckpoint(fs, "/store", 1, membersFor(names));
  const s = await openStore("/store", { fs, readOnly: true });
  assert.equal((await s.verify()).ok, true);
  const { members } = await s.load(1);
  assert.deepEqual([...members.keys()], names);
  assert.deepEqual(members.get("top"), membersFor(names)[0]!.data);
});

test("save refuses a bad name with a UsageError before writing a byte, and takes nested names", async () => {
  const fs = new MemoryFs();
  const s = await openStore("/store", { fs });
  for (const { label, names } of badTables()) {
    await assert.rejects(s.save(membersFor(names)), UsageError, label);
  }
  assert.deepEqual((await fs.readdir("/store")).filter((n) => n !== ".lock"), [], "nothing written for a refused save");
  await assert.rejects(
    s.builder().add("a", enc.encode("1")).add("a/b", enc.encode("2")).save(),
    UsageError,
    "builder: a file cannot be a directory",
  );
  const r = await s.save(membersFor(["optimizer/state.bin", "model/w.bin", "top"]));
  assert.deepEqual(r.files, ["optimizer/state.bin", "model/w.bin", "top"]);
  await s.close();
});

// ---- crafted stores on a real disk ------------------------------------------------------------

test(`${runtime}: every bad name is corrupt (bad-name): verify reports it, latest skips it, restore and load refuse it, nothing appears on disk`, async () => {
  const { base, done } = tempBase();
  try {
    const tables = badTables();
    const dir = await craftedStore(base, tables.map((t) => t.names));
    mkdirSync(`${base}/work/deep`, { recursive: true });
    mkdirSync(`${base}/work/empty`);
    const s = await openStore(dir, { readOnly: true });
    const v = await s.verify();
    assert.equal(v.ok, false);
    for (let i = 0; i < tables.length; i++) {
      const step = 2 + i;
      const label = tables[i]!.label;
      const c = v.checkpoints.find((x) => x.step === step)!;
      assert.equal(c.status, "corrupt", label);
      assert.deepEqual(c.findings.map((f) => f.kind), ["bad-name"], label);
    }
    assert.equal(v.checkpoints.find((x) => x.step === 1)!.status, "valid");
    assert.equal((await s.latest())?.step, 1, "latest falls back to the older valid checkpoint");
    const listed = await s.list({ verify: true });
    assert.equal(listed.length, tables.length + 1, "list does not choke");
    assert.ok(
      listed.filter((c) => c.step > 1).every((c) => c.status === "corrupt" && c.files.length === 0),
      "list never hands out a bad name",
    );
    await s.list();

    const before = tree(base);
    for (let i = 0; i < tables.length; i++) {
      const step = 2 + i;
      const label = tables[i]!.label;
      // Out-dir absent (staged beside it, in work/deep) and out-dir empty: both refuse.
      await assert.rejects(s.restore(`${base}/work/deep/out`, { step }), CorruptionError, label);
      await assert.rejects(s.restore(`${base}/work/empty`, { step }), CorruptionError, label);
      await assert.rejects(s.load(step), CorruptionError, label);
      assert.deepEqual(
        tree(base),
        before,
        `${label}: no file appeared or changed anywhere (out-dir, its parent, grandparent, store)`,
      );
    }
    assert.equal(existsSync("/etc/x") && readFileSync("/etc/x", "utf8").startsWith("payload"), false);
    await s.close();
  } finally {
    done();
  }
});

test(`${runtime}: the CLI exits 1 on a bad-name checkpoint and writes nothing outside out-dir`, () => {
  return (async () => {
    const { base, done } = tempBase();
    try {
      const dir = await craftedStore(base, [["../../x"], ["dup.bin", "dup.bin"]]);
      mkdirSync(`${base}/work`);
      const before = tree(base);
      const verify = ckpt(["verify", dir, "--json"]);
      noCrash(verify);
      assert.equal(verify.code, 1);
      assert.match(verify.stdout, /bad-name/);
      const latest = ckpt(["latest", dir, "--json"]);
      assert.equal(latest.code, 0);
      assert.equal(latest.json().step, 1);
      assert.doesNotMatch(latest.stdout, /\.\.\/\.\.\/x/, "latest never prints the bad name");
      for (const step of ["2", "3"]) {
        const r = ckpt(["restore", dir, `${base}/work/out`, "--step", step]);
        noCrash(r);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /bad name/);
      }
      const manifest = ckpt(["inspect", `${dir}/step-0000000000000002.manifest`, "--json"]);
      noCrash(manifest);
      assert.equal(manifest.code, 1, "inspect: a manifest with a bad name is malformed");
      assert.deepEqual(tree(base), before, "nothing written anywhere");
      const ok = ckpt(["restore", dir, `${base}/work/out`]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(readFileSync(`${base}/work/out/good.bin`, "utf8"), "the valid one\n");
    } finally {
      done();
    }
  })();
});

// ---- symlinks ------------------------------------------------------------------------------

/** The runtime's fs, with a hook that runs before mkdir/open of a matching path (a racing attacker). */
function racing(before: { mkdir?: (path: string) => void; open?: (path: string) => void }): DurableFs {
  const real = defaultFs();
  return Object.assign(Object.create(null) as DurableFs, real, {
    mkdir: (path: string, mode?: number) => {
      before.mkdir?.(path);
      return real.mkdir(path, mode);
    },
    open: (path: string, o?: Parameters<DurableFs["open"]>[1]) => {
      before.open?.(path);
      return real.open(path, o);
    },
  });
}

async function storeWith(base: string, names: string[]): Promise<string> {
  const dir = `${base}/store`;
  const s = await openStore(dir);
  await s.save(membersFor(names));
  await s.close();
  return dir;
}

test(`${runtime}: a symlink in out-dir is refused, never written through`, async () => {
  const { base, done } = tempBase();
  try {
    const dir = await storeWith(base, ["a/b.bin"]);
    mkdirSync(`${base}/elsewhere`);
    mkdirSync(`${base}/out`);
    symlinkSync(`${base}/elsewhere`, `${base}/out/a`);
    const s = await openStore(dir, { readOnly: true });
    await assert.rejects(s.restore(`${base}/out`), UsageError, "out-dir holding a link is not empty");
    assert.deepEqual(readdirSync(`${base}/elsewhere`), []);
    await s.close();
  } finally {
    done();
  }
});

for (const mode of ["empty out-dir", "new out-dir"] as const) {
  test(`${runtime}: a symlink planted where a nested member's directory is being made is never written through (${mode})`, async () => {
    const { base, done } = tempBase();
    try {
      const dir = await storeWith(base, ["a/b.bin", "top"]);
      mkdirSync(`${base}/elsewhere`);
      if (mode === "empty out-dir") mkdirSync(`${base}/out`);
      let planted = "";
      const fs = racing({
        mkdir: (p) => {
          if (!planted && p.endsWith("/a")) {
            symlinkSync(`${base}/elsewhere`, p);
            planted = p;
          }
        },
      });
      const s = await openStore(dir, { fs, readOnly: true });
      await assert.rejects(s.restore(`${base}/out`), (e: unknown) => e instanceof FsError && e.errno === "ELOOP");
      assert.ok(planted, "the race was staged");
      assert.deepEqual(readdirSync(`${base}/elsewhere`), [], "nothing appeared in the link's target");
      if (mode === "new out-dir") {
        assert.equal(existsSync(`${base}/out`), false, "out-dir still absent");
        assert.deepEqual(readdirSync(base).sort(), ["elsewhere", "store"], "the staging directory is gone");
      } else {
        assert.deepEqual(readdirSync(`${base}/out`), ["a"], "only the planted link remains (not ours to delete)");
      }
      await s.close();
    } finally {
      done();
    }
  });
}

test(`${runtime}: a symlink planted in place of a file being created is not opened through`, async () => {
  const { base, done } = tempBase();
  try {
    const dir = await storeWith(base, ["a/b.bin"]);
    mkdirSync(`${base}/elsewhere`);
    let planted = false;
    const fs = racing({
      open: (p) => {
        if (!planted && p.includes("/.ckpt-restore-") && p.endsWith("/a/b.bin")) {
          symlinkSync(`${base}/elsewhere/target`, p);
          planted = true;
        }
      },
    });
    const s = await openStore(dir, { fs, readOnly: true });
    await assert.rejects(s.restore(`${base}/out`), FsError);
    assert.ok(planted, "the race was staged");
    assert.deepEqual(readdirSync(`${base}/elsewhere`), [], "the link's target was not created");
    assert.equal(existsSync(`${base}/out`), false);
    await s.close();
  } finally {
    done();
  }
});

// ---- nested names, long names, modes -------------------------------------------------------

test(`${runtime}: nested names round-trip byte for byte into a new nested out-dir and into an empty one; files get 0o666 minus the umask`, async () => {
  const { base, done } = tempBase();
  let oldMask: number | undefined;
  try {
    const names = ["optimizer/state.bin", "model/w.bin", "top", "model/deep/er/x", "empty/zero.bin"];
    const m = membersFor(names);
    m[4]!.data = new Uint8Array(0);
    const dir = `${base}/store`;
    const s = await openStore(dir);
    await s.save(m);
    // An unusual umask, so a hard-coded 0o644 cannot pass by coincidence (where it can be set).
    try {
      oldMask = process.umask(0o027);
    } catch { /* a worker thread cannot set it */ }
    const want = 0o666 & ~process.umask();
    mkdirSync(`${base}/empty-out`);
    for (const out of [`${base}/new/nested/out`, `${base}/empty-out`]) {
      const r = await s.restore(out);
      assert.deepEqual(r.files, names);
      for (const { name, data } of m) {
        assert.deepEqual(new Uint8Array(readFileSync(`${out}/${name}`)), data, `${out}: ${name}`);
        assert.equal(lstatSync(`${out}/${name}`).mode & 0o777, want, `${name} mode`);
      }
      assert.ok(lstatSync(`${out}/model/deep/er`).isDirectory());
      assert.deepEqual(tree(out).filter((l) => l.includes(".ckpt-")), [], "no temp or staging names left");
    }
    assert.deepEqual(readdirSync(`${base}/new/nested`), ["out"], "nothing staged left beside it");
    await s.close();
  } finally {
    if (oldMask !== undefined) process.umask(oldMask);
    done();
  }
});

test(`${runtime}: a saved file keeps its permission bits through restore (low 9 bits, the umask applied); in-memory data gets 0o666 minus the umask`, async () => {
  const { base, done } = tempBase();
  let oldMask: number | undefined;
  try {
    try {
      oldMask = process.umask(0o027);
    } catch { /* a worker thread cannot set it */ }
    const umask = process.umask();
    writeFileSync(`${base}/script.sh`, "#!/bin/sh\n");
    chmodSync(`${base}/script.sh`, 0o750);
    writeFileSync(`${base}/secret.key`, "k");
    chmodSync(`${base}/secret.key`, 0o600);
    const s = await openStore(`${base}/store`);
    await s.save([{ name: "bin/script.sh", path: `${base}/script.sh` }, {
      name: "secret.key",
      path: `${base}/secret.key`,
    }, { name: "data", data: enc.encode("d") }]);
    mkdirSync(`${base}/empty`);
    for (const out of [`${base}/new`, `${base}/empty`]) {
      await s.restore(out);
      assert.equal(lstatSync(`${out}/bin/script.sh`).mode & 0o777, 0o750 & ~umask, "script mode");
      assert.equal(
        lstatSync(`${out}/secret.key`).mode & 0o777,
        0o600 & ~umask,
        "secret mode: never wider than the source",
      );
      assert.equal(lstatSync(`${out}/data`).mode & 0o777, 0o666 & ~umask, "data mode");
    }
    await s.close();
  } finally {
    if (oldMask !== undefined) process.umask(oldMask);
    done();
  }
});

test(`${runtime}: a 255-byte member name (and a 1,023-byte nested one) saves and restores: temp names do not grow with the name`, async () => {
  const { base, done } = tempBase();
  try {
    const long = "n".repeat(255);
    const nested = ["a", "b", "c", "d"].map((c) => c.repeat(255)).join("/");
    const dir = await storeWith(base, [long, nested]);
    const s = await openStore(dir, { readOnly: true });
    mkdirSync(`${base}/existing`);
    for (const out of [`${base}/fresh`, `${base}/existing`]) {
      const r = await s.restore(out);
      assert.deepEqual(r.files, [long, nested]);
      assert.equal(readFileSync(`${out}/${long}`, "utf8"), new TextDecoder().decode(membersFor([long])[0]!.data));
      assert.ok(existsSync(`${out}/${nested}`));
    }
    await s.close();
  } finally {
    done();
  }
});

// ---- all or nothing, on the simulator --------------------------------------------------------

const NESTED = ["optimizer/state.bin", "model/w.bin", "top"];

async function simStore(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const s = await openStore("/store", { fs, chunkSize: 512, inlineMax: 0 }); // member files: the tests damage them
  await s.save(membersFor(NESTED).map((m, i) => ({ ...m, data: new Uint8Array(1500 + i * 300).fill(i + 1) })));
  await s.close();
  return fs;
}

function expected(): Map<string, Uint8Array> {
  return new Map(NESTED.map((n, i) => [n, new Uint8Array(1500 + i * 300).fill(i + 1)]));
}

test("memory: a damaged second member leaves a new out-dir absent and no staging directory", async () => {
  const fs = await simStore();
  const path = `/store/${memberName(1, 1)}`;
  const bytes = fs.peek(path)!.slice();
  bytes[700] = bytes[700]! ^ 0x10;
  fs.poke(path, bytes);
  const s = await openStore("/store", { fs, readOnly: true });
  await assert.rejects(s.restore("/runs/a/out", { step: 1 }), CorruptionError);
  assert.equal(await fs.stat("/runs/a/out"), null);
  assert.equal(await fs.stat("/runs"), null, "the parents it made for out-dir are gone too");
  assert.deepEqual((await fs.readdir("/")).sort(), ["store"]);
});

/** Every file under `dir` on a (crashed) simulator, with its bytes, by relative path. */
async function files(
  fs: MemoryFs,
  dir: string,
  rel = "",
  out = new Map<string, Uint8Array>(),
): Promise<Map<string, Uint8Array>> {
  for (const name of await fs.readdir(rel ? `${dir}/${rel}` : dir)) {
    const p = rel ? `${rel}/${name}` : name;
    if ((await fs.stat(`${dir}/${p}`))!.isDirectory) await files(fs, dir, p, out);
    else out.set(p, fs.peek(`${dir}/${p}`)!);
  }
  return out;
}

test("memory: restore into a new nested out-dir, crashed after every operation (and with pending subsets kept), leaves out-dir absent or complete and exact", async () => {
  const probe = await simStore();
  const start = probe.steps;
  await (await openStore("/store", { fs: probe, readOnly: true })).restore("/runs/7/out");
  const total = probe.steps - start;
  const want = expected();
  const next = rng(7);
  let absent = 0;
  let complete = 0;
  for (let k = 0; k <= total; k++) {
    const fs = await simStore();
    fs.crashAfter(k);
    let returned = false;
    try {
      await (await openStore("/store", { fs, readOnly: true })).restore("/runs/7/out");
      returned = true;
    } catch (err) {
      if (!(err instanceof SimulatedCrash)) throw err;
    }
    const keeps: Parameters<MemoryFs["crash"]>[0][] = [{}, { keep: () => true }, { keep: () => next() < 0.5 }, {
      keep: () => next() < 0.5,
    }];
    for (const opts of keeps) {
      const after = fs.crash(opts);
      if (!(await after.stat("/runs/7/out"))) {
        assert.equal(returned, false, `k=${k}: a restore that returned is durable`);
        absent++;
        continue;
      }
      const got = await files(after, "/runs/7/out");
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `k=${k}: out-dir partial`);
      for (const [n, b] of want) assert.deepEqual(got.get(n), b, `k=${k}: ${n} differs`);
      complete++;
    }
  }
  assert.ok(
    absent > 0 && complete > 0,
    `both outcomes reached (absent ${absent}, complete ${complete}, ${total + 1} crash points)`,
  );
});

test("memory: restore holds one member file open at a time (a 100,000-member checkpoint must not need 100,000 descriptors)", async () => {
  const mem = new MemoryFs();
  const names = Array.from({ length: 300 }, (_, i) => `d${i % 7}/m${i}.bin`);
  const s = await openStore("/store", { fs: mem, chunkSize: 64 });
  await s.save(names.map((name, i) => ({ name, data: new Uint8Array(i % 5 === 0 ? 0 : 100 + i).fill(i & 0xff) })));
  await s.close();
  const fs = tracingFs(mem);
  await (await openStore("/store", { fs, readOnly: true })).restore("/out");
  let open = 0;
  let most = 0;
  for (const e of fs.events) {
    if (!/^m\d+\.bin$/.test(e.path)) continue;
    if (e.op === "open") most = Math.max(most, ++open);
    else if (e.op === "close") open--;
  }
  assert.equal(open, 0, "every member file closed");
  assert.ok(most <= 1, `at most one member file open at once, saw ${most}`);
  assert.equal((await files(mem, "/out")).size, 300);
});
