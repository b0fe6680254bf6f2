// What a Store already knows about its checkpoints, so that pruning does not re-read every byte
// of every older checkpoint on every save (issue 14):
// - A checkpoint this Store committed (its bytes were hashed as they were written), or fully
//   verified as valid, is recorded with the name and size of each of its files. While those are
//   unchanged (one stat each) it counts as valid without a read. A file rewritten in place with
//   the same size is noticed by the next verify, not here: prune trusts what this Store wrote.
// - A checkpoint prune is about to delete as superseded is judged by its manifest's own checks
//   (the manifest's CRCs and SHA-256, names) and its member files' sizes, not by re-hashing
//   payloads: it is superseded by `keep` newer checkpoints that are known or checked valid. A
//   torn or structurally damaged one is still left to rollback, as before (guarantee 3).
import type { DurableFs } from "../fs.ts";
import { join } from "../path.ts";
import { readManifest } from "./check.ts";
import { manifestName } from "./layout.ts";

export class KnownValid {
  private readonly steps = new Map<number, string>();

  /** Records `step`, just committed by this Store, as valid: its files and their sizes (no I/O). */
  committed(step: number, files: { file: string; size: number }[]): void {
    this.steps.set(step, files.map((f) => `${f.file}:${f.size}`).sort().join("/"));
  }

  /** Records `step`, just checked valid in full, with its files as they are now. */
  async verified(fs: DurableFs, dir: string, step: number, files: string[]): Promise<void> {
    const sig = await signature(fs, dir, files);
    if (sig !== undefined) this.steps.set(step, sig);
  }

  /** Whether `step` was recorded valid and its files have not changed since (stat only). */
  async has(fs: DurableFs, dir: string, step: number, files: string[]): Promise<boolean> {
    const known = this.steps.get(step);
    if (known === undefined) return false;
    if (known === (await signature(fs, dir, files))) return true;
    this.steps.delete(step);
    return false;
  }

  forget(step: number): void {
    this.steps.delete(step);
  }
}

/** Names and sizes of a step's files, or undefined if one is missing. */
async function signature(fs: DurableFs, dir: string, files: string[]): Promise<string | undefined> {
  const parts: string[] = [];
  for (const f of files) {
    const st = await fs.stat(join(dir, f));
    if (!st?.isFile) return undefined;
    parts.push(`${f}:${st.size}`);
  }
  return parts.sort().join("/");
}

/**
 * A superseded checkpoint's check before it is deleted: committed (a manifest that verifies), and
 * every member file the manifest lists present with the size it records. Reads the manifest and
 * stats the members; never a member's payload.
 */
export async function intactBySize(fs: DurableFs, dir: string, step: number, files: string[]): Promise<boolean> {
  if (!files.includes(manifestName(step))) return false;
  const { manifest } = await readManifest(fs, dir, step);
  if (!manifest) return false;
  if (files.length !== manifest.members.length + 1) return false;
  for (const m of manifest.members) {
    if (!files.includes(m.file)) return false;
    if ((await fs.stat(join(dir, m.file)))?.size !== m.fileSize) return false;
  }
  return true;
}
