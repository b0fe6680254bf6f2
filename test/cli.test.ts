// The CLI contract, run as a child process of the runtime under test: exit codes, --json
// shapes, usage errors, missing stores, malformed input — and never a stack trace.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { runtime, test } from "./kit.ts";
import { flipped } from "./lib/damage.ts";
import { ckpt, noCrash } from "./lib/cli.ts";

function tmp(): { dir: string; done(): void } {
  const dir = mkdtempSync(`${tmpdir()}/ckpt-cli-${runtime}-`);
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function files(dir: string, spec: Record<string, string | Uint8Array>): string[] {
  return Object.entries(spec).map(([name, body]) => {
    writeFileSync(`${dir}/${name}`, body);
    return `${dir}/${name}`;
  });
}

test(`cli (${runtime}): --help, no command, unknown command and flag`, () => {
  const help = ckpt(["--help"]);
  assert.equal(help.code, 0);
  for (const c of ["save", "list", "verify", "latest", "restore", "rollback", "inspect", "corrupt"]) {
    assert.match(help.stdout, new RegExp(`\\b${c}\\b`));
  }
  const none = ckpt([]);
  assert.equal(none.code, 2);
  const unknown = ckpt(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const flag = ckpt(["list", "/tmp", "--bogus"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /usage: ckpt list/);
  assert.equal(ckpt(["save", "--help"]).code, 0);
  // With --json, even a flag the parser rejects yields one JSON document on stdout.
  const jsonFlag = ckpt(["list", "/tmp", "--bogus", "--json"]);
  assert.equal(jsonFlag.code, 2);
  assert.deepEqual(jsonFlag.json<{ error: { code: string; exit: number } }>().error.code, "EUSAGE");
  assert.match(jsonFlag.stderr, /usage: ckpt list/);
  for (const r of [none, unknown, flag, jsonFlag]) noCrash(r);
});

test(`cli (${runtime}): save, list, verify, latest, restore with --json shapes`, () => {
  const t = tmp();
  try {
    const [a, b] = files(t.dir, { "a.bin": new Uint8Array(100_000).map((_, i) => i), "b.txt": "hello" });
    const s1 = ckpt(["save", `${t.dir}/store`, a!, b!, "--meta", "epoch=1", "--json"]);
    assert.equal(s1.code, 0, s1.stderr);
    assert.equal(s1.json().step, 1);
    const s2 = ckpt(["save", `${t.dir}/store`, b!, "--protocol", "atomic_nodirsync", "--json"]);
    assert.equal(s2.json().step, 2);
    assert.equal(ckpt(["save", `${t.dir}/store`, b!, "--step", "2"]).code, 2);
    assert.equal(ckpt(["save", `${t.dir}/store`, b!, "--protocol", "yolo"]).code, 2);
    assert.equal(ckpt(["save", `${t.dir}/store`, b!, "--step", "-4"]).code, 2);
    const list = ckpt(["list", `${t.dir}/store`, "--verify", "--json"]).json<
      { checkpoints: { step: number; status: string; files: string[] }[] }
    >();
    assert.deepEqual(list.checkpoints.map((c) => [c.step, c.status]), [[2, "valid"], [1, "valid"]]);
    assert.deepEqual(list.checkpoints[1]!.files, ["a.bin", "b.txt"]);
    const v = ckpt(["verify", `${t.dir}/store`, "--json"]);
    assert.equal(v.code, 0);
    assert.equal(v.json().ok, true);
    const latest = ckpt(["latest", `${t.dir}/store`, "--json"]);
    assert.equal(latest.code, 0);
    assert.deepEqual(latest.json(), { ...latest.json(), step: 2, files: ["b.txt"] });
    const r = ckpt(["restore", `${t.dir}/store`, `${t.dir}/out`, "--step", "1", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().step, 1);
    assert.deepEqual(readdirSync(`${t.dir}/out`).sort(), ["a.bin", "b.txt"]);
    assert.deepEqual(new Uint8Array(readFileSync(`${t.dir}/out/a.bin`)), new Uint8Array(100_000).map((_, i) => i));
    assert.equal(ckpt(["restore", `${t.dir}/store`, `${t.dir}/out`]).code, 2, "non-empty out-dir is a usage error");
    const missing = ckpt(["restore", `${t.dir}/store`, `${t.dir}/out3`, "--step", "9", "--json"]);
    assert.equal(missing.code, 1, "a step that does not exist is 'not found', exit 1");
    assert.equal(missing.json<{ error: { code: string } }>().error.code, "ENOCHECKPOINT");
  } finally {
    t.done();
  }
});

test(`cli (${runtime}): corruption is caught, latest rolls back, rollback quarantines`, () => {
  const t = tmp();
  try {
    // Above the inline threshold (64 KiB): this test damages a member file.
    const [a] = files(t.dir, { "a.bin": new Uint8Array(100_000).fill(7) });
    ckpt(["save", `${t.dir}/store`, a!]);
    ckpt(["save", `${t.dir}/store`, a!]);
    const victim = `${t.dir}/store/step-0000000000000002.member-0`;
    const c = ckpt(["corrupt", victim, "--mode", "bitflip", "--seed", "5", "--json"]);
    assert.equal(c.code, 0);
    assert.equal(c.json().mode, "bitflip");
    const v = ckpt(["verify", `${t.dir}/store`, "--json"]);
    assert.equal(v.code, 1);
    const findings = v.json<{ findings: { step: number; kind: string }[] }>().findings;
    assert.equal(findings[0]!.step, 2);
    assert.equal(ckpt(["verify", victim]).code, 1);
    assert.equal(ckpt(["verify", `${t.dir}/store/step-0000000000000001.member-0`]).code, 0);
    assert.equal(ckpt(["latest", `${t.dir}/store`, "--json"]).json().step, 1);
    assert.equal(ckpt(["restore", `${t.dir}/store`, `${t.dir}/o2`, "--step", "2"]).code, 1);
    const rb = ckpt(["rollback", `${t.dir}/store`, "--json"]);
    assert.equal(rb.code, 0);
    assert.deepEqual(rb.json<{ moved: { step: number }[] }>().moved.map((m) => m.step), [2]);
    assert.equal(ckpt(["verify", `${t.dir}/store`]).code, 0);
    assert.ok(readdirSync(`${t.dir}/store/.quarantine`).includes("step-0000000000000002.member-0"));
    for (const mode of ["zerorange", "truncate"]) {
      assert.equal(
        ckpt(["corrupt", `${t.dir}/store/step-0000000000000001.manifest`, "--mode", mode, "--seed", "3"]).code,
        0,
      );
    }
    const none = ckpt(["latest", `${t.dir}/store`, "--json"]);
    assert.equal(none.code, 1);
    assert.deepEqual(none.json(), { step: null });
  } finally {
    t.done();
  }
});

test(`cli (${runtime}): missing stores are exit 3, save creates one`, () => {
  const t = tmp();
  try {
    for (const args of [["list"], ["verify"], ["latest"], ["rollback"], ["restore", "STORE", `${t.dir}/out`]]) {
      const argv = args.length > 1
        ? args.map((a) => (a === "STORE" ? `${t.dir}/missing` : a))
        : [...args, `${t.dir}/missing`];
      const r = ckpt(argv);
      assert.equal(r.code, 3, `${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /missing/);
      noCrash(r);
    }
    const [a] = files(t.dir, { a: "x" });
    assert.equal(ckpt(["save", `${t.dir}/new/deep/store`, a!]).code, 0);
    const notDir = ckpt(["save", `${a}/store`, a!]);
    assert.equal(notDir.code, 3);
    assert.equal(ckpt(["save", `${t.dir}/s`, `${t.dir}/no-such-file`]).code, 3);
    const json = ckpt(["latest", `${t.dir}/missing`, "--json"]);
    assert.equal(json.json<{ error: { exit: number } }>().error.exit, 3);
  } finally {
    t.done();
  }
});

test(`cli (${runtime}): malformed files are reported, never crash`, () => {
  const t = tmp();
  try {
    const bad = files(t.dir, {
      empty: "",
      junk: "this is not a checkpoint ".repeat(10),
      magic: "CKPTKIT\0" + "\xff".repeat(80),
      tiny: "CK",
    });
    for (const f of bad) {
      const i = ckpt(["inspect", f, "--json"]);
      assert.equal(i.code, 1, `inspect ${f}`);
      assert.equal(i.json().ok, false);
      noCrash(i);
      const v = ckpt(["verify", f]);
      assert.equal(v.code, 1, `verify ${f}`);
      noCrash(v);
    }
    // A directory of junk named like checkpoints is damage, not a crash.
    files(t.dir, { "step-0000000000000001.manifest": "garbage", "step-0000000000000001.member-0": "" });
    const v = ckpt(["verify", t.dir, "--json"]);
    assert.equal(v.code, 1);
    noCrash(v);
    assert.equal(ckpt(["latest", t.dir]).code, 1);
    assert.equal(ckpt(["corrupt", bad[0]!, "--mode", "bitflip"]).code, 2, "an empty file cannot be bit-flipped");
    assert.equal(ckpt(["corrupt", bad[1]!, "--mode", "explode"]).code, 2);
    assert.equal(ckpt(["corrupt", bad[1]!]).code, 2);
  } finally {
    t.done();
  }
});

test(`cli (${runtime}): inspect shows header, metadata, chunk table and checksums`, () => {
  const t = tmp();
  try {
    const [a] = files(t.dir, { "a.bin": new Uint8Array(600_000) });
    ckpt(["save", `${t.dir}/store`, a!, "--meta", "run=7"]);
    const m = ckpt(["inspect", `${t.dir}/store/step-0000000000000001.manifest`, "--json"]).json<
      { kind: string; metadata: Record<string, string>; members: { name: string }[]; sha256: string }
    >();
    assert.equal(m.kind, "manifest");
    assert.equal(m.metadata["user.run"], "7");
    assert.equal(m.members[0]!.name, "a.bin");
    assert.match(m.sha256, /^[0-9a-f]{64}$/);
    const mem = ckpt(["inspect", `${t.dir}/store/step-0000000000000001.member-0`, "--json"]).json<
      { chunks: { crc32: string; ok: boolean }[] }
    >();
    assert.equal(mem.chunks.length, 3);
    assert.ok(mem.chunks.every((c) => c.ok && /^[0-9a-f]{8}$/.test(c.crc32)));
  } finally {
    t.done();
  }
});

test(`cli (${runtime}): demo runs and reports the rollback`, () => {
  const t = tmp();
  try {
    const r = ckpt(["demo", t.dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const d = r.json<{ latest: number; exact: boolean }>();
    assert.equal(d.latest, 2);
    assert.equal(d.exact, true);
  } finally {
    t.done();
  }
});

test(`cli (${runtime}): log append, replay, truncate and repair per the contract`, () => {
  const t = tmp();
  try {
    const log = `${t.dir}/wal`;
    const [a] = files(t.dir, { "rec.bin": "first record" });
    const first = ckpt(["log", "append", log, a!, "--json"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json().sequence, 1);
    const second = ckpt(["log", "append", log, "-", "--json"], { input: "from stdin" });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json().sequence, 2);
    const r = ckpt(["log", "replay", log, "--json"]);
    assert.equal(r.code, 0);
    const rep = r.json<
      { recovered: number; discarded: number; lastSequence: number; truncatedBytes: number; damage: unknown }
    >();
    assert.deepEqual({
      recovered: rep.recovered,
      discarded: rep.discarded,
      lastSequence: rep.lastSequence,
      truncatedBytes: rep.truncatedBytes,
      damage: rep.damage,
    }, { recovered: 2, discarded: 0, lastSequence: 2, truncatedBytes: 0, damage: null });
    // Mid-log damage: replay reports it (exit 0, log untouched); append refuses and names repair.
    ckpt(["log", "append", log, a!]);
    const seg = `${log}/seg-0000000000000001.wal`;
    const bytes = flipped(new Uint8Array(readFileSync(seg)), 32 + 25, 0xff);
    writeFileSync(seg, bytes);
    const damaged = ckpt(["log", "replay", log, "--json"]);
    assert.equal(damaged.code, 0);
    const d = damaged.json<{ recovered: number; damage: { sequence: number; offset: number; reason: string } }>();
    assert.equal(d.recovered, 0);
    assert.equal(d.damage.sequence, 1);
    assert.equal(d.damage.offset, 32);
    assert.deepEqual(new Uint8Array(readFileSync(seg)), bytes, "replay never modifies the log");
    const refused = ckpt(["log", "append", log, a!]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /log repair/);
    const fixed = ckpt(["log", "repair", log, "--json"]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(fixed.json<{ sideFiles: string[] }>().sideFiles.length, 1);
    // Guarantee 11: records 1-3 were cut by the repair and may have been acknowledged, so the
    // next append continues above them instead of handing sequence 1 out again.
    assert.ok(ckpt(["log", "append", log, a!, "--json"]).json<{ sequence: number }>().sequence > 3);
    assert.equal(ckpt(["log", "truncate", log, "--before", "1", "--json"]).code, 0);
    assert.equal(ckpt(["log", "truncate", log]).code, 2, "--before is required");
    assert.equal(ckpt(["log", "replay", `${t.dir}/none`]).code, 3);
    assert.equal(ckpt(["log", "frob", log]).code, 2);
  } finally {
    t.done();
  }
});
