// Store behaviour on the memory adapter: steps, group saves, latest/load, verify findings,
// rollback and prune safety, member-name checks, the writer lock and dead-temp cleanup; every
// single-byte flip of a saved checkpoint found and attributed; each finding kind produced on purpose.
import assert from "node:assert/strict";
import { MemoryFs } from "../adapters/memory.ts";
import { CorruptionError, FormatVersionError, FsError, LockedError, UsageError } from "../src/errors.ts";
import { applyCorruption, planCorruption } from "../src/corrupt.ts";
import { openStore } from "../src/store/store.ts";
import { manifestName, memberName } from "../src/store/layout.ts";
import { test } from "./kit.ts";
import { flipInMemory, flipped } from "./lib/damage.ts";
import { equalMembers, freshStoreFs, members, memStore, sources } from "./lib/store-helpers.ts";

const enc = new TextEncoder();

const damage = flipInMemory;

test("steps count up from 1; --step must be above the highest present", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  assert.equal((await s.save([{ name: "a", data: enc.encode("1") }])).step, 1);
  assert.equal((await s.save([{ name: "a", data: enc.encode("2") }], { step: 10 })).step, 10);
  assert.equal((await s.save([{ name: "a", data: enc.encode("3") }])).step, 11);
  await assert.rejects(s.save([{ name: "a", data: enc.encode("x") }], { step: 11 }), UsageError);
  await assert.rejects(s.save([{ name: "a", data: enc.encode("x") }], { step: 0 }), UsageError);
  await s.close();
});

test("debris of a save that never committed is removed by the next writer, whose save may reuse its step", async () => {
  const fs = await freshStoreFs();
  const first = await memStore(fs);
  await first.save([{ name: "a", data: enc.encode("4") }], { step: 4 });
  await first.close();
  const h = await fs.open(`/store/${memberName(5, 0)}`, { write: true, create: true });
  await h.write(enc.encode("partial"), 0);
  await h.close();
  const notes: string[] = [];
  const s = await openStore("/store", { fs, chunkSize: 1024, onWarning: (m) => notes.push(m) });
  assert.deepEqual(notes, ["removed step 5's 1 file: an interrupted save that never committed"]);
  assert.equal(fs.peek(`/store/${memberName(5, 0)}`), undefined);
  assert.equal(
    (await s.save([{ name: "a", data: enc.encode("x") }])).step,
    5,
    "step 5 was never acknowledged: its number is free",
  );
  const v = await s.verify();
  assert.deepEqual(v.checkpoints.map((c) => [c.step, c.status]), [[5, "valid"], [4, "valid"]]);
  await s.close();
});

test("group save round-trips every member byte for byte, with metadata", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  const m = members(3, ["weights.bin", "optimizer.bin", "rng.json", "empty"], 5000);
  m.set("empty", new Uint8Array(0));
  await s.save(sources(m), { meta: { epoch: "7", note: "ünïcødé" } });
  const l = await s.load();
  assert.ok(equalMembers(l.members, m));
  assert.deepEqual(l.meta, { epoch: "7", note: "ünïcødé" });
  assert.deepEqual((await s.latest())!.files, ["weights.bin", "optimizer.bin", "rng.json", "empty"]);
  await s.close();
});

test("verify names step, member, block and kind; latest falls back past the damage", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs, "atomic_dirsync", 1024);
  await s.save(sources(members(1, ["a", "b"], 5000)));
  await s.save(sources(members(2, ["a", "b"], 5000)));
  const path = `/store/${memberName(2, 1)}`;
  damage(fs, path, fs.peek(path)!.length - 48 - (32 * 5 + 4) - 100); // inside the last data block (v2: before the 5-leaf list)
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.equal(v.findings.length, 1);
  const f = v.findings[0]!;
  assert.equal(f.step, 2);
  assert.equal(f.member, "b");
  assert.equal(f.kind, "crc-mismatch");
  assert.equal(f.block, 4);
  assert.equal((await s.latest())!.step, 1);
  await assert.rejects(s.load(2), CorruptionError);
  await s.close();
});

