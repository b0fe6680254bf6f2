// The integrity guard for one checkpoint: the manifest and every member are scanned byte for
// byte, and each member is held to what the manifest recorded (size, chunk size, per-block
// CRC-32, SHA-256). Recovery never trusts presence: a checkpoint is valid only if all of this
// holds. Findings name the step, file, member, block, byte range and kind.
import { CorruptionError } from "../errors.ts";
import type { DurableFs } from "../fs.ts";
import { CHUNK_TABLE_INLINE, KIND_MEMBER } from "../format/constants.ts";
import { decodeMemberTablePaced, inlineIntact, type Manifest, type MemberEntry, userMeta } from "../format/manifest.ts";
import { memberNamesProblem } from "../format/member-name.ts";
import {
  type ChunkInfo,
  type ContainerHeader,
  type Damage,
  scanContainer,
  type ScanOptions,
  type ScanResult,
} from "../format/reader.ts";
import { MemberTableCollector } from "../format/table-reader.ts";
import { toHex } from "../hash.ts";
import { inLanes } from "../lanes.ts";
import { CappedFindings, MAX_FINDINGS } from "./finding-cap.ts";
import type { Finding, FindingKind } from "./finding.ts";
import { join } from "../path.ts";
import { pace } from "../pace.ts";
import { manifestName, memberFilePrefix, memberName, parseName } from "./layout.ts";

export type { Finding, FindingKind } from "./finding.ts";

/**
 * corrupt and torn are damage to a committed checkpoint (its manifest is present); incomplete
 * (no manifest: a save that never committed) and in-progress (the same, under a live writer)
 * are not damage (guarantee 8; see interrupted.ts).
 */
export type Status = "valid" | "corrupt" | "torn" | "incomplete" | "in-progress";

export interface CheckpointReport {
  step: number;
  status: Status;
  findings: Finding[];
  manifest?: Manifest;
  /** Every file of this step present in the store directory. */
  files: string[];
}

/** Abort and progress for a read: checked before every chunk; onBytes counts the member file bytes checked. */
export interface ReadControl {
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
}

export type PayloadSink = (member: MemberEntry, payload: Uint8Array, info: ChunkInfo) => void | Promise<void>;

const KIND_OF: Record<Damage["kind"], FindingKind> = {
  torn: "torn",
  truncated: "truncated",
  "bad-header": "bad-header",
  "bad-metadata": "bad-header",
  "bad-chunk": "bad-header",
  "crc-mismatch": "crc-mismatch",
  "sha-mismatch": "sha-mismatch",
};

async function scanFile(
  fs: DurableFs,
  path: string,
  options: ScanOptions = {},
  sizeHint?: number,
): Promise<ScanResult> {
  const h = await fs.open(path, { sizeHint });
  try {
    return await scanContainer(h, path, options);
  } finally {
    await h.close();
  }
}

function statusOf(findings: Finding[]): Status {
  if (findings.length === 0) return "valid";
  return findings.every((f) => f.kind === "torn" || f.kind === "truncated" || f.kind === "missing-member")
    ? "torn"
    : "corrupt";
}

/** Reads and checks a manifest; returns it or the findings that make it unusable. */
export async function readManifest(
  fs: DurableFs,
  dir: string,
  step: number,
  io: ReadControl = {},
): Promise<{ manifest?: Manifest; findings: Finding[] }> {
  const file = manifestName(step);
  // The member table: N ≥ 1 chunks, allocated only once the kernel bounded it (table-reader.ts).
  const t = new MemberTableCollector();
  const scan = await scanFile(fs, join(dir, file), { onHeader: t.onHeader, onChunk: t.onChunk, ...io });
  const findings: Finding[] = scan.damage.map((d) => ({
    step,
    file,
    kind: KIND_OF[d.kind],
    block: d.block,
    offset: d.offset,
    length: d.length,
    message: d.message,
  }));
  if (findings.length > 0) return { findings };
  const bad = (message: string): { findings: Finding[] } => ({
    findings: [{ step, file, kind: "bad-header", offset: 0, length: scan.fileSize, message }],
  });
  if (!t.table || t.wrongType) return bad("not a manifest (wrong kind or chunk count)");
  if (scan.meta!["ckptkit.step"] !== String(step)) {
    return bad(`manifest records step ${scan.meta!["ckptkit.step"]}, its name says ${step}`);
  }
  try {
    const members = await decodeMemberTablePaced(
      t.table,
      file,
      t.fileOffset,
      memberFilePrefix(step),
      io.signal,
      t.inline ? file : undefined,
    );
    // Integrity is not authenticity: a manifest whose CRCs and SHA-256 hold may still name a
    // member "../../x". Such a manifest is returned as findings only, never as a Manifest, so
    // no caller can use its names as paths.
    const named = memberNamesProblem(members.map((m) => m.name));
    if (named) {
      return {
        findings: [{
          step,
          file,
          kind: "bad-name",
          offset: t.fileOffset(0),
          length: t.table.length,
          message: `member ${named.index} has a bad name ${JSON.stringify(named.name)}: ${named.problem}`,
        }],
      };
    }
    return { manifest: { step, createdAt: scan.header!.createdAt, meta: userMeta(scan.meta!), members }, findings: [] };
  } catch (err) {
    if (err instanceof CorruptionError) return bad(err.message);
    throw err;
  }
}

