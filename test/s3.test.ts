// The store on a real S3-compatible server (Swift + s3api from scripts/s3-server.sh, started by
// scripts/test-s3.sh, which sets CKPTKIT_S3_ENDPOINT): the adapter's file semantics, the store
// suite (save, latest, load, verify, rollback, prune, lock), a multipart member, the CLI and its
// s3 flags, and the checksum modes. Malformed s3:// paths are checked without a server. The
// faults are in s3-faults.test.ts.
import assert from "node:assert/strict";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { Buffer } from "node:buffer";
import { s3UrlProblem } from "../adapters/s3-path.ts";
import { fsForPath, RoutingFs } from "../adapters/fs-for-path.ts";
import { CorruptionError, FsError, LockedError, UsageError } from "../src/errors.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { sha256 } from "../src/hash.ts";
import { readFile } from "../src/fs-util.ts";
import { openStore } from "../src/store/store.ts";
import { randomBytes, rng, test } from "./kit.ts";
import { equalMembers, members, sources } from "./lib/store-helpers.ts";
import {
  BUCKET,
  cleanup,
  client,
  ENDPOINT,
  ensureBucket,
  freshPrefix,
  getObject,
  keys,
  MIB,
  putObject,
  s3fs,
  url,
  type WireRequest,
} from "./lib/s3.ts";
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
  await assert.rejects(
    fs.open(url(p, "x"), { write: true, create: true, exclusive: true }),
    (e: unknown) => e instanceof FsError && e.errno === "EEXIST",
  );
  await assert.rejects(
    fs.open(url(p, "nope")),
    (e: unknown) => e instanceof FsError && e.errno === "ENOENT" && e.op === "open",
  );
  await assert.rejects(
    fs.rename(url(p, "nope"), url(p, "b")),
    (e: unknown) => e instanceof FsError && e.errno === "ENOENT",
  );
  await assert.rejects(fs.unlink(url(p, "nope")), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
  await assert.rejects(fs.readdir(url(p, "nope")), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
  assert.equal(await fs.stat(url(p, "nope")), null);
  assert.equal(await fs.stat(`s3://no-such-bucket-${Date.now()}/x`), null);
});

s3test(
  "adapter: rename is copy + delete and replaces; readdir lists files and directories; mkdir -p, rmdir",
  async (p) => {
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
  },
);

s3test(
  "adapter: past one part an object is a multipart upload: appends only, bytes written stream out, the result reads back",
  async (p) => {
    const fs = s3fs({ partSize: 5 * MIB });
    const data = randomBytes(6 * MIB + 333, rng(7));
    const h = await fs.open(url(p, "big"), { write: true, create: true, exclusive: true });
    for (let o = 0; o < data.length; o += MIB) await h.write(data.subarray(o, o + MIB), o);
    await assert.rejects(
      h.write(enc.encode("x"), 10),
      (e: unknown) => (e as { code?: string }).code === "EUNSUPPORTED",
    );
    assert.equal(await h.size(), data.length);
    await h.sync();
    await assert.rejects(
      h.write(enc.encode("x"), data.length),
      (e: unknown) => (e as { code?: string }).code === "EUNSUPPORTED",
    );
    await h.close();
    const back = await readFile(fs, url(p, "big"));
    assert.equal(back.length, data.length);
    assert.ok(back.every((b, i) => b === data[i]));
  },
);

s3test(
  "store: a single save and a group save come back byte for byte through latest, load, list and verify",
  async (p) => {
    const fs = s3fs();
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs, chunkSize: 4096 });
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
  },
);

