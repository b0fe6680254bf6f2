// The store on a real S3-compatible server (Swift + s3api from scripts/s3-server.sh, started by
// scripts/test-s3.sh, which sets CKPTKIT_S3_ENDPOINT): the adapter's file semantics, the store
// suite (save, latest, load, verify, rollback, prune, lock), a multipart member, and the CLI.
// The faults are in s3-faults.test.ts.
import assert from "node:assert/strict";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { FsError, LockedError } from "../src/errors.ts";
import { readFile } from "../src/fs-util.ts";
import { openStore } from "../src/store/store.ts";
import { randomBytes, rng, test } from "./kit.ts";
import { equalMembers, members, sources } from "./lib/store-helpers.ts";
import { BUCKET, ENDPOINT, MIB, cleanup, client, ensureBucket, freshPrefix, getObject, keys, putObject, s3fs, url } from "./lib/s3.ts";
import { requireServer } from "./lib/s3-gate.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs `fn` with a fresh prefix on the server and removes what it wrote afterwards. */
function s3test(name: string, fn: (prefix: string) => Promise<void>): void {
  if (!requireServer(`s3: ${name}`)) return;
  test(`s3: ${name}`, async () => {
    const c = client();
    await ensureBucket(c);
    const prefix = freshPrefix("t");
    try {
      await fn(prefix);
    } finally {
      await cleanup(c, prefix);
    }
  });
}

s3test("adapter: write, read at offset, size, truncate, then reopen and read back", async (p) => {
  const fs = s3fs();
  const h = await fs.open(url(p, "a"), { write: true, create: true });
  await h.write(enc.encode("hello world"), 0);
  await h.write(enc.encode("W"), 6);
  await h.sync();
  assert.equal(await h.size(), 11);
  const buf = new Uint8Array(5);
  assert.equal(await h.read(buf, 6), 5);
  assert.equal(dec.decode(buf), "World");
  await h.truncate(5);
  await h.close(); // unsynced: close uploads, an object store holds no volatile state
  assert.equal(dec.decode(await readFile(fs, url(p, "a"))), "hello");
  const st = await fs.stat(url(p, "a"));
  assert.equal(st?.isFile, true);
  assert.equal(st?.size, 5);
});

