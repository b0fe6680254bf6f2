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
