// A read-only look at a durable-state directory: its snapshots (verified), the log's range and
// what opening it would do — the same choice recover() makes (newest snapshot that verifies and
// whose marker is in the log, else `initial` plus the whole log while it still starts at 1) —
// without changing a byte (the store is opened readOnly, the log only scanned).
import { FsError } from "../errors.ts";
import { requireFs, type WithFs } from "../fs-arg.ts";
import { join } from "../path.ts";
import { openStore } from "../store/store.ts";
import { replayLog } from "../wal/log.ts";
import { listSnapshots } from "./recover.ts";

export interface SnapshotView {
  step: number;
  status: string;
  bytes: number;
  createdAt?: number;
  /** From the snapshot's metadata (absent when unreadable or not a state snapshot). */
  markSequence?: number;
  lastSequence?: number;
  changes?: number;
  /** Whether the log still holds this snapshot's marker. */
  markerInLog: boolean;
}

export interface StateInspection {
  dir: string;
  snapshots: SnapshotView[];
  log: {
    segments: number;
    segmentNames: string[];
    firstSequence: number | null;
    lastSequence: number;
    dataRecords: number;
    markers: number;
    tornTailBytes: number;
    damage: { sequence: number; offset: number; reason: string; segment: string } | null;
  };
  recovery: {
    possible: boolean;
    /** The snapshot recovery would load, or null for `initial`. */
    step: number | null;
    /** Data records it would replay after that snapshot's marker. */
    replay: number;
    skipped: { step: number; reason: string }[];
    reason?: string;
  };
}

export async function inspectState(dir: string, options: WithFs): Promise<StateInspection> {
  const fs = requireFs(options, "inspectState");
  const st = await fs.stat(dir);
  if (!st) throw new FsError("ENOENT", "open state", dir);
  if (!st.isDirectory) throw new FsError("ENOTDIR", "open state", dir);
  const snapDir = join(dir, "snap");
  const walDir = join(dir, "wal");

  // One pass over the log: per marker, the data records before it, so the replay length after
  // any marker is a subtraction.
  const markerAt = new Map<number, { sequence: number; dataBefore: number }>(); // step -> last marker
  let dataRecords = 0;
  let markers = 0;
  let firstSequence: number | null = null;
  let report = null as Awaited<ReturnType<typeof replayLog>> | null;
  if (await fs.stat(walDir)) {
    report = await replayLog(walDir, {
      fs,
      onRecord: (r) => {
        firstSequence ??= r.sequence;
        if (r.type === "data") dataRecords++;
        else {
          markers++;
          if (r.step !== undefined) markerAt.set(r.step, { sequence: r.sequence, dataBefore: dataRecords });
        }
      },
    });
  }

  const snapshots: SnapshotView[] = [];
  if (await fs.stat(snapDir)) {
    const store = await openStore(snapDir, { fs, readOnly: true });
    try {
      for (const s of await listSnapshots(store, true)) {
        const m = markerAt.get(s.step);
        snapshots.push({
          step: s.step,
          status: s.status ?? "unknown",
          bytes: s.bytes,
          createdAt: s.createdAt,
          markSequence: s.state?.markSequence,
          lastSequence: s.state?.lastSequence,
          changes: s.state?.changes,
          markerInLog: !!m && m.sequence === s.state?.markSequence,
        });
      }
    } finally {
      await store.close();
    }
  }

  const recovery: StateInspection["recovery"] = { possible: false, step: null, replay: 0, skipped: [] };
  if (report?.damage) {
    recovery.reason =
      `the log is damaged at sequence ${report.damage.sequence}: opening refuses it (run \`ckpt log repair ${walDir}\`)`;
  } else {
    const chosen = snapshots.find((s) => {
      const why = s.markSequence === undefined
        ? "no readable snapshot metadata"
        : s.status !== "valid"
        ? `snapshot is ${s.status}`
        : !s.markerInLog
        ? `its log marker (sequence ${s.markSequence}) is not in the log`
        : undefined;
      if (why) recovery.skipped.push({ step: s.step, reason: why });
      return why === undefined;
    });
    if (chosen) {
      recovery.possible = true;
      recovery.step = chosen.step;
      recovery.replay = dataRecords - markerAt.get(chosen.step)!.dataBefore;
    } else if (firstSequence === null || firstSequence === 1) {
      recovery.possible = true;
      recovery.replay = dataRecords;
    } else {
      recovery.reason =
        `no usable snapshot and the log begins at sequence ${firstSequence}: the records before it are gone`;
    }
  }
  return {
    dir,
    snapshots,
    log: {
      segments: report?.segments.length ?? 0,
      segmentNames: report?.segments.map((s) => s.name) ?? [],
      firstSequence,
      lastSequence: report?.lastSequence ?? 0,
      dataRecords,
      markers,
      tornTailBytes: report?.truncatedBytes ?? 0,
      damage: report?.damage ?? null,
    },
    recovery,
  };
}
