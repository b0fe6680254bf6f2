// The small-save gap (issue 16): one store save of one 4 KiB member (inline, atomic_dirsync)
// against the hand-written floor (bench/floor.ts), alternating call by call in one process so
// both run under the same conditions. Each output is removed untimed after its call, so every
// call writes into the same directory state. Prints p50 of each and the ratio.
//   npx tsx bench/small-save.ts DIR | deno run -A bench/small-save.ts DIR | bun bench/small-save.ts DIR
//   [--n=2000] [--warm=200] [--size=4096] [--save-only]   (--save-only: no floor, for --cpu-prof)
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { args } from "./direct.ts";
import { defaultFs, detectRuntime } from "../adapters/detect.ts";
import { join } from "../src/path.ts";
import { manifestName } from "../src/store/layout.ts";
import { openStore } from "../src/store/store.ts";
import { handFloor } from "./floor.ts";

const opt = (name: string, dflt: number) =>
  Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt);
const parent = args.find((a) => !a.startsWith("--")) ?? "/dev/shm";
const n = opt("n", 2000);
const warm = opt("warm", 200);
const size = opt("size", 4096);
const saveOnly = args.includes("--save-only");
// --floor-size=N: the floor writes N bytes (e.g. the manifest's size) instead of the payload's.
const floorSize = opt("floor-size", size);

const dir = mkdtempSync(join(parent, "ckpt-small-"));
const runtime = detectRuntime();
const floor = handFloor(runtime);
const data = new Uint8Array(size);
crypto.getRandomValues(data);
const floorData = new Uint8Array(floorSize);
crypto.getRandomValues(floorData);
const store = await openStore(join(dir, "store"), { fs: defaultFs() });
// --floor-in-store: the floor writes into the store's directory, under a manifest-like name.
const floorPath = args.includes("--floor-in-store")
  ? join(dir, "store", "floor-0000000000000000.manifest")
  : join(dir, "floor.bin");
const saves: number[] = [];
const floors: number[] = [];
let step = 0;
try {
  for (let i = 0; i < warm + n; i++) {
    step++;
    const t0 = performance.now();
    await store.save([{ name: "a.bin", data }], { step });
    const t1 = performance.now();
    unlinkSync(join(store.dir, manifestName(step)));
    if (!saveOnly) {
      const t2 = performance.now();
      floor.write(floorPath, floorData, "atomic_dirsync");
      const t3 = performance.now();
      unlinkSync(floorPath);
      if (i >= warm) floors.push(t3 - t2);
    }
    if (i >= warm) saves.push(t1 - t0);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 1000;
const s = p50(saves);
if (saveOnly) console.log(`${runtime} ${parent} save p50 ${s.toFixed(1)} µs`);
else {
  const f = p50(floors);
  console.log(
    `${runtime.padEnd(4)} ${parent.padEnd(8)} save p50 ${s.toFixed(1).padStart(7)} µs  floor p50 ${
      f.toFixed(1).padStart(7)
    } µs  ratio ${(s / f).toFixed(3)}`,
  );
}
