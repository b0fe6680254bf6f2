// One contract suite for every DurableFs: the real adapter of the runtime running the test (on a
// temp dir) and the in-memory simulator. Then the simulator's power-loss semantics.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import { MemoryFs, SimulatedCrash } from "../adapters/memory.ts";
import { DurabilityError, FsError } from "../src/errors.ts";
import type { DurableFs } from "../src/fs.ts";
import { readFile } from "../src/fs-util.ts";
import { runtime, test } from "./kit.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function contract(label: string, make: () => { fs: DurableFs; root: string; done: () => void }) {
  test(`${label}: write, read at offset, size, truncate`, async () => {
    const { fs, root, done } = make();
    try {
      const h = await fs.open(`${root}/a`, { write: true, create: true });
      await h.write(enc.encode("hello world"), 0);
      await h.write(enc.encode("W"), 6);
      await h.sync();
      await h.datasync();
      assert.equal(await h.size(), 11);
      const buf = new Uint8Array(5);
      assert.equal(await h.read(buf, 6), 5);
      assert.equal(dec.decode(buf), "World");
      assert.equal(await h.read(buf, 11), 0);
      await h.truncate(5);
      assert.equal(await h.size(), 5);
      await h.close();
      assert.equal(dec.decode(await readFile(fs, `${root}/a`)), "hello");
    } finally {
      done();
    }
  });

  test(`${label}: a written buffer can be reused at once (the writer's batch buffer is)`, async () => {
    const { fs, root, done } = make();
    try {
      const h = await fs.open(`${root}/reuse`, { write: true, create: true });
      const buf = enc.encode("first");
      await h.write(buf, 0);
      buf.set(enc.encode("XXXXX"));
      await h.sync();
      await h.close();
      assert.equal(dec.decode(await readFile(fs, `${root}/reuse`)), "first");
    } finally {
      done();
    }
  });

  test(`${label}: exclusive create refuses an existing file with EEXIST`, async () => {
    const { fs, root, done } = make();
    try {
      await (await fs.open(`${root}/x`, { write: true, create: true, exclusive: true })).close();
      await assert.rejects(
        fs.open(`${root}/x`, { write: true, create: true, exclusive: true }),
        (e: unknown) => e instanceof FsError && e.errno === "EEXIST",
      );
    } finally {
      done();
    }
  });

  test(`${label}: missing paths are ENOENT FsErrors naming the operation`, async () => {
    const { fs, root, done } = make();
    try {
      await assert.rejects(
        fs.open(`${root}/nope`),
        (e: unknown) => e instanceof FsError && e.errno === "ENOENT" && e.op === "open",
      );
      await assert.rejects(
        fs.rename(`${root}/nope`, `${root}/b`),
        (e: unknown) => e instanceof FsError && e.errno === "ENOENT",
      );
      await assert.rejects(fs.unlink(`${root}/nope`), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
      await assert.rejects(fs.readdir(`${root}/nope`), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
      await assert.rejects(fs.syncDir(`${root}/nope`), (e: unknown) => e instanceof FsError && e.errno === "ENOENT");
      assert.equal(await fs.stat(`${root}/nope`), null);
    } finally {
      done();
    }
  });

  test(`${label}: rename replaces, readdir lists, unlink removes, mkdir -p, rmdir`, async () => {
    const { fs, root, done } = make();
    try {
      await fs.mkdir(`${root}/d/e/f`);
      await fs.mkdir(`${root}/d/e/f`);
      const s = await fs.stat(`${root}/d/e`);
      assert.ok(s?.isDirectory);
      for (const [name, text] of [["one", "1"], ["two", "2"]] as const) {
        const h = await fs.open(`${root}/d/${name}`, { write: true, create: true });
        await h.write(enc.encode(text), 0);
        await h.close();
      }
      await fs.rename(`${root}/d/one`, `${root}/d/two`);
      await fs.syncDir(`${root}/d`);
      assert.deepEqual((await fs.readdir(`${root}/d`)).sort(), ["e", "two"]);
      assert.equal(dec.decode(await readFile(fs, `${root}/d/two`)), "1");
      await fs.unlink(`${root}/d/two`);
      await fs.rmdir(`${root}/d/e/f`);
      assert.deepEqual((await fs.readdir(`${root}/d`)).sort(), ["e"]);
      const st = await fs.stat(`${root}/d/e`);
      assert.equal(st?.isFile, false);
    } finally {
      done();
    }
  });

  test(`${label}: mode of a created file and chmod`, async () => {
    const { fs, root, done } = make();
    try {
      await (await fs.open(`${root}/m`, { write: true, create: true, exclusive: true, mode: 0o600 })).close();
      assert.equal((await fs.stat(`${root}/m`))!.mode & 0o777, 0o600);
      await fs.chmod(`${root}/m`, 0o644);
      assert.equal((await fs.stat(`${root}/m`))!.mode & 0o777, 0o644);
    } finally {
      done();
    }
  });

  test(`${label}: noFollow changes nothing for ordinary files and directories`, async () => {
    const { fs, root, done } = make();
    try {
      const h = await fs.open(`${root}/plain`, { write: true, create: true, exclusive: true, noFollow: true });
      await h.write(enc.encode("abc"), 0);
      await h.close();
      const r = await fs.open(`${root}/plain`, { noFollow: true });
      assert.equal(await r.size(), 3);
      await r.close();
      await fs.mkdir(`${root}/d`);
      const f = await fs.stat(`${root}/plain`, { noFollow: true });
      const d = await fs.stat(`${root}/d`, { noFollow: true });
      assert.equal(f?.isFile, true);
      assert.equal(f?.size, 3);
      assert.equal(d?.isDirectory, true);
      assert.equal(!!d?.isSymlink, false);
      assert.equal(await fs.stat(`${root}/missing`, { noFollow: true }), null);
    } finally {
      done();
    }
  });

  test(`${label}: capabilities are reported and processAlive knows this process`, async () => {
    const { fs, done } = make();
    try {
      assert.equal(fs.capabilities.dirSync, true);
      assert.equal(fs.processAlive(fs.pid()), true);
      assert.equal(typeof fs.hostname(), "string");
    } finally {
      done();
    }
  });

  test(`${label}: link gives a file a second name, and refuses an existing one with EEXIST atomically`, async () => {
    const { fs, root, done } = make();
    try {
      assert.equal(fs.capabilities.link, true);
      const h = await fs.open(`${root}/src`, { write: true, create: true });
      await h.write(enc.encode("record"), 0);
      await h.close();
      await fs.link(`${root}/src`, `${root}/dst`);
      assert.equal(dec.decode(await readFile(fs, `${root}/dst`)), "record");
      await (await fs.open(`${root}/other`, { write: true, create: true })).close();
      await assert.rejects(
        fs.link(`${root}/src`, `${root}/other`),
        (e: unknown) => e instanceof FsError && e.errno === "EEXIST",
      );
      assert.equal((await fs.stat(`${root}/other`))!.size, 0, "the existing file is untouched");
      await assert.rejects(
        fs.link(`${root}/nope`, `${root}/x`),
        (e: unknown) => e instanceof FsError && e.errno === "ENOENT",
      );
      // Two names, one file: removing one keeps the other; a rename over a third replaces it.
      await fs.unlink(`${root}/src`);
      assert.equal(dec.decode(await readFile(fs, `${root}/dst`)), "record");
      await fs.rename(`${root}/dst`, `${root}/other`);
      assert.equal(dec.decode(await readFile(fs, `${root}/other`)), "record");
    } finally {
      done();
    }
  });

  test(`${label}: processIdentity names this process, and processState knows it (and not a dead pid)`, async () => {
    const { fs, done } = make();
    try {
      const me = fs.processIdentity();
      assert.equal(me.pid, fs.pid());
      assert.equal(fs.processState(me.pid, me.start), "alive");
      if (me.start !== undefined) {
        assert.equal(fs.processState(me.pid, me.start + 1), "dead", "another start time is another process");
      }
      assert.equal(fs.processState(2 ** 22 + 12345), fs.capabilities.processAlive ? "dead" : "unknown");
    } finally {
      done();
    }
  });
}

contract(`${runtime} adapter`, () => {
  const root = mkdtempSync(`${tmpdir()}/ckpt-adapter-`);
  return { fs: defaultFs(), root, done: () => rmSync(root, { recursive: true, force: true }) };
});
contract("memory adapter", () => ({ fs: new MemoryFs(), root: "", done: () => {} }));

test("the detected runtime picks its own adapter", () => {
  assert.equal(detectRuntime(), runtime);
  assert.equal(defaultFs().name, runtime);
});

test("real adapter: noFollow refuses a symbolic link (ELOOP) and stat with noFollow describes the link itself", async () => {
  const root = mkdtempSync(`${tmpdir()}/ckpt-adapter-`);
  try {
    const fs = defaultFs();
    mkdirSync(`${root}/target-dir`);
    writeFileSync(`${root}/target-file`, "secret");
    symlinkSync(`${root}/target-dir`, `${root}/link-dir`);
    symlinkSync(`${root}/target-file`, `${root}/link-file`);
    symlinkSync(`${root}/absent`, `${root}/dangling`);
    const loop = (e: unknown) => e instanceof FsError && e.errno === "ELOOP";
    await assert.rejects(fs.open(`${root}/link-file`, { noFollow: true }), loop);
    await assert.rejects(fs.open(`${root}/link-file`, { write: true, noFollow: true }), loop);
    await assert.rejects(fs.open(`${root}/dangling`, { write: true, create: true, noFollow: true }), loop);
    assert.equal(existsSync(`${root}/absent`), false, "a dangling link's target is never created");
    assert.equal(readFileSync(`${root}/target-file`, "utf8"), "secret");
    const followed = await fs.stat(`${root}/link-dir`);
    const link = await fs.stat(`${root}/link-dir`, { noFollow: true });
    assert.equal(followed?.isDirectory, true);
    assert.equal(link?.isDirectory, false);
    assert.equal(link?.isSymlink, true);
    const h = await fs.open(`${root}/link-file`); // without noFollow, links are followed as before
    await h.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("real adapter: a dead pid is not alive", () => {
  assert.equal(defaultFs().processAlive(2 ** 22 + 12345), false);
});

test("real adapter on Linux: identity has the boot id and the start time of /proc/self/stat", () => {
  const me = defaultFs().processIdentity();
  if (process.platform !== "linux") return;
  assert.match(me.bootId ?? "", /^[0-9a-f-]{36}$/);
  assert.ok(Number.isSafeInteger(me.start) && me.start! > 0, `start ${me.start}`);
  // pid 1 exists in every pid namespace, with another start time than ours.
  assert.equal(defaultFs().processState(1, me.start), me.pid === 1 ? "alive" : "dead");
});

test("memory: a link is pending like a create: undone by a crash without the directory fsync", async () => {
  const fs = new MemoryFs();
  await writeFile(fs, "/a", "x", true);
  await fs.syncDir("/");
  await fs.link("/a", "/b");
  assert.equal(dec.decode(fs.peek("/b")!), "x");
  assert.equal(fs.crash().peek("/b"), undefined);
  assert.equal(dec.decode(fs.crash({ keep: (p) => p.kind === "link" }).peek("/b")!), "x");
  await fs.syncDir("/");
  assert.equal(dec.decode(fs.crash().peek("/b")!), "x");
  assert.notEqual(fs.crash().bootId, fs.bootId, "a power loss is a reboot");
});

test("real adapter: mkdir -p where a parent refuses children fails at once with the errno (Node's own recursive mkdir loops forever on /proc/x)", async () => {
  const fs = defaultFs();
  if (!(await fs.stat("/proc/self"))) return; // Linux only: /proc is where the kernel refuses
  const t0 = performance.now();
  await assert.rejects(
    fs.mkdir("/proc/ckptkit-never/deeper"),
    (e: unknown) => e instanceof FsError && e.code === "ENOENT" && e.op === "mkdir",
  );
  assert.ok(performance.now() - t0 < 2000, "no retry loop");
});

// ---- power-loss semantics of the simulator -------------------------------------------------

async function writeFile(fs: MemoryFs, path: string, text: string, sync: boolean) {
  const h = await fs.open(path, { write: true, create: true, truncate: true });
  await h.write(enc.encode(text), 0);
  if (sync) await h.sync();
  await h.close();
}

test("memory: data written without fsync is gone after crash()", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/s");
  await fs.syncDir("/");
  await writeFile(fs, "/s/a", "volatile", false);
  await fs.syncDir("/s");
  const after = fs.crash();
  assert.equal(after.peek("/s/a")?.length, 0, "the name is durable but the data was never synced");
});

test("memory: a create without directory fsync is undone by crash()", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/s");
  await fs.syncDir("/");
  await writeFile(fs, "/s/a", "data", true);
  assert.equal(fs.crash().peek("/s/a"), undefined);
  await fs.syncDir("/s");
  assert.equal(dec.decode(fs.crash().peek("/s/a")!), "data");
});

test("memory: a rename without directory fsync is undone; with it, kept", async () => {
  const fs = new MemoryFs();
  await fs.mkdir("/s");
  await fs.syncDir("/");
  await writeFile(fs, "/s/f", "old", true);
  await fs.syncDir("/s");
  await writeFile(fs, "/s/f.tmp", "new", true);
  await fs.rename("/s/f.tmp", "/s/f");
  assert.equal(dec.decode(fs.peek("/s/f")!), "new");
  const lost = fs.crash();
  assert.equal(dec.decode(lost.peek("/s/f")!), "old", "without dir fsync the old version comes back");
  await fs.syncDir("/s");
  const kept = fs.crash();
  assert.equal(dec.decode(kept.peek("/s/f")!), "new");
  assert.equal(kept.peek("/s/f.tmp"), undefined);
});

test("memory: an unlink without directory fsync is undone", async () => {
  const fs = new MemoryFs();
  await writeFile(fs, "/a", "x", true);
  await fs.syncDir("/");
  await fs.unlink("/a");
  assert.equal(fs.peek("/a"), undefined);
  assert.equal(dec.decode(fs.crash().peek("/a")!), "x");
});

test("memory: crash() can keep a subset of pending ops and tear a write at a sector", async () => {
  const fs = new MemoryFs();
  await writeFile(fs, "/big", "", true);
  await fs.syncDir("/");
  const h = await fs.open("/big", { write: true });
  await h.write(new Uint8Array(2000).fill(7), 0);
  const op = fs.pending.find((p) => p.kind === "write")!;
  assert.deepEqual(MemoryFsStatic.tearPoints(op), [512, 1024, 1536]);
  const torn = fs.crash({ keep: (p) => (p.kind === "write" ? 1024 : false) });
  assert.equal(torn.peek("/big")!.length, 1024);
  const whole = fs.crash({ keep: () => true });
  assert.equal(whole.peek("/big")!.length, 2000);
});

test("memory: crashAfter(k) stops the workload at exactly k mutating steps", async () => {
  const fs = new MemoryFs();
  fs.crashAfter(2);
  const h = await fs.open("/f", { write: true, create: true }); // step 1
  await h.write(enc.encode("a"), 0); // step 2
  await assert.rejects(h.sync(), SimulatedCrash);
  await assert.rejects(fs.readdir("/"), SimulatedCrash);
  assert.equal(fs.steps, 2);
});

test("memory: durability errors are typed", () => {
  const e = new DurabilityError("EIO", "fsync", "/x");
  assert.ok(e instanceof FsError);
  assert.equal(e.code, "EIO");
});

const MemoryFsStatic = MemoryFs;
