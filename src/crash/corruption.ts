// The corruption experiment (guarantee 2). A store of a few checkpoints (single members and
// groups, several blocks each) is built on the in-memory fs; each injection damages one random
// file a save wrote — members and manifests, headers included — with bitflip, zerorange or
// truncate through corruptFile, the same code `ckpt corrupt` runs, then verifies that step and
// puts the original bytes back. Detected: the step no longer verifies. Silent: the step still
// verifies and loading it yields bytes the save did not write. False positives: clean verifies
// (of every step, nothing damaged) that report anything.
import { MemoryFs } from "../../adapters/memory.ts";
import { CORRUPT_MODES, corruptFile } from "../corrupt.ts";
import { randInt, rng } from "../rng.ts";
import { openStore, type Store } from "../store/store.ts";
import { makeMembers, type Members, sameMembers } from "./workloads.ts";

export interface CorruptionRow {
  mode: string;
  injections: number;
  /** Draws that changed no byte (zeros over zeros): not damage, drawn again, included in `injections`. */
  noops: number;
  detected: number;
  missed: number;
  /** Missed and loading returned other bytes (the worst case). */
  silent: number;
  cleanVerifies: number;
  falsePositives: number;
  /**
   * Injections per file kind and region: "manifest header", "member body", ... (header = the
   * first 64 bytes, trailer = the last 48, body = the rest), so the table shows manifests and
   * headers were hit, not only member payloads.
   */
  regions: Record<string, { n: number; detected: number }>;
}

const DIR = "/store";

async function buildStore(): Promise<{ fs: MemoryFs; store: Store; expected: Map<number, Members> }> {
  const fs = new MemoryFs();
  const expected = new Map<number, Members>();
  // Both layouts in one store: checkpoints whose members have their own files (inlineMax 0, small
  // files, so member headers and trailers are a fair share of the bytes), then checkpoints whose
  // small members are stored inline in the manifest (the default for ≤ 64 KiB).
  const layouts: [number, [number, number][]][] = [[0, [[1, 700], [3, 5000], [1, 12000], [4, 300]]], [64 * 1024, [[
    2,
    900,
  ], [3, 4000]]]];
  let store: Store | undefined;
  for (const [inlineMax, shapes] of layouts) {
    await store?.close();
    store = await openStore(DIR, { fs, chunkSize: 2048, inlineMax });
    for (const [count, size] of shapes) {
      const m = makeMembers(expected.size + 1, count, size);
      const r = await store.save([...m].map(([name, data]) => ({ name, data })));
      expected.set(r.step, m);
    }
  }
  return { fs, store: store!, expected };
}

export async function corruptionExperiment(
  injections: number,
  cleanVerifies: number,
  seed = 1,
  onTick?: () => void,
): Promise<CorruptionRow[]> {
  const { fs, store, expected } = await buildStore();
  const steps = await store.steps();
  const rows = new Map<string, CorruptionRow>();
  const rowFor = (mode: string): CorruptionRow => {
    let r = rows.get(mode);
    if (!r) {
      rows.set(
        mode,
        r = {
          mode,
          injections: 0,
          noops: 0,
          detected: 0,
          missed: 0,
          silent: 0,
          cleanVerifies: 0,
          falsePositives: 0,
          regions: {},
        },
      );
    }
    return r;
  };
  const next = rng(seed);
  // `injections` counts damage: a draw that changed no byte (zeros over zeros) is counted as a
  // no-op and drawn again, so N injections are N corruptions.
  let damaged = 0;
  for (let i = 0; damaged < injections; i++) {
    if (i >= 2 * injections + 1000) {
      throw new Error(`corruption experiment: ${i} draws made only ${damaged} damaging injections`);
    }
    const s = steps[randInt(next, 0, steps.length)]!;
    const file = s.files[randInt(next, 0, s.files.length)]!;
    const path = `${DIR}/${file}`;
    const mode = CORRUPT_MODES[randInt(next, 0, CORRUPT_MODES.length)]!;
    const original = fs.peek(path)!.slice();
    const row = rowFor(mode);
    row.injections++;
    const rep = await corruptFile(fs, path, mode, { seed: seed * 1_000_000 + i });
    if (rep.bytesChanged === 0) {
      row.noops++;
    } else {
      damaged++;
      const end = mode === "truncate" ? rep.offset + 1 : rep.offset + rep.length; // a cut: where it falls
      const region = `${file.endsWith(".manifest") ? "manifest" : "member"} ${
        rep.offset < 64 ? "header" : end > original.length - 48 ? "trailer" : "body"
      }`;
      const reg = (row.regions[region] ??= { n: 0, detected: 0 });
      reg.n++;
      const status = (await store.check(s.step)).status;
      if (status !== "valid") {
        row.detected++;
        reg.detected++;
      } else {
        row.missed++;
        const { members } = await store.load(s.step);
        if (!sameMembers(members, expected.get(s.step)!)) row.silent++;
      }
    }
    fs.poke(path, original);
    if (rep.bytesChanged > 0) onTick?.();
  }
  const clean = rowFor("clean");
  for (let i = 0; i < cleanVerifies; i++) {
    const s = steps[i % steps.length]!;
    clean.cleanVerifies++;
    if ((await store.check(s.step)).status !== "valid") clean.falsePositives++;
    onTick?.();
  }
  // The whole store once more, after every injection was undone: nothing left behind.
  if (!(await store.verify()).ok) clean.falsePositives++;
  await store.close();
  return [...rows.values()];
}