s3test(
  "store: a flipped byte in a member object is found by verify, latest falls back, rollback quarantines by copy + delete",
  async (p) => {
    const fs = s3fs();
    const c = client();
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs, chunkSize: 4096 });
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
      assert.deepEqual(v.findings.map((f) => [f.step, f.file, f.kind]), [[
        2,
        "step-0000000000000002.member-0",
        "crc-mismatch",
      ]]);
      assert.equal((await s.latest())?.step, 1);
      assert.ok(equalMembers((await s.load()).members, a));
      const r = await s.rollback();
      assert.deepEqual(r.moved.map((m) => m.step), [2]);
      const all = await keys(c, `${p}/store`);
      assert.deepEqual(all.filter((k) => k.startsWith(".quarantine/") && k !== ".quarantine/"), [
        ".quarantine/step-0000000000000002.manifest",
        ".quarantine/step-0000000000000002.member-0",
      ]);
      assert.ok(!all.some((k) => k.startsWith("step-0000000000000002")), "nothing of step 2 left in the store");
      assert.equal((await s.verify()).ok, true);
      assert.equal((await s.save(sources(a))).step, 2, "the quarantined step no longer counts");
    } finally {
      await s.close();
    }
  },
);

s3test("store: prune keeps the newest valid checkpoints and deletes the rest; save --keep does the same", async (p) => {
  const fs = s3fs();
  const s = await openStore(url(p, "store"), { inlineMax: 0, fs });
  try {
    for (let i = 0; i < 4; i++) {
      await s.save(sources(members(10 + i, ["m"], 3000)), { protocol: i % 2 ? "unsafe" : "atomic_dirsync" });
    }
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
  const s = await openStore(url(p, "store"), { inlineMax: 0, fs });
  await assert.rejects(
    openStore(url(p, "store"), { inlineMax: 0, fs: s3fs() }),
    (e: unknown) => e instanceof LockedError,
  );
  await s.close();
  // a crashed writer on this host: its pid is not alive
  await putObject(
    client(),
    `${p}/store/.lock`,
    enc.encode(JSON.stringify({ pid: 2 ** 22 + 12345, host: fs.hostname(), since: 0 })),
  );
  const warnings: string[] = [];
  const t = await openStore(url(p, "store"), { inlineMax: 0, fs, onWarning: (m) => warnings.push(m) });
  await t.close();
  assert.match(warnings.join("\n"), /taking over the lock of dead process/);
});

s3test(
  "store: a 20 MiB member goes up as a multipart upload, loads and verifies; damaged, it is quarantined whole",
  async (p) => {
    const fs = s3fs({ partSize: 5 * MIB });
    const c = client();
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs });
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
  },
);

