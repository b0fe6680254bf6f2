// What the browser build relies on, checked in Node, Deno and Bun (the browser itself runs
// test/browser/run.mjs): the bundle has no node: import, a storage without directory fsync gets
// atomic_nodirsync and refuses atomic_dirsync before writing, and a storage's own writer lock
// (OPFS: Web Locks) replaces the `.lock` file.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { MemoryFs } from "../adapters/memory.ts";
import { LockedError, UnsupportedError } from "../src/errors.ts";
import type { WriterLock } from "../src/fs.ts";
import { lockHolderAlive } from "../src/lock/lock.ts";
import { openStore } from "../src/store/store.ts";
import { test } from "./kit.ts";

const bundle = new URL("../dist/browser.js", import.meta.url);

test("dist/browser.js imports nothing from node: and exports opfsFs and the worker helpers", () => {
  assert.ok(existsSync(bundle), "dist/browser.js is built (npx tsup)");
  const text = readFileSync(bundle, "utf8");
  assert.deepEqual(text.match(/["']node:[a-z_/]+["']/g), null);
  assert.doesNotMatch(text, /\brequire\(["']/);
  const exported = /export\s*\{([^}]*)\}\s*;?\s*$/.exec(text)?.[1] ?? "";
  for (
    const name of ["opfsFs", "openStore", "openLog", "openState", "serveWorker", "connectWorker", "crc32", "sha256"]
  ) {
    assert.match(exported, new RegExp(`\\b${name}\\b`), name);
  }
});

/** A MemoryFs that, like OPFS, cannot fsync a directory. */
function noDirSyncFs(): MemoryFs {
  const fs = new MemoryFs();
  (fs as { capabilities: MemoryFs["capabilities"] }).capabilities = { ...fs.capabilities, dirSync: false };
  return fs;
}

test("without directory fsync a store saves under atomic_nodirsync and refuses atomic_dirsync before writing", async () => {
  const fs = noDirSyncFs();
  const store = await openStore("/s", { fs });
  const r = await store.save([{ name: "m", data: new Uint8Array([1, 2, 3]) }]);
  assert.equal(r.protocol, "atomic_nodirsync");
  const before = (await fs.readdir("/s")).sort();
  const writes: string[] = [];
  const open = fs.open.bind(fs);
  fs.open = (path, o) => {
    if (o?.write) writes.push(path);
    return open(path, o);
  };
  await assert.rejects(
    store.save([{ name: "m", data: new Uint8Array(10) }], { protocol: "atomic_dirsync" }),
    UnsupportedError,
  );
  assert.deepEqual(writes, [], "refused before the first file is opened for writing");
  assert.deepEqual((await fs.readdir("/s")).sort(), before, "nothing left");
  await store.close();
});

test("a storage's own writer lock replaces the .lock file, refuses a second writer and tells readers a writer is live", async () => {
  const fs = new MemoryFs();
  const held = new Set<string>();
  const lock: WriterLock = {
    async acquire(dir) {
      if (held.has(dir)) throw new LockedError(dir, "test lock");
      held.add(dir);
      return {
        release: async () => {
          held.delete(dir);
        },
      };
    },
    async held(dir) {
      return held.has(dir);
    },
  };
  (fs as { writerLock?: WriterLock }).writerLock = lock;
  const a = await openStore("/s", { fs });
  assert.equal(await fs.stat("/s/.lock"), null, "no lock file");
  await assert.rejects(openStore("/s", { fs }), LockedError);
  assert.equal(await lockHolderAlive(fs, "/s"), true, "a reader sees the live writer");
  await a.save([{ name: "m", data: new Uint8Array([1]) }]);
  await a.close();
  assert.equal(held.size, 0, "released on close");
  assert.equal(await lockHolderAlive(fs, "/s"), false);
  const b = await openStore("/s", { fs });
  await b.close();
});

test("each module the browser build swaps in exports exactly what the module it replaces exports", async () => {
  // tsup.config.ts swaps these for dist/browser.js; a name missing on the browser side would
  // only fail in a page, at the first call that needs it.
  const pairs: [string, string][] = [
    ["../adapters/detect.ts", "../adapters/detect-browser.ts"],
    ["../src/wasm/hash-worker.ts", "../src/wasm/hash-worker-browser.ts"],
    ["../src/wasm/leaf-pool.ts", "../src/wasm/leaf-pool-browser.ts"],
  ];
  for (const [server, browser] of pairs) {
    // Functions only: a class exported for its type (WorkerSha256) is never constructed outside
    // its module, and the browser side exports it as a type.
    const fns = (m: Record<string, unknown>) =>
      Object.keys(m).filter((k) => typeof m[k] === "function" && !/^class\b/.test(String(m[k]))).sort();
    const a = fns(await import(server));
    const b = fns(await import(browser));
    assert.deepEqual(b, a, `${browser} must export what ${server} exports`);
  }
});
