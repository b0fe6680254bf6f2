// `ckpt save` of directories and name=path, and `ckpt cat`, run as the CLI in this runtime:
// nested names relative to the directory, symbolic links skipped with a note, cat writing the
// exact bytes; a damaged chunk k writes at most the bytes before it and exits 1; exit 3 for a
// missing store, 2 for usage.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { CHUNK_HEADER_SIZE, DEFAULT_CHUNK_SIZE, HEADER_SIZE, META_CRC_SIZE } from "../src/format/constants.ts";
import { randomBytes, rng, runtime, test } from "./kit.ts";
import { flipped } from "./lib/damage.ts";
import { ckpt, cliArgv, noCrash, ROOT } from "./lib/cli.ts";

/** Runs the CLI keeping stdout as bytes. */
function ckptBytes(args: string[]): { code: number; stdout: Uint8Array; stderr: string } {
  const [cmd, ...pre] = cliArgv();
  const r = spawnSync(cmd!, [...pre, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  const stderr = r.stderr.toString("utf8");
  noCrash({ code: r.status ?? -1, stdout: "", stderr, json: () => ({}) as never });
  return { code: r.status ?? -1, stdout: new Uint8Array(r.stdout), stderr };
}

function tmp(): string {
  return mkdtempSync(`${tmpdir()}/ckpt-cat-${runtime}-`);
}

test("save <dir> names every regular file relative to it, skips symlinks with a note; name=path renames; cat gives the bytes back", () => {
  const t = tmp();
  try {
    const src = `${t}/model`;
    mkdirSync(`${src}/optimizer/deep`, { recursive: true });
    const files: Record<string, Uint8Array> = {
      "weights.bin": randomBytes(300_000, rng(1)),
      "optimizer/state.bin": randomBytes(1000, rng(2)),
      "optimizer/deep/x": new Uint8Array(0),
    };
    for (const [n, b] of Object.entries(files)) writeFileSync(`${src}/${n}`, b);
    symlinkSync("/etc/passwd", `${src}/link-out`);
    symlinkSync(`${src}/optimizer`, `${src}/link-dir`);
    writeFileSync(`${t}/cfg.json`, '{"a":1}');
    const r = ckpt(["save", `${t}/store`, src, `config/main.json=${t}/cfg.json`, "--json"]);
    noCrash(r);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /link-out: a symbolic link \(not followed\)/);
    assert.match(r.stderr, /link-dir: a symbolic link \(not followed\)/);
    const l = ckpt(["latest", `${t}/store`, "--json"]).json<{ files: string[] }>();
    assert.deepEqual([...l.files].sort(), [
      "config/main.json",
      "optimizer/deep/x",
      "optimizer/state.bin",
      "weights.bin",
    ]);
    for (const [n, b] of Object.entries(files)) {
      const c = ckptBytes(["cat", `${t}/store`, n]);
      assert.equal(c.code, 0, c.stderr);
      assert.deepEqual(c.stdout, b, n);
    }
    assert.equal(
      Buffer.from(ckptBytes(["cat", `${t}/store`, "config/main.json", "--step", "1"]).stdout).toString(),
      '{"a":1}',
    );
    const j = ckpt(["cat", `${t}/store`, "weights.bin", "--json"]);
    assert.deepEqual({ ...j.json<Record<string, unknown>>(), sha256: undefined }, {
      step: 1,
      member: "weights.bin",
      bytes: 300_000,
      sha256: undefined,
    });
    // A second directory whose names clash with the first: refused before anything is written (exit 2).
    const clash = ckpt(["save", `${t}/store`, src, src]);
    assert.equal(clash.code, 2, clash.stderr);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test("cat of a member with a flipped byte in chunk k writes at most the bytes before chunk k and exits 1", () => {
  const t = tmp();
  try {
    const data = randomBytes(3 * DEFAULT_CHUNK_SIZE + 1234, rng(9));
    writeFileSync(`${t}/w.bin`, data);
    assert.equal(ckpt(["save", `${t}/store`, `${t}/w.bin`]).code, 0);
    const member = readdirSync(`${t}/store`).find((f) => f.endsWith(".member-0"))!;
    const path = `${t}/store/${member}`;
    const clean = readFileSync(path);
    const metaLen = clean.readUInt32LE(20);
    for (const k of [2, 0]) {
      const at = HEADER_SIZE + metaLen + META_CRC_SIZE + k * (CHUNK_HEADER_SIZE + DEFAULT_CHUNK_SIZE) +
        CHUNK_HEADER_SIZE + 77;
      writeFileSync(path, flipped(new Uint8Array(clean), at, 0x40)); // a copy: Buffer#slice would share bytes
      const c = ckptBytes(["cat", `${t}/store`, "w.bin", "--step", "1"]);
      assert.equal(c.code, 1, c.stderr);
      assert.ok(c.stdout.length <= k * DEFAULT_CHUNK_SIZE, `chunk ${k}: wrote ${c.stdout.length} bytes`);
      assert.deepEqual(c.stdout, data.subarray(0, c.stdout.length));
      assert.equal(c.stderr.trim().split("\n").length, 1, c.stderr);
    }
    // Without --step the damaged checkpoint is not the newest valid one: none is.
    assert.equal(ckptBytes(["cat", `${t}/store`, "w.bin"]).code, 1);
    writeFileSync(path, clean);
    assert.deepEqual(ckptBytes(["cat", `${t}/store`, "w.bin"]).stdout, data);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});

test("cat: exit 3 for a missing store, 2 for usage, 1 for a member that is not there", () => {
  const t = tmp();
  try {
    writeFileSync(`${t}/a`, "A");
    assert.equal(ckpt(["save", `${t}/store`, `${t}/a`]).code, 0);
    assert.equal(ckpt(["cat", `${t}/nope`, "a"]).code, 3);
    assert.equal(ckpt(["cat", `${t}/store`]).code, 2);
    assert.equal(ckpt(["cat", `${t}/store`, "a", "--step", "x"]).code, 2);
    const missing = ckpt(["cat", `${t}/store`, "b"]);
    noCrash(missing);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no member "b"/);
    assert.equal(ckpt(["save", `${t}/store`, `bad=${t}/nothing-here`]).code, 3);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});