/** Runs the CLI in this process with `vars` set (undefined: unset) in the environment. */
async function cli(
  vars: Record<string, string | undefined>,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import("../src/cli/main.ts");
  const { tmpdir } = await import("node:os");
  const saved = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      stderrIsTTY: false,
      self: [],
      tmpdir: tmpdir(),
      readStdin: async () => new Uint8Array(0),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The standard AWS environment for the local server (what scripts/s3-server.sh env prints). */
const AWS_ENV = {
  AWS_ENDPOINT_URL_S3: ENDPOINT,
  AWS_ENDPOINT_URL: undefined,
  AWS_ACCESS_KEY_ID: "test:tester",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_PROFILE: undefined,
  CKPTKIT_S3_CHECKSUM: undefined,
};

// Cases of the store suite (test/store.test.ts, on the memory fs) that need more than the tests
// above: damage to manifests, headers and trailers; each finding kind; rollback with nothing
// valid; read-only stores; a store path that is an object; restore of a damaged checkpoint.

s3test(
  "store: damage to the manifest, a member header or trailer is found; finding kinds sha-mismatch, missing-member, truncated name file, member and status",
  async (p) => {
    const fs = s3fs();
    const c = client();
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs, chunkSize: 1024 });
    try {
      await s.save(sources(members(50, ["a", "b"], 3000)));
      await s.save(sources(members(51, ["a", "b"], 3000)));
      const key = (f: string) => `${p}/store/${f}`;
      const files = [manifestName(2), memberName(2, 0), memberName(2, 1)];
      const clean = new Map(await Promise.all(files.map(async (f) => [f, await getObject(c, key(f))] as const)));
      const put = (f: string, b: Uint8Array) => putObject(c, key(f), b);
      const back = async () => {
        for (const [f, b] of clean) await put(f, b);
      };
      const only = async () => {
        const v = await s.verify();
        assert.deepEqual(v.checkpoints.filter((x) => x.step !== 2).map((x) => x.status), ["valid"]);
        const cp = v.checkpoints.find((x) => x.step === 2)!;
        assert.equal(cp.findings.length, 1, JSON.stringify(cp.findings));
        assert.equal((await s.latest())?.step, 1, "latest falls back past it");
        const f = cp.findings[0]!;
        return { status: cp.status, kind: f.kind, file: f.file, member: f.member };
      };
      for (const f of files) {
        const b = clean.get(f)!;
        for (const off of [0, 9, 63, 100, b.length - 40, b.length - 1]) {
          const bad = b.slice();
          bad[off]! ^= 0x10;
          await put(f, bad);
          assert.equal((await s.verify()).ok, false, `${f} byte ${off}`);
          await put(f, b);
        }
      }
      const m1 = clean.get(memberName(2, 1))!;
      const sha = m1.slice();
      sha[sha.length - 1]! ^= 0x01; // the SHA-256 in the trailer; every CRC still holds
      await put(memberName(2, 1), sha);
      assert.deepEqual(await only(), { status: "corrupt", kind: "sha-mismatch", file: memberName(2, 1), member: "b" });
      await back();
      await fs.unlink(url(p, `store/${memberName(2, 1)}`));
      assert.deepEqual(await only(), { status: "torn", kind: "missing-member", file: memberName(2, 1), member: "b" });
      await back();
      const m0 = clean.get(memberName(2, 0))!;
      await put(memberName(2, 0), m0.slice(0, m0.length - 10));
      assert.deepEqual(await only(), { status: "torn", kind: "truncated", file: memberName(2, 0), member: "a" });
      await back();
      assert.equal((await s.verify()).ok, true);
    } finally {
      await s.close();
    }
  },
);

