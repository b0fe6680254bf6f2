// Headless Chromium for the browser tests: Debian's /usr/bin/chromium, spawned by us (so the
// crash tests can SIGKILL its whole process group) and driven over the DevTools protocol by
// playwright-core's connectOverCDP. Plus the static server the pages load from: OPFS and Web
// Locks need a secure context, and http://127.0.0.1 is one.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CHROMIUM = process.env.CKPT_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--remote-debugging-port=0",
];
const TYPES = {
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".html": "text/html",
  ".json": "application/json",
};
/** Only these trees are served: the bundle and the test pages. */
const SERVED = ["dist/", "test/browser/"];

export function chromiumPresent() {
  return existsSync(CHROMIUM);
}

/**
 * A static server on 127.0.0.1 (a free port, or `port`: OPFS belongs to the origin, port
 * included, so reopening a profile's storage needs the same one); resolves to { url, close }.
 */
export function serve(port = 0) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "");
    const file = join(ROOT, path);
    if (
      !SERVED.some((p) => path.startsWith(p)) || path.includes("..") || !existsSync(file) || !statSync(file).isFile()
    ) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
    });
    res.end(readFileSync(file));
  });
  return new Promise((ok) =>
    server.listen(port, "127.0.0.1", () => {
      const { port } = server.address();
      ok({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    })
  );
}

/**
 * Starts Chromium (its own process group) with `userDataDir` as its profile and connects to it.
 * Resolves to { browser, page, pid, kill(), close() }; kill() is SIGKILL to the whole group.
 */
export async function launch(userDataDir) {
  const { chromium } = await import("playwright-core");
  const child = spawn(CHROMIUM, [...ARGS, `--user-data-dir=${userDataDir}`, "about:blank"], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const ws = await new Promise((ok, fail) => {
    let err = "";
    const timer = setTimeout(() => fail(new Error(`chromium did not start in 30 s: ${err.slice(-500)}`)), 30_000);
    child.stderr.on("data", (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`chromium exited (${code}): ${err.slice(-500)}`));
    });
  });
  child.stderr.resume();
  const browser = await chromium.connectOverCDP(ws);
  const context = browser.contexts()[0] ?? (await browser.newContext());
  const page = context.pages()[0] ?? (await context.newPage());
  const exited = new Promise((ok) => child.on("exit", ok));
  const kill = async () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch { /* already gone */ }
    await exited;
  };
  const close = async () => {
    await browser.close().catch(() => {});
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch { /* gone */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    await kill();
  };
  return { browser, page, pid: child.pid, kill, close };
}
