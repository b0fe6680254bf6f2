// write-file-atomic (npm), unmodified, on the simulator. It takes no injected fs: it calls
// require("fs").open/write/fsync/close/rename/... at call time, so for the duration of the
// workload those functions of node:fs are pointed at the simulator (callback style, file
// descriptors mapped to the facade's handles) and put back afterwards. Node and Bun.
//
// Verdict: it fsyncs the temp file but not the directory, so the rename of an acknowledged
// write can be lost — the same finding as rename-nodirsync.mjs.
import fs from "node:fs";
import writeFileAtomic from "write-file-atomic";

export { setup, check } from "./common.mjs";

const CALLS = ["open", "write", "fsync", "close", "rename", "realpath", "stat", "unlink", "chmod", "chown"];

/** node:fs's callback API for the calls write-file-atomic makes, served by the simulator's facade. */
function callbacks(sim) {
  const fds = new Map();
  const cb = (promise, done) => {
    promise.then((v) => done(null, v), (e) => done(e)); // returns nothing, as node:fs's callback API does
  };
  return {
    open: (p, flags, mode, done) => cb(sim.open(p, flags, mode ?? undefined).then((h) => (fds.set(h.fd, h), h.fd)), done),
    write: (fd, data, ...rest) => {
      const done = rest.pop();
      cb(fds.get(fd).write(data, ...rest).then((r) => r.bytesWritten), done);
    },
    fsync: (fd, done) => cb(fds.get(fd).sync(), done),
    close: (fd, done) => cb(fds.get(fd).close().then(() => fds.delete(fd)), done),
    rename: (a, b, done) => cb(sim.rename(a, b), done),
    realpath: (p, done) => cb(sim.realpath(p), done),
    stat: (p, done) => cb(sim.stat(p), done),
    unlink: (p, done) => cb(sim.unlink(p), done),
    chmod: (p, mode, done) => cb(sim.chmod(p, mode), done),
    chown: (p, uid, gid, done) => cb(Promise.reject(Object.assign(new Error("chown is not modelled"), { code: "ENOTSUP" })), done),
  };
}

export async function workload(sim, { ack }) {
  const saved = Object.fromEntries(CALLS.map((c) => [c, fs[c]]));
  Object.assign(fs, callbacks(sim));
  try {
    // chown: false, as ownership is not modelled; mode given so it does not copy the old one.
    await writeFileAtomic("/app/state.json", JSON.stringify({ version: 2, items: ["a", "b"] }), { chown: false, mode: 0o644 });
  } finally {
    Object.assign(fs, saved);
  }
  ack(2);
}