test("damage to the manifest, any member header or trailer is detected; clean stores report none", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await s.save(sources(members(1, ["a", "b"], 3000)));
  assert.equal((await s.verify()).ok, true);
  for (const file of [manifestName(1), memberName(1, 0), memberName(1, 1)]) {
    const path = `/store/${file}`;
    const clean = fs.peek(path)!.slice();
    for (const off of [0, 9, 30, 63, 64, 100, clean.length - 40, clean.length - 1]) {
      damage(fs, path, off);
      assert.equal((await s.verify()).ok, false, `${file} byte ${off}`);
      fs.poke(path, clean);
    }
    for (const mode of ["zerorange", "truncate"] as const) {
      for (let seed = 1; seed <= 20; seed++) {
        const plan = planCorruption(clean.length, mode, { seed });
        const bad = applyCorruption(clean, plan);
        if (bad.length === clean.length && bad.every((b, i) => b === clean[i])) continue;
        fs.poke(path, bad);
        assert.equal((await s.verify()).ok, false, `${file} ${mode} seed ${seed}`);
        fs.poke(path, clean);
      }
    }
  }
  assert.equal((await s.verify()).ok, true);
  await s.close();
});

test("rollback quarantines only damaged checkpoints newer than the newest valid, keeping their bytes", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  for (let i = 1; i <= 4; i++) await s.save([{ name: "a", data: enc.encode(`v${i}`) }]);
  damage(fs, `/store/${memberName(1, 0)}`, 70); // old damage: below the newest valid, untouched
  damage(fs, `/store/${memberName(4, 0)}`, 70);
  const before = fs.peek(`/store/${memberName(4, 0)}`)!.slice();
  const r = await s.rollback();
  assert.equal(r.newestValid, 3);
  assert.deepEqual(r.moved.map((m) => m.step), [4]);
  assert.deepEqual(fs.peek(`/store/.quarantine/${memberName(4, 0)}`), before);
  assert.equal(fs.peek(`/store/${memberName(1, 0)}`) !== undefined, true);
  assert.equal((await s.latest())!.step, 3);
  assert.equal((await s.save([{ name: "a", data: enc.encode("v5") }])).step, 4, "quarantined steps no longer count");
  await s.close();
});

test("rollback with no valid checkpoint quarantines all of them, and never deletes", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await s.save([{ name: "a", data: enc.encode("only") }]);
  damage(fs, `/store/${manifestName(1)}`, 20);
  const r = await s.rollback();
  assert.equal(r.newestValid, null);
  assert.deepEqual(r.moved.map((m) => m.step), [1]);
  assert.deepEqual((await fs.readdir("/store/.quarantine")).sort(), [manifestName(1), memberName(1, 0)]);
  // A second damaged step 1 lands beside the first in quarantine, not over it.
  await s.save([{ name: "a", data: enc.encode("again") }]);
  damage(fs, `/store/${manifestName(1)}`, 20);
  await s.rollback();
  assert.equal((await fs.readdir("/store/.quarantine")).length, 4);
  await s.close();
});

test("prune keeps the newest N valid and never the only valid one; damaged ones are left", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  for (let i = 1; i <= 5; i++) await s.save([{ name: "a", data: enc.encode(`v${i}`) }]);
  damage(fs, `/store/${memberName(5, 0)}`, 70);
  const r = await s.prune(2);
  assert.deepEqual(r.removed, [2, 1]);
  assert.deepEqual((await s.list({ verify: true })).map((c) => [c.step, c.status]), [[5, "corrupt"], [4, "valid"], [
    3,
    "valid",
  ]]);
  await assert.rejects(s.prune(0), UsageError);
  const r2 = await s.save([{ name: "a", data: enc.encode("v6") }], { keep: 1 });
  assert.equal(r2.step, 6);
  assert.deepEqual((await s.list({ verify: true })).map((c) => c.step), [6, 5]);
  await s.close();
});

test("member names: relative paths only, no dot-dot, empties, duplicates or file/directory clashes", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  for (
    const bad of [
      "../x",
      "a/../b",
      "a//b",
      "a/",
      "./a",
      "..",
      ".",
      "",
      "a\\b",
      "nul\0",
      "del\x7f",
      "x".repeat(256),
      `${"x/".repeat(512)}x`,
      "/abs",
    ]
  ) {
    await assert.rejects(s.save([{ name: bad, data: enc.encode("x") }]), UsageError, JSON.stringify(bad));
  }
  await assert.rejects(
    s.save([{ name: "a", data: enc.encode("1") }, { name: "a", data: enc.encode("2") }]),
    UsageError,
  );
  await assert.rejects(
    s.save([{ name: "a", data: enc.encode("1") }, { name: "a/b", data: enc.encode("2") }]),
    UsageError,
    "a file cannot be a directory",
  );
  await assert.rejects(s.save([]), UsageError);
  assert.deepEqual(await s.list(), []);
  await s.close();
});

