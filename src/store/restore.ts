// Restores a checkpoint into a directory, verifying while reading. The store may be untrusted
// (CONTRACT guarantee 7), so a member name is data until it has passed the name rule:
// - the member table is read and every name checked (src/format/member-name.ts) before anything
//   is created; a bad or duplicate name makes the checkpoint corrupt (bad-name), nothing written;
// - a path is built only as root + validated segments, so it can never leave the output
//   directory; nested names get their subdirectories, each created one level at a time and
//   checked with lstat to be a real directory (a planted symlink is refused, never written
//   through); every file is created O_EXCL | O_NOFOLLOW with the source file's recorded
//   permission bits, or 0o666 for in-memory data (the umask applies either way, as tar without -p);
// - out-dir absent: everything is staged in a fresh directory BESIDE it (same parent, fixed-length
//   name `.ckpt-restore-<pid>-<random>`), files and directories fsynced, then the staging
//   directory is renamed onto out-dir once and the parent fsynced: all or nothing, even across
//   a power loss (a crash may leave the staging directory behind, never a partial out-dir);
// - out-dir exists and is empty: each member streams into a short fixed-length temp file in its
//   final directory and is renamed to its name only when every byte of the checkpoint verified;
// - on any failure everything this call created is removed (temps, files, directories, the
//   staging directory, the parents it made for out-dir).
// Out-dir itself (and its parents) is the caller's own path and is resolved like any path the
// caller names; the rule is about what the store's contents can reach.
// Residual race: a local process that swaps a directory we just checked for a symlink between the
// lstat and the next open could redirect one O_EXCL create; closing that needs openat(2)-style
// calls no runtime adapter offers. It is not reachable from the store's contents.
import { pace } from "../pace.ts";
import { FlushBehind } from "./flush-behind.ts";
import { CorruptionError, DurabilityError, FsError, UsageError } from "../errors.ts";
import type { DurableFs, FileHandle } from "../fs.ts";
import { attempt, mkdirDurable } from "../fs-util.ts";
import type { MemberEntry } from "../format/manifest.ts";
import { readContainerMetadata } from "../format/container-meta.ts";
import { memberNamesProblem } from "../format/member-name.ts";
import { dirname, join } from "../path.ts";
import { readManifest } from "./check.ts";
import { manifestName, memberName } from "./layout.ts";
import { MODE_KEY, restoredMode } from "./member.ts";
import { assertValid } from "./corruption.ts";
import type { CheckingStore } from "./store-context.ts";

/** Where one member goes, relative to the root being filled (staging dir or out-dir). */
/**
 * size: the payload size the manifest claims (untrusted: only a hint for how to do the I/O).
 * mode: an inline member's recorded permission bits (it has no member file to take them from).
 */
interface Target {
  rel: string;
  written: string;
  file: string;
  size: number;
  mode?: number;
  h?: FileHandle;
  flush?: FlushBehind;
  pos: number;
  open: boolean;
}

interface Planned {
  segs: string[];
  file: string;
  size: number;
  mode?: number;
}

/** The members' relative paths and the directories they need, parents before children. */
function plan(
  members: MemberEntry[],
  step: number,
  manifestPath: string,
): { files: Map<string, Planned>; dirs: string[] } {
  // readManifest already refused bad names; checked again here because restore is the code that
  // turns names into paths, and must hold that invariant by itself.
  const bad = memberNamesProblem(members.map((m) => m.name));
  if (bad) {
    throw new CorruptionError(
      manifestPath,
      0,
      "bad-name",
      `member ${bad.index} has a bad name ${JSON.stringify(bad.name)}: ${bad.problem}`,
    );
  }
  const files = new Map<string, Planned>();
  const dirs: string[] = [];
  const seen = new Set<string>();
  for (const [i, m] of members.entries()) {
    const segs = m.name.split("/");
    // The store file is the one the layout names, never the manifest's `file` string (the
    // check refuses a manifest whose file names differ; until then it is untrusted too).
    // An inline member has no file: the mode its entry recorded is the one to create it with.
    files.set(
      m.name,
      m.inline
        ? {
          segs,
          file: "",
          size: m.payloadSize,
          mode: restoredMode(m.mode ? { [MODE_KEY]: m.mode.toString(8) } : undefined),
        }
        : { segs, file: memberName(step, i), size: m.payloadSize },
    );
    for (let i = 1; i < segs.length; i++) {
      const d = segs.slice(0, i).join("/");
      if (!seen.has(d)) {
        seen.add(d);
        dirs.push(d);
      }
    }
  }
  return { files, dirs };
}

