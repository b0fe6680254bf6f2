// runBench in a Chromium worker, over OPFS.
import * as ck from "/dist/browser.js";
import { runBench } from "/test/browser/bench-core.js";
onmessage = async (e) => {
  try {
    postMessage({ result: await runBench(ck, `bench-${Date.now()}`, e.data) });
  } catch (err) {
    postMessage({ error: `${err?.name}: ${err?.message}` });
  }
};
