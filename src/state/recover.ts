// Recovery for durable state: the newest snapshot that loads AND whose log marker is still in
// the log, then every data record after that marker, in sequence order. A snapshot is usable
// only with its marker: the marker is the one place that says which records the snapshot holds
// (those before it) and which it does not (those after it). Without it, a fall back to an older
// snapshot with a longer suffix; with no usable snapshot, `initial` plus the whole log, which is
// possible only while the log still begins at sequence 1.
import { CkptError, CorruptionError, NoCheckpointError } from "../errors.ts";
import type { CheckpointInfo, Store } from "../store/store.ts";
import type { Log } from "../wal/log.ts";
import type { LogRecord } from "../wal/scan.ts";

/** The single member a snapshot checkpoint holds: the encoded state. */
export const STATE_MEMBER = "state";
/** Metadata `format` of a snapshot written by openState. */
export const STATE_FORMAT = "ckpt-state/1";

/** No snapshot is usable and the log no longer starts at sequence 1: the state cannot be rebuilt. */
export class StateRecoveryError extends CkptError {
  constructor(message: string) {
    super("ESTATE", message);
  }
}

/** What a snapshot's metadata says (strings on disk: Metadata is Record<string, string>). */
export interface SnapshotMeta {
  /** Sequence of the log marker written for this snapshot: the state is every record before it. */
  markSequence: number;
  /** The last data record the state contains (0: none). */
  lastSequence: number;
  /** Data records folded into the state since the log began. */
  changes: number;
}

export function encodeSnapshotMeta(m: SnapshotMeta): Record<string, string> {
  return {
    format: STATE_FORMAT,
    markSequence: String(m.markSequence),
    lastSequence: String(m.lastSequence),
    changes: String(m.changes),
  };
}

/** Parses our metadata; undefined for a checkpoint that is not one of our snapshots. */
export function decodeSnapshotMeta(
  meta: Record<string, string | number | boolean> | undefined,
): SnapshotMeta | undefined {
  if (!meta || meta.format !== STATE_FORMAT) return undefined;
  // Snapshots record these as text; typed metadata (a number) would come back as a number.
  const n = (s: unknown) => (typeof s === "string" && /^\d{1,16}$/.test(s) ? Number(s) : NaN);
  const m = { markSequence: n(meta.markSequence), lastSequence: n(meta.lastSequence), changes: n(meta.changes) };
  if (
    !Number.isSafeInteger(m.markSequence) || m.markSequence < 1 || !Number.isSafeInteger(m.lastSequence) ||
    m.lastSequence >= m.markSequence || !Number.isSafeInteger(m.changes)
  ) return undefined;
  return m;
}

export interface SkippedSnapshot {
  step: number;
  reason: string;
}

export interface RecoveryReport {
  /** The snapshot the state came from, or null: `initial` plus the whole log. */
  step: number | null;
  markSequence: number;
  /** Data records applied after the snapshot's marker. */
  replayed: number;
  /** Newer snapshots that could not be used, newest first, and why. */
  skipped: SkippedSnapshot[];
  /** The last data record in the recovered state (0: none). */
  lastSequence: number;
  /** Data records in the state since the log began. */
  changes: number;
  /** The highest snapshot step seen in the store or in a log marker: the next snapshot goes above it. */
  highestStep: number;
  ms: number;
}

/** Our snapshots in the store, newest first, with their parsed metadata (undefined: unreadable or foreign). */
export async function listSnapshots(
  store: Store,
  verify = false,
): Promise<(CheckpointInfo & { state?: SnapshotMeta })[]> {
  return (await store.list({ verify })).map((c) => ({ ...c, state: decodeSnapshotMeta(c.meta) }));
}

class MarkerMissing extends Error {}

/**
 * Folds the log's data records after `markSequence` into `value`. The record AT markSequence must
 * be the marker for `step` (markSequence 0: from the start, and the log must start at 1).
 * Throws MarkerMissing when it is not there, before applying anything past it.
 */
