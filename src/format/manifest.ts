// The manifest: a container (kind MANIFEST) whose metadata holds the step and user metadata and
// whose chunks (N ≥ 1, all of type member-table) concatenate to the member table. A table of up
// to TABLE_CHUNK_SIZE bytes is one chunk exactly as before; a larger one (many members, or a
// member of many blocks) spans as many chunks as it needs. It is written last: the commit point.
//
// member table: count u32, then per member:
//   name length u16 | name UTF-8 | file name length u16 | file name UTF-8 |
//   payload size u64 | file size u64 | chunk size u32 | file SHA-256 32 B |
//   block count u32 | block CRC-32 u32 × block count
//
// Inline members (docs/FORMAT.md, "Inline members"): a manifest holding any is a version 2 (tree-layout) container
// and its chunks are all of type table+inline; their payload is the member table followed by the
// inline area, every inline member's payload concatenated in member order, nothing after it. An
// inline member's entry has an empty file name (that is the mark), file size 0, block count 0,
// the SHA-256 of its payload, and in the chunk-size field the permission bits recorded for a
// file source (0: none). Its integrity: that SHA-256, checked by every read before a byte is
// used, plus the manifest container's chunk CRCs and trailer.
import { CorruptionError, UsageError } from "../errors.ts";
import {
  CHUNK_MEMBER_TABLE,
  CHUNK_TABLE_INLINE,
  INLINE_FORMAT_VERSION,
  KIND_MANIFEST,
  MAX_MEMBER_BLOCKS,
  TABLE_CHUNK_SIZE,
} from "./constants.ts";
import type { Metadata } from "./metadata.ts";
import { applyTypes, encodeTypes, metaText, TYPES_KEY, type UserMeta } from "./typed-meta.ts";
import { ContainerWriter, encodeContainer } from "./writer.ts";
import { writeFormatVersion } from "./write-version.ts";
import { sha256 } from "../hash.ts";
import { utf8Length } from "./utf8.ts";
import { pace } from "../pace.ts";

export interface MemberEntry {
  /** The name the member was saved under (restored under it). */
  name: string;
  /** The member container's file name in the store directory. */
  file: string;
  payloadSize: number;
  fileSize: number;
  chunkSize: number;
  fileSha256: Uint8Array;
  /** One CRC-32 per block. A decoded entry builds a fresh array per read (see TableEntry). */
  blockCrcs: ArrayLike<number>;
  /**
   * An inline member's payload (stored in the manifest, no file of its own; `file` is then the
   * manifest's name, fileSize and chunkSize 0, blockCrcs empty, fileSha256 the payload's SHA-256).
   * A decoded entry's is a view of the manifest's bytes, not yet checked against fileSha256.
   */
  inline?: Uint8Array;
  /** Inline members only: the permission bits recorded for a file source (0 or absent: none). */
  mode?: number;
}