s3test("adapter: exclusive create refuses an existing object; missing paths are ENOENT", async (p) => {
  const fs = s3fs();
  await (await fs.open(url(p, "x"), { write: true, create: true, exclusive: true })).close();
  await assert.rejects(fs.open(url(p, "x"), { write: true, create: true, exclusive: true }), (e: unknown) => e instanceof FsError && e.errno === "EEXIST");
  await assert.rejects(fs.open(url(p, "nope")), (e: unknown) => e instanceof FsError && e.errno === "ENOENT" && e.op === "open");
  await assert.rejects(fs.rename(url(p, "nope"), url(p, "b")), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
  await assert.rejects(fs.unlink(url(p, "nope")), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
  await assert.rejects(fs.readdir(url(p, "nope")), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
  assert.equal(await fs.stat(url(p, "nope")), null);
  assert.equal(await fs.stat(`s3://no-such-bucket-${Date.now()}/x`), null);
});

s3test("adapter: rename is copy + delete and replaces; readdir lists files and directories; mkdir -p, rmdir", async (p) => {
  const fs = s3fs();
  await fs.mkdir(url(p, "d/e"));
  assert.deepEqual(await fs.readdir(url(p, "d/e")), []);
  for (const [name, text] of [["one", "1"], ["two", "2"]]) {
    const h = await fs.open(url(p, `d/${name}`), { write: true, create: true, truncate: true });
    await h.write(enc.encode(text!), 0);
    await h.sync();
    await h.close();
  }
  await fs.rename(url(p, "d/one"), url(p, "d/two"));
  assert.deepEqual((await fs.readdir(url(p, "d"))).sort(), ["e", "two"]);
  assert.equal(dec.decode(await readFile(fs, url(p, "d/two"))), "1");
  assert.equal((await fs.stat(url(p, "d")))?.isDirectory, true);
  await assert.rejects(fs.rmdir(url(p, "d")), (e: unknown) => e instanceof FsError && e.errno === "ENOTEMPTY");
  await fs.rmdir(url(p, "d/e"));
  await fs.unlink(url(p, "d/two"));
  assert.deepEqual(await fs.readdir(url(p, "d")), []);
});

s3test("adapter: past one part an object is a multipart upload: appends only, bytes written stream out, the result reads back", async (p) => {
  const fs = s3fs({ partSize: 5 * MIB });
  const data = randomBytes(6 * MIB + 333, rng(7));
  const h = await fs.open(url(p, "big"), { write: true, create: true, exclusive: true });
  for (let o = 0; o < data.length; o += MIB) await h.write(data.subarray(o, o + MIB), o);
  await assert.rejects(h.write(enc.encode("x"), 10), (e: unknown) => (e as { code?: string }).code === "EUNSUPPORTED");
  assert.equal(await h.size(), data.length);
  await h.sync();
  await assert.rejects(h.write(enc.encode("x"), data.length), (e: unknown) => (e as { code?: string }).code === "EUNSUPPORTED");
  await h.close();
  const back = await readFile(fs, url(p, "big"));
  assert.equal(back.length, data.length);
  assert.ok(back.every((b, i) => b === data[i]));
});

s3test("store: a single save and a group save come back byte for byte through latest, load, list and verify", async (p) => {
  const fs = s3fs();
  const s = await openStore(url(p, "store"), { fs, chunkSize: 4096 });
  try {
    const one = members(1, ["weights.bin"], 10_000);
    const group = members(2, ["model", "optimizer", "rng"], 30_000);
    assert.equal((await s.save(sources(one))).step, 1);
    assert.equal((await s.save(sources(group), { meta: { epoch: "3" } })).step, 2);
    const l = await s.latest();
    assert.equal(l?.step, 2);
    assert.deepEqual(l?.files, ["model", "optimizer", "rng"]);
    assert.ok(equalMembers((await s.load()).members, group));
    assert.ok(equalMembers((await s.load(1)).members, one));
    const listed = await s.list({ verify: true });
    assert.deepEqual(listed.map((c) => [c.step, c.status, c.meta]), [[2, "valid", { epoch: "3" }], [1, "valid", {}]]);
    const v = await s.verify();
    assert.equal(v.ok, true);
    // the atomic protocol's temp objects are gone: copy + delete completed
    assert.deepEqual((await keys(client(), `${p}/store`)).filter((k) => k.includes(".tmp-")), []);
  } finally {
    await s.close();
  }
  assert.equal(await fs.stat(url(p, "store/.lock")), null, "close releases the lock object");
});

s3test("store: a flipped byte in a member object is found by verify, latest falls back, rollback quarantines by copy + delete", async (p) => {
  const fs = s3fs();
  const c = client();
  const s = await openStore(url(p, "store"), { fs, chunkSize: 4096 });
  try {
    const a = members(3, ["m"], 20_000);
    await s.save(sources(a));
    await s.save(sources(members(4, ["m"], 20_000)));
    const key = `${p}/store/step-0000000000000002.member-0`;
    const bytes = await getObject(c, key);
    bytes[9000]! ^= 0x10;
    await putObject(c, key, bytes);
    const v = await s.verify();
    assert.equal(v.ok, false);
    assert.deepEqual(v.findings.map((f) => [f.step, f.file, f.kind]), [[2, "step-0000000000000002.member-0", "crc-mismatch"]]);
    assert.equal((await s.latest())?.step, 1);
    assert.ok(equalMembers((await s.load()).members, a));
    const r = await s.rollback();
    assert.deepEqual(r.moved.map((m) => m.step), [2]);
    const all = await keys(c, `${p}/store`);
    assert.deepEqual(all.filter((k) => k.startsWith(".quarantine/") && k !== ".quarantine/"), [".quarantine/step-0000000000000002.manifest", ".quarantine/step-0000000000000002.member-0"]);
    assert.ok(!all.some((k) => k.startsWith("step-0000000000000002")), "nothing of step 2 left in the store");
    assert.equal((await s.verify()).ok, true);
    assert.equal((await s.save(sources(a))).step, 2, "the quarantined step no longer counts");
  } finally {
    await s.close();
  }
});

s3test("store: prune keeps the newest valid checkpoints and deletes the rest; save --keep does the same", async (p) => {
  const fs = s3fs();
  const s = await openStore(url(p, "store"), { fs });
  try {
    for (let i = 0; i < 4; i++) await s.save(sources(members(10 + i, ["m"], 3000)), { protocol: i % 2 ? "unsafe" : "atomic_dirsync" });
    assert.deepEqual((await s.prune(2)).removed, [2, 1]);
    await s.save(sources(members(20, ["m"], 3000)), { keep: 2 });
    assert.deepEqual((await s.list()).map((c) => c.step), [5, 4]);
    assert.deepEqual((await keys(client(), `${p}/store`)).filter((k) => k.startsWith("step-")).length, 4);
  } finally {
    await s.close();
  }
});

s3test("store: a second writer is refused; a lock left by a dead process is taken over", async (p) => {
  const fs = s3fs();
  const s = await openStore(url(p, "store"), { fs });
  await assert.rejects(openStore(url(p, "store"), { fs: s3fs() }), (e: unknown) => e instanceof LockedError);
  await s.close();
  // a crashed writer on this host: its pid is not alive
  await putObject(client(), `${p}/store/.lock`, enc.encode(JSON.stringify({ pid: 2 ** 22 + 12345, host: fs.hostname(), since: 0 })));
  const warnings: string[] = [];
  const t = await openStore(url(p, "store"), { fs, onWarning: (m) => warnings.push(m) });
  await t.close();
  assert.match(warnings.join("\n"), /taking over the lock of dead process/);
});

s3test("store: a 20 MiB member goes up as a multipart upload, loads and verifies; damaged, it is quarantined whole", async (p) => {
  const fs = s3fs({ partSize: 5 * MIB });
  const c = client();
  const s = await openStore(url(p, "store"), { fs });
  try {
    const small = members(30, ["m"], 5000);
    await s.save(sources(small));
    const big = randomBytes(20 * MIB + 12345, rng(31));
    await s.save([{ name: "m", data: big }]);
    const key = `${p}/store/step-0000000000000002.member-0`;
    const head = await c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.match(head.ETag ?? "", /-\d+"?$/, "a multipart object's ETag ends in -<parts>");
    const got = (await s.load()).members.get("m")!;
    assert.equal(got.length, big.length);
    assert.ok(got.every((b, i) => b === big[i]));
    const bytes = await getObject(c, key);
    bytes[15 * MIB]! ^= 1;
    await putObject(c, key, bytes);
    assert.equal((await s.latest())?.step, 1);
    assert.deepEqual((await s.rollback()).moved.map((m) => m.step), [2]);
    const q = await getObject(c, `${p}/store/.quarantine/step-0000000000000002.member-0`);
    assert.equal(q.length, bytes.length, "the quarantined copy is the whole object");
    assert.ok(equalMembers((await s.load()).members, small));
  } finally {
    await s.close();
  }
});

if (requireServer("s3: cli")) {
  test("s3: the CLI saves local files into s3://, finds latest, restores to a local directory, and corrupt + verify see damage", async () => {
    const { main } = await import("../src/cli/main.ts");
    const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const c = client();
    await ensureBucket(c);
    const p = freshPrefix("cli");
    const dir = mkdtempSync(`${tmpdir()}/ckpt-s3-`);
    // The CLI takes its endpoint and credentials from the standard AWS environment.
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ENDPOINT_URL_S3: ENDPOINT, AWS_ACCESS_KEY_ID: "test:tester", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1" });
    const run = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false, self: [], tmpdir: tmpdir(), readStdin: async () => new Uint8Array(0) });
      return { code, out: out.join("\n"), err: err.join("\n") };
    };
    try {
      writeFileSync(`${dir}/a.bin`, "alpha");
      writeFileSync(`${dir}/b.bin`, "beta");
      const store = url(p, "store");
      assert.equal((await run("list", store)).code, 3, "a store that does not exist is exit 3");
      const s1 = await run("save", store, `${dir}/a.bin`, `${dir}/b.bin`, "--json");
      assert.equal(s1.code, 0, s1.err);
      assert.equal(JSON.parse(s1.out).step, 1);
      const l = await run("latest", store, "--json");
      assert.equal(l.code, 0, l.err);
      assert.deepEqual([JSON.parse(l.out).step, JSON.parse(l.out).files], [1, ["a.bin", "b.bin"]]);
      const r = await run("restore", store, `${dir}/out`, "--json");
      assert.equal(r.code, 0, r.err);
      assert.equal(readFileSync(`${dir}/out/b.bin`, "utf8"), "beta");
      assert.equal((await run("verify", store)).code, 0);
      const k = await run("corrupt", `${store}/step-0000000000000001.member-1`, "--mode", "bitflip", "--seed", "5");
      assert.equal(k.code, 0, k.err);
      assert.equal((await run("verify", store)).code, 1);
      const none = await run("latest", store, "--json");
      assert.deepEqual([none.code, JSON.parse(none.out).step], [1, null]);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      rmSync(dir, { recursive: true, force: true });
      await cleanup(c, p);
    }
  });
}
