// Counts the bytes a command reads through a DurableFs, for byte progress where the library
// reports none: `verify` (store.verify reports checkpoints, not bytes; a single checkpoint file
// reports nothing). Seam: once store.verify takes { onProgress } in bytes (docs/ENGINE.md),
// the store path can pass that instead; the single-file path keeps this.
import type { DurableFs, FileHandle, FileStat } from "../fs.ts";
import { join } from "../path.ts";
import type { CommandContext } from "./command.ts";
import { type ByteProgress, byteProgress, NO_PROGRESS } from "./progress.ts";

/** `fs` with every handle's reads reported to `onRead(bytes)`; everything else is `fs` itself. */
export function countReads(fs: DurableFs, onRead: (bytes: number) => void): DurableFs {
  const handle = (h: FileHandle): FileHandle =>
    new Proxy(h, {
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
      if (prop === "open") {
        return async (path: string, options?: Parameters<DurableFs["open"]>[1]) =>
          handle(await target.open(path, options));
      }
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

/**
 * For `verify` of `path` (a store, or one file as `st` describes it): the fs to verify through
 * and its bar, which counts bytes read against the bytes there are (a total that grows if a
 * file is read twice). Without a bar (no terminal, --json, --quiet) the fs is ctx.fs itself.
 */
export async function verifyProgress(
  ctx: CommandContext,
  path: string,
  st: FileStat,
): Promise<{ fs: DurableFs; bar: ByteProgress }> {
  const bar = byteProgress(ctx, "verify");
  if (bar === NO_PROGRESS) return { fs: ctx.fs, bar };
  const total = st.isDirectory ? await bytesUnder(ctx.fs, path) : st.size;
  let read = 0;
  return { fs: countReads(ctx.fs, (n) => bar.update(read += n, Math.max(total, read))), bar };
}