export interface Manifest {
  step: number;
  createdAt: number;
  /** The user's metadata, typed (src/format/typed-meta.ts). */
  meta: UserMeta;
  members: MemberEntry[];
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** name length u16 + file name length u16 + sizes 8 + 8 + chunk size 4 + SHA-256 32 + block count 4 */
const MIN_ENTRY_SIZE = 2 + 2 + 8 + 8 + 4 + 32 + 4;

/**
 * Whether an inline member's payload hashes to the SHA-256 its entry records. Every read checks
 * this before it uses a byte of the payload: the manifest's CRCs and trailer cover the bytes as
 * written, this covers them as the save meant them (a payload swapped or shifted by a writer
 * whose container checks are consistent). False for a member that is not inline.
 */
export function inlineIntact(m: MemberEntry): boolean {
  const data = m.inline;
  if (!data) return false;
  const got = sha256(data);
  const want = m.fileSha256;
  for (let i = 0; i < 32; i++) if (got[i] !== want[i]) return false;
  return true;
}

/** Whether the manifest of these members is the inline form (version 2, table+inline chunks). */
export function hasInline(members: MemberEntry[]): boolean {
  return members.some((m) => m.inline !== undefined);
}

export function encodeMemberTable(members: MemberEntry[]): Uint8Array {
  const it = encodeTable(members);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/** A u64 below 2^53 as two u32 (no BigInt allocated per field). */
function setU64(dv: DataView, o: number, v: number): void {
  dv.setUint32(o, v % 0x100000000, true);
  dv.setUint32(o + 4, Math.floor(v / 0x100000000), true);
}

/**
 * The member table's size in bytes (its inline area included), checking what a wrapped u16/u32
 * would otherwise record as other members. Every limit was checked before a save writes anything
 * (src/store/save-limits.ts); these are asserted here because the table must decode to exactly
 * the members given.
 */
function* tableSizePaced(members: MemberEntry[]): Generator<void, number> {
  let size = 4;
  for (let i = 0; i < members.length; i++) {
    if (i % ENTRIES_PER_PACE === ENTRIES_PER_PACE - 1) yield;
    const m = members[i]!;
    const nl = utf8Length(m.name);
    const fl = utf8Length(m.file);
    const blocks = m.blockCrcs.length;
    if (nl > 0xffff || fl > 0xffff || blocks > MAX_MEMBER_BLOCKS) {
      throw new UsageError(`member '${m.name}' does not fit the member table (name ${nl} bytes, ${blocks} blocks)`);
    }
    if (m.inline) {
      if (m.inline.length !== m.payloadSize || blocks !== 0 || ((m.mode ?? 0) & ~0o777) !== 0) {
        throw new UsageError(
          `inline member '${m.name}': payload ${m.inline.length} bytes for size ${m.payloadSize}, ${blocks} blocks, mode ${m.mode}`,
        );
      }
      size += 2 + nl + 2 + 8 + 8 + 4 + 32 + 4 + m.inline.length;
    } else {
      size += 2 + nl + 2 + fl + 8 + 8 + 4 + 32 + 4 + 4 * blocks;
    }
  }
  return size;
}

/** tableSizePaced without its pauses: for a table of fewer than ENTRIES_PER_PACE entries, which never pauses. */
function tableSize(members: MemberEntry[]): number {
  const it = tableSizePaced(members);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/**
 * The member table's encoder into `out` (exactly tableSize(members) bytes), pausing (yield)
 * after every ENTRIES_PER_PACE entries of each pass. Names are encoded straight into the table
 * (encodeInto): no array per name, which for 100,000 members was most of the time and of the
 * garbage.
 *
 * `hashInline` (a save): each inline payload is copied into the inline area and its SHA-256 is
 * computed from that copy, where it lies, into its entry (and the entry's fileSha256 set to it):
 * the digest and the stored bytes are the same bytes by construction, even if the caller's array
 * changes later, and the payload is copied once. Otherwise the entries' recorded digests are
 * written as given (tests re-encode manifests, damaged ones included).
 */
function* writeTable(members: MemberEntry[], out: Uint8Array, hashInline: boolean): Generator<void, void> {
  const size = out.length;
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, members.length, true);
  let o = 4;
  /** Where each inline member's digest goes, in member order (hashInline only). */
  const shaAt: number[] = [];
  for (let i = 0; i < members.length; i++) {
    if (i % ENTRIES_PER_PACE === ENTRIES_PER_PACE - 1) yield;
    const m = members[i]!;
    const nl = enc.encodeInto(m.name, out.subarray(o + 2, o + 2 + utf8Length(m.name))).written;
    dv.setUint16(o, nl, true);
    o += 2 + nl;
    if (m.inline) {
      // The mark of an inline member: no file name. File size 0; the chunk-size field holds the mode.
      dv.setUint16(o, 0, true);
      o += 2;
      setU64(dv, o, m.payloadSize);
      o += 8;
      setU64(dv, o, 0);
      o += 8;
      dv.setUint32(o, m.mode ?? 0, true);
      o += 4;
      if (hashInline) shaAt.push(o);
      else out.set(sha32(m), o);
      o += 32;
      dv.setUint32(o, 0, true);
      o += 4;
      continue;
    }
    const fl = enc.encodeInto(m.file, out.subarray(o + 2, o + 2 + utf8Length(m.file))).written;
    dv.setUint16(o, fl, true);
    o += 2 + fl;
    setU64(dv, o, m.payloadSize);
    o += 8;
    setU64(dv, o, m.fileSize);
    o += 8;
    dv.setUint32(o, m.chunkSize, true);
    o += 4;
    out.set(sha32(m), o);
    o += 32;
    const crcs = m.blockCrcs; // a decoded entry builds this array on each read: once here
    dv.setUint32(o, crcs.length, true);
    o += 4;
    for (let b = 0; b < crcs.length; b++) {
      dv.setUint32(o, crcs[b]!, true);
      o += 4;
    }
  }
  // The inline area: the inline payloads, in member order, right after the table.
  let k = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (!m.inline) continue;
    if (i % ENTRIES_PER_PACE === ENTRIES_PER_PACE - 1) yield;
    const stored = out.subarray(o, o + m.inline.length);
    stored.set(m.inline);
    o += m.inline.length;
    if (hashInline) {
      const digest = sha256(stored); // where it lies when `out` is kernel memory (src/hash.ts)
      out.set(digest, shaAt[k++]!);
      m.fileSha256 = digest;
    }
  }
  // Invariant: the two passes agree (else the table would hold other members than given).
  if (o !== size) throw new Error(`member table: wrote ${o} bytes, sized ${size}`);
}

/** An entry's recorded SHA-256, which must be 32 bytes (a save's inline entry has none until writeTable hashes it). */
function sha32(m: MemberEntry): Uint8Array {
  if (m.fileSha256.length !== 32) throw new UsageError(`member '${m.name}': a SHA-256 of ${m.fileSha256.length} bytes`);
  return m.fileSha256;
}

/** tableSize, then writeTable into a fresh array. */
function* encodeTable(members: MemberEntry[], hashInline = false): Generator<void, Uint8Array> {
  const out = new Uint8Array(yield* tableSizePaced(members)); // 100,000 names are measured in steps, too
  yield* writeTable(members, out, hashInline);
  return out;
}

/**
 * One decoded entry: the name and where the rest of the entry lies in the table, which the
 * decoded manifest keeps (it is the manifest's own bytes). A crafted table of minimal entries
 * must not turn into objects several times its size (the contract's bound: peak RSS below
 * 256 MiB + 2 × the input), so an entry holds four fields (~32 bytes) plus its name, and the
 * rest is read from the table on access: the file name is derived from the layout (decode
 * checked the recorded one equals it), the SHA-256 is a view, and `blockCrcs` is a fresh
 * Uint32Array per access (read it once per use, not in a loop condition).
 */
class TableEntry implements MemberEntry {
  /** `inlineAt`: an inline member's payload offset in the inline area, else -1. */
  constructor(
    readonly name: string,
    private readonly t: DecodedTable,
    private readonly i: number,
    private readonly at: number,
    private readonly inlineAt = -1,
  ) {}
  get file(): string {
    return this.inlineAt >= 0 ? this.t.manifestFile : this.t.filePrefix + this.i;
  }
  get payloadSize(): number {
    return Number(this.t.dv.getBigUint64(this.at, true));
  }
  get fileSize(): number {
    return Number(this.t.dv.getBigUint64(this.at + 8, true));
  }
  get chunkSize(): number {
    return this.inlineAt >= 0 ? 0 : this.t.dv.getUint32(this.at + 16, true);
  }
  get mode(): number | undefined {
    return this.inlineAt >= 0 ? this.t.dv.getUint32(this.at + 16, true) : undefined;
  }
  get inline(): Uint8Array | undefined {
    if (this.inlineAt < 0) return undefined;
    const from = this.t.areaStart + this.inlineAt;
    return this.t.bytes.subarray(from, from + this.payloadSize);
  }
  get fileSha256(): Uint8Array {
    return this.t.bytes.subarray(this.at + 20, this.at + 52);
  }
  get blockCrcs(): Uint32Array {
    const n = this.t.dv.getUint32(this.at + 52, true);
    const out = new Uint32Array(n);
    for (let b = 0, o = this.at + 56; b < n; b++, o += 4) out[b] = this.t.dv.getUint32(o, true);
    return out;
  }
  /** Plain data for JSON.stringify and structured copies (getters are not own properties). */
  toJSON(): Omit<MemberEntry, "blockCrcs" | "inline"> & { blockCrcs: number[]; inline?: true } {
    const plain = {
      name: this.name,
      file: this.file,
      payloadSize: this.payloadSize,
      fileSize: this.fileSize,
      chunkSize: this.chunkSize,
      fileSha256: this.fileSha256,
      blockCrcs: [...this.blockCrcs],
    };
    return this.inlineAt >= 0 ? { ...plain, inline: true, mode: this.mode } : plain;
  }
}

/** A decoded entry as a plain object of its own (a copy that may be modified). */
export function plainEntry(m: MemberEntry): MemberEntry {
  const plain: MemberEntry = {
    name: m.name,
    file: m.file,
    payloadSize: m.payloadSize,
    fileSize: m.fileSize,
    chunkSize: m.chunkSize,
    fileSha256: m.fileSha256.slice(),
    blockCrcs: Array.from(m.blockCrcs),
  };
  const inline = m.inline;
  return inline ? { ...plain, inline: inline.slice(), mode: m.mode } : plain;
}

/** `areaStart`: where the inline area begins (the table's end), set once the table is decoded. */
interface DecodedTable {
  bytes: Uint8Array;
  dv: DataView;
  filePrefix: string;
  manifestFile: string;
  areaStart: number;
}

/**
 * Decodes a member table; every count and length is checked against the bytes present, and
 * member i's recorded file name must be `filePrefix` + i in decimal (the store's layout, e.g.
 * `step-<N>.member-`: the reader knows the step), so it is checked here, with no string built
 * per entry, rather than stored per entry. The entries keep `bytes`: the
 * caller must not modify it afterwards.
 * `base` maps an offset in the table to one in the file for messages: a number for a table held
 * in one chunk at that offset, or a function when it spans chunks.
 */
export function decodeMemberTable(
  bytes: Uint8Array,
  path: string,
  base: number | ((tableOffset: number) => number),
  filePrefix: string,
  inlineIn?: string,
): MemberEntry[] {
  const it = decodeEntries(bytes, path, base, filePrefix, inlineIn);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/** decodeMemberTable, letting the event loop turn (src/pace.ts) between batches of entries. */
export async function decodeMemberTablePaced(
  bytes: Uint8Array,
  path: string,
  base: number | ((tableOffset: number) => number),
  filePrefix: string,
  signal?: AbortSignal,
  inlineIn?: string,
): Promise<MemberEntry[]> {
  const it = decodeEntries(bytes, path, base, filePrefix, inlineIn);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
    await pace(signal, "reading the manifest");
  }
}

/** Entries per pacing point: well under a millisecond of work, yet a pace call per entry would cost more than the entry. */
const ENTRIES_PER_PACE = 64;

/**
 * `inlineIn`: the manifest's file name when its chunks are the table+inline form (version 2):
 * then an entry with an empty file name is an inline member, and the bytes after the table are
 * the inline area, exactly as long as the inline members' payload sizes add up to.
 */
function* decodeEntries(
  bytes: Uint8Array,
  path: string,
  base: number | ((tableOffset: number) => number),
  filePrefix: string,
  inlineIn?: string,
): Generator<void, MemberEntry[]> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const table: DecodedTable = { bytes, dv, filePrefix, manifestFile: inlineIn ?? "", areaStart: 0 };
  const at = typeof base === "number" ? (t: number) => base + t : base;
  let o = 0;
  const need = (n: number, what: string) => {
    if (o + n > bytes.length) {
      throw new CorruptionError(
        path,
        at(o),
        "bad-manifest",
        `${path}: member table ${what} overruns the table at byte ${at(o)}`,
      );
    }
  };
  need(4, "count");
  const count = dv.getUint32(0, true);
  o = 4;
  // Each entry takes at least MIN_ENTRY_SIZE bytes plus its file name (which only grows with
  // the index): a count beyond that is damage, not a reason to loop.
  if (count > (bytes.length - 4) / (MIN_ENTRY_SIZE + (inlineIn === undefined ? filePrefix.length + 1 : 0))) {
    throw new CorruptionError(
      path,
      at(0),
      "bad-manifest",
      `${path}: member table claims ${count} members in ${bytes.length} bytes`,
    );
  }
  const members: MemberEntry[] = [];
  let inlineBytes = 0; // the inline area's length so far: offsets of inline payloads in it
  for (let i = 0; i < count; i++) {
    if (i % ENTRIES_PER_PACE === ENTRIES_PER_PACE - 1) yield;
    need(2, "name length");
    const nl = dv.getUint16(o, true);
    o += 2;
    need(nl, "member name");
    let name: string;
    try {
      name = dec.decode(bytes.subarray(o, o + nl));
    } catch {
      throw new CorruptionError(path, at(o), "bad-manifest", `${path}: member name is not valid UTF-8`);
    }
    o += nl;
    need(2, "file name length");
    const fl = dv.getUint16(o, true);
    o += 2;
    if (fl === 0 && inlineIn !== undefined) {
      need(8 + 8 + 4 + 32 + 4, "member sizes");
      const size = Number(dv.getBigUint64(o, true));
      const fileSize = dv.getBigUint64(o + 8, true);
      const mode = dv.getUint32(o + 16, true);
      const blocks = dv.getUint32(o + 52, true);
      if (fileSize !== 0n || blocks !== 0 || (mode & ~0o777) !== 0) {
        throw new CorruptionError(
          path,
          at(o),
          "bad-manifest",
          `${path}: inline member ${i} records file size ${fileSize}, ${blocks} blocks, mode ${
            mode.toString(8)
          } (must be 0, 0, at most 777)`,
        );
      }
      // Checked entry by entry so that the running sum stays a small exact number.
      if (size > bytes.length - inlineBytes) {
        throw new CorruptionError(
          path,
          at(o),
          "bad-manifest",
          `${path}: inline member ${i} of ${size} bytes overruns the manifest`,
        );
      }
      members.push(new TableEntry(name, table, i, o, inlineBytes));
      inlineBytes += size;
      o += 56;
      continue;
    }
    need(fl, "file name");
    if (!isFileName(bytes, o, fl, filePrefix, i)) {
      throw new CorruptionError(
        path,
        at(o),
        "bad-manifest",
        `${path}: member ${i} has file name ${
          JSON.stringify(textOf(bytes.subarray(o, o + fl)))
        }, expected '${filePrefix}${i}'`,
      );
    }
    o += fl;
    need(8 + 8 + 4 + 32 + 4, "member sizes");
    const entry = new TableEntry(name, table, i, o);
    const blocks = dv.getUint32(o + 52, true);
    o += 56;
    need(4 * blocks, "block CRC list");
    o += 4 * blocks;
    members.push(entry);
  }
  if (o + inlineBytes !== bytes.length) {
    throw new CorruptionError(
      path,
      at(o),
      "bad-manifest",
      inlineBytes === 0 && inlineIn === undefined
        ? `${path}: ${bytes.length - o} unexpected bytes after the member table`
        : `${path}: the inline area is ${bytes.length - o} bytes; the inline members add up to ${inlineBytes}`,
    );
  }
  table.areaStart = o;
  return members;
}

