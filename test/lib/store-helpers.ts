// Small helpers for store tests: deterministic member contents and byte-exact comparison of
// what `latest` returns with what a save was asked to write.
import { MemoryFs } from "../../adapters/memory.ts";
import { openStore, type Store } from "../../src/store/store.ts";
import type { Protocol } from "../../src/protocol.ts";
import { randomBytes, rng } from "../kit.ts";

export type Members = Map<string, Uint8Array>;

export function members(seed: number, names: string[], size = 1500): Members {
  const next = rng(seed);
  return new Map(names.map((n, i) => [n, randomBytes(size + i * 7, next)]));
}

export function sources(m: Members) {
  return [...m].map(([name, data]) => ({ name, data }));
}

export function equalMembers(a: Members, b: Members): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.length !== v.length) return false;
    for (let i = 0; i < v.length; i++) if (v[i] !== w[i]) return false;
  }
  return true;
}

/** A MemoryFs with a durable, empty store directory at /store. */
export async function freshStoreFs(): Promise<MemoryFs> {
  const fs = new MemoryFs();
  await fs.mkdir("/store");
  await fs.syncDir("/");
  return fs;
}

/**
 * A store on /store. `inlineMax` 0 by default: the tests using this helper are about member files
 * (their damage, their crash states); inline members have their own (test/inline.test.ts).
 */
export async function memStore(
  fs: MemoryFs,
  protocol: Protocol = "atomic_dirsync",
  chunkSize = 1024,
  inlineMax = 0,
): Promise<Store> {
  return openStore("/store", { fs, protocol, chunkSize, inlineMax });
}

/** What `latest` + `load` would give a recovering process, or null. */
export async function recover(fs: MemoryFs): Promise<{ step: number; members: Members } | null> {
  const s = await openStore("/store", { fs, readOnly: true });
  const l = await s.latest();
  if (!l) return null;
  const { members } = await s.load(l.step);
  return { step: l.step, members };
}
