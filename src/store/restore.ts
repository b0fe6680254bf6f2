// Restores a checkpoint into a directory, verifying while reading. Crash-safe and all or
// nothing: members stream into private temp files; only when every byte has verified are they
// fsynced and renamed to their saved names, then the directory is fsynced. On damage the temps
// are removed and nothing appears under a member's name.
import { FsError, UsageError } from "../errors.ts";
import type { FileHandle } from "../fs.ts";
import { attempt, mkdirDurable } from "../fs-util.ts";
import { dirname, join } from "../path.ts";
import { tempName } from "../protocol.ts";
import { readManifest } from "./check.ts";
import { assertValid, type Store } from "./store.ts";

interface Pending { name: string; tmp: string; h: FileHandle; pos: number; closed: boolean }

/** `onProgress(done, total)` counts payload bytes written so far against the checkpoint's total. */
export async function restoreCheckpoint(
  store: Store, step: number, outDir: string, onProgress?: (done: number, total: number) => void,
): Promise<{ step: number; files: string[]; bytes: number }> {
  const fs = store.fs;
  const st = await fs.stat(outDir);
  let created = false;
  if (st) {
    if (!st.isDirectory) throw new FsError("ENOTDIR", "restore", outDir);
    if ((await fs.readdir(outDir)).length > 0) throw new UsageError(`output directory ${outDir} is not empty`);
  } else {
    // Every level of a new out-dir (a/b/c) is made durable, not only its last entry.
    created = (await mkdirDurable(fs, outDir)).length > 0;
  }
  const pending = new Map<string, Pending>();
  const open = async (name: string): Promise<Pending> => {
    let p = pending.get(name);
    if (!p) {
      const tmp = tempName(fs, join(outDir, name));
      const h = await fs.open(tmp, { write: true, create: true, exclusive: true, mode: 0o600 });
      p = { name, tmp, h, pos: 0, closed: false };
      pending.set(name, p);
    }
    return p;
  };
  let bytes = 0;
  let written = 0;
  // Only for the progress total: the check below reads and verifies the manifest again.
  // A torn step has no manifest: the check below reports it; the total is then simply unknown.
  const total = (await readManifest(fs, store.dir, step).catch(() => undefined))?.manifest?.members.reduce((n, m) => n + m.payloadSize, 0) ?? 0;
  try {
    const report = await store.check(step, async (m, payload) => {
      const p = await open(m.name);
      await p.h.write(payload, p.pos);
      p.pos += payload.length;
      written += payload.length;
      onProgress?.(written, total);
    });
    assertValid(report);
    const members = report.manifest!.members;
    for (const m of members) {
      const p = await open(m.name);
      await p.h.sync();
      p.closed = true;
      await p.h.close();
      await fs.chmod(p.tmp, 0o644);
      bytes += p.pos;
    }
    for (const m of members) {
      const p = pending.get(m.name)!;
      await fs.rename(p.tmp, join(outDir, m.name));
      pending.delete(m.name);
    }
    await fs.syncDir(outDir);
    if (created) await fs.syncDir(dirname(outDir));
    return { step, files: members.map((m) => m.name), bytes };
  } finally {
    for (const p of pending.values()) {
      if (!p.closed) await attempt(() => p.h.close());
      await attempt(() => fs.unlink(p.tmp));
    }
  }
}