s3test(
  "store: rollback with nothing valid quarantines all, a second damaged step 1 lands beside the first; read-only refuses writes; an object at the store path is ENOTDIR; a damaged checkpoint restores nothing",
  async (p) => {
    const { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const fs = s3fs();
    const c = client();
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs });
    const dir = mkdtempSync(`${tmpdir()}/ckpt-s3-restore-`);
    try {
      const damageManifest = async () => {
        const k = `${p}/store/${manifestName(1)}`;
        const b = await getObject(c, k);
        b[20]! ^= 0x10;
        await putObject(c, k, b);
      };
      await s.save([{ name: "a", data: enc.encode("only") }]);
      await damageManifest();
      const r = await s.rollback();
      assert.equal(r.newestValid, null);
      assert.deepEqual(r.moved.map((m) => m.step), [1]);
      assert.deepEqual((await fs.readdir(url(p, "store/.quarantine"))).sort(), [manifestName(1), memberName(1, 0)]);
      await s.save([{ name: "a", data: enc.encode("again") }]);
      await damageManifest();
      await s.rollback();
      assert.equal((await fs.readdir(url(p, "store/.quarantine"))).length, 4, "beside, not over");

      const ro = await openStore(url(p, "store"), { inlineMax: 0, fs: s3fs(), readOnly: true });
      await assert.rejects(ro.save([{ name: "a", data: enc.encode("x") }]), UsageError);
      await assert.rejects(ro.rollback(), UsageError);
      await ro.close();
      await assert.rejects(
        openStore(url(p, "nope"), { inlineMax: 0, fs: s3fs(), readOnly: true }),
        (e: unknown) => e instanceof FsError && e.errno === "ENOENT",
      );
      await putObject(c, `${p}/object`, enc.encode("x"));
      await assert.rejects(
        openStore(url(p, "object"), { inlineMax: 0, fs: s3fs() }),
        (e: unknown) => e instanceof FsError && e.errno === "ENOTDIR",
      );

      // restore from S3 into a local directory: the valid one whole, a damaged one not at all
      // (both quarantined, so the steps start at 1 again)
      const m = members(52, ["x.bin", "y.bin"], 3000);
      assert.equal((await s.save(sources(m))).step, 1);
      assert.equal((await s.save(sources(members(53, ["x.bin", "y.bin"], 3000)))).step, 2);
      const k = `${p}/store/${memberName(2, 1)}`;
      const b = await getObject(c, k);
      b[200]! ^= 0x10;
      await putObject(c, k, b);
      const both = await openStore(url(p, "store"), {
        inlineMax: 0,
        fs: new RoutingFs(undefined, s3fs()),
        readOnly: true,
      });
      try {
        assert.equal((await both.restore(`${dir}/out`)).step, 1);
        assert.deepEqual(readdirSync(`${dir}/out`).sort(), ["x.bin", "y.bin"]);
        assert.deepEqual(new Uint8Array(readFileSync(`${dir}/out/x.bin`)), m.get("x.bin"));
        await assert.rejects(both.restore(`${dir}/out2`, { step: 2 }), CorruptionError);
        assert.equal(
          existsSync(`${dir}/out2`),
          false,
          "a restore into a new directory is all or nothing: no out-dir, nothing of a damaged checkpoint",
        );
      } finally {
        await both.close();
      }
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

if (requireServer("s3: cli")) {
  test("s3: the CLI saves local files into s3://, finds latest, restores to a local directory, and corrupt + verify see damage", async () => {
    const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const c = client();
    await ensureBucket(c);
    const p = freshPrefix("cli");
    const dir = mkdtempSync(`${tmpdir()}/ckpt-s3-`);
    // The CLI takes its endpoint and credentials from the standard AWS environment.
    const run = (...argv: string[]) => cli(AWS_ENV, ...argv);
    try {
      writeFileSync(`${dir}/a.bin`, "alpha");
      // Large enough for its own member object (smaller members are stored inline in the manifest).
      const beta = "beta".repeat(20_000);
      writeFileSync(`${dir}/b.bin`, beta);
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
      assert.equal(readFileSync(`${dir}/out/b.bin`, "utf8"), beta);
      assert.equal((await run("verify", store)).code, 0);
      const k = await run("corrupt", `${store}/step-0000000000000001.member-1`, "--mode", "bitflip", "--seed", "5");
      assert.equal(k.code, 0, k.err);
      assert.equal((await run("verify", store)).code, 1);
      const none = await run("latest", store, "--json");
      assert.deepEqual([none.code, JSON.parse(none.out).step], [1, null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cleanup(c, p);
    }
  });

  test("s3: CLI flags: --endpoint works with no endpoint in the environment and overrides one that is there; --profile and --region override AWS_* variables", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const c = client();
    await ensureBucket(c);
    const p = freshPrefix("flags");
    const dir = mkdtempSync(`${tmpdir()}/ckpt-s3-flags-`);
    try {
      writeFileSync(`${dir}/m.bin`, "model bytes");
      const store = url(p, "store");
      const noEndpoint = { ...AWS_ENV, AWS_ENDPOINT_URL_S3: undefined };
      const s1 = await cli(noEndpoint, "save", store, `${dir}/m.bin`, "--endpoint", ENDPOINT!, "--json");
      assert.equal(s1.code, 0, s1.err);
      assert.equal(JSON.parse(s1.out).step, 1);
      // The flag wins over an environment that points somewhere dead.
      const dead = { ...AWS_ENV, AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9" };
      const l = await cli(dead, "latest", store, "--endpoint", ENDPOINT!, "--region", "us-east-1", "--json");
      assert.equal(l.code, 0, l.err);
      assert.deepEqual([JSON.parse(l.out).step, JSON.parse(l.out).files], [1, ["m.bin"]]);
      const viaEnvDead = await cli(dead, "latest", store, "--json");
      assert.equal(viaEnvDead.code, 3, "without the flag the dead endpoint from the environment is used");
      // --profile: credentials from a shared credentials file (read locally, no network), over
      // wrong keys in AWS_ACCESS_KEY_ID; and nothing but one-line messages on stderr.
      writeFileSync(
        `${dir}/credentials`,
        "[ckpt-local]\naws_access_key_id = test:tester\naws_secret_access_key = testing\n",
      );
      writeFileSync(`${dir}/config`, "[profile ckpt-local]\nregion = us-east-1\n");
      const wrongKeys = {
        ...noEndpoint,
        AWS_ACCESS_KEY_ID: "test:nobody",
        AWS_SECRET_ACCESS_KEY: "wrong",
        AWS_REGION: undefined,
        AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
        AWS_CONFIG_FILE: `${dir}/config`,
      };
      const denied = await cli(wrongKeys, "list", store, "--endpoint", ENDPOINT!);
      assert.equal(denied.code, 3, "the wrong keys from the environment are refused");
      const withProfile = await cli(
        wrongKeys,
        "list",
        store,
        "--endpoint",
        ENDPOINT!,
        "--profile",
        "ckpt-local",
        "--json",
      );
      assert.equal(withProfile.code, 0, withProfile.err);
      assert.equal(withProfile.err, "");
      const s2 = await cli(
        wrongKeys,
        "save",
        store,
        `${dir}/m.bin`,
        "--endpoint",
        ENDPOINT!,
        "--profile",
        "ckpt-local",
        "--region",
        "us-east-1",
        "--json",
      );
      assert.equal(s2.code, 0, s2.err);
      assert.equal(JSON.parse(s2.out).step, 2);
      const missing = await cli(wrongKeys, "list", store, "--endpoint", ENDPOINT!, "--profile", "no-such-profile");
      assert.equal(missing.code, 3, "a profile that does not exist is an environment error");
      assert.equal(missing.err.split("\n").length, 1, missing.err);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cleanup(c, p);
    }
  });

  test("s3: CLI --s3-checksum: off saves; sha256 on this server (Swift 2.30 ignores the header) fails with one line, exit 3, and leaves no checkpoint or lock; auto saves", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const c = client();
    await ensureBucket(c);
    const p = freshPrefix("cksum-cli");
    const dir = mkdtempSync(`${tmpdir()}/ckpt-s3-ck-`);
    try {
      writeFileSync(`${dir}/m.bin`, "weights");
      const store = url(p, "store");
      const off = await cli(AWS_ENV, "save", store, `${dir}/m.bin`, "--s3-checksum", "off", "--json");
      assert.equal(off.code, 0, off.err);
      const strict = await cli(AWS_ENV, "save", store, `${dir}/m.bin`, "--s3-checksum", "sha256", "--json");
      assert.equal(strict.code, 3, strict.err);
      assert.equal(JSON.parse(strict.out).error.code, "ENOTSUP");
      assert.match(strict.err, /^ckpt save: .*x-amz-checksum-sha256.*--s3-checksum off or auto/);
      assert.equal(strict.err.split("\n").length, 1, strict.err);
      const fromEnv = await cli({ ...AWS_ENV, CKPTKIT_S3_CHECKSUM: "sha256" }, "save", store, `${dir}/m.bin`);
      assert.equal(fromEnv.code, 3, "CKPTKIT_S3_CHECKSUM=sha256 does the same");
      const left = await keys(c, `${p}/store`);
      assert.deepEqual(
        left.filter((k) => k !== ""),
        ["step-0000000000000001.manifest"],
        "no lock and no step 2 left behind (step 1's small member is inline)",
      );
      const auto = await cli(AWS_ENV, "save", store, `${dir}/m.bin`, "--s3-checksum", "auto", "--json");
      assert.equal(auto.code, 0, auto.err);
      assert.equal(JSON.parse(auto.out).step, 2);
      const bad = await cli({ ...AWS_ENV, CKPTKIT_S3_CHECKSUM: "md5" }, "list", store);
      assert.equal(bad.code, 3, "a bad CKPTKIT_S3_CHECKSUM is a configuration error");
      assert.match(bad.err, /CKPTKIT_S3_CHECKSUM must be off, sha256, auto/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await cleanup(c, p);
    }
  });
}

// Checksums on the wire: what the client sends is checked here; whether a server verifies it is
// the server's part (Swift 2.30 does not; checksumServer plays one that does, see lib/s3.ts).

/** base64 SHA-256 of a request body, as x-amz-checksum-sha256 carries it. */
function b64sha(body: unknown): string {
  assert.ok(body instanceof Uint8Array, "a checksummed body is bytes, not a stream (no aws-chunked trailer)");
  return Buffer.from(sha256(body)).toString("base64");
}

const UPLOADS = new Set(["PutObjectCommand", "UploadPartCommand"]);
const sums = (wire: WireRequest[]) =>
  wire.filter((r) => UPLOADS.has(r.command)).map((r) =>
    [r.command, r.key?.replace(/^.*\//, ""), r.headers["x-amz-checksum-sha256"] !== undefined] as const
  );

s3test(
  "the test server (Swift 2.30 s3api) ignores x-amz-checksum-sha256: a PUT with a wrong one is stored and nothing is echoed (docs/S3.md says so; if this fails, the server verifies now)",
  async (p) => {
    const { PutObjectCommand } = await import("@aws-sdk/client-s3");
    const c = client();
    const body = enc.encode("checksummed bytes");
    const wrong = Buffer.from(sha256(enc.encode("other bytes"))).toString("base64");
    const r = await c.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${p}/wrong`, Body: body, ChecksumSHA256: wrong }),
    );
    assert.equal(r.ChecksumSHA256, undefined);
    assert.equal(dec.decode(await getObject(c, `${p}/wrong`)), "checksummed bytes");
  },
);

s3test("checksum off (the default): no checksum header on any upload; the store works", async (p) => {
  const wire: WireRequest[] = [];
  const fs = s3fs({ checksum: "off", onWire: (r) => wire.push(r), partSize: 5 * MIB });
  const s = await openStore(url(p, "store"), { inlineMax: 0, fs });
  try {
    const m = members(40, ["a", "b"], 3000);
    await s.save(sources(m));
    await s.save([{ name: "big", data: randomBytes(6 * MIB, rng(41)) }]);
    assert.ok(equalMembers((await s.load(1)).members, m));
  } finally {
    await s.close();
  }
  assert.ok(wire.some((r) => r.command === "UploadPartCommand"), "a multipart upload happened");
  assert.deepEqual(
    wire.filter((r) =>
      Object.keys(r.headers).some((h) => h.startsWith("x-amz-checksum") || h === "x-amz-sdk-checksum-algorithm")
    ).map((r) => r.command),
    [],
  );
  assert.equal(fs.checksum.confirmed, undefined);
});

s3test(
  "checksum sha256 on Swift 2.30: the upload carries the right SHA-256, the server stores without confirming it, the create fails ENOTSUP and its object is removed",
  async (p) => {
    const wire: WireRequest[] = [];
    const fs = s3fs({ checksum: "sha256", onWire: (r) => wire.push(r) });
    await assert.rejects(
      openStore(url(p, "store"), { inlineMax: 0, fs }),
      (e: unknown) =>
        e instanceof FsError && e.errno === "ENOTSUP" && /without confirming its x-amz-checksum-sha256/.test(e.message),
    );
    const puts = wire.filter((r) => r.command === "PutObjectCommand" && r.headers["x-amz-checksum-sha256"]);
    assert.ok(puts.length > 0, "the lock PUT carried a checksum");
    for (const r of puts) assert.equal(r.headers["x-amz-checksum-sha256"], b64sha(r.body));
    assert.equal(fs.checksum.confirmed, false);
    assert.deepEqual(
      (await keys(client(), `${p}/store`)).filter((k) => k !== ""),
      [],
      "the lock object it created is gone",
    );
    // Raw handles too: a small object and a multipart one.
    const big = s3fs({ checksum: "sha256", partSize: 5 * MIB });
    const h = await big.open(url(p, "mp"), { write: true, create: true, truncate: true });
    const data = randomBytes(6 * MIB, rng(42));
    await h.write(data, 0);
    await assert.rejects(
      h.sync(),
      (e: unknown) =>
        e instanceof FsError && e.errno === "ENOTSUP" && /multipart upload without confirming/.test(e.message),
    );
    await h.close().catch(() => {});
  },
);

s3test(
  "checksum auto on Swift 2.30: the first upload (the lock) carries one, the server does not confirm it, later uploads carry none; saves and loads work",
  async (p) => {
    const wire: WireRequest[] = [];
    const fs = s3fs({ checksum: "auto", onWire: (r) => wire.push(r), partSize: 5 * MIB });
    const s = await openStore(url(p, "store"), { inlineMax: 0, fs });
    try {
      const m = members(43, ["a"], 4000);
      await s.save(sources(m));
      const big = randomBytes(6 * MIB + 7, rng(44));
      await s.save([{ name: "big", data: big }]);
      assert.ok(equalMembers((await s.load(1)).members, m));
      assert.ok(equalMembers((await s.load(2)).members, new Map([["big", big]])));
    } finally {
      await s.close();
    }
    assert.equal(fs.checksum.confirmed, false);
    const sent = sums(wire).filter(([, , has]) => has);
    // The lock's PUT, with If-None-Match (Swift answers 501, and either header could be the one
    // refused) and again without; every later upload carries none.
    assert.deepEqual(
      sent.map(([, key]) => key),
      [".lock", ".lock"],
      "only the first upload (the lock) carried a checksum",
    );
    assert.equal(fs.conditionalPut, false, "If-None-Match was still learned to be unsupported");
  },
);

s3test(
  "checksum auto and sha256 where the server confirms checksums (played): every PUT and part carries the right SHA-256, the multipart upload too; the store works",
  async (p) => {
    for (const mode of ["auto", "sha256"] as const) {
      const wire: WireRequest[] = [];
      const fs = s3fs({ checksum: mode, onWire: (r) => wire.push(r), checksumServer: "confirm", partSize: 5 * MIB });
      const s = await openStore(url(p, `store-${mode}`), { inlineMax: 0, fs });
      const big = randomBytes(11 * MIB, rng(45));
      try {
        await s.save(sources(members(46, ["a", "b"], 2000)));
        await s.save([{ name: "big", data: big }]);
        assert.ok(equalMembers((await s.load(2)).members, new Map([["big", big]])));
      } finally {
        await s.close();
      }
      assert.equal(fs.checksum.confirmed, true, mode);
      const uploads = wire.filter((r) => UPLOADS.has(r.command) && !r.key?.endsWith("/"));
      assert.ok(
        uploads.filter((r) => r.command === "UploadPartCommand").length >= 3,
        `${mode}: a multipart upload of 3 parts`,
      );
      for (const r of uploads) {
        assert.equal(r.headers["x-amz-checksum-sha256"], b64sha(r.body), `${mode}: ${r.command} ${r.key}`);
      }
      assert.ok(
        wire.some((r) =>
          r.command === "CreateMultipartUploadCommand" && r.headers["x-amz-checksum-algorithm"] === "SHA256"
        ),
        `${mode}: the multipart upload was created for SHA-256`,
      );
    }
  },
);

s3test(
  "checksum where the server refuses the header (played, 501 before it is applied): sha256 fails ENOTSUP storing nothing; auto retries once without and works",
  async (p) => {
    const strict = s3fs({ checksum: "sha256", checksumServer: "refuse" });
    await assert.rejects(
      openStore(url(p, "strict"), { inlineMax: 0, fs: strict }),
      (e: unknown) => e instanceof FsError && e.errno === "ENOTSUP" && /refused x-amz-checksum-sha256/.test(e.message),
    );
    assert.deepEqual((await keys(client(), `${p}/strict`)).filter((k) => k !== ""), []);
    const wire: WireRequest[] = [];
    const fs = s3fs({ checksum: "auto", checksumServer: "refuse", onWire: (r) => wire.push(r) });
    const s = await openStore(url(p, "auto"), { inlineMax: 0, fs });
    try {
      const m = members(47, ["a"], 3000);
      await s.save(sources(m));
      assert.ok(equalMembers((await s.load()).members, m));
    } finally {
      await s.close();
    }
    assert.equal(fs.checksum.confirmed, false);
    // The lock's PUT: refused with If-None-Match and checksum, refused with the checksum alone;
    // then If-None-Match alone (Swift: 501) and plain. No checksum after that.
    assert.deepEqual(
      sums(wire).filter(([, , has]) => has).map(([, key]) => key),
      [".lock", ".lock"],
      "two refused attempts, then none",
    );
    assert.ok(sums(wire).filter(([, , has]) => !has).length >= 3, "the save's uploads went without");
  },
);

// Malformed s3:// paths are usage errors (exit 2), whatever the server; no server needed.
test("s3 paths: a missing or impossible bucket is a usage error (exit 2) with a one-line reason, for every command and for fsForPath", async () => {
  for (
    const [path, why] of [
      ["s3://", /names no bucket/],
      ["s3:/", /names no bucket/],
      ["s3:///prefix", /names no bucket/],
      ["s3://my bucket/x", /'my bucket' is not a bucket name/],
      ["s3://b/x", /'b' is not a bucket name/],
      ["s3://-bucket/x", /is not a bucket name/],
      ["s3://bucket?x=1/p", /is not a bucket name/],
      ["s3://user@bucket/p", /is not a bucket name/],
      ["S3://bucket/p", /lower case/],
    ] as const
  ) {
    for (
      const argv of [
        ["list", path],
        ["latest", path, "--json"],
        ["verify", path],
        ["save", path, "README.md"],
        ["restore", path, "/nonexistent-out"],
        ["rollback", path],
        ["inspect", path],
      ]
    ) {
      const r = await cli({}, ...argv);
      assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
      assert.match(r.err, why, argv.join(" "));
      assert.match(r.err, /^ckpt \w+: .*\nusage: ckpt /, argv.join(" "));
      if (argv.includes("--json")) assert.equal(JSON.parse(r.out).error.exit, 2);
    }
    assert.throws(() => fsForPath(path), (e: unknown) => e instanceof UsageError && why.test(e.message), path);
  }
  for (
    const ok of ["s3://bucket", "s3://my.bucket-1/a/b", "s3://Legacy_Bucket/x", "s3:/bucket/x", "./s3:x", "s3:relative"]
  ) assert.equal(s3UrlProblem(ok), undefined, ok);
  // s3 flags without an s3:// path, and bad flag values, are usage errors too.
  for (
    const argv of [
      ["list", "/tmp", "--endpoint", "http://127.0.0.1:1"],
      ["list", "/tmp", "--s3-checksum", "off"],
      ["list", "s3://bucket/p", "--endpoint", "ftp://x"],
      ["list", "s3://bucket/p", "--endpoint", "not a url"],
      ["list", "s3://bucket/p", "--s3-checksum", "md5"],
      ["list", "s3://bucket/p", "--region", "eu west"],
    ]
  ) {
    const r = await cli({}, ...argv);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.err}`);
  }
  const help = await cli({}, "list", "--help");
  for (const flag of ["--endpoint", "--region", "--profile", "--s3-checksum"]) assert.ok(help.out.includes(flag), flag);
});
