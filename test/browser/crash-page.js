// The crash experiment's page: relays between the driver (window.check, window.run, and the
// exposed window.__ack binding) and crash-worker.js.
const worker = () => new Worker("/test/browser/crash-worker.js", { type: "module" });

window.check = () =>
  new Promise((resolve, reject) => {
    const w = worker();
    w.onmessage = (e) => {
      if (e.data.error) reject(new Error(e.data.error));
      else {
        w.terminate();
        resolve(e.data.result);
      }
    };
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage({ op: "check" });
  });

window.run = (trial, firstId) =>
  new Promise((resolve, reject) => {
    const w = worker();
    w.onmessage = (e) => {
      if (e.data.ready) resolve();
      else if (e.data.ack) window.__ack(e.data);
      else if (e.data.error) window.__ack({ error: e.data.error });
    };
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage({ op: "run", trial, firstId });
  });
window.crashReady = true;
