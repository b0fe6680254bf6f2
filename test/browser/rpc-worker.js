// A worker that serves ckptkit to the page (src/browser-rpc.ts).
import { serveWorker } from "/dist/browser.js";
serveWorker();