async function replayAfter<S>(
  log: Log,
  markSequence: number,
  step: number | null,
  value: S,
  apply: (s: S, c: Uint8Array) => S,
  markerSteps: (step: number) => void,
): Promise<{ value: S; replayed: number; lastSequence: number }> {
  let found = markSequence === 0;
  let first = true;
  let replayed = 0;
  let lastSequence = 0;
  const report = await log.replay({
    onRecord: (r: LogRecord) => {
      if (r.type === "marker" && r.step !== undefined) markerSteps(r.step);
      if (first && markSequence === 0 && r.sequence !== 1) {
        throw new StateRecoveryError(
          `${log.dir} begins at sequence ${r.sequence}: records before it were truncated and no snapshot that covers them can be loaded`,
        );
      }
      first = false;
      if (r.sequence < markSequence) return;
      if (r.sequence === markSequence) {
        if (r.type !== "marker" || r.step !== step) throw new MarkerMissing();
        found = true;
        return;
      }
      if (!found) throw new MarkerMissing();
      if (r.type !== "data") return;
      value = apply(value, r.payload);
      replayed++;
      lastSequence = r.sequence;
    },
  });
  // Opening the log for append refused mid-log damage and cut a torn tail, so a clean scan is
  // expected; anything else means the log changed under us.
  if (report.damage) {
    throw new StateRecoveryError(
      `${log.dir}: damage at sequence ${report.damage.sequence} (${report.damage.reason}) while replaying`,
    );
  }
  if (!found) throw new MarkerMissing();
  return { value, replayed, lastSequence };
}

/** Rebuilds the state from `store` and `log` (both open for writing; recovery reads only). */
export async function recover<S>(
  store: Store,
  log: Log,
  fresh: () => S,
  apply: (s: S, c: Uint8Array) => S,
  decode: (b: Uint8Array) => S,
): Promise<{ value: S; report: RecoveryReport }> {
  const t0 = performance.now();
  const snaps = await listSnapshots(store);
  let highestStep = snaps.reduce((m, s) => Math.max(m, s.step), 0);
  const seeStep = (s: number) => {
    if (s > highestStep) highestStep = s;
  };
  const skipped: SkippedSnapshot[] = [];
  for (const snap of snaps) {
    if (!snap.state) {
      skipped.push({ step: snap.step, reason: "no readable snapshot metadata" });
      continue;
    }
    let bytes: Uint8Array | undefined;
    try {
      bytes = (await store.load(snap.step)).members.get(STATE_MEMBER);
    } catch (err) {
      if (!(err instanceof CorruptionError || err instanceof NoCheckpointError)) throw err;
      skipped.push({ step: snap.step, reason: (err as Error).message });
      continue;
    }
    if (!bytes) {
      skipped.push({ step: snap.step, reason: `no '${STATE_MEMBER}' member` });
      continue;
    }
    try {
      const r = await replayAfter(log, snap.state.markSequence, snap.step, decode(bytes), apply, seeStep);
      const lastSequence = r.replayed > 0 ? r.lastSequence : snap.state.lastSequence;
      return {
        value: r.value,
        report: {
          step: snap.step,
          markSequence: snap.state.markSequence,
          replayed: r.replayed,
          skipped,
          lastSequence,
          changes: snap.state.changes + r.replayed,
          highestStep,
          ms: performance.now() - t0,
        },
      };
    } catch (err) {
      if (!(err instanceof MarkerMissing)) throw err;
      skipped.push({
        step: snap.step,
        reason: `its log marker (sequence ${snap.state.markSequence}) is not in the log`,
      });
    }
  }
  const r = await replayAfter(log, 0, null, fresh(), apply, seeStep);
  return {
    value: r.value,
    report: {
      step: null,
      markSequence: 0,
      replayed: r.replayed,
      skipped,
      lastSequence: r.lastSequence,
      changes: r.replayed,
      highestStep,
      ms: performance.now() - t0,
    },
  };
}
