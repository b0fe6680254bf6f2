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
// Checkpoints found damaged, torn or incomplete are never deleted: they are rollback's to quarantine.
//
// Cost (issue 14, item 2): no save re-reads the older checkpoints in full. Three kinds of
// knowledge, from strongest to weakest, each used only where it is safe:
//   1. The anchor: the newest checkpoint proven good *in this call*: the one the save just wrote
//      (every byte hashed as it was written, made durable before pruning), or, for a plain
//      prune, the newest one that passes a full check now. It is always kept, and nothing newer
//      than it is ever deleted (a newer one failed its full check: damage, rollback's to move).
//      So retention never deletes the newest good checkpoint on an assumption.
//   2. The Store's verified record (verified-record.ts): steps this Store committed or fully
//      checked, whose files still have the recorded names and sizes. Counted as valid without a
//      read.
//   3. The manifest's own checks: a manifest that verifies byte for byte (CRCs and SHA-256) and
//      every member present at its recorded size. Enough to count a step toward `last`.
// A step is read in full once, just before it is deleted, however it was counted: one that fails
// is left in place for rollback to quarantine (guarantee 3: a byte may have rotted since the
// record was made, and a damaged checkpoint is rollback's, never deleted).
// A step counted by 2 or 3 may hold a flipped byte that only a full read finds: then the window
// holds one good checkpoint fewer than asked, never none (the anchor). `latest`, `load` and
// `restore` do not use any of this: they read every byte they return, so they never choose a
// damaged checkpoint. Work per save: stats, the manifests of unrecorded steps, and the bytes of
// the steps being deleted (with `last: n`, one checkpoint per save), never of the ones kept.
import { UsageError } from "../errors.ts";
import { numericValue, type UserMeta } from "../format/typed-meta.ts";
import { join } from "../path.ts";
import { checkCheckpoint, readManifest } from "./check.ts";
import type { VerifiedRecord } from "./verified-record.ts";
import { manifestName } from "./layout.ts";
import type { StoreFiles } from "./store-context.ts";

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
  if (typeof keep !== "object" || keep === null || Array.isArray(keep)) {
    throw new UsageError(`${what} must be a number or { last?, every?, best? }`);
  }
  const k = keep as Record<string, unknown>;
  for (const name of Object.keys(k)) {
    if (!["last", "every", "best"].includes(name)) {
      throw new UsageError(`${what}.${name} is not a retention rule (last, every, best)`);
    }
  }
  for (const name of ["last", "every"] as const) {
    if (k[name] !== undefined && !posInt(k[name])) {
      throw new UsageError(`${what}.${name} must be an integer ≥ 1, got ${String(k[name])}`);
    }
  }
  const best = k.best as Record<string, unknown> | undefined;
  if (best !== undefined) {
    if (typeof best !== "object" || best === null) {
      throw new UsageError(`${what}.best must be { key, mode: "min" | "max", n }`);
    }
    if (typeof best.key !== "string" || best.key === "") {
      throw new UsageError(`${what}.best.key must be a metadata key`);
    }
    if (best.mode !== "min" && best.mode !== "max") {
      throw new UsageError(`${what}.best.mode must be "min" or "max", got ${String(best.mode)}`);
    }
    if (!posInt(best.n)) throw new UsageError(`${what}.best.n must be an integer ≥ 1, got ${String(best.n)}`);
  }
  if (k.last === undefined && k.every === undefined && best === undefined) {
    throw new UsageError(`${what} names no rule: give last, every or best`);
  }
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
  if (policy.every !== undefined) { for (const c of valid) if (c.step % policy.every === 0) keep.add(c.step); }
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

interface Counted {
  step: number;
  meta: UserMeta;
  files: string[];
  recorded: boolean;
}

/**
 * Applies `policy` to the store (the caller holds the writer lock); returns the steps deleted.
 * `justCommitted` is the step the calling save has just written and made durable (the anchor,
 * see above); `known` is the Store's verified record, which this call also updates.
 */
export async function applyRetention(
  store: StoreFiles,
  policy: KeepPolicy,
  known: VerifiedRecord,
  justCommitted?: number,
): Promise<number[]> {
  const { fs, dir } = store;
  const valid: Counted[] = [];
  let anchored = false;
  for (const s of await store.steps()) {
    if (!s.files.includes(manifestName(s.step))) continue; // incomplete: not ours to delete here
    if (!anchored && s.step !== justCommitted) {
      // Nothing proven good yet in this call: this step must be, before anything is kept for it.
      const r = await checkCheckpoint(fs, dir, s.step, s.files);
      if (r.status !== "valid") {
        known.forget(s.step);
        continue;
      }
      await known.checked(fs, dir, s.step, s.files, r.manifest!.meta);
      valid.push({ step: s.step, meta: r.manifest!.meta, files: s.files, recorded: true });
      anchored = true;
      continue;
    }
    anchored = true;
    const meta = await known.stillWhole(fs, dir, s.step, s.files);
    if (meta) {
      valid.push({ step: s.step, meta, files: s.files, recorded: true });
      continue;
    }
    const whole = await wholeByManifest(store, s.step);
    if (whole) valid.push({ step: s.step, meta: whole, files: s.files, recorded: false });
  }
  const keep = stepsToKeep(valid, policy); // valid[0] is the anchor: always kept
  const removed: number[] = [];
  for (const c of valid) {
    if (keep.has(c.step)) continue;
    // Checked byte for byte first, however it was counted: damage is rollback's (guarantee 3).
    if ((await checkCheckpoint(fs, dir, c.step, c.files)).status !== "valid") continue;
    await fs.unlink(join(dir, manifestName(c.step)));
    known.forget(c.step);
    for (const f of c.files) if (f !== manifestName(c.step)) await fs.unlink(join(dir, f));
    removed.push(c.step);
  }
  if (removed.length > 0) await fs.syncDir(dir);
  return removed;
}

/** The step's metadata if its manifest verifies and every member is present at its recorded size. */
async function wholeByManifest(store: StoreFiles, step: number): Promise<UserMeta | undefined> {
  const { manifest } = await readManifest(store.fs, store.dir, step);
  if (!manifest) return undefined;
  for (const m of manifest.members) {
    if (m.inline) continue; // in the manifest, which readManifest just verified: no file of its own
    const st = await store.fs.stat(join(store.dir, m.file));
    if (st?.size !== m.fileSize) return undefined;
  }
  return manifest.meta;
}