/** bytes[o, o + len) is `prefix` followed by `index` in decimal (no leading zero), as ASCII. */
function isFileName(bytes: Uint8Array, o: number, len: number, prefix: string, index: number): boolean {
  const digits = index < 10 ? 1 : Math.floor(Math.log10(index)) + 1;
  if (len !== prefix.length + digits) return false;
  for (let k = 0; k < prefix.length; k++) if (bytes[o + k] !== prefix.charCodeAt(k)) return false;
  for (let k = len - 1, n = index; k >= prefix.length; k--, n = Math.floor(n / 10)) {
    if (bytes[o + k] !== 0x30 + (n % 10)) return false;
  }
  return true;
}

/** For messages only: the bytes as text, invalid UTF-8 replaced, at most 100 characters. */
function textOf(b: Uint8Array): string {
  return new TextDecoder().decode(b.subarray(0, 100));
}

/**
 * The manifest's container metadata: the step, the user's keys as text, and the types of the
 * values that are not strings (a save checks its size first).
 */
export function manifestMetadata(step: number, meta: UserMeta): Metadata {
  const types = encodeTypes(meta);
  return { "ckptkit.step": String(step), ...(types === undefined ? {} : { [TYPES_KEY]: types }), ...prefixUser(meta) };
}

/**
 * `tableChunkSize` (tests only) forces a smaller table chunk so that the N > 1 form is cheap to
 * exercise. A table that fits one chunk is written with chunk size = its length, byte for byte
 * what the single-chunk encoder wrote, so older readers read every manifest they could write.
 * `version`: the header's version; by default writeFormatVersion() (FORMAT_VERSION, 2, unless a
 * process asked for 1). 1 re-encodes what a v1 writer wrote (tests). Inline members need a v2
 * (tree-layout) container: a version 1 manifest cannot hold them (the store does not inline when
 * it writes version 1: src/store/store.ts).
 */