test("a second live writer is refused; a dead writer's lock is taken over", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await assert.rejects(openStore("/store", { fs }), LockedError);
  await s.close();
  // A lock left by a dead pid on this host:
  const h = await fs.open("/store/.lock", { write: true, create: true });
  await h.write(enc.encode(JSON.stringify({ pid: 999_999, host: fs.hostname(), since: 0 })), 0);
  await h.close();
  const notes: string[] = [];
  const s2 = await openStore("/store", { fs, onWarning: (m) => notes.push(m) });
  assert.ok(notes.some((n) => n.includes("999999")));
  await s2.close();
  // A live pid holds it:
  fs.livePids.add(777);
  const h2 = await fs.open("/store/.lock", { write: true, create: true });
  await h2.write(enc.encode(JSON.stringify({ pid: 777, host: fs.hostname(), since: 0 })), 0);
  await h2.close();
  await assert.rejects(
    openStore("/store", { fs }),
    (e: unknown) => e instanceof LockedError && /777/.test((e as Error).message),
  );
  // Readers need no lock.
  const r = await openStore("/store", { fs, readOnly: true });
  assert.deepEqual(await r.list(), []);
});

test("opening for write removes our dead temp files and nothing else", async () => {
  const fs = await freshStoreFs();
  for (const name of [".tmp-123-abc-step-0000000000000001.manifest", "user-file.txt", ".tmpnotours"]) {
    await (await fs.open(`/store/${name}`, { write: true, create: true })).close();
  }
  const s = await memStore(fs);
  assert.deepEqual((await fs.readdir("/store")).sort(), [".lock", ".tmpnotours", "user-file.txt"]);
  await s.close();
});

test("a missing store is ENOENT for readers and created for writers; a file is ENOTDIR", async () => {
  const fs = new MemoryFs();
  await assert.rejects(
    openStore("/nope", { fs, readOnly: true }),
    (e: unknown) => e instanceof FsError && e.errno === "ENOENT",
  );
  const s = await openStore("/deep/new/store", { fs });
  await s.close();
  await (await fs.open("/file", { write: true, create: true })).close();
  await assert.rejects(openStore("/file", { fs }), (e: unknown) => e instanceof FsError && e.errno === "ENOTDIR");
});

test("restore writes exactly the members, all or nothing, into an empty directory", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  const m = members(4, ["x.bin", "y.bin"], 3000);
  await s.save(sources(m));
  await s.save(sources(members(5, ["x.bin", "y.bin"], 3000)));
  damage(fs, `/store/${memberName(2, 1)}`, 200);
  const r = await s.restore("/out");
  assert.equal(r.step, 1);
  assert.deepEqual((await fs.readdir("/out")).sort(), ["x.bin", "y.bin"]);
  assert.deepEqual(fs.peek("/out/x.bin"), m.get("x.bin"));
  await assert.rejects(s.restore("/out"), UsageError, "non-empty output directory");
  await assert.rejects(s.restore("/out2", { step: 2 }), CorruptionError);
  assert.equal(
    await fs.stat("/out2"),
    null,
    "nothing of a damaged checkpoint appears: out-dir did not exist and still does not",
  );
  assert.deepEqual((await fs.readdir("/")).sort(), ["out", "store"], "no staging directory left beside it");
  await s.close();
});

test("a read-only store refuses to write", async () => {
  const fs = await freshStoreFs();
  const r = await openStore("/store", { fs, readOnly: true });
  await assert.rejects(r.save([{ name: "a", data: enc.encode("x") }]), UsageError);
  await assert.rejects(r.rollback(), UsageError);
});

test("a re-sealed manifest claiming a huge member is refused before any allocation", async () => {
  const { readManifest } = await import("../src/store/check.ts");
  const { encodeManifest, plainEntry } = await import("../src/format/manifest.ts");
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await s.save([{ name: "a", data: enc.encode("small") }]);
  const { manifest } = await readManifest(fs, "/store", 1);
  manifest!.members[0] = { ...plainEntry(manifest!.members[0]!), payloadSize: 2 ** 45 }; // 32 TiB, with every checksum recomputed
  fs.poke(`/store/${manifestName(1)}`, encodeManifest(manifest!));
  await assert.rejects(
    s.load(1),
    (e: unknown) => e instanceof CorruptionError && /disagrees with the manifest/.test((e as Error).message),
  );
  assert.equal(await s.latest(), null);
  await s.close();
});

