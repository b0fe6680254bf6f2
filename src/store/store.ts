// The checkpoint store. A save writes every member (fsynced, except under `unsafe`) and then the
// manifest through the chosen protocol: the manifest is written last and is the commit point,
// so no valid manifest means no checkpoint. Recovery never trusts presence: `latest` walks steps
// newest first and returns the first whose manifest and members all verify.
import { CorruptionError, FsError, NoCheckpointError, UsageError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { attempt, mkdirDurable } from "../fs-util.ts";
import { DEFAULT_CHUNK_SIZE } from "../format/constants.ts";
import { type Manifest, type MemberEntry, encodeManifest } from "../format/manifest.ts";
import type { Metadata } from "../format/metadata.ts";
import { join } from "../path.ts";
import { type Protocol, tempOwner, writeFileWithProtocol } from "../protocol.ts";
import { defaultFs } from "../../adapters/detect.ts";
import { type CheckpointReport, type Finding, type PayloadSink, checkCheckpoint, readManifest } from "./check.ts";
import { LOCK_NAME, QUARANTINE_DIR, checkMemberName, checkStep, manifestName, memberName, parseName } from "./layout.ts";
import { CheckpointBuilder } from "./builder.ts";
import { StoreLock } from "./lock.ts";
import { type MemberSource, writeMember } from "./member.ts";
import { checkChunkSize, checkSaveLimits } from "./save-limits.ts";
import { restoreCheckpoint } from "./restore.ts";
import { inLanes } from "../lanes.ts";
import { WORKER_MIN_BYTES, hashWorkerPolicy } from "../hash-stream.ts";

export interface StoreOptions {
  fs?: DurableFs;
  /** Default protocol for save (default atomic_dirsync). */
  protocol?: Protocol;
  /** Open for reading only: no lock, no cleanup, save/rollback/prune refused. */
  readOnly?: boolean;
  /** Create the directory if missing (default: true unless readOnly). */
  create?: boolean;
  /** Payload bytes per chunk (block) of member files. */
  chunkSize?: number;
  /** Human notes (stale lock taken over, temp files removed). */
  onWarning?: (message: string) => void;
}

export interface SaveOptions {
  step?: number;
  meta?: Metadata;
  protocol?: Protocol;
  /** After the commit is durable, keep only the newest `keep` valid checkpoints. */
  keep?: number;
}

export interface SaveResult { step: number; files: string[]; bytes: number; protocol: Protocol }

export interface CheckpointInfo {
  step: number;
  createdAt?: number;
  /** Member names (from the manifest; empty if it is unreadable). */
  files: string[];
  /** Bytes on disk, all files of the step. */
  bytes: number;
  meta?: Metadata;
  status?: CheckpointReport["status"];
}

export interface VerifyReport { ok: boolean; checkpoints: CheckpointReport[]; findings: Finding[] }
export interface RollbackReport { newestValid: number | null; moved: { step: number; status: string; files: string[] }[] }

interface StepFiles { step: number; files: string[] }

export class Store {
  private highest = 0;

  private constructor(readonly dir: string, readonly fs: DurableFs, private readonly opts: StoreOptions, private lock?: StoreLock) {}

  static async open(dir: string, opts: StoreOptions = {}): Promise<Store> {
    const fs = opts.fs ?? defaultFs();
    if (opts.chunkSize !== undefined) checkChunkSize(opts.chunkSize); // before the directory is created
    const st = await fs.stat(dir);
    if (!st) {
      if (opts.readOnly || opts.create === false) throw new FsError("ENOENT", "open store", dir);
      await mkdirDurable(fs, dir); // every level it creates is durable (guarantee 10)
    } else if (!st.isDirectory) throw new FsError("ENOTDIR", "open store", dir);
    const warn = opts.onWarning ?? (() => {});
    const lock = opts.readOnly ? undefined : await StoreLock.acquire(fs, dir, warn);
    const store = new Store(dir, fs, opts, lock);
    try {
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
  }

  private writable(what: string): void {
    if (!this.lock) throw new UsageError(`${what} needs a writable store (opened readOnly)`);
  }

  async save(members: MemberSource[], options: SaveOptions = {}): Promise<SaveResult> {
    this.writable("save");
    if (members.length === 0) throw new UsageError("a checkpoint needs at least one member");
    const names = new Set<string>();
    for (const m of members) {
      if (names.has(checkMemberName(m.name))) throw new UsageError(`member name '${m.name}' appears twice`);
      names.add(m.name);
    }
    const protocol = options.protocol ?? this.opts.protocol ?? "atomic_dirsync";
    let step = this.highest + 1;
    if (options.step !== undefined) {
      if (checkStep(options.step) <= this.highest) throw new UsageError(`step ${options.step} is not above the highest step present (${this.highest})`);
      step = options.step;
    }
    checkStep(step);
    const chunkSize = this.opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    // Every limit (metadata, chunk size, member sizes, …) before the first byte is written.
    const sizes = await checkSaveLimits({ fs: this.fs, members, step, chunkSize, meta: options.meta ?? {}, protocol, keep: options.keep });
    // The step is taken before the first byte is written: a failed save leaves debris that
    // counts as present (torn), and the next save moves past it.
    this.highest = step;
    const createdAt = Date.now();
    // Two large members are written at a time, so that one is hashed on the hash worker while
    // this thread hashes the other (src/hash-stream.ts); small ones go one by one, in order.
    const lanes = this.twoLargeMembers(sizes) ? 2 : 1;
    const entries: MemberEntry[] = await inLanes(members.length, lanes, (i) => writeMember({
      fs: this.fs, path: join(this.dir, memberName(step, i)), source: members[i]!, step, index: i, chunkSize, createdAt, sync: protocol !== "unsafe",
    }));
    const manifest: Manifest = { step, createdAt, meta: options.meta ?? {}, members: entries };
    // The commit point: members are durable (except under unsafe) before this write begins.
    await writeFileWithProtocol(this.fs, join(this.dir, manifestName(step)), encodeManifest(manifest), protocol);
    const bytes = entries.reduce((n, e) => n + e.payloadSize, 0);
    if (options.keep !== undefined) {
      if (protocol !== "atomic_dirsync") await this.makeDurable(step, entries);
      await this.prune(options.keep);
    }
    return { step, files: entries.map((e) => e.name), bytes, protocol };
  }

  /** Whether at least two members are large enough for the hash worker (never when it is off). */
  private twoLargeMembers(sizes: number[]): boolean {
    if (hashWorkerPolicy() === "off") return false;
    return sizes.filter((size) => size >= WORKER_MIN_BYTES).length >= 2;
  }

  /** Forces a checkpoint written under a weaker protocol to disk (before pruning older ones). */
  private async makeDurable(step: number, entries: MemberEntry[]): Promise<void> {
    for (const f of [...entries.map((e) => e.file), manifestName(step)]) {
      const h = await this.fs.open(join(this.dir, f), { write: true });
      try {
        await h.sync();
      } finally {
        await attempt(() => h.close());
      }
    }
    await this.fs.syncDir(this.dir);
  }

  async check(step: number, sink?: PayloadSink): Promise<CheckpointReport> {
    const entry = (await this.steps()).find((s) => s.step === step);
    if (!entry) throw new NoCheckpointError(`no checkpoint with step ${step} in ${this.dir}`);
    return checkCheckpoint(this.fs, this.dir, step, entry.files, sink);
  }

  async verify(onProgress?: (done: number, total: number) => void): Promise<VerifyReport> {
    const steps = await this.steps();
    // Two checkpoints at a time: with the hash worker, a store of single-member checkpoints
    // also uses both cores (src/hash-stream.ts); the report keeps step order.
    let done = 0;
    const checkpoints = await inLanes(steps.length, 2, async (i) => {
      const r = await checkCheckpoint(this.fs, this.dir, steps[i]!.step, steps[i]!.files);
      onProgress?.(++done, steps.length);
      return r;
    });
    const findings = checkpoints.flatMap((c) => c.findings);
    return { ok: findings.length === 0, checkpoints, findings };
  }

  async list(options: { verify?: boolean } = {}): Promise<CheckpointInfo[]> {
    const out: CheckpointInfo[] = [];
    for (const s of await this.steps()) {
      let bytes = 0;
      for (const f of s.files) bytes += (await this.fs.stat(join(this.dir, f)))?.size ?? 0;
      if (options.verify) {
        const r = await checkCheckpoint(this.fs, this.dir, s.step, s.files);
        out.push({ step: s.step, createdAt: r.manifest?.createdAt, files: r.manifest?.members.map((m) => m.name) ?? [], bytes, meta: r.manifest?.meta, status: r.status });
      } else {
        const { manifest } = s.files.includes(manifestName(s.step)) ? await readManifest(this.fs, this.dir, s.step) : { manifest: undefined };
        out.push({ step: s.step, createdAt: manifest?.createdAt, files: manifest?.members.map((m) => m.name) ?? [], bytes, meta: manifest?.meta });
      }
    }
    return out;
  }

  /** The newest checkpoint that fully verifies, or null. */
  async latest(): Promise<(CheckpointInfo & { manifest: Manifest }) | null> {
    for (const s of await this.steps()) {
      const r = await checkCheckpoint(this.fs, this.dir, s.step, s.files);
      if (r.status !== "valid") continue;
      const m = r.manifest!;
      return { step: s.step, createdAt: m.createdAt, files: m.members.map((e) => e.name), bytes: m.members.reduce((n, e) => n + e.payloadSize, 0), meta: m.meta, status: "valid", manifest: m };
    }
    return null;
  }

  /** Loads a checkpoint's members into memory, verifying every byte (newest valid by default). */
  async load(step?: number): Promise<{ step: number; members: Map<string, Uint8Array>; meta: Metadata }> {
    const target = step ?? (await this.latest())?.step;
    if (target === undefined) throw new NoCheckpointError(`no valid checkpoint in ${this.dir}`);
    const buffers = new Map<string, { buf: Uint8Array; pos: number }>();
    const report = await this.check(target, (m, payload) => {
      let b = buffers.get(m.name);
      // checkMember held the member's header to m.payloadSize before this first chunk, and the
      // kernel bounded that header by the real file size: the allocation is justified.
      if (!b) buffers.set(m.name, (b = { buf: new Uint8Array(m.payloadSize), pos: 0 }));
      if (b.pos + payload.length <= b.buf.length) b.buf.set(payload, b.pos);
      b.pos += payload.length;
    });
    assertValid(report);
    const members = new Map<string, Uint8Array>();
    for (const e of report.manifest!.members) members.set(e.name, buffers.get(e.name)?.buf ?? new Uint8Array(0));
    return { step: target, members, meta: report.manifest!.meta };
  }

  /** Writes a checkpoint's members into outDir (absent or empty), all or nothing. */
  async restore(
    outDir: string, options: { step?: number; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ step: number; files: string[]; bytes: number }> {
    const step = options.step ?? (await this.latest())?.step;
    if (step === undefined) throw new NoCheckpointError(`no valid checkpoint in ${this.dir}`);
    if (!(await this.steps()).some((s) => s.step === step)) throw new NoCheckpointError(`no checkpoint with step ${step} in ${this.dir}`);
    return restoreCheckpoint(this, step, outDir, options.onProgress);
  }

  /**
   * Moves every damaged or torn checkpoint newer than the newest valid one (all of them if none
   * is valid) into .quarantine/. Never deletes; never touches a valid checkpoint.
   */
  async rollback(): Promise<RollbackReport> {
    this.writable("rollback");
    const { checkpoints } = await this.verify();
    const newestValid = checkpoints.find((c) => c.status === "valid")?.step ?? null;
    const victims = checkpoints.filter((c) => c.status !== "valid" && (newestValid === null || c.step > newestValid));
    if (victims.length === 0) return { newestValid, moved: [] };
    const qdir = join(this.dir, QUARANTINE_DIR);
    if (!(await this.fs.stat(qdir))) {
      await this.fs.mkdir(qdir);
      await this.fs.syncDir(this.dir);
    }
    const taken = new Set(await this.fs.readdir(qdir));
    const moved: RollbackReport["moved"] = [];
    for (const v of victims) {
      for (const f of v.files) {
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
  async prune(keep: number): Promise<{ removed: number[] }> {
    this.writable("prune");
    if (!Number.isSafeInteger(keep) || keep < 1) throw new UsageError(`keep must be at least 1, got ${keep}`);
    const valid: StepFiles[] = [];
    for (const s of await this.steps()) {
      if ((await checkCheckpoint(this.fs, this.dir, s.step, s.files)).status === "valid") valid.push(s);
    }
    const removed: number[] = [];
    for (const s of valid.slice(keep)) {
      // Manifest first: once it is gone the checkpoint no longer exists, whatever else remains.
      await this.fs.unlink(join(this.dir, manifestName(s.step)));
      for (const f of s.files) if (f !== manifestName(s.step)) await this.fs.unlink(join(this.dir, f));
      removed.push(s.step);
    }
    if (removed.length > 0) await this.fs.syncDir(this.dir);
    return { removed };
  }

  /** Assemble a checkpoint member by member; see CheckpointBuilder. */
  builder(): CheckpointBuilder {
    this.writable("builder");
    return new CheckpointBuilder(this);
  }

  async close(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  get lockPath(): string {
    return join(this.dir, LOCK_NAME);
  }
}

export function assertValid(report: CheckpointReport): void {
  if (report.status === "valid") return;
  const f = report.findings[0]!;
  throw new StoreCorruption(report, `checkpoint ${report.step} is ${report.status}: ${f.message}`);
}


export class StoreCorruption extends CorruptionError {
  constructor(readonly report: CheckpointReport, message: string) {
    const f = report.findings[0]!;
    super(f.file, f.offset, f.kind, message);
  }
}

export function openStore(dir: string, options: StoreOptions = {}): Promise<Store> {
  return Store.open(dir, options);
}