export function encodeManifest(m: Manifest, tableChunkSize = TABLE_CHUNK_SIZE, version?: number): Uint8Array {
  const table = encodeMemberTable(m.members);
  const chunkSize = table.length <= tableChunkSize ? Math.max(1, table.length) : tableChunkSize;
  return encodeContainer({ ...manifestSpec(m, version), chunkSize }, table).bytes;
}

/** The manifest container's kind, metadata, chunk type and version (chunk size aside). */
function manifestSpec(
  m: Manifest,
  version?: number,
): { kind: number; meta: Metadata; chunkType: number; createdAt: number; version: number } {
  const inline = hasInline(m.members);
  const v = version ?? writeFormatVersion();
  if (inline && v < INLINE_FORMAT_VERSION) {
    throw new UsageError(
      `a manifest with inline members is format version ${INLINE_FORMAT_VERSION} or later, not ${v}`,
    );
  }
  return {
    kind: KIND_MANIFEST,
    meta: manifestMetadata(m.step, m.meta),
    chunkType: inline ? CHUNK_TABLE_INLINE : CHUNK_MEMBER_TABLE,
    createdAt: m.createdAt,
    version: v,
  };
}

/**
 * encodeManifest for a save: the same bytes, with the event loop let turn (src/pace.ts) between
 * batches of member entries and between table chunks, so a manifest of 100,000 members does not
 * hold the caller's thread (guarantee 12). Each inline member's payload is copied into the
 * manifest and hashed there, its entry's fileSha256 set to that digest (writeTable's
 * `hashInline`): the save's inline entries come without one. `version`: as encodeManifest's.
 */
