// Writes a store whose only file is a crafted manifest of minimal member entries (for measuring
// the peak RSS of `ckpt verify` on it): node --experimental-strip-types is not assumed, run with
// `npx bun scripts/craft-big-manifest.ts DIR MB [min|named]`.
//   min:   60-byte entries (empty names, empty file names): the smallest a table can hold.
//   named: short unique names and the file names the layout gives (what survives a name check).
import { mkdirSync, writeFileSync } from "node:fs";
import { craftManifestBytes } from "../test/lib/craft.ts";

const [dir, mb, mode = "named"] = process.argv.slice(2);
mkdirSync(dir!, { recursive: true });
const bytes = craftManifestBytes(1, Number(mb) * 1e6, mode === "min");
writeFileSync(`${dir}/step-0000000000000001.manifest`, bytes);
console.log(`${bytes.length} bytes`);
