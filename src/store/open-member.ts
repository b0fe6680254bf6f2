// store.open(name, { step }): one member of a checkpoint as a ReadableStream, verified chunk by
// chunk (docs/ENGINE.md "Verified reads"). The member file is scanned as `verify` scans it; a
// chunk is delivered only once its header has checked and its payload's CRC-32 equals both the
// one stored beside it and the one the manifest recorded for that block, and (v2) its SHA-256
// leaf equals the stored leaf list's entry: a list whose root the scan checked against the
// trailer's and the manifest's before reading the first chunk (format/tree-reader.ts). v1 has one
// file-wide SHA-256, known only at the end: a v1 stream whose digest differs errors after its
// last chunk. An inline member (stored in the manifest) is checked against its SHA-256 whole,
// before its one chunk is delivered.
// Invariant: no byte of a chunk that failed a check is ever enqueued.
//
// Back-pressure (src/pull.ts): the stream has a high-water mark of 0 and the scan reads the next
// chunk only when the consumer asks for it. Cancelling the stream stops the scan, which closes
// the member file.
//
// Read once (issue 14, item 2). With a step, that checkpoint's member is streamed as above. Without
// one, the newest valid checkpoint is found without reading the member twice: newest first, a
// candidate's other members are checked in full (checkCheckpoint with this member's file left
// out of the listing: it must come back valid but for that one missing member), then this member
// is streamed, verified as it goes. A damage found before the first chunk is delivered makes the
// candidate not valid and the next older one is tried, exactly as latest() would have; a damage
// found after some chunks went out ends the stream with a StoreCorruption (the bytes delivered
// are the saved prefix; nothing of a damaged chunk is ever delivered).
import { checkAborted } from "../abort.ts";
import { checkOptionalFunction } from "../check-args.ts";
import { CorruptionError, NoCheckpointError } from "../errors.ts";
import type { MemberEntry } from "../format/manifest.ts";
import { checkCheckpoint, checkMember, type Finding, readManifest } from "./check.ts";
import { manifestName, memberName } from "./layout.ts";
import { StoreCorruption } from "./corruption.ts";
import type { StoreFiles } from "./store-context.ts";
import { pullFrom, streamFrom } from "../pull.ts";

export interface OpenOptions {
  /** The checkpoint to read from (default: the newest valid one). */
  step?: number;
  /** Aborting errors the stream with an AbortError and closes the member file. */
  signal?: AbortSignal;
  /** Called once the checkpoint is chosen, before the member's first byte: its step. */
  onStep?: (step: number) => void;
  /** Payload bytes delivered so far, of the member's size. */
  onProgress?: (done: number, total: number) => void;
}

export function openMemberStream(
  store: StoreFiles,
  name: string,
  options: OpenOptions = {},
): ReadableStream<Uint8Array> {
  checkOptionalFunction(options.onStep, "open: options.onStep");
  return streamFrom(pullFrom<Uint8Array>((deliver) => readVerified(store, name, options, deliver)));
}

type Deliver = (chunk: Uint8Array) => Promise<void>;

async function readVerified(store: StoreFiles, name: string, options: OpenOptions, deliver: Deliver): Promise<void> {
  checkAborted(options.signal, "the read");
  if (options.step !== undefined) return readStep(store, options.step, name, options, deliver);
  return readNewestValid(store, name, options, deliver);
}

/** Member `name` of checkpoint `step`, whatever the state of its other members. */
async function readStep(store: StoreFiles, step: number, name: string, options: OpenOptions, deliver: Deliver) {
  const present = (await store.steps()).find((s) => s.step === step);
  if (!present?.files.includes(manifestName(step))) {
    throw new NoCheckpointError(`no checkpoint with step ${step} in ${store.dir}`);
  }
  const { manifest, findings } = await readManifest(store.fs, store.dir, step, { signal: options.signal });
  if (!manifest) throw corruption(step, findings, present.files);
  const index = manifest.members.findIndex((m) => m.name === name);
  if (index < 0) throw new NoCheckpointError(`checkpoint ${step} has no member ${JSON.stringify(name)}`);
  options.onStep?.(step);
  const damage = await streamMember(store, step, index, manifest.members[index]!, options, deliver);
  if (damage.length > 0) throw corruption(step, damage, present.files);
}