test("the builder assembles members and metadata into one ordinary save", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await (await fs.open("/cfg.json", { write: true, create: true })).write(enc.encode('{"lr":1}'), 0);
  const r = await s.builder().step(5).meta("epoch", 3).add("weights.bin", enc.encode("W")).addFile(
    "cfg.json",
    "/cfg.json",
  ).save();
  assert.equal(r.step, 5);
  const l = await s.load();
  assert.deepEqual(l.meta, { epoch: 3 }, "typed: a number comes back a number (issue 15)");
  assert.deepEqual([...l.members.keys()], ["weights.bin", "cfg.json"]);
  assert.equal(new TextDecoder().decode(l.members.get("cfg.json")), '{"lr":1}');
  assert.throws(() => s.builder().add("a", enc.encode("1")).add("a", enc.encode("2")), UsageError);
  assert.throws(() => s.builder().add("../evil", enc.encode("1")), UsageError);
  await s.close();
});

test("every single-byte flip of every file a save wrote is found by verify, naming that file; the checkpoints beside it are never reported", async () => {
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await s.save(sources(members(21, ["a", "b"], 300)));
  const before = new Set(await fs.readdir("/store"));
  const target = await s.save(sources(members(22, ["weights.bin", "opt.bin"], 300)), { meta: { run: "flip" } });
  const written = (await fs.readdir("/store")).filter((n) => !before.has(n)).sort();
  assert.deepEqual(
    written,
    [manifestName(2), memberName(2, 0), memberName(2, 1)],
    "the save wrote a manifest and two members (the lock predates it)",
  );
  await s.save(sources(members(23, ["a", "b"], 300)));
  assert.equal(target.step, 2);
  assert.equal((await s.verify()).ok, true);

  let flips = 0;
  let bytes = 0;
  for (const file of written) {
    const path = `/store/${file}`;
    const clean = fs.peek(path)!.slice();
    bytes += clean.length;
    const member = file === manifestName(2) ? undefined : file === memberName(2, 0) ? "weights.bin" : "opt.bin";
    for (let i = 0; i < clean.length; i++) {
      for (const mask of [0x01, 0x80]) {
        fs.poke(path, flipped(clean, i, mask));
        const v = await s.verify();
        const where = `${file} byte ${i}/${clean.length} ^0x${mask.toString(16)}`;
        const hit = v.checkpoints.find((c) => c.step === 2)!;
        assert.equal(hit.status, "corrupt", `${where}: ${JSON.stringify(hit.findings)}`);
        assert.ok(hit.findings.length > 0, where);
        for (const f of hit.findings) {
          assert.equal(f.file, file, `${where}: a finding names ${f.file}`);
          assert.equal(f.member, member, where);
        }
        for (const c of v.checkpoints.filter((c) => c.step !== 2)) {
          assert.deepEqual(
            [c.step, c.status, c.findings],
            [c.step, "valid", []],
            `${where}: an undamaged checkpoint was reported`,
          );
        }
        assert.ok(v.findings.every((f) => f.step === 2), where);
        flips++;
      }
    }
    fs.poke(path, clean);
  }
  assert.equal(flips, 2 * bytes);
  assert.ok(bytes > 3 * 300, `${bytes} bytes flipped over`);
  assert.equal((await s.verify()).ok, true, "every byte was restored: no false positives after the sweep");
  await s.close();
});