/**
 * The indexes of the inline members. Inline members are few (their payloads share the manifest's
 * byte cap), but the table may list millions of file members: one pass, a getter read each.
 */
function inlineIndexes(members: MemberEntry[]): Set<number> {
  const out = new Set<number>();
  for (const [i, m] of members.entries()) if (m.inline) out.add(i);
  return out;
}

function missingMember(step: number, m: MemberEntry): Finding {
  return {
    step,
    file: m.file,
    member: m.name,
    kind: "missing-member",
    offset: 0,
    length: 0,
    message: `member '${m.name}' (${m.file}) is missing`,
  };
}

/**
 * An inline member: its payload is in the manifest already read (and checked as a container);
 * it is held to its entry's SHA-256 before the sink sees a byte, then handed over whole.
 */
async function checkInline(
  step: number,
  m: MemberEntry,
  data: Uint8Array,
  sink?: PayloadSink,
  io: ReadControl = {},
): Promise<Finding[]> {
  if (!inlineIntact(m)) {
    return [{
      step,
      file: m.file,
      member: m.name,
      kind: "sha-mismatch",
      offset: 0,
      length: 0,
      message: `inline member '${m.name}' in ${m.file}: SHA-256 of its payload differs from its entry's`,
    }];
  }
  if (data.length > 0 && sink) {
    await sink(m, data, { index: 0, offset: 0, length: data.length, type: CHUNK_TABLE_INLINE, crc: 0, ok: true });
  }
  io.onBytes?.(data.length);
  return [];
}

/** Checks one member file (or inline payload) against its manifest entry. */
export async function checkMember(
  fs: DurableFs,
  dir: string,
  step: number,
  index: number,
  m: MemberEntry,
  sink?: PayloadSink,
  io: ReadControl = {},
): Promise<Finding[]> {
  const inline = m.inline;
  if (inline) return checkInline(step, m, inline, sink, io);
  const file = m.file;
  const at = (kind: FindingKind, message: string, offset = 0, length = 0, block?: number): Finding => ({
    step,
    file,
    member: m.name,
    kind,
    block,
    offset,
    length,
    message,
  });
  if (file !== memberName(step, index)) {
    return [at("bad-header", `manifest names member file '${file}', expected '${memberName(step, index)}'`)];
  }
  const path = join(dir, file);
  const st = await fs.stat(path);
  if (!st) return [missingMember(step, m)];
  // The member's own header is held to the manifest before any chunk is read, so a sink may
  // size its buffers by m.payloadSize: it then equals a length the kernel bounded by the file.
  const scan = await scanFile(fs, path, {
    onHeader: (h: ContainerHeader) =>
      h.kind !== KIND_MEMBER || h.payloadLength !== m.payloadSize || h.totalSize !== m.fileSize ||
        h.chunkSize !== m.chunkSize
        ? `member header disagrees with the manifest (payload ${h.payloadLength} vs ${m.payloadSize} bytes, file ${h.totalSize} vs ${m.fileSize})`
        : undefined,
    onChunk: sink ? (p, info) => sink(m, p, info) : undefined,
    expectRoot: m.fileSha256, // v2: a delivered chunk's leaf is vouched for by the manifest's root
    ...io,
  }, st.size);
  const findings = scan.damage.map((d) => at(KIND_OF[d.kind], d.message, d.offset, d.length, d.block));
  if (findings.length > 0 || !scan.header) return findings;
  if (scan.meta!["ckptkit.step"] !== String(step) || scan.meta!["ckptkit.member"] !== m.name) {
    return [
      at(
        "bad-header",
        `member metadata disagrees with the manifest (step ${scan.meta!["ckptkit.step"]}, name ${
          scan.meta!["ckptkit.member"]
        })`,
        0,
        64,
      ),
    ];
  }
  const crcs = m.blockCrcs; // a decoded entry builds this array on each read: once here
  const mismatches = new CappedFindings(MAX_FINDINGS, "block");
  for (let b = 0; b < crcs.length; b++) {
    if (scan.blockCrcs[b] !== crcs[b]) {
      mismatches.add(at("crc-mismatch", `block ${b} CRC-32 differs from the manifest's`, 0, 0, b));
    }
  }
  findings.push(...mismatches.list());
  if (findings.length === 0 && toHex(scan.fileSha256!) !== toHex(m.fileSha256)) {
    findings.push(at("sha-mismatch", `SHA-256 of ${file} differs from the manifest's`, 0, scan.fileSize));
  }
  return findings;
}