/** Member `name` of the newest valid checkpoint, each checkpoint's bytes read once. */
async function readNewestValid(store: StoreFiles, name: string, options: OpenOptions, deliver: Deliver): Promise<void> {
  const { signal } = options;
  for (const s of await store.steps()) {
    if (!s.files.includes(manifestName(s.step))) continue; // incomplete: never a checkpoint
    const { manifest } = await readManifest(store.fs, store.dir, s.step, { signal });
    if (!manifest) continue;
    const index = manifest.members.findIndex((m) => m.name === name);
    // An inline member has no file of its own: nothing to leave out, the check covers it whole.
    const inline = index >= 0 && manifest.members[index]!.inline !== undefined;
    const own = index < 0 || inline ? undefined : memberName(s.step, index);
    // Everything but this member, in full: valid except for the one file left out of the listing.
    const listed = s.files.filter((f) => f !== own);
    const rest = await checkCheckpoint(store.fs, store.dir, s.step, listed, undefined, { signal });
    const onlyOwnMissing = (f: Finding) => own !== undefined && f.kind === "missing-member" && f.member === name;
    const othersGood = rest.manifest !== undefined && rest.findings.every(onlyOwnMissing);
    if (!othersGood) continue;
    if (index < 0) throw new NoCheckpointError(`checkpoint ${s.step} has no member ${JSON.stringify(name)}`);
    if (own !== undefined && !s.files.includes(own)) continue; // this member's file is missing: torn
    let started = false;
    const first = (chunk: Uint8Array) => {
      if (!started) {
        started = true;
        options.onStep?.(s.step);
      }
      return deliver(chunk);
    };
    let damage: Finding[];
    try {
      damage = await streamMember(store, s.step, index, manifest.members[index]!, options, first);
    } catch (err) {
      if (started || !(err instanceof CorruptionError)) throw err;
      continue; // damaged before its first byte went out: not valid, try the next older one
    }
    if (damage.length === 0) {
      if (!started) options.onStep?.(s.step); // an empty member
      return;
    }
    if (started) throw corruption(s.step, damage, s.files);
  }
  throw new NoCheckpointError(`no valid checkpoint in ${store.dir}`);
}

/** Scans member `index` of `step`, handing each verified chunk (a copy) to `deliver`. */
async function streamMember(
  store: StoreFiles,
  step: number,
  index: number,
  entry: MemberEntry,
  options: OpenOptions,
  deliver: Deliver,
): Promise<Finding[]> {
  const { signal, onProgress } = options;
  const crcs = entry.blockCrcs; // a decoded entry builds this array on each read: once here
  // An inline member comes whole out of the manifest, after checkMember held it to its SHA-256.
  const inline = entry.inline !== undefined;
  let done = 0;
  return checkMember(store.fs, store.dir, step, index, entry, async (_m, payload, info) => {
    checkAborted(signal, "the read");
    if (!inline && (!info.ok || info.crc !== crcs[info.index])) {
      const name = JSON.stringify(entry.name);
      const bytes = `bytes ${info.offset}..${info.offset + info.length - 1} of ${entry.file}`;
      const what = info.ok ? "differs from the manifest's CRC-32" : "is damaged";
      const message = `checkpoint ${step}, member ${name}: block ${info.index} (${bytes}) ${what}`;
      throw new CorruptionError(entry.file, info.offset, "crc-mismatch", message);
    }
    await deliver(payload.slice()); // the scan reuses its buffer for the next chunk
    onProgress?.(done += payload.length, entry.payloadSize);
  }, { signal });
}

function corruption(step: number, findings: Finding[], files: string[]): StoreCorruption {
  const f = findings[0]!;
  const torn = findings.every((x) => x.kind === "torn" || x.kind === "truncated" || x.kind === "missing-member");
  const status = torn ? "torn" : "corrupt";
  return new StoreCorruption({ step, status, findings, files }, `checkpoint ${step} is ${status}: ${f.message}`);
}
