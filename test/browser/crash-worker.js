// The browser crash experiment's worker (scripts/browser-crashtest.mjs drives it through
// crash-page.js). "check": what survived the last SIGKILL of the browser. "run": saves and log
// appends until the browser is killed, acknowledging each one to the page as it resolves.
// Every byte written is a function of a seed recorded beside it (checkpoint metadata, record
// header), so a checker can tell exact bytes from bytes that verify but are not what was written.
import * as ck from "/dist/browser.js";

const STORE = "crash/store", LOG = "crash/log";
function bytes(n, seed) {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}
const memberSizes = (seed) => [16 * 1024 + (seed * 7919) % (1 << 20), 1000 + (seed * 104729) % 200_000];
const recordLength = (seed) => 16 + (seed * 31337) % 3000;
function record(id, seed) {
  const body = bytes(recordLength(seed), seed);
  const r = new Uint8Array(8 + body.length);
  new DataView(r.buffer).setUint32(0, id);
  new DataView(r.buffer).setUint32(4, seed);
  r.set(body, 8);
  return r;
}
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

async function check() {
  const out = {
    latest: null,
    seed: null,
    exact: null,
    verifyOk: null,
    damaged: [],
    records: [],
    badRecords: 0,
    logDamage: null,
  };
  const store = await ck.openStore(STORE);
  try {
    const v = await store.verify();
    out.verifyOk = v.ok;
    out.damaged = v.checkpoints.filter((c) => c.status === "corrupt" || c.status === "torn").map((c) =>
      `${c.step}:${c.status}`
    );
    const latest = await store.latest();
    if (latest) {
      const loaded = await store.load(latest.step);
      const seed = Number(loaded.meta.seed);
      const [a, b] = memberSizes(seed);
      out.latest = latest.step;
      out.seed = seed;
      const ga = loaded.members.get("a.bin"), gb = loaded.members.get("b/c.bin");
      out.exact = same(ga, bytes(a, seed)) && same(gb, bytes(b, seed + 1));
      if (!out.exact) {
        out.detail = {
          want: [a, b],
          got: [ga?.length, gb?.length],
          steps: (await store.list()).map((c) => `${c.step}:${c.meta?.seed}`),
        };
      }
    }
  } finally {
    await store.close();
  }
  const rep = await ck.replayLog(LOG, {
    onRecord: (r) => {
      if (r.type !== "data") return;
      const dv = new DataView(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength);
      const id = dv.getUint32(0), seed = dv.getUint32(4);
      if (!same(r.payload, record(id, seed))) out.badRecords++;
      out.records.push(id);
    },
  }).catch((e) => (e.code === "ENOENT" || e.errno === "ENOENT" ? null : Promise.reject(e)));
  out.logDamage = rep?.damage ? JSON.stringify(rep.damage) : null;
  return out;
}

async function run({ trial, firstId }) {
  const store = await ck.openStore(STORE);
  const log = await ck.openLog(LOG, { maxSegmentBytes: 1 << 20 });
  postMessage({ ready: true });
  const saves = (async () => {
    for (let k = 0;; k++) {
      const seed = trial * 1000 + k;
      const [a, b] = memberSizes(seed);
      const t0 = performance.now();
      const r = await store.save([{ name: "a.bin", data: bytes(a, seed) }, {
        name: "b/c.bin",
        data: bytes(b, seed + 1),
      }], { meta: { seed }, keep: 3 });
      postMessage({ ack: "save", step: r.step, seed, ms: Math.round(performance.now() - t0) });
    }
  })();
  const appends = (async () => {
    for (let id = firstId; id < firstId + 400; id += 8) {
      const ids = Array.from({ length: 8 }, (_, i) => id + i);
      await Promise.all(ids.map(async (i) => {
        await log.append(record(i, trial * 100_000 + i));
        postMessage({ ack: "append", id: i });
      }));
    }
  })();
  await Promise.race([saves, appends.then(() => new Promise(() => {}))]);
}

onmessage = async (e) => {
  try {
    if (e.data.op === "check") postMessage({ result: await check() });
    else await run(e.data);
  } catch (err) {
    postMessage({ error: `${err?.name} ${err?.code ?? ""}: ${err?.message}` });
  }
};
