// Shared by the log tests that build segments by hand on the memory adapter.
import { MemoryFs } from "../../adapters/memory.ts";
import { segmentName } from "../../src/wal/format.ts";

/** The first segment of the log at /log. */
export const SEG = `/log/${segmentName(1)}`;

/** A memory fs with a durable, empty /log directory. */
export async function freshLogFs(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/log");
  await fs.syncDir("/");
  return fs;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * What replay reports as torn for bytes `b[off…]` that fail: up to the end of the 512-byte sector
 * holding their last nonzero byte (or the file's end); 0 if they are all zeros — whole zero
 * sectors after a tear are unused space, as in a preallocated segment (docs/LOG.md).
 */
export function tornLength(b: Uint8Array, off: number): number {
  let end = b.length;
  while (end > off && b[end - 1] === 0) end--;
  return end === off ? 0 : Math.min(b.length, Math.ceil(end / 512) * 512) - off;
}
