// One small benchmark, run unchanged in Node, Deno and Bun (scripts/browser-bench.mjs imports it
// with dist/index.js and a temp dir) and in a Chromium worker (bench-worker.js, dist/browser.js
// and OPFS): kernel throughput, then a store's save / verify / load and a log's group-committed
// appends. Returns { name: value } with MB/s or per-op figures.
export async function runBench(ck, dir, { mib = 32 } = {}) {
  const out = {};
  const big = new Uint8Array(mib << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = i & 255;
  const time = async (fn) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const mbps = (bytes, ms) => Math.round((bytes / (1 << 20)) / (ms / 1000));
  // Warm up with many short calls: V8 compiles WebAssembly with a baseline tier first and tiers a
  // function up only after it has used its budget, so a first long call measures the baseline.
  for (let i = 0; i < 200; i++) {
    ck.crc32(big.subarray(0, 65536));
    ck.sha256(big.subarray(0, 65536));
  }
  const best = async (fn) => Math.min(await time(fn), await time(fn), await time(fn));
  out["crc32 MB/s"] = mbps(big.length, await best(() => ck.crc32(big)));
  out["sha256 MB/s"] = mbps(big.length, await best(() => ck.sha256(big)));
  const store = await ck.openStore(`${dir}/store`);
  try {
    out["save MB/s (atomic_nodirsync)"] = mbps(
      big.length,
      await time(() => store.save([{ name: "w.bin", data: big }], { protocol: "atomic_nodirsync" })),
    );
    const c = new AbortController();
    out["save MB/s (with a signal)"] = mbps(
      big.length,
      await time(() => store.save([{ name: "w.bin", data: big }], { protocol: "atomic_nodirsync", signal: c.signal })),
    );
    out["verify MB/s"] = mbps(2 * big.length, await time(() => store.verify()));
    out["load MB/s"] = mbps(big.length, await time(() => store.load()));
    const small = new Uint8Array(4096).fill(7);
    const n = 200;
    const ms = await time(async () => {
      for (let i = 0; i < n; i++) await store.save([{ name: "s", data: small }], { protocol: "atomic_nodirsync" });
    });
    out["4 KiB save ms (atomic_nodirsync)"] = Math.round((ms / n) * 100) / 100;
  } finally {
    await store.close();
  }
  const log = await ck.openLog(`${dir}/log`);
  try {
    const rec = new Uint8Array(256).fill(1);
    const n = 4000;
    const ms = await time(async () => {
      for (let i = 0; i < n; i += 64) await Promise.all(Array.from({ length: 64 }, () => log.append(rec)));
    });
    out["log appends/s (256 B, 64 concurrent)"] = Math.round(n / (ms / 1000));
    const one = await time(async () => {
      for (let i = 0; i < 200; i++) await log.append(rec);
    });
    out["log append ms (one at a time)"] = Math.round((one / 200) * 100) / 100;
  } finally {
    await log.close();
  }
  return out;
}
