// Store-level retention, the checkpoint manager's policy (Orbax's max_to_keep, keep_period and
// best-N): `openStore(dir, { keep: { last, every, best: { key, mode, n } } })` is applied after
// every save, once the new checkpoint is durable. A valid checkpoint is kept when it is
//   - one of the newest `last` valid checkpoints, or
//   - a step that is a multiple of `every`, or
//   - one of the `n` best by the numeric metadata value `key` (lowest with mode "min", highest
//     with "max"; ties go to the newer step; a checkpoint without a numeric `key` is never best),
// and, whatever the policy, the newest valid checkpoint is always kept: a save that returned
// is never pruned by its own retention (guarantee 9). Every other valid checkpoint is deleted,
// manifest first (once it is gone the checkpoint no longer exists, whatever else remains).
// Damaged, torn and incomplete checkpoints are never deleted: they are rollback's to quarantine.
//
// Cost: which checkpoints count as valid is decided by a cheap check after each save (the
// manifest verified byte for byte, every member present at its recorded size), not by re-reading
// every kept byte; each checkpoint chosen for deletion is fully verified first, and one that
// fails is left in place for rollback. So the work per save is the manifests plus the bytes of
// what is deleted, not the whole store.
import { UsageError } from "../errors.ts";
import { type UserMeta, numericValue } from "../format/typed-meta.ts";
import { join } from "../path.ts";
import { checkCheckpoint, readManifest } from "./check.ts";
import { manifestName } from "./layout.ts";
import type { Store } from "./store.ts";

export interface KeepPolicy {
  /** Keep the newest `last` valid checkpoints (≥ 1). */
  last?: number;
  /** Keep every checkpoint whose step is a multiple of `every` (≥ 1). */
  every?: number;
  /** Keep the `n` best checkpoints by the numeric metadata value `key`. */
  best?: { key: string; mode: "min" | "max"; n: number };
}

const posInt = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 1;

/** A policy from `keep: n` (the newest n) or `keep: { … }`; a UsageError names what is wrong. */
export function parseKeepPolicy(keep: unknown, what = "keep"): KeepPolicy {
  if (typeof keep === "number") {
    if (!posInt(keep)) throw new UsageError(`${what} must be at least 1, got ${keep}`);
    return { last: keep };
  }
  if (typeof keep !== "object" || keep === null || Array.isArray(keep)) throw new UsageError(`${what} must be a number or { last?, every?, best? }`);
  const k = keep as Record<string, unknown>;
  for (const name of Object.keys(k)) if (!["last", "every", "best"].includes(name)) throw new UsageError(`${what}.${name} is not a retention rule (last, every, best)`);
  for (const name of ["last", "every"] as const) {
    if (k[name] !== undefined && !posInt(k[name])) throw new UsageError(`${what}.${name} must be an integer ≥ 1, got ${String(k[name])}`);
  }
  const best = k.best as Record<string, unknown> | undefined;
  if (best !== undefined) {
    if (typeof best !== "object" || best === null) throw new UsageError(`${what}.best must be { key, mode: "min" | "max", n }`);
    if (typeof best.key !== "string" || best.key === "") throw new UsageError(`${what}.best.key must be a metadata key`);
    if (best.mode !== "min" && best.mode !== "max") throw new UsageError(`${what}.best.mode must be "min" or "max", got ${String(best.mode)}`);
    if (!posInt(best.n)) throw new UsageError(`${what}.best.n must be an integer ≥ 1, got ${String(best.n)}`);
  }
  if (k.last === undefined && k.every === undefined && best === undefined) throw new UsageError(`${what} names no rule: give last, every or best`);
  return { last: k.last as number | undefined, every: k.every as number | undefined, best: best as KeepPolicy["best"] };
}

/**
 * The steps to keep among `valid` (newest first): the rules above, plus the newest. Pure, so
 * the policy is tested on its own.
 */
export function stepsToKeep(valid: { step: number; meta?: UserMeta }[], policy: KeepPolicy): Set<number> {
  const keep = new Set<number>();
  if (valid.length > 0) keep.add(valid[0]!.step);
  for (const c of valid.slice(0, policy.last ?? 0)) keep.add(c.step);
  if (policy.every !== undefined) for (const c of valid) if (c.step % policy.every === 0) keep.add(c.step);
  const best = policy.best;
  if (best) {
    const ranked = valid
      .map((c) => ({ step: c.step, v: numericValue(c.meta?.[best.key]) }))
      .filter((c): c is { step: number; v: number } => c.v !== undefined)
      .sort((a, b) => (best.mode === "min" ? a.v - b.v : b.v - a.v) || b.step - a.step);
    for (const c of ranked.slice(0, best.n)) keep.add(c.step);
  }
  return keep;
}

/** Applies `policy` to the store (the caller holds the writer lock); returns the steps deleted. */
export async function applyRetention(store: Store, policy: KeepPolicy): Promise<number[]> {
  const { fs, dir } = store;
  const valid: { step: number; meta: UserMeta; files: string[] }[] = [];
  for (const s of await store.steps()) {
    if (!s.files.includes(manifestName(s.step))) continue; // incomplete: not ours to delete here
    const { manifest } = await readManifest(fs, dir, s.step);
    if (!manifest) continue;
    let whole = true;
    for (const m of manifest.members) {
      if (m.inline) continue; // in the manifest: no file of its own
      const st = await fs.stat(join(dir, m.file));
      if (st?.size !== m.fileSize) { whole = false; break; }
    }
    if (whole) valid.push({ step: s.step, meta: manifest.meta, files: s.files });
  }
  const keep = stepsToKeep(valid, policy);
  const removed: number[] = [];
  for (const c of valid) {
    if (keep.has(c.step)) continue;
    // Deleted only once known valid, byte for byte: damage is rollback's to quarantine (guarantee 3).
    if ((await checkCheckpoint(fs, dir, c.step, c.files)).status !== "valid") continue;
    await fs.unlink(join(dir, manifestName(c.step)));
    for (const f of c.files) if (f !== manifestName(c.step)) await fs.unlink(join(dir, f));
    removed.push(c.step);
  }
  if (removed.length > 0) await fs.syncDir(dir);
  return removed;
}