const rand = () => Math.floor(Math.random() * 36 ** 8).toString(36).padStart(8, "0");

/** Insists that `path` is a real directory, not a symbolic link to one (lstat). */
async function assertRealDir(fs: DurableFs, path: string): Promise<void> {
  const st = await fs.stat(path, { noFollow: true });
  if (!st?.isDirectory) {
    throw new FsError(
      st?.isSymlink ? "ELOOP" : "ENOTDIR",
      "restore",
      path,
      "not a real directory (a symbolic link?): refusing to write through it",
    );
  }
}

/**
 * The mode a member's file is created with: the source file's permission bits recorded at save
 * (0o666 for in-memory data), the umask applied by the OS as for any new file. Read from the
 * member's metadata ahead of its scan; the scan then verifies those bytes, and a value that
 * changed in between could only be other low-9 permission bits.
 */
async function recordedMode(fs: DurableFs, path: string): Promise<number> {
  const h = await fs.open(path);
  try {
    return restoredMode(await readContainerMetadata(h, path));
  } finally {
    await attempt(() => h.close());
  }
}

/** rm -r that never follows a link: a link is unlinked itself, never what it points to. */
async function removeTree(fs: DurableFs, path: string): Promise<void> {
  const st = await fs.stat(path, { noFollow: true });
  if (!st) return;
  if (!st.isDirectory) return fs.unlink(path);
  for (const name of await fs.readdir(path)) await removeTree(fs, join(path, name));
  await fs.rmdir(path);
}

/**
 * Restores the newest valid checkpoint, reading each candidate once: the newest is restored
 * while it is verified (no latest() pass before it); if it turns out not valid, restoreCheckpoint
 * has removed what it wrote and the next older one is tried. Undefined when none is valid.
 * Any error but the checkpoint's own damage (a CorruptionError) ends the search.
 */
export async function restoreNewestValid(
  store: CheckingStore,
  outDir: string,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ step: number; files: string[]; bytes: number } | undefined> {
  for (const s of await store.steps()) {
    await pace(signal, "the restore");
    try {
      return await restoreCheckpoint(store, s.step, outDir, onProgress, signal);
    } catch (err) {
      if (!(err instanceof CorruptionError)) throw err;
    }
  }
  return undefined;
}

/**
 * `onProgress(done, total)` counts payload bytes written so far against the checkpoint's total.
 * `signal` is honoured before every chunk written: pace (src/pace.ts) lets the event loop turn
 * (every PACE_MS) for a SIGINT handler to abort the restore, which then removes everything it
 * created (the finally below).
 */
