// The page of the browser tests: starts the suite worker, and runs the tests that need the main
// thread (the worker RPC, the writer lock across workers, the bundle on the main thread).
import * as ck from "/dist/browser.js";

const enc = new TextEncoder();
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

window.runSuite = () =>
  new Promise((resolve, reject) => {
    const w = new Worker("/test/browser/suite-worker.js", { type: "module" });
    w.onmessage = (e) => {
      w.terminate();
      resolve(e.data.results);
    };
    w.onerror = (e) => reject(new Error(`suite worker failed to load: ${e.message}`));
  });

async function pageTest(name, fn) {
  const t0 = performance.now();
  try {
    await fn();
    return { name, ok: true, ms: Math.round(performance.now() - t0) };
  } catch (e) {
    return {
      name,
      ok: false,
      error: `${e?.name}: ${e?.message} (code ${e?.code})\n${e?.stack ?? ""}`,
      ms: Math.round(performance.now() - t0),
    };
  }
}
const rpcWorker = () => new Worker("/test/browser/rpc-worker.js", { type: "module" });

window.runPageTests = async () => [
  await pageTest("page: the bundle's kernel runs on the main thread", async () => {
    assert(ck.crc32(enc.encode("123456789")) === 0xcbf43926, "crc32");
    assert(ck.toHex(ck.sha256(enc.encode("abc"))).startsWith("ba7816bf"), "sha256");
  }),
  await pageTest(
    "page: on the main thread (no sync access handles) a save is refused with UnsupportedError",
    async () => {
      const store = await ck.openStore(`main-${Date.now()}`);
      let err;
      try {
        await store.save([{ name: "m", data: enc.encode("x") }]);
      } catch (e) {
        err = e;
      }
      await store.close();
      assert(
        err instanceof ck.UnsupportedError && /dedicated worker/.test(err.message),
        `UnsupportedError naming the worker, got ${err?.name}: ${err?.message}`,
      );
    },
  ),
  await pageTest("page: connectWorker saves, reports progress, loads and passes errors with their code", async () => {
    const w = rpcWorker();
    const ckw = ck.connectWorker(w);
    const dir = `rpc-${Date.now()}`;
    const store = await ckw.openStore(dir);
    const data = new Uint8Array(600_000).map((_, i) => i * 7);
    let progress = 0;
    const r = await store.save([{ name: "w", data }], {
      onProgress: (d) => {
        progress = d;
      },
    });
    assert(r.step === 1 && progress === data.length, `save ${JSON.stringify(r)} progress ${progress}`);
    const loaded = await store.load();
    assert(
      loaded.members.get("w").length === data.length && loaded.members.get("w")[12345] === data[12345],
      "loaded bytes",
    );
    let err;
    try {
      await store.save([{ name: "../x", data }]);
    } catch (e) {
      err = e;
    }
    assert(err?.code === "EUSAGE", `usage error code, got ${err?.code}`);
    const c = new AbortController();
    c.abort();
    let aborted;
    try {
      await store.save([{ name: "big", data: new Uint8Array(4_000_000) }], { signal: c.signal });
    } catch (e) {
      aborted = e;
    }
    assert(aborted?.name === "AbortError", `AbortError, got ${aborted?.name}`);
    await store.close();
    w.terminate();
  }),
  await pageTest("page: one writer across workers; a dead worker's lock is taken over", async () => {
    const dir = `lock-${Date.now()}`;
    const a = rpcWorker(), b = rpcWorker();
    const A = ck.connectWorker(a), B = ck.connectWorker(b);
    const sa = await A.openStore(dir);
    await sa.save([{ name: "m", data: enc.encode("from A") }]);
    let refused;
    try {
      await B.openStore(dir);
    } catch (e) {
      refused = e;
    }
    assert(refused?.code === "ELOCKED", `second writer refused with ELOCKED, got ${refused?.code} ${refused?.message}`);
    a.terminate(); // A dies holding the lock: Web Locks drop it with its agent
    let sb;
    for (let i = 0; i < 50 && !sb; i++) {
      try {
        sb = await B.openStore(dir);
      } catch (e) {
        if (e.code !== "ELOCKED") throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert(sb, "B takes the lock after A died");
    const latest = await sb.latest();
    assert(latest.step === 1, "A's checkpoint");
    await sb.close();
    b.terminate();
  }),
];
window.pageReady = true;

window.runBench = (options) =>
  new Promise((resolve, reject) => {
    const w = new Worker("/test/browser/bench-worker.js", { type: "module" });
    w.onmessage = (e) => {
      w.terminate();
      if (e.data.error) reject(new Error(e.data.error));
      else resolve(e.data.result);
    };
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage(options);
  });
