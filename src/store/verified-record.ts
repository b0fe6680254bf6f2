// What a writable Store already knows about its checkpoints, so retention need not read them
// again (issue 14, item 2). A step is recorded when this Store proved every byte of it good:
// it committed the step itself (every byte hashed as it was written, the manifest written last)
// or a full check in this process found it valid. The record keeps the names and sizes of the
// step's files as they were then, and the step's metadata (for `keep.best`).
//
// What the record may be used for, and why it is safe:
// - It lives in memory and only while this Store holds the writer lock, so no other ckptkit
//   writer can have changed a recorded step since (guarantee 9). What can still happen is damage
//   from outside (bit rot, a person, another tool). A file removed, added, cut short or grown is
//   caught by the stat below (no read); a flipped byte inside a file is not.
// - So the record is never trusted to choose what to *keep as the newest good checkpoint*: the
//   retention code (retention.ts) anchors on a checkpoint proven good in the same call. It is
//   trusted only for steps older than that anchor: to count one toward `last`, and to delete one
//   without reading it. A recorded step that rotted is at worst one good checkpoint fewer in the
//   window, or a superseded (older than a proven-good one) checkpoint deleted: guarantee 3.
// - `latest`, `load`, `restore`, `open` and `verify` never consult it: they read every byte they
//   return or report, so a damaged checkpoint is never chosen by them.
import type { DurableFs } from "../fs.ts";
import type { UserMeta } from "../format/typed-meta.ts";
import { join } from "../path.ts";

interface Entry {
  sizes: Map<string, number>;
  meta: UserMeta;
}

export class VerifiedRecord {
  private readonly known = new Map<number, Entry>();

  /** Records `step`, just written by this Store, with its files' sizes as written (no I/O). */
  committed(step: number, sizes: Map<string, number>, meta: UserMeta): void {
    this.known.set(step, { sizes, meta });
  }

  /**
   * Records `step` as proven good now, with the sizes its files have now (stat only). A file that
   * is gone already makes the step unrecorded: the record never describes files it did not see.
   */
  async checked(fs: DurableFs, dir: string, step: number, files: string[], meta: UserMeta): Promise<void> {
    const sizes = new Map<string, number>();
    for (const f of files) {
      const st = await fs.stat(join(dir, f));
      if (!st) {
        this.known.delete(step);
        return;
      }
      sizes.set(f, st.size);
    }
    this.known.set(step, { sizes, meta });
  }

  forget(step: number): void {
    this.known.delete(step);
  }

  /**
   * The recorded metadata of `step` if its files are exactly the recorded ones at the recorded
   * sizes; undefined (and the entry dropped) otherwise, or if the step was never recorded.
   */
  async stillWhole(fs: DurableFs, dir: string, step: number, files: string[]): Promise<UserMeta | undefined> {
    const e = this.known.get(step);
    if (!e) return undefined;
    let same = files.length === e.sizes.size;
    for (const f of files) {
      if (!same) break;
      const size = e.sizes.get(f);
      same = size !== undefined && (await fs.stat(join(dir, f)))?.size === size;
    }
    if (!same) this.known.delete(step);
    return same ? e.meta : undefined;
  }
}