export async function restoreCheckpoint(
  store: CheckingStore,
  step: number,
  outDir: string,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ step: number; files: string[]; bytes: number }> {
  const fs = store.fs;
  const manifestPath = join(store.dir, manifestName(step));
  // 1. The member table, names checked, before anything is created. Unreadable or a bad name:
  //    the full check says why (CorruptionError, exit 1).
  const first = await readManifest(fs, store.dir, step).catch(() => undefined);
  if (!first?.manifest) {
    assertValid(await store.check(step));
    throw new CorruptionError(manifestPath, 0, "bad-manifest", `checkpoint ${step}: manifest unreadable`);
  }
  const { files, dirs } = plan(first.manifest.members, step, manifestPath);
  const total = first.manifest.members.reduce((n, m) => n + m.payloadSize, 0);

  // 2. Where to write: a fresh staging directory beside out-dir, or the empty out-dir itself.
  const st = await fs.stat(outDir);
  if (st) {
    if (!st.isDirectory) throw new FsError("ENOTDIR", "restore", outDir);
    if ((await fs.readdir(outDir)).length > 0) throw new UsageError(`output directory ${outDir} is not empty`);
  }
  const staged = !st;
  const parent = dirname(outDir);
  const madeParents: string[] = [];
  let root = outDir;
  const madeDirs: string[] = []; // relative to root, parents first
  const targets = new Map<string, Target>();
  let done = false;
  let rootOurs = false;
  try {
    if (staged) {
      // Every level of out-dir's parent chain this call creates is fsynced into its own parent.
      madeParents.push(...(await mkdirDurable(fs, parent)));
      root = join(parent, `.ckpt-restore-${fs.pid()}-${rand()}`);
      if (await fs.stat(root, { noFollow: true })) {
        throw new FsError("EEXIST", "restore", root, "staging directory name taken");
      }
      try {
        await fs.mkdir(root);
      } catch (err) {
        // The user asked for out-dir: a parent that refuses entries is reported under its name.
        if (err instanceof FsError && !(err instanceof DurabilityError)) {
          throw new FsError(err.errno, "mkdir", outDir, undefined, err);
        }
        throw err;
      }
      rootOurs = true;
      await assertRealDir(fs, root);
    }
    // One level at a time, parents first, each checked after its mkdir: mkdir -p succeeds on
    // an existing symlink to a directory, so the lstat is what refuses a planted link.
    for (const d of dirs) {
      const path = join(root, d);
      const made = !(await fs.stat(path, { noFollow: true }));
      if (made) await fs.mkdir(path);
      await assertRealDir(fs, path);
      if (made) madeDirs.push(d); // only once it is known to be a directory of ours, not a link
    }
    const taken = new Set(files.keys());
    for (const [name, { segs, file, size, mode }] of files) {
      const dir = segs.slice(0, -1).join("/");
      let written = name; // staging is private: files go straight to their names
      if (!staged) {
        do written = join(dir, `.ckpt-tmp-${fs.pid()}-${rand()}`); while (taken.has(written));
        taken.add(written);
      }
      targets.set(name, { rel: name, written, file, size, mode, pos: 0, open: false });
    }
    const create = async (t: Target): Promise<Target> => {
      if (!t.h) {
        const mode = t.mode ?? await recordedMode(fs, join(store.dir, t.file));
        t.h = await fs.open(join(root, t.written), {
          write: true,
          create: true,
          exclusive: true,
          noFollow: true,
          mode,
          sizeHint: t.size,
        });
        t.flush = FlushBehind.for(fs, t.h, t.size);
        t.open = true;
      }
      return t;
    };
    const finish = async (t: Target): Promise<void> => {
      await t.flush!.syncFile(signal, "the restore"); // an abort does not wait for it: the file is removed
      t.open = false; // a failed close is not retried: the fd number may be reused
      await t.h!.close();
    };

    // 3. Stream every member in while the store verifies it. Members arrive one after another,
    //    so each file is fsynced and closed once its last byte is in: a checkpoint of 100,000
    //    members holds one descriptor at a time, not 100,000.
    let written = 0;
    const report = await store.check(step, async (m, payload) => {
      await pace(signal, "the restore");
      const t = targets.get(m.name);
      // The check re-reads the manifest: if it changed under us, only planned paths are used.
      if (!t) {
        throw new CorruptionError(
          manifestPath,
          0,
          "bad-name",
          `member ${JSON.stringify(m.name)} was not in the manifest read first (changed during restore)`,
        );
      }
      await create(t);
      await t.h!.write(payload, t.pos);
      t.flush!.wrote(payload.length);
      t.pos += payload.length;
      if (t.pos === m.payloadSize) await finish(t);
      written += payload.length;
      onProgress?.(written, total);
    }, { signal });
    assertValid(report);
    const members = report.manifest!.members;
    if (members.length !== files.size || members.some((m) => !files.has(m.name))) {
      throw new CorruptionError(
        manifestPath,
        0,
        "bad-manifest",
        `checkpoint ${step}: the manifest changed during restore`,
      );
    }

    // 4. Durable, then visible.
    let bytes = 0;
    for (const m of members) {
      await pace(signal, "the restore");
      const t = await create(targets.get(m.name)!); // an empty member never reached the sink
      if (t.open) await finish(t);
      bytes += t.pos;
    }
    if (!staged) {
      for (const t of targets.values()) {
        await pace(signal, "the restore");
        await fs.rename(join(root, t.written), join(root, t.rel));
        t.written = t.rel;
      }
    }
    for (const d of [...dirs].reverse()) await fs.syncDir(join(root, d));
    await fs.syncDir(root);
    if (staged) {
      await fs.rename(root, outDir);
      root = outDir;
      await fs.syncDir(parent);
    }
    done = true;
    return { step, files: members.map((m) => m.name), bytes };
  } finally {
    if (!done) {
      for (const t of targets.values()) if (t.open) await attempt(() => t.h!.close());
      if (rootOurs) {
        // The staging directory is private: all of it goes, whatever appeared in it.
        await attempt(() => removeTree(fs, root));
      } else {
        // In a user's out-dir only what this call created goes.
        for (const t of targets.values()) if (t.h) await attempt(() => fs.unlink(join(root, t.written)));
        for (const d of [...madeDirs].reverse()) await attempt(() => fs.rmdir(join(root, d)));
      }
      for (const d of [...madeParents].reverse()) await attempt(() => fs.rmdir(d));
    }
  }
}
