// store.open(name, { step }): one member of a checkpoint as a ReadableStream, verified chunk by
// chunk (docs/ENGINE.md "Verified reads"). The member file is scanned as `verify` scans it; a
// chunk is delivered only once its header has checked and its payload's CRC-32 equals both the
// one stored beside it and the one the manifest recorded for that block. The file-wide SHA-256
// (v1) is known only at the end: a stream whose digest differs errors after its last chunk.
// An inline member (stored in the manifest) is checked against its SHA-256 whole, before its
// one chunk is delivered.
// Invariant: no byte of a chunk that failed a check is ever enqueued.
//
// Back-pressure (src/pull.ts): the stream has a high-water mark of 0 and the scan reads the next
// chunk only when the consumer asks for it. Cancelling the stream stops the scan, which closes
// the member file.
import { checkAborted } from "../abort.ts";
import { CorruptionError, NoCheckpointError } from "../errors.ts";
import { type Finding, checkMember, readManifest } from "./check.ts";
import { manifestName } from "./layout.ts";
import { StoreCorruption } from "./corruption.ts";
import type { Store } from "./store.ts";
import { pullFrom, streamFrom } from "../pull.ts";

export interface OpenOptions {
  /** The checkpoint to read from (default: the newest valid one). */
  step?: number;
  /** Aborting errors the stream with an AbortError and closes the member file. */
  signal?: AbortSignal;
}

export function openMemberStream(store: Store, name: string, options: OpenOptions = {}): ReadableStream<Uint8Array> {
  return streamFrom(pullFrom<Uint8Array>((deliver) => readVerified(store, name, options, deliver)));
}

/** Scans member `name` of the chosen checkpoint, handing each verified chunk (a copy) to `deliver`. */
async function readVerified(store: Store, name: string, options: OpenOptions, deliver: (chunk: Uint8Array) => Promise<void>): Promise<void> {
  const { signal } = options;
  checkAborted(signal, "the read");
  const step = options.step ?? (await store.latest())?.step;
  if (step === undefined) throw new NoCheckpointError(`no valid checkpoint in ${store.dir}`);
  const present = (await store.steps()).find((s) => s.step === step);
  if (!present?.files.includes(manifestName(step))) throw new NoCheckpointError(`no checkpoint with step ${step} in ${store.dir}`);
  const { manifest, findings } = await readManifest(store.fs, store.dir, step);
  if (!manifest) throw corruption(step, findings, present.files);
  const index = manifest.members.findIndex((m) => m.name === name);
  if (index < 0) throw new NoCheckpointError(`checkpoint ${step} has no member ${JSON.stringify(name)}`);
  const entry = manifest.members[index]!;
  const crcs = entry.blockCrcs; // a decoded entry builds this array on each read: once here
  // An inline member comes whole out of the manifest, after checkMember held it to its SHA-256.
  const inline = entry.inline !== undefined;
  const damage = await checkMember(store.fs, store.dir, step, index, entry, async (_m, payload, info) => {
    checkAborted(signal, "the read");
    if (!inline && (!info.ok || info.crc !== crcs[info.index])) {
      throw new CorruptionError(entry.file, info.offset, "crc-mismatch",
        `checkpoint ${step}, member ${JSON.stringify(name)}: block ${info.index} (bytes ${info.offset}..${info.offset + info.length - 1} of ${entry.file}) ${info.ok ? "differs from the manifest's CRC-32" : "is damaged"}`);
    }
    await deliver(payload.slice()); // the scan reuses its buffer for the next chunk
  });
  if (damage.length > 0) throw corruption(step, damage, present.files);
}

function corruption(step: number, findings: Finding[], files: string[]): StoreCorruption {
  const f = findings[0]!;
  const status = findings.every((x) => x.kind === "torn" || x.kind === "truncated" || x.kind === "missing-member") ? "torn" : "corrupt";
  return new StoreCorruption({ step, status, findings, files }, `checkpoint ${step} is ${status}: ${f.message}`);
}