test("finding kinds sha-mismatch, missing-member and truncated each name the file, the member and the status", async () => {
  const { readManifest } = await import("../src/store/check.ts");
  const { encodeManifest } = await import("../src/format/manifest.ts");
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await s.save(sources(members(31, ["a", "b"], 400)));
  await s.save(sources(members(32, ["a", "b"], 400)));
  const m0 = `/store/${memberName(2, 0)}`;
  const m1 = `/store/${memberName(2, 1)}`;
  const man = `/store/${manifestName(2)}`;
  const clean = new Map([m0, m1, man].map((p) => [p, fs.peek(p)!.slice()]));
  const restore = async () => {
    for (const [p, b] of clean) {
      if (!fs.peek(p)) await (await fs.open(p, { write: true, create: true })).close();
      fs.poke(p, b);
    }
  };
  const only = async () => {
    const v = await s.verify();
    assert.deepEqual(v.checkpoints.filter((c) => c.step !== 2).map((c) => c.status), ["valid"]);
    const c = v.checkpoints.find((x) => x.step === 2)!;
    assert.equal(c.findings.length, 1, JSON.stringify(c.findings));
    assert.equal((await s.latest())?.step, 1, "latest falls back past it");
    return { status: c.status, f: c.findings[0]! };
  };
  const pick = (f: { kind: string; file: string; member?: string; offset: number; length: number; step: number }) => ({
    kind: f.kind,
    file: f.file,
    member: f.member,
    offset: f.offset,
    length: f.length,
    step: f.step,
  });

  // sha-mismatch (1): the SHA-256 in a member's trailer is damaged; every CRC still holds.
  const size1 = clean.get(m1)!.length;
  fs.poke(m1, flipped(clean.get(m1)!, size1 - 1, 0x01));
  let r = await only();
  assert.equal(r.status, "corrupt");
  assert.deepEqual(pick(r.f), {
    kind: "sha-mismatch",
    file: memberName(2, 1),
    member: "b",
    offset: size1 - 48,
    length: 48,
    step: 2,
  });
  await restore();

  // sha-mismatch (2): the member is intact, but the (re-sealed, valid) manifest records another SHA-256.
  const { manifest } = await readManifest(fs, "/store", 2);
  manifest!.members[0]!.fileSha256[0]! ^= 0xff;
  fs.poke(man, encodeManifest(manifest!));
  r = await only();
  assert.equal(r.status, "corrupt");
  assert.deepEqual(pick(r.f), {
    kind: "sha-mismatch",
    file: memberName(2, 0),
    member: "a",
    offset: 0,
    length: clean.get(m0)!.length,
    step: 2,
  });
  await restore();

  // missing-member: a member file the manifest lists is gone (a torn state, not corruption).
  await fs.unlink(m1);
  r = await only();
  assert.equal(r.status, "torn");
  assert.deepEqual(pick(r.f), {
    kind: "missing-member",
    file: memberName(2, 1),
    member: "b",
    offset: 0,
    length: 0,
    step: 2,
  });
  await restore();

  // truncated: a member cut short after its header, inside its header, and the manifest cut short.
  const size0 = clean.get(m0)!.length;
  for (const keep of [size0 - 10, size0 - 48, 30]) {
    fs.poke(m0, clean.get(m0)!.slice(0, keep));
    r = await only();
    assert.equal(r.status, "torn", `member cut to ${keep}`);
    const length = keep >= 64 ? size0 - keep : 64 - keep;
    assert.deepEqual(pick(r.f), {
      kind: "truncated",
      file: memberName(2, 0),
      member: "a",
      offset: keep,
      length,
      step: 2,
    }, `member cut to ${keep}`);
    await restore();
  }
  const sizeM = clean.get(man)!.length;
  fs.poke(man, clean.get(man)!.slice(0, sizeM - 1));
  r = await only();
  assert.equal(r.status, "torn");
  assert.deepEqual(pick(r.f), {
    kind: "truncated",
    file: manifestName(2),
    member: undefined,
    offset: sizeM - 1,
    length: 1,
    step: 2,
  });
  await restore();

  assert.equal((await s.verify()).ok, true);
  await s.close();
});

test("a member stamped with an older (0) or newer (3) format version: verify and rollback refuse with EVERSION and move nothing", async () => {
  const { crc32 } = await import("../src/hash.ts");
  const fs = await freshStoreFs();
  const s = await memStore(fs);
  await s.save([{ name: "a", data: enc.encode("one") }]);
  await s.save([{ name: "a", data: enc.encode("two") }]);
  const path = `/store/${memberName(2, 0)}`;
  const clean = fs.peek(path)!.slice();
  for (const version of [0, 3]) {
    const b = clean.slice();
    const dv = new DataView(b.buffer);
    dv.setUint16(8, version, true);
    dv.setUint32(60, crc32(b.subarray(0, 60)), true);
    fs.poke(path, b);
    const isVersion = (e: unknown) =>
      e instanceof FormatVersionError && e.code === "EVERSION" && new RegExp(`version ${version} `).test(e.message);
    await assert.rejects(s.verify(), isVersion);
    await assert.rejects(s.rollback(), isVersion);
    assert.equal(fs.peek("/store/.quarantine"), undefined);
    assert.deepEqual(fs.peek(path), b, "the file was neither moved nor changed");
  }
  fs.poke(path, clean);
  assert.equal((await s.verify()).ok, true);
  await s.close();
});
