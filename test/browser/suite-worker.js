// Runs inside a dedicated worker of headless Chromium (test/browser/run.mjs drives it): the
// DurableFs contract on OPFS, then store and log round-trips through dist/browser.js. Each test
// gets a fresh OPFS directory. Posts { results: [{ name, ok, error, ms }] } to the page.
import * as ck from "/dist/browser.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
function eq(a, b, msg) {
  if (a !== b) throw new Error(`${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}
async function rejects(p, pred, msg) {
  try {
    await p;
  } catch (e) {
    if (pred(e)) return e;
    throw new Error(`${msg}: wrong error ${e?.name} ${e?.code} ${e?.message}`);
  }
  throw new Error(`${msg}: did not reject`);
}
const errno = (code) => (e) => e instanceof ck.FsError && e.errno === code;
const bytes = (n, seed) => {
  const b = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
};
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
async function readAll(fs, path) {
  const h = await fs.open(path);
  try {
    const b = new Uint8Array(await h.size());
    await h.read(b, 0);
    return b;
  } finally {
    await h.close();
  }
}
async function writeAll(fs, path, data) {
  const h = await fs.open(path, { write: true, create: true, truncate: true });
  try {
    await h.write(data, 0);
    await h.sync();
  } finally {
    await h.close();
  }
}

let n = 0;
const root = await navigator.storage.getDirectory();
async function fresh() {
  const dir = `t${Date.now()}-${n++}`;
  return { fs: ck.opfsFs(), dir, done: () => root.removeEntry(dir, { recursive: true }).catch(() => {}) };
}

// ---- the DurableFs contract (test/adapter-contract.test.ts, as OPFS can keep it) ----

test("opfs: write, read at offset, size, truncate", async () => {
  const { fs, dir } = await fresh();
  await fs.mkdir(dir);
  const h = await fs.open(`${dir}/a`, { write: true, create: true });
  await h.write(enc.encode("hello world"), 0);
  await h.write(enc.encode("W"), 6);
  await h.sync();
  await h.datasync();
  eq(await h.size(), 11, "size");
  const buf = new Uint8Array(5);
  eq(await h.read(buf, 6), 5, "read count");
  eq(dec.decode(buf), "World", "read bytes");
  eq(await h.read(buf, 11), 0, "read at EOF");
  await h.truncate(5);
  eq(await h.size(), 5, "truncated size");
  await h.close();
  eq(dec.decode(await readAll(fs, `${dir}/a`)), "hello", "reopened");
});

test("opfs: a written buffer can be reused at once", async () => {
  const { fs, dir } = await fresh();
  await fs.mkdir(dir);
  const h = await fs.open(`${dir}/r`, { write: true, create: true });
  const b = enc.encode("first");
  await h.write(b, 0);
  b.set(enc.encode("XXXXX"));
  await h.sync();
  await h.close();
  eq(dec.decode(await readAll(fs, `${dir}/r`)), "first", "content");
});

test("opfs: exclusive create refuses an existing file with EEXIST", async () => {
  const { fs, dir } = await fresh();
  await fs.mkdir(dir);
  await (await fs.open(`${dir}/x`, { write: true, create: true, exclusive: true })).close();
  await rejects(
    fs.open(`${dir}/x`, { write: true, create: true, exclusive: true }),
    errno("EEXIST"),
    "second exclusive create",
  );
  // Two exclusive creates racing in this worker: exactly one wins.
  const r = await Promise.allSettled(
    [0, 1, 2].map(() => fs.open(`${dir}/race`, { write: true, create: true, exclusive: true })),
  );
  eq(r.filter((x) => x.status === "fulfilled").length, 1, "winners");
  for (const x of r) if (x.status === "fulfilled") await x.value.close();
});

test("opfs: missing paths are ENOENT FsErrors naming the operation", async () => {
  const { fs, dir } = await fresh();
  await fs.mkdir(dir);
  await rejects(fs.open(`${dir}/nope`), (e) => errno("ENOENT")(e) && e.op === "open", "open");
  await rejects(fs.rename(`${dir}/nope`, `${dir}/b`), errno("ENOENT"), "rename");
  await rejects(fs.unlink(`${dir}/nope`), errno("ENOENT"), "unlink");
  await rejects(fs.readdir(`${dir}/nope`), errno("ENOENT"), "readdir");
  await rejects(fs.syncDir(`${dir}/nope`), errno("ENOENT"), "syncDir");
  eq(await fs.stat(`${dir}/nope`), null, "stat");
});

test("opfs: rename replaces atomically, readdir lists, unlink removes, mkdir -p, rmdir", async () => {
  const { fs, dir } = await fresh();
  await fs.mkdir(`${dir}/d/e/f`);
  await fs.mkdir(`${dir}/d/e/f`);
  assert((await fs.stat(`${dir}/d/e`))?.isDirectory, "mkdir -p");
  await writeAll(fs, `${dir}/d/one`, enc.encode("1"));
  await writeAll(fs, `${dir}/d/two`, enc.encode("2"));
  await fs.rename(`${dir}/d/one`, `${dir}/d/two`);
  await fs.syncDir(`${dir}/d`);
  eq(JSON.stringify((await fs.readdir(`${dir}/d`)).sort()), JSON.stringify(["e", "two"]), "readdir after rename");
  eq(dec.decode(await readAll(fs, `${dir}/d/two`)), "1", "replaced content");
  await fs.rename(`${dir}/d/two`, `${dir}/d/e/moved`);
  eq(dec.decode(await readAll(fs, `${dir}/d/e/moved`)), "1", "moved across directories");
  await fs.unlink(`${dir}/d/e/moved`);
  await fs.rmdir(`${dir}/d/e/f`);
  eq(JSON.stringify(await fs.readdir(`${dir}/d`)), JSON.stringify(["e"]), "after unlink and rmdir");
  await rejects(fs.rmdir(`${dir}/d`), errno("ENOTEMPTY"), "rmdir of a non-empty directory");
  eq((await fs.stat(`${dir}/d/e`)).isFile, false, "a directory is not a file");
});

test("opfs: capabilities are honest: no directory fsync, no link, no modes but origin-private", async () => {
  const { fs, dir } = await fresh();
  await fs.mkdir(dir);
  eq(fs.capabilities.dirSync, false, "dirSync");
  eq(fs.capabilities.link, false, "link");
  await writeAll(fs, `${dir}/m`, enc.encode("x"));
  await rejects(fs.link(`${dir}/m`, `${dir}/n`), (e) => e instanceof ck.UnsupportedError, "link");
  eq((await fs.stat(`${dir}/m`)).mode & 0o777, 0o600, "mode");
  await fs.chmod(`${dir}/m`, 0o600);
  await rejects(fs.chmod(`${dir}/m`, 0o644), (e) => e instanceof ck.UnsupportedError, "chmod to another mode");
  await rejects(
    ck.writeFileWithProtocol(fs, `${dir}/p`, enc.encode("x"), "atomic_dirsync"),
    (e) => e instanceof ck.UnsupportedError,
    "atomic_dirsync",
  );
  await ck.writeFileWithProtocol(fs, `${dir}/p`, enc.encode("nodirsync"), "atomic_nodirsync");
  eq(dec.decode(await readAll(fs, `${dir}/p`)), "nodirsync", "atomic_nodirsync writes");
  eq(JSON.stringify((await fs.readdir(dir)).sort()), JSON.stringify(["m", "p"]), "no temp left");
});

test("opfs: processIdentity names this agent; others cannot be judged (Web Locks can)", async () => {
  const { fs } = await fresh();
  const me = fs.processIdentity();
  eq(me.pid, fs.pid(), "pid");
  eq(fs.processState(me.pid), "alive", "self");
  eq(fs.processAlive(me.pid), true, "alive");
  eq(fs.processState(me.pid + 1), "unknown", "other");
});

test("opfs: an open file is shared for reads in this worker and busy for unlink and rename", async () => {
  const { fs, dir } = await fresh();
  await fs.mkdir(dir);
  const w = await fs.open(`${dir}/f`, { write: true, create: true });
  await w.write(enc.encode("abc"), 0);
  const r = await fs.open(`${dir}/f`);
  eq(await r.size(), 3, "reader sees the writer's bytes");
  eq((await fs.stat(`${dir}/f`)).size, 3, "stat of an open file");
  await rejects(fs.unlink(`${dir}/f`), errno("EBUSY"), "unlink while open");
  await rejects(fs.rename(`${dir}/f`, `${dir}/g`), errno("EBUSY"), "rename while open");
  await r.close();
  await w.close();
  await rejects(w.write(enc.encode("x"), 0), errno("EBADF"), "write after close");
  await fs.unlink(`${dir}/f`);
});

// ---- the store ----

test("store: save (nested names, metadata), latest, load, list", async () => {
  const { dir } = await fresh();
  const store = await ck.openStore(dir);
  const a = bytes(700_000, 1), b = bytes(5000, 2), c = bytes(300_000, 3);
  let last = 0;
  const r = await store.save([{ name: "model.bin", data: a }, { name: "opt/state.bin", data: b }, {
    name: "s",
    data: c,
  }], {
    meta: { loss: 0.5 },
    onProgress: (d) => {
      last = d;
    },
  });
  eq(r.step, 1, "step");
  eq(r.protocol, "atomic_nodirsync", "default protocol on OPFS");
  if (last !== 0) eq(last, a.length + b.length + c.length, "progress");
  const latest = await store.latest();
  eq(latest.step, 1, "latest");
  eq(JSON.stringify(latest.files.sort()), JSON.stringify(["model.bin", "opt/state.bin", "s"]), "files");
  const loaded = await store.load();
  assert(
    same(loaded.members.get("model.bin"), a) && same(loaded.members.get("opt/state.bin"), b) &&
      same(loaded.members.get("s"), c),
    "loaded bytes",
  );
  eq(String(loaded.meta.loss), "0.5", "meta");
  eq((await store.list()).length, 1, "list");
  await store.close();
});

test("store: atomic_dirsync is refused before a byte is written", async () => {
  const { fs, dir } = await fresh();
  const store = await ck.openStore(dir);
  const before = (await fs.readdir(dir)).sort().join();
  await rejects(
    store.save([{ name: "x", data: bytes(10, 1) }], { protocol: "atomic_dirsync" }),
    (e) => e instanceof ck.UnsupportedError,
    "save",
  );
  eq((await fs.readdir(dir)).sort().join(), before, "nothing written");
  await store.close();
});

test("store: verify, restore byte-identical (into an existing directory), open() streams verified bytes", async () => {
  const { fs, dir } = await fresh();
  const store = await ck.openStore(dir);
  const a = bytes(1_200_000, 7);
  await store.save([{ name: "w/a.bin", data: a }, { name: "b", data: bytes(10, 8) }]);
  const v = await store.verify();
  eq(v.ok, true, "verify ok");
  const out = `${dir}-out`;
  // No directory move in Chromium: a restore that would rename its staging directory onto a new
  // out-dir is refused and leaves nothing behind; into an existing empty directory it works.
  await rejects(store.restore(out), (e) => e instanceof ck.UnsupportedError, "restore into a new directory");
  eq((await fs.readdir(".")).filter((f) => f.startsWith(".ckpt-restore-")).length, 0, "no staging left");
  await fs.mkdir(out);
  const res = await store.restore(out);
  eq(res.step, 1, "restored step");
  assert(same(await readAll(fs, `${out}/w/a.bin`), a), "restored bytes");
  if (typeof store.open === "function") { // store.open() arrives with the contract's streaming reads
    const chunks = [];
    const rd = (await store.open("w/a.bin")).getReader();
    for (;;) {
      const { done, value } = await rd.read();
      if (done) break;
      chunks.push(value);
    }
    assert(same(new Uint8Array(await new Blob(chunks).arrayBuffer()), a), "open() bytes");
  }
  await store.close();
  await root.removeEntry(out, { recursive: true });
});

test("store: corruption is detected, latest falls back, rollback quarantines", async () => {
  const { fs, dir } = await fresh();
  const store = await ck.openStore(dir);
  const one = bytes(300_000, 11), two = bytes(300_000, 12);
  await store.save([{ name: "m", data: one }]);
  await store.save([{ name: "m", data: two }]);
  const file =
    (await fs.readdir(dir)).filter((f) => f.includes("2") && !f.endsWith(".manifest") && !f.startsWith(".")).sort()[0];
  assert(file, "a member file of step 2");
  const h = await fs.open(`${dir}/${file}`, { write: true });
  const byte = new Uint8Array(1);
  await h.read(byte, 150_000);
  byte[0] ^= 0x10;
  await h.write(byte, 150_000);
  await h.sync();
  await h.close();
  const v = await store.verify();
  eq(v.ok, false, "verify finds the flip");
  const latest = await store.latest();
  eq(latest.step, 1, "latest falls back to step 1");
  assert(same((await store.load()).members.get("m"), one), "step 1's bytes");
  await rejects(store.load(2), (e) => e instanceof ck.CkptError, "load of the damaged step");
  const rb = await store.rollback();
  eq(rb.moved.map((m) => m.step).join(), "2", "rollback moves step 2");
  assert((await fs.readdir(`${dir}/.quarantine`)).length > 0, "quarantined, not deleted");
  eq((await store.verify()).ok, true, "store valid after rollback");
  await store.close();
});

test("store: an aborted save leaves no file behind", async () => {
  const { fs, dir } = await fresh();
  const store = await ck.openStore(dir);
  await store.save([{ name: "m", data: bytes(10, 1) }]);
  const before = (await fs.readdir(dir)).sort().join();
  const c = new AbortController();
  const p = store.save([{ name: "big", data: bytes(8_000_000, 2) }], {
    signal: c.signal,
    onProgress: (d) => {
      if (d > 1_000_000) c.abort();
    },
  });
  await rejects(p, (e) => e.name === "AbortError", "aborted save");
  eq((await fs.readdir(dir)).sort().join(), before, "store as before");
  await store.close();
});

test("store: one writer per store (Web Locks): a second open is ELOCKED until the first closes", async () => {
  const { dir } = await fresh();
  const s1 = await ck.openStore(dir);
  await rejects(ck.openStore(dir), (e) => e.code === "ELOCKED", "second writer");
  const ro = await ck.openStore(dir, { readOnly: true });
  await ro.close();
  await s1.close();
  const s2 = await ck.openStore(dir);
  await s2.close();
});

// ---- the log ----

test("log: concurrent appends share a flush, replay returns them in order, reopen continues", async () => {
  const { dir } = await fresh();
  const log = await ck.openLog(dir);
  const recs = Array.from({ length: 200 }, (_, i) => bytes(50 + (i % 7) * 300, 100 + i));
  const seqs = await Promise.all(recs.map((r) => log.append(r)));
  eq(new Set(seqs).size, 200, "distinct sequences");
  await log.close();
  const got = [];
  const rep = await ck.replayLog(dir, {
    onRecord: (r) => {
      if (r.type === "data") got.push(r);
    },
  });
  eq(rep.damage, null, "no damage");
  eq(got.length, 200, "records");
  got.forEach((r, i) => {
    assert(same(r.payload, recs[seqs.indexOf(r.sequence)]), `record ${i}`);
  });
  const log2 = await ck.openLog(dir);
  const s = await log2.append(enc.encode("after"));
  assert(s > Math.max(...seqs), "sequence continues");
  await log2.close();
});

test("log: a torn tail is cut on open and reported by replay", async () => {
  const { fs, dir } = await fresh();
  const log = await ck.openLog(dir);
  for (let i = 0; i < 11; i++) await log.append(bytes(100, i));
  await log.close();
  const seg = (await fs.readdir(dir)).find((f) => f.endsWith(".wal"));
  const h = await fs.open(`${dir}/${seg}`, { write: true });
  await h.truncate((await h.size()) - 7); // the last record now runs past the end: a torn write
  await h.sync();
  await h.close();
  const rep = await ck.replayLog(dir);
  eq(rep.recovered, 10, "recovered");
  assert(rep.truncatedBytes > 0, "torn bytes reported");
  const log2 = await ck.openLog(dir);
  await log2.append(enc.encode("next"));
  await log2.close();
  const rep2 = await ck.replayLog(dir);
  eq(rep2.recovered, 11, "after reopen");
  eq(rep2.damage, null, "clean");
});

test("pacing: a dedicated worker has no setImmediate, and MessageChannel yields a macrotask unclamped (docs/ENGINE.md)", async () => {
  eq(typeof globalThis.setImmediate, "undefined", "setImmediate in a worker");
  const ch = new MessageChannel();
  const waiting = [];
  ch.port1.onmessage = () => waiting.shift()?.();
  const viaChannel = () =>
    new Promise((r) => {
      waiting.push(r);
      ch.port2.postMessage(0);
    });
  // A macrotask really: a timer due now runs between two yields.
  let timerRan = false;
  setTimeout(() => {
    timerRan = true;
  }, 0);
  for (let i = 0; i < 50 && !timerRan; i++) await viaChannel();
  assert(timerRan, "a timer runs between MessageChannel yields");
  const N = 200;
  let t0 = performance.now();
  for (let i = 0; i < N; i++) await viaChannel();
  const channelMs = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < N; i++) await new Promise((r) => setTimeout(r, 0));
  const timeoutMs = performance.now() - t0;
  ch.port1.close();
  // Nested setTimeout(0) is clamped to 4 ms after five levels (HTML timers): 200 yields ≥ ~780 ms.
  assert(
    channelMs < timeoutMs / 4,
    `MessageChannel ${channelMs.toFixed(1)} ms vs setTimeout ${timeoutMs.toFixed(1)} ms for ${N} yields`,
  );
  return `${N} yields: MessageChannel ${channelMs.toFixed(1)} ms, setTimeout(0) ${timeoutMs.toFixed(1)} ms`;
});

test("kernel: crc32 and sha256 in the worker", async () => {
  eq(ck.crc32(enc.encode("123456789")), 0xcbf43926, "crc32 check value");
  eq(
    ck.toHex(ck.sha256(enc.encode("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha256('abc')",
  );
});

const results = [];
for (const t of tests) {
  const t0 = performance.now();
  try {
    const note = await t.fn();
    results.push({ name: t.name, ok: true, ms: Math.round(performance.now() - t0), note });
  } catch (e) {
    results.push({
      name: t.name,
      ok: false,
      error: `${e?.name}: ${e?.message}\n${e?.stack ?? ""}`,
      ms: Math.round(performance.now() - t0),
    });
  }
}
postMessage({ results });
