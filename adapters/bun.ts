// DurableFs for Bun. Bun's own file API (Bun.write, Bun.file) cannot fsync and Bun.write
// truncates in place, so durable writes go through Bun's node:fs, which issues the real
// open/pwrite/fsync/rename syscalls. The primitives are therefore shared with the Node adapter;
// only the name differs, so reports say which runtime ran.
import type { DurableFs } from "../src/fs.ts";
import { nodeFs } from "./node.ts";

export function bunFs(): DurableFs {
  return nodeFs("bun");
}
