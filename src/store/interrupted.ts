// Guarantee 8: interrupted saves are not damage. A step whose files exist but whose manifest
// does not never committed: no save of it was acknowledged (the manifest is the commit point),
// so its files are debris, not a damaged checkpoint.
//   - readers report it `incomplete`, or `in-progress` when it is the newest step and a live
//     process holds the writer lock (a save under way right now); neither is damage;
//   - the writer removes it when it takes the lock (nothing acknowledged is lost, and no other
//     writer can be mid-save: the lock is ours);
//   - a save that fails or is aborted before its commit removes its own files at once.
import type { DurableFs } from "../fs.ts";
import { attempt } from "../fs-util.ts";
import { join } from "../path.ts";
import type { Status } from "./check.ts";
import { manifestName } from "./layout.ts";
import { lockHolderAlive } from "../lock/lock.ts";

/** Only a committed checkpoint can be damaged. */
export function isDamage(status: Status): boolean {
  return status === "corrupt" || status === "torn";
}

export const STATUS_NOTE: Partial<Record<Status, string>> = {
  incomplete: "an interrupted save that never committed; removed by the next writer",
  "in-progress": "a save by a live writer that has not committed yet",
};

/**
 * With the writer lock held: removes the files of every step that has no manifest, saying so
 * through `warn`. Returns the steps removed. The directory is fsynced once if anything went, so
 * debris cannot reappear beside a later checkpoint that reuses its step number.
 */
export async function removeIncompleteSteps(
  fs: DurableFs,
  dir: string,
  steps: { step: number; files: string[] }[],
  warn: (m: string) => void,
): Promise<number[]> {
  const removed: number[] = [];
  for (const s of steps) {
    if (s.files.includes(manifestName(s.step))) continue;
    for (const f of s.files) await fs.unlink(join(dir, f));
    warn(
      `removed step ${s.step}'s ${s.files.length} file${
        s.files.length === 1 ? "" : "s"
      }: an interrupted save that never committed`,
    );
    removed.push(s.step);
  }
  if (removed.length > 0) await fs.syncDir(dir);
  return removed;
}

/**
 * A reader's view: the newest step, if incomplete while a live process holds the writer lock,
 * is that writer's save in progress. `selfHoldsLock`: the caller holds the lock itself, so no
 * other save can be running (and its own calls are serialized).
 */
export async function isInProgress(
  fs: DurableFs,
  dir: string,
  newest: { status?: Status } | undefined,
  selfHoldsLock: boolean,
): Promise<boolean> {
  return newest?.status === "incomplete" && !selfHoldsLock && (await lockHolderAlive(fs, dir));
}

/** Best-effort removal of the files a failed or aborted save created (never a committed manifest). */
export async function removeSaveFiles(fs: DurableFs, paths: string[]): Promise<void> {
  for (const p of paths) await attempt(() => fs.unlink(p));
}
