// The checkpoint store. A save writes every member (fsynced, except under `unsafe`) and then the
// manifest through the chosen protocol: the manifest is written last and is the commit point,
// so no valid manifest means no checkpoint. Recovery never trusts presence: `latest` walks steps
// newest first and returns the first whose manifest and members all verify.
import { FsError, NoCheckpointError, UsageError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { requireFs, type WithFs } from "../fs-arg.ts";
import { attempt, mkdirDurable } from "../fs-util.ts";
import { DEFAULT_CHUNK_SIZE, INLINE_FORMAT_VERSION } from "../format/constants.ts";
import { writeFormatVersion } from "../format/write-version.ts";
import { encodeManifestPaced, type Manifest, type MemberEntry } from "../format/manifest.ts";
import type { UserMeta } from "../format/typed-meta.ts";
import { checkMemberNames } from "../format/member-name.ts";
import { join } from "../path.ts";
import { checkProtocol, defaultProtocol, type Protocol, tempOwner, writeFileWithProtocol } from "../protocol.ts";
import {
  checkCheckpoint,
  type CheckpointReport,
  type Finding,
  type PayloadSink,
  type ReadControl,
  readManifest,
} from "./check.ts";
import { checkStep, LOCK_NAME, manifestName, memberName, parseName, QUARANTINE_DIR } from "./layout.ts";
import { CheckpointBuilder } from "./builder.ts";
import { assertValid, StoreCorruption } from "./corruption.ts";
import { StoreLock } from "../lock/lock.ts";
import { Serial } from "./serial.ts";
import { type MemberSource, writeMember } from "./member.ts";
import { checkChunkSize, checkSaveLimits } from "./save-limits.ts";
import { checkInlineMax, chooseInline, INLINE_MAX, readInlineMember } from "./inline.ts";
import { restoreCheckpoint, restoreNewestValid } from "./restore.ts";
import { inLanes } from "../lanes.ts";
import { hashWorkerPolicy, WORKER_MIN_BYTES } from "../hash-stream.ts";
import {
  checkOpenArgs,
  checkOptions,
  checkReadOptions,
  checkSaveArgs,
  checkStepArg,
  checkString,
} from "../check-args.ts";
import { checkAborted } from "../abort.ts";
import { pace } from "../pace.ts";
import { isDamage, isInProgress, removeIncompleteSteps, removeSaveFiles } from "./interrupted.ts";
import { openMemberStream, type OpenOptions } from "./open-member.ts";
import { applyRetention, type KeepPolicy, parseKeepPolicy } from "./retention.ts";
import { VerifiedRecord } from "./verified-record.ts";
import type { SaveOptions, SaveResult } from "./save-types.ts";
import type { StepFiles } from "./store-context.ts";

export type { SaveOptions, SaveResult } from "./save-types.ts";

export interface StoreOptions {
  fs?: DurableFs;
  /** Default protocol for save (default atomic_dirsync; atomic_nodirsync where the fs cannot fsync a directory, OPFS). */
  protocol?: Protocol;
  /** Open for reading only: no lock, no cleanup, save/rollback/prune refused. */
  readOnly?: boolean;
  /** Create the directory if missing (default: true unless readOnly). */
  create?: boolean;
  /** Payload bytes per chunk (block) of member files. */
  chunkSize?: number;
  /**
   * Members of at most this many bytes are stored inside the manifest (docs/FORMAT.md, "Inline
   * members"; default INLINE_MAX), up to INLINE_TOTAL_MAX bytes per checkpoint; 0 turns it off.
   */
  inlineMax?: number;
  /** Human notes (stale lock taken over, temp files removed). */
  onWarning?: (message: string) => void;
  /**
   * Retention applied after every save (src/store/retention.ts): the newest `last` valid, every
   * step that is a multiple of `every`, the `n` best by metadata `key`; other valid checkpoints
   * are deleted. A number n means { last: n }. A save's own `keep` replaces it for that save.
   */
  keep?: number | KeepPolicy;
}

export interface CheckpointInfo {
  step: number;
  createdAt?: number;
  /** Member names (from the manifest; empty if it is unreadable). */
  files: string[];
  /** Bytes on disk, all files of the step. */
  bytes: number;
  meta?: UserMeta;
  status?: CheckpointReport["status"];
}

/** Options of the long reads (load, verify): abort and progress in bytes (docs/ENGINE.md). */
export interface ReadOptions {
  signal?: AbortSignal;
  /** Bytes read and checked so far, of the total: load counts payload bytes, verify every file byte. */
  onProgress?: (done: number, total: number) => void;
}

export interface VerifyReport {
  ok: boolean;
  checkpoints: CheckpointReport[];
  findings: Finding[];
}
export interface RollbackReport {
  newestValid: number | null;
  moved: { step: number; status: string; files: string[] }[];
}

export class Store {
  private highest = 0;
  /** save, rollback, prune and close run one at a time (src/store/serial.ts). */
  private readonly serial = new Serial();

  private readonly retention: KeepPolicy | undefined;
  /** Steps this Store proved good (committed or fully checked): retention's, never latest's. */
  private readonly verified = new VerifiedRecord();

  private constructor(
    readonly dir: string,
    readonly fs: DurableFs,
    private readonly opts: StoreOptions,
    private lock?: StoreLock,
  ) {
    this.retention = opts.keep === undefined ? undefined : parseKeepPolicy(opts.keep, "openStore: options.keep");
  }

  static async open(dir: string, opts: StoreOptions & WithFs): Promise<Store> {
    checkOpenArgs(dir, opts);
    const fs = requireFs(opts, "openStore");
    if (!opts.readOnly) {
      fs.pid();
      fs.hostname();
    } // the lock's facts first: a runtime that refuses them (Deno without --allow-sys) leaves nothing behind
    if (opts.chunkSize !== undefined) checkChunkSize(opts.chunkSize); // before the directory is created
    if (opts.inlineMax !== undefined) checkInlineMax(opts.inlineMax);
    if (opts.keep !== undefined) parseKeepPolicy(opts.keep, "openStore: options.keep"); // likewise
    const st = await fs.stat(dir);
    if (!st) {
      if (opts.readOnly || opts.create === false) throw new FsError("ENOENT", "open store", dir);
      await mkdirDurable(fs, dir); // every level it creates is durable (guarantee 10)
    } else if (!st.isDirectory) throw new FsError("ENOTDIR", "open store", dir);
    const warn = opts.onWarning ?? (() => {});
    const lock = opts.readOnly ? undefined : await StoreLock.acquire(fs, dir, warn);
    const store = new Store(dir, fs, opts, lock);
    try {
      // Before the step count: a never-acknowledged step's number may be used again.
      if (lock) await removeIncompleteSteps(fs, dir, await store.steps(), warn);
      const steps = await store.steps();
      store.highest = steps.length > 0 ? steps[0]!.step : 0;
      if (lock) await store.removeDeadTemps(warn);
    } catch (err) {
      await lock?.release();
      throw err;
    }
    return store;
  }

  /** Steps present (valid, damaged or torn; not quarantined), newest first. */
  async steps(): Promise<StepFiles[]> {
    const byStep = new Map<number, string[]>();
    for (const name of await this.fs.readdir(this.dir)) {
      const p = parseName(name);
      if (!p) continue;
      const list = byStep.get(p.step) ?? [];
      list.push(name);
      byStep.set(p.step, list);
    }
    return [...byStep.entries()].sort((a, b) => b[0] - a[0]).map(([step, files]) => ({ step, files: files.sort() }));
  }

  /**
   * With the writer lock held no other writer is live, so every temp file of ours in the store
   * is dead: it belonged to a save that crashed. Only names matching our temp pattern go.
   */
  private async removeDeadTemps(warn: (m: string) => void): Promise<void> {
    for (const name of await this.fs.readdir(this.dir)) {
      if (tempOwner(name) === undefined) continue;
      await this.fs.unlink(join(this.dir, name));
      warn(`removed a dead temp file: ${name}`);
    }
    // Writes no readdir shows (an S3 multipart upload of a killed writer) are just as dead.
    for (
      const note of (await this.fs.dropUnfinishedWrites?.(
        this.dir,
        (n) => parseName(n) !== undefined || tempOwner(n) !== undefined,
      )) ?? []
    ) warn(note);
  }

  private writable(what: string): void {
    if (!this.lock) throw new UsageError(`${what} needs a writable store (opened readOnly)`);
  }

  async save(members: MemberSource[], options: SaveOptions = {}): Promise<SaveResult> {
    checkSaveArgs(members, options);
    return this.serial.run(() => this.saveNow(members, options));
  }

  private async saveNow(members: MemberSource[], options: SaveOptions): Promise<SaveResult> {
    this.writable("save");
    const { signal, onProgress } = options;
    checkAborted(signal, "the save");
    if (members.length === 0) throw new UsageError("a checkpoint needs at least one member");
    // Every name, uniqueness and file/directory clashes: refused before the first byte is written.
    checkMemberNames(members.map((m) => m.name));
    const protocol = options.protocol ?? this.opts.protocol ?? defaultProtocol(this.fs);
    checkProtocol(this.fs, protocol); // before the first byte is written
    let step = this.highest + 1;
    if (options.step !== undefined) {
      if (checkStep(options.step) <= this.highest) {
        throw new UsageError(`step ${options.step} is not above the highest step present (${this.highest})`);
      }
      step = options.step;
    }
    checkStep(step);
    const chunkSize = this.opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    // Every limit (metadata, chunk size, member sizes, …) before the first byte is written.
    const sizes = await checkSaveLimits({
      fs: this.fs,
      members,
      step,
      chunkSize,
      meta: options.meta ?? {},
      protocol,
      keep: options.keep,
    });
    // The step is taken before the first byte is written: this Store never reuses it, even
    // after a failed save removed its files (the next writer to open the store may).
    this.highest = step;
    const createdAt = Date.now();
    // Two large members are written at a time, so that one is hashed on the hash worker while
    // this thread hashes the other (src/hash-stream.ts); small ones go one by one, in order.
    // Inline members need a v2 (tree-layout) manifest: a process writing version 1 (kept readable
    // by an older ckptkit) stores every member in a file of its own.
    // The version is read once per save (it comes from the environment): the manifest is
    // encoded in the version its inline choice was made for.
    const version = writeFormatVersion();
    const inlineMax = version >= INLINE_FORMAT_VERSION ? (this.opts.inlineMax ?? INLINE_MAX) : 0;
    const inline = chooseInline(members, sizes, inlineMax);
    const total = sizes.reduce((n, size) => n + size, 0);
    let done = 0;
    const onBytes = onProgress && ((n: number) => onProgress(done += n, total));
    // An inline member has no file: nothing of it to remove if the save fails.
    const paths = members.map((_, i) => join(this.dir, memberName(step, i)));
    const filePaths = paths.filter((_, i) => !inline[i]);
    const manifestPath = join(this.dir, manifestName(step));
    let committing = false;
    try {
      const entries: MemberEntry[] = await inLanes(members.length, this.twoLargeMembers(sizes) ? 2 : 1, async (i) => {
        if (!inline[i]) {
          return writeMember({
            fs: this.fs,
            path: paths[i]!,
            source: members[i]!,
            step,
            index: i,
            chunkSize,
            createdAt,
            sync: protocol !== "unsafe",
            signal,
            onBytes,
          });
        }
        // pace() returns nothing to wait for in the common case: awaited only when it yields.
        const turn = pace(signal, "the save");
        if (turn) await turn;
        const e = await readInlineMember(this.fs, members[i]!, sizes[i]!, step);
        onBytes?.(e.payloadSize);
        return e;
      });
      const manifest: Manifest = { step, createdAt, meta: options.meta ?? {}, members: entries };
      // The last moment an abort can undo the save: once the manifest write starts it completes.
      const manifestBytes = await encodeManifestPaced(manifest, signal, version);
      const turn = pace(signal, "the save");
      if (turn) await turn;
      committing = true;
      // The commit point: members are durable (except under unsafe) before this write begins.
      await writeFileWithProtocol(this.fs, manifestPath, manifestBytes, protocol);
      return await this.afterCommit(manifest, manifestBytes.length, protocol, options.keep);
    } catch (err) {
      // Never committed: every file this save created goes (the step was fresh under our lock,
      // so each file of it is ours; the manifest's temp is removed by the protocol itself). A
      // manifest in place means the commit happened and only a later step failed: keep it all.
      if (!committing || !(await this.fs.stat(manifestPath).catch(() => null))) {
        await removeSaveFiles(this.fs, filePaths);
      }
      throw err;
    }
  }

  private async afterCommit(
    manifest: Manifest,
    manifestSize: number,
    protocol: Protocol,
    keep: number | undefined,
  ): Promise<SaveResult> {
    const { step, members: entries } = manifest;
    const bytes = entries.reduce((n, e) => n + e.payloadSize, 0);
    // Every byte was hashed as it was written: retention counts this step without a read.
    this.verified.committed(
      step,
      new Map([...entries.map((e): [string, number] => [e.file, e.fileSize]), [manifestName(step), manifestSize]]),
      manifest.meta,
    );
    const policy = keep !== undefined ? { last: keep } : this.retention;
    if (policy) {
      if (protocol !== "atomic_dirsync") await this.makeDurable(step, entries);
      await applyRetention(this, policy, this.verified, step); // anchored on this step (retention.ts)
    }
    return { step, files: entries.map((e) => e.name), bytes, protocol };
  }

  /** Whether at least two members are large enough for the hash worker (never when it is off). */
  private twoLargeMembers(sizes: number[]): boolean {
    return sizes.filter((size) => size >= WORKER_MIN_BYTES).length >= 2 && hashWorkerPolicy() !== "off";
  }

  /** Forces a checkpoint written under a weaker protocol to disk (before pruning older ones). */
  private async makeDurable(step: number, entries: MemberEntry[]): Promise<void> {
    for (const f of [...entries.filter((e) => !e.inline).map((e) => e.file), manifestName(step)]) {
      const h = await this.fs.open(join(this.dir, f), { write: true });
      try {
        await h.sync();
      } finally {
        await attempt(() => h.close());
      }
    }
    await this.fs.syncDir(this.dir);
  }

  async check(step: number, sink?: PayloadSink, io?: ReadControl): Promise<CheckpointReport> {
    const entry = (await this.steps()).find((s) => s.step === step);
    if (!entry) throw new NoCheckpointError(`no checkpoint with step ${step} in ${this.dir}`);
    return checkCheckpoint(this.fs, this.dir, step, entry.files, sink, io);
  }

  /**
   * Full scan of every checkpoint. `options.onProgress` counts file bytes checked; the older
   * form, a function, counts checkpoints (done, total).
   */
  async verify(options: ReadOptions | ((done: number, total: number) => void) = {}): Promise<VerifyReport> {
    const { signal, onProgress } = typeof options === "function"
      ? { signal: undefined, onProgress: undefined }
      : options;
    const perCheckpoint = typeof options === "function" ? options : undefined;
    checkAborted(signal, "the verify");
    const steps = await this.steps();
    let total = 0;
    let bytes = 0;
    if (onProgress) {
      for (const s of steps) {
        for (const f of s.files) {
          await pace(signal, "the verify");
          total += (await this.fs.stat(join(this.dir, f)))?.size ?? 0;
        }
      }
    }
    const io: ReadControl = { signal, onBytes: onProgress && ((n) => onProgress(bytes += n, total)) };
    // Two checkpoints at a time: with the hash worker, a store of single-member checkpoints
    // also uses both cores (src/hash-stream.ts); the report keeps step order.
    let done = 0;
    const checkpoints = await inLanes(steps.length, 2, async (i) => {
      const r = await checkCheckpoint(this.fs, this.dir, steps[i]!.step, steps[i]!.files, undefined, io);
      perCheckpoint?.(++done, steps.length);
      return r;
    });
    if (await isInProgress(this.fs, this.dir, checkpoints[0], !!this.lock)) checkpoints[0]!.status = "in-progress";
    // Only damage to committed checkpoints is a finding of the store (guarantee 8).
    const findings = checkpoints.flatMap((c) => (isDamage(c.status) ? c.findings : []));
    return { ok: findings.length === 0, checkpoints, findings };
  }

  async list(options: { verify?: boolean } = {}): Promise<CheckpointInfo[]> {
    checkOptions(options, "list: options");
    const out: CheckpointInfo[] = [];
    for (const s of await this.steps()) {
      await pace();
      let bytes = 0;
      for (const f of s.files) bytes += (await this.fs.stat(join(this.dir, f)))?.size ?? 0;
      if (options.verify) {
        const r = await checkCheckpoint(this.fs, this.dir, s.step, s.files);
        out.push({
          step: s.step,
          createdAt: r.manifest?.createdAt,
          files: r.manifest?.members.map((m) => m.name) ?? [],
          bytes,
          meta: r.manifest?.meta,
          status: r.status,
        });
      } else {
        const { manifest } = s.files.includes(manifestName(s.step))
          ? await readManifest(this.fs, this.dir, s.step)
          : { manifest: undefined };
        out.push({
          step: s.step,
          createdAt: manifest?.createdAt,
          files: manifest?.members.map((m) => m.name) ?? [],
          bytes,
          meta: manifest?.meta,
        });
      }
    }
    if (options.verify && (await isInProgress(this.fs, this.dir, out[0], !!this.lock))) out[0]!.status = "in-progress";
    return out;
  }

  /** The newest checkpoint that fully verifies, or null. */
  async latest(options: { signal?: AbortSignal } = {}): Promise<(CheckpointInfo & { manifest: Manifest }) | null> {
    for (const s of await this.steps()) {
      const r = await checkCheckpoint(this.fs, this.dir, s.step, s.files, undefined, { signal: options.signal });
      if (r.status !== "valid") continue;
      const m = r.manifest!;
      return {
        step: s.step,
        createdAt: m.createdAt,
        files: m.members.map((e) => e.name),
        bytes: m.members.reduce((n, e) => n + e.payloadSize, 0),
        meta: m.meta,
        status: "valid",
        manifest: m,
      };
    }
    return null;
  }

  /**
   * Loads a checkpoint's members into memory, verifying every byte (newest valid by default).
   * One pass: the newest checkpoint is read and checked at once, and dropped for the next one
   * if it turns out not valid. Progress counts payload bytes of the checkpoint being read.
   */
  async load(
    step?: number,
    options: ReadOptions = {},
  ): Promise<{ step: number; members: Map<string, Uint8Array>; meta: UserMeta }> {
    checkStepArg(step, "load: step");
    const { signal, onProgress } = options;
    checkAborted(signal, "the load");
    const steps = (await this.steps()).filter((s) => step === undefined || s.step === step);
    if (step !== undefined && steps.length === 0) {
      throw new NoCheckpointError(`no checkpoint with step ${step} in ${this.dir}`);
    }
    for (const s of steps) {
      if (!s.files.includes(manifestName(s.step))) continue; // incomplete: never a checkpoint
      const got = await this.loadOne(s, signal, onProgress);
      if (got.report.status === "valid") return { step: s.step, members: got.members, meta: got.report.manifest!.meta };
      if (step !== undefined) assertValid(got.report);
    }
    if (step !== undefined) throw new NoCheckpointError(`no checkpoint with step ${step} in ${this.dir}`);
    throw new NoCheckpointError(`no valid checkpoint in ${this.dir}`);
  }

  private async loadOne(
    s: StepFiles,
    signal?: AbortSignal,
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ report: CheckpointReport; members: Map<string, Uint8Array> }> {
    let total = 0;
    let done = 0;
    if (onProgress) {
      total = (await readManifest(this.fs, this.dir, s.step, { signal })).manifest?.members.reduce((n, m) =>
        n + m.payloadSize, 0) ?? 0;
    }
    const buffers = new Map<string, { buf: Uint8Array; pos: number }>();
    const report = await checkCheckpoint(this.fs, this.dir, s.step, s.files, (m, payload) => {
      let b = buffers.get(m.name);
      // checkMember held the member's header to m.payloadSize before this first chunk, and the
      // kernel bounded that header by the real file size: the allocation is justified.
      if (!b) buffers.set(m.name, b = { buf: new Uint8Array(m.payloadSize), pos: 0 });
      if (b.pos + payload.length <= b.buf.length) b.buf.set(payload, b.pos);
      b.pos += payload.length;
      onProgress?.(done += payload.length, total);
    }, { signal });
    const members = new Map<string, Uint8Array>();
    if (report.status === "valid") {
      for (const e of report.manifest!.members) members.set(e.name, buffers.get(e.name)?.buf ?? new Uint8Array(0));
    }
    return { report, members };
  }

  /**
   * One member of the newest valid (or the given) checkpoint as a stream, verified chunk by
   * chunk: a damaged chunk errors the stream before any of its bytes are delivered.
   */
  open(name: string, options: OpenOptions = {}): ReadableStream<Uint8Array> {
    checkString(name, "open: name");
    checkReadOptions(options, "open");
    return openMemberStream(this, name, options);
  }

  /** Writes a checkpoint's members into outDir (absent or empty), all or nothing. */
  async restore(
    outDir: string,
    options: { step?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
  ): Promise<{ step: number; files: string[]; bytes: number }> {
    checkString(outDir, "restore: outDir");
    checkReadOptions(options, "restore");
    const { step, signal, onProgress } = options;
    if (step !== undefined && !(await this.steps()).some((s) => s.step === step)) {
      throw new NoCheckpointError(`no checkpoint with step ${step} in ${this.dir}`);
    }
    checkAborted(signal, "the restore");
    // Progress is reported after every chunk written: the abort check rides on it, and the
    // restore's own cleanup removes its temp files when it throws.
    const progress = signal
      ? (done: number, total: number) => {
        checkAborted(signal, "the restore");
        onProgress?.(done, total);
      }
      : onProgress;
    if (step !== undefined) return restoreCheckpoint(this, step, outDir, progress, signal);
    // The newest valid one, verified while it is restored (read once, not checked first).
    const r = await restoreNewestValid(this, outDir, progress, signal);
    if (!r) throw new NoCheckpointError(`no valid checkpoint in ${this.dir}`);
    return r;
  }

  /**
   * Moves every damaged or torn checkpoint newer than the newest valid one (all of them if none
   * is valid) into .quarantine/. Never deletes; never touches a valid checkpoint.
   */
  rollback(): Promise<RollbackReport> {
    return this.serial.run(() => this.rollbackNow());
  }

  private async rollbackNow(): Promise<RollbackReport> {
    this.writable("rollback");
    const { checkpoints } = await this.verify();
    const newestValid = checkpoints.find((c) => c.status === "valid")?.step ?? null;
    // Incomplete steps are not here: the lock holder removed them on open (never acknowledged).
    const victims = checkpoints.filter((c) => isDamage(c.status) && (newestValid === null || c.step > newestValid));
    if (victims.length === 0) return { newestValid, moved: [] };
    const qdir = join(this.dir, QUARANTINE_DIR);
    if (!(await this.fs.stat(qdir))) {
      await this.fs.mkdir(qdir);
      await this.fs.syncDir(this.dir);
    }
    const taken = new Set(await this.fs.readdir(qdir));
    const moved: RollbackReport["moved"] = [];
    for (const v of victims) {
      // Members first, the manifest last: a crash in between leaves a committed (torn) step that
      // the next rollback quarantines, never manifest-less files the next writer would delete.
      for (
        const f of [...v.files].sort((a, b) => Number(a === manifestName(v.step)) - Number(b === manifestName(v.step)))
      ) {
        let target = f;
        for (let k = 1; taken.has(target); k++) target = `${f}.${k}`;
        taken.add(target);
        await this.fs.rename(join(this.dir, f), join(qdir, target));
      }
      moved.push({ step: v.step, status: v.status, files: v.files });
    }
    // The quarantine's new entries first, then the store's removals: a crash in between leaves
    // a file in both places' durable state at worst, never in neither.
    await this.fs.syncDir(qdir);
    await this.fs.syncDir(this.dir);
    // Quarantined steps no longer count: the next save takes the step after the newest present.
    this.highest = (await this.steps())[0]?.step ?? 0;
    return { newestValid, moved };
  }

  /** Deletes valid checkpoints beyond the newest `keep` (≥ 1). Damaged ones are left to rollback. */
  prune(keep: number): Promise<{ removed: number[] }> {
    return this.serial.run(() => this.pruneNow(keep));
  }

  private async pruneNow(keep: number): Promise<{ removed: number[] }> {
    this.writable("prune");
    if (!Number.isSafeInteger(keep) || keep < 1) throw new UsageError(`keep must be at least 1, got ${keep}`);
    // Anchored on the newest step that passes a full check now; older ones by what the store
    // already knows (src/store/retention.ts says why that is safe).
    return { removed: await applyRetention(this, { last: keep }, this.verified) };
  }

  /** Assemble a checkpoint member by member; see CheckpointBuilder. */
  builder(): CheckpointBuilder {
    this.writable("builder");
    return new CheckpointBuilder(this);
  }

  /** `await using store = await openStore(dir)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      const lock = this.lock;
      this.lock = undefined;
      await lock?.release();
    });
  }

  get lockPath(): string {
    return join(this.dir, LOCK_NAME);
  }
}

export { assertValid, StoreCorruption };

export function openStore(dir: string, options: StoreOptions & WithFs): Promise<Store> {
  return Store.open(dir, options);
}
