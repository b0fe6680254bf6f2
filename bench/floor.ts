// The floor of the protocol benchmark: each protocol's syscalls written by hand with this
// runtime's own synchronous API, no DurableFs, no promises, no checksums — the least any
// library could do to put the same bytes on disk with the same guarantee. node:fs in Node and
// Bun (Bun's own Bun.write cannot fsync); Deno's own file API in Deno (FsFile.syncSync is the
// fsync: Deno 2 removed Deno.fsyncSync).
//   unsafe            open(O_CREAT|O_TRUNC), write, close
//   atomic_nodirsync  open(temp, O_CREAT|O_EXCL), write, fsync, close, rename
//   atomic_dirsync    as above, then open(dir, O_RDONLY), fsync, close
// The temp is created with its final mode, so the floor has no chmod (ckptkit's write has one:
// it creates temps 0600).
import * as nfs from "node:fs";
import type { Runtime } from "../adapters/detect.ts";
import type { Protocol } from "../src/protocol.ts";
import { basename, dirname, join } from "../src/path.ts";

export interface Floor {
  /** One file under `protocol`. */
  write(path: string, data: Uint8Array, protocol: Protocol): void;
  /** Several files in one directory, one directory fsync for all of them (atomic_dirsync). */
  writeGroup(dir: string, files: { path: string; data: Uint8Array }[], protocol: Protocol): void;
}

interface Primitives {
  /** Creates or truncates `path` and writes `data` to it, durably (fsync) or not. */
  put(path: string, data: Uint8Array, sync: boolean, exclusive: boolean): void;
  rename(from: string, to: string): void;
  syncDir(dir: string): void;
}

const tempOf = (path: string) => join(dirname(path), `.floor-tmp-${basename(path)}`);

function nodePrimitives(): Primitives {
  const C = nfs.constants;
  return {
    put(path, data, sync, exclusive) {
      const fd = nfs.openSync(path, C.O_WRONLY | C.O_CREAT | (exclusive ? C.O_EXCL : C.O_TRUNC), 0o644);
      try {
        for (let off = 0; off < data.length;) off += nfs.writeSync(fd, data, off, data.length - off, off);
        if (sync) nfs.fsyncSync(fd);
      } finally {
        nfs.closeSync(fd);
      }
    },
    rename: (from, to) => nfs.renameSync(from, to),
    syncDir(dir) {
      const fd = nfs.openSync(dir, C.O_RDONLY);
      try {
        nfs.fsyncSync(fd);
      } finally {
        nfs.closeSync(fd);
      }
    },
  };
}

interface DenoFile {
  writeSync(b: Uint8Array): number;
  syncSync(): void;
  close(): void;
}
interface DenoApi {
  openSync(
    path: string,
    o: { read?: boolean; write?: boolean; create?: boolean; createNew?: boolean; truncate?: boolean; mode?: number },
  ): DenoFile;
  renameSync(from: string, to: string): void;
}

function denoPrimitives(): Primitives {
  const D = (globalThis as unknown as { Deno: DenoApi }).Deno;
  return {
    put(path, data, sync, exclusive) {
      const f = D.openSync(
        path,
        exclusive
          ? { write: true, createNew: true, mode: 0o644 }
          : { write: true, create: true, truncate: true, mode: 0o644 },
      );
      try {
        for (let off = 0; off < data.length;) off += f.writeSync(data.subarray(off));
        if (sync) f.syncSync();
      } finally {
        f.close();
      }
    },
    rename: (from, to) => D.renameSync(from, to),
    syncDir(dir) {
      const f = D.openSync(dir, { read: true });
      try {
        f.syncSync();
      } finally {
        f.close();
      }
    },
  };
}

export function handFloor(runtime: Runtime): Floor {
  const p = runtime === "deno" ? denoPrimitives() : nodePrimitives();
  const one = (path: string, data: Uint8Array, protocol: Protocol) => {
    if (protocol === "unsafe") return p.put(path, data, false, false);
    const tmp = tempOf(path);
    p.put(tmp, data, true, true);
    p.rename(tmp, path);
  };
  return {
    write(path, data, protocol) {
      one(path, data, protocol);
      if (protocol === "atomic_dirsync") p.syncDir(dirname(path));
    },
    writeGroup(dir, files, protocol) {
      for (const f of files) one(f.path, f.data, protocol);
      if (protocol === "atomic_dirsync") p.syncDir(dir);
    },
  };
}