export async function encodeManifestPaced(m: Manifest, signal?: AbortSignal, version?: number): Promise<Uint8Array> {
  const spec = manifestSpec(m, version);
  // A table of one chunk and fewer entries than a pacing batch (a save of a few small members)
  // never yields: it is built in the chunk's place in kernel memory and encoded there (one copy
  // in of each payload, one copy out of the chunk; every hash computed where the bytes lie). A
  // longer table is not even measured here: its size is measured in paced steps below.
  const size = m.members.length < ENTRIES_PER_PACE ? tableSize(m.members) : Infinity;
  if (size <= TABLE_CHUNK_SIZE) {
    const w = new ContainerWriter({ ...spec, chunkSize: size, payloadLength: size });
    const out = new Uint8Array(w.totalSize);
    let p = w.headInto(out, 0); // first: the head's own hashing uses the kernel's window
    const it = writeTable(m.members, w.payloadWindow(size), true);
    // Invariant: no yield below ENTRIES_PER_PACE entries, so nothing else runs on the kernel
    // while the table sits in its window.
    if (!it.next().done) throw new Error("member table: yielded below the pacing batch");
    p += w.chunkPlacedInto(size, out, p);
    p += w.trailerInto(out, p);
    if (p !== out.length) throw new Error(`manifest: wrote ${p} bytes, sized ${out.length}`);
    return out;
  }
  const it = encodeTable(m.members, true);
  let r = it.next();
  for (; !r.done; r = it.next()) await pace(signal, "the save");
  const table = r.value;
  const chunkSize = table.length <= TABLE_CHUNK_SIZE ? Math.max(1, table.length) : TABLE_CHUNK_SIZE;
  const w = new ContainerWriter({ ...spec, chunkSize, payloadLength: table.length });
  const out = new Uint8Array(w.totalSize);
  let p = w.headInto(out, 0);
  for (let off = 0; off < table.length; off += chunkSize) {
    await pace(signal, "the save");
    const len = Math.min(chunkSize, table.length - off);
    w.payloadWindow(len).set(table.subarray(off, off + len));
    p += w.chunkPlacedInto(len, out, p);
  }
  p += w.trailerInto(out, p);
  if (p !== out.length) throw new Error(`manifest: wrote ${p} bytes, sized ${out.length}`);
  return out;
}

const USER = "user.";

function prefixUser(meta: UserMeta): Metadata {
  const out: Metadata = {};
  for (const [k, v] of Object.entries(meta)) out[USER + k] = metaText(v);
  return out;
}

/** User metadata (keys saved with --meta or `meta`) out of a manifest's metadata, typed. */
export function userMeta(meta: Metadata): UserMeta {
  const out: Metadata = {};
  for (const [k, v] of Object.entries(meta)) if (k.startsWith(USER)) out[k.slice(USER.length)] = v;
  return applyTypes(out, meta[TYPES_KEY]);
}
