// Counts the bytes a command reads through a DurableFs, for byte progress where the library
// reports none: `verify` (store.verify reports checkpoints, not bytes; a single checkpoint file
// reports nothing). Seam: once store.verify takes { onProgress } in bytes (docs/ENGINE.md),
// the store path can pass that instead; the single-file path keeps this.
import type { DurableFs, FileHandle } from "../fs.ts";
import { join } from "../path.ts";

/** `fs` with every handle's reads reported to `onRead(bytes)`; everything else is `fs` itself. */
export function countReads(fs: DurableFs, onRead: (bytes: number) => void): DurableFs {
  const handle = (h: FileHandle): FileHandle => new Proxy(h, {
    get(target, prop) {
      if (prop === "read") {
        return async (buf: Uint8Array, position: number) => {
          const n = await target.read(buf, position);
          onRead(n);
          return n;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return new Proxy(fs, {
    get(target, prop) {
      if (prop === "open") return async (path: string, options?: Parameters<DurableFs["open"]>[1]) => handle(await target.open(path, options));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Bytes in the regular files directly under `dir` (a store: what a full verify reads, at most). */
export async function bytesUnder(fs: DurableFs, dir: string): Promise<number> {
  let total = 0;
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith(".")) continue; // .quarantine/, the lock: verify does not scan them
    const st = await fs.stat(join(dir, name));
    if (st?.isFile) total += st.size;
  }
  return total;
}