/**
 * Checks members two at a time when nothing consumes their payloads: the first large one to
 * start is hashed on the hash worker, the other on this thread, so a multi-member checkpoint
 * uses both cores. Findings come back in member order whatever finishes first, into `into`
 * (capped: a manifest may list millions of members). With a sink (restore), members stream one
 * after another, in order.
 */
async function checkMembers(
  fs: DurableFs,
  dir: string,
  step: number,
  members: MemberEntry[],
  files: string[],
  into: CappedFindings,
  sink?: PayloadSink,
  io: ReadControl = {},
): Promise<void> {
  // Only members whose file is in the directory listing are opened; the others are missing
  // without a stat or a promise each: a crafted manifest may list a million members that do not
  // exist, and `verify` must stay fast and small. The listing bounds the members scanned.
  const present: number[] = [];
  const inline = inlineIndexes(members);
  for (const [n, f] of files.entries()) {
    if ((n & 255) === 0) await pace(io.signal, "the check");
    const p = parseName(f);
    if (p && !p.manifest && p.member! < members.length && f === memberName(step, p.member!) && !inline.has(p.member!)) {
      present.push(p.member!);
    }
  }
  present.push(...inline); // in the manifest, present by definition
  present.sort((x, y) => x - y);
  const results = await inLanes(
    present.length,
    sink ? 1 : 2,
    (k) => checkMember(fs, dir, step, present[k]!, members[present[k]!]!, sink, io),
  );
  for (let i = 0, k = 0; i < members.length; i++) {
    if ((i & 255) === 0) await pace(io.signal, "the check");
    if (present[k] === i) into.addAll(results[k++]!);
    else into.count("missing-member", () => missingMember(step, members[i]!));
  }
}

/** Full check of one step, given the names of its files present in the directory. */
export async function checkCheckpoint(
  fs: DurableFs,
  dir: string,
  step: number,
  files: string[],
  sink?: PayloadSink,
  io: ReadControl = {},
): Promise<CheckpointReport> {
  const hasManifest = files.includes(manifestName(step));
  if (!hasManifest) {
    return {
      step,
      status: "incomplete",
      files,
      findings: [{
        step,
        file: manifestName(step),
        kind: "incomplete",
        offset: 0,
        length: 0,
        message: `no manifest: a save that never committed left ${files.length} member file(s)`,
      }],
    };
  }
  const { manifest, findings } = await readManifest(fs, dir, step, io);
  if (!manifest) return { step, status: statusOf(findings), files, findings };
  const all = new CappedFindings();
  await checkMembers(fs, dir, step, manifest.members, files, all, sink, io);
  // Member i's file is memberName(step, i) (decode checked it): no per-member name set needed.
  const count = manifest.members.length;
  const inline = inlineIndexes(manifest.members);
  for (const [n, f] of files.entries()) {
    if ((n & 255) === 0) await pace(io.signal, "the check");
    const p = parseName(f);
    // A member file beside an inline member of the same index is not the manifest's.
    const listed = p &&
      (p.manifest || (p.member! < count && f === memberName(step, p.member!) && !inline.has(p.member!)));
    if (p && !listed) {
      all.add({
        step,
        file: f,
        kind: "bad-header",
        offset: 0,
        length: 0,
        message: `${f} is not listed in the manifest`,
      });
    }
  }
  const capped = all.list();
  return { step, status: statusOf(capped), files, findings: capped, manifest };
}
