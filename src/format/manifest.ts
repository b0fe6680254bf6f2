// The manifest: a container (kind MANIFEST) whose metadata holds the step and user metadata and
// whose chunks (N ≥ 1, all of type member-table) concatenate to the member table. A table of up
// to TABLE_CHUNK_SIZE bytes is one chunk exactly as before; a larger one (many members, or a
// member of many blocks) spans as many chunks as it needs. It is written last: the commit point.
//
// member table: count u32, then per member:
//   name length u16 | name UTF-8 | file name length u16 | file name UTF-8 |
//   payload size u64 | file size u64 | chunk size u32 | file SHA-256 32 B |
//   block count u32 | block CRC-32 u32 × block count
import { CorruptionError, UsageError } from "../errors.ts";
import { CHUNK_MEMBER_TABLE, KIND_MANIFEST, MAX_MEMBER_BLOCKS, TABLE_CHUNK_SIZE } from "./constants.ts";
import type { Metadata } from "./metadata.ts";
import { encodeContainer } from "./writer.ts";

export interface MemberEntry {
  /** The name the member was saved under (restored under it). */
  name: string;
  /** The member container's file name in the store directory. */
  file: string;
  payloadSize: number;
  fileSize: number;
  chunkSize: number;
  fileSha256: Uint8Array;
  blockCrcs: number[];
}

export interface Manifest {
  step: number;
  createdAt: number;
  meta: Metadata;
  members: MemberEntry[];
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** name length u16 + file name length u16 + sizes 8 + 8 + chunk size 4 + SHA-256 32 + block count 4 */
const MIN_ENTRY_SIZE = 2 + 2 + 8 + 8 + 4 + 32 + 4;

export function encodeMemberTable(members: MemberEntry[]): Uint8Array {
  const parts = members.map((m) => ({ m, name: enc.encode(m.name), file: enc.encode(m.file) }));
  for (const { m, name, file } of parts) {
    // Checked before a save writes anything (src/store/save-limits.ts); asserted here because a
    // wrapped u16/u32 would record a table that decodes to other members.
    if (name.length > 0xffff || file.length > 0xffff || m.blockCrcs.length > MAX_MEMBER_BLOCKS) {
      throw new UsageError(`member '${m.name}' does not fit the member table (name ${name.length} bytes, ${m.blockCrcs.length} blocks)`);
    }
  }
  const size = parts.reduce((n, p) => n + 2 + p.name.length + 2 + p.file.length + 8 + 8 + 4 + 32 + 4 + 4 * p.m.blockCrcs.length, 4);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length, true);
  let o = 4;
  for (const { m, name, file } of parts) {
    dv.setUint16(o, name.length, true); out.set(name, o + 2); o += 2 + name.length;
    dv.setUint16(o, file.length, true); out.set(file, o + 2); o += 2 + file.length;
    dv.setBigUint64(o, BigInt(m.payloadSize), true); o += 8;
    dv.setBigUint64(o, BigInt(m.fileSize), true); o += 8;
    dv.setUint32(o, m.chunkSize, true); o += 4;
    out.set(m.fileSha256, o); o += 32;
    dv.setUint32(o, m.blockCrcs.length, true); o += 4;
    for (const c of m.blockCrcs) { dv.setUint32(o, c, true); o += 4; }
  }
  return out;
}

/**
 * Decodes a member table; every count and length is checked against the bytes present.
 * `base` maps an offset in the table to one in the file for messages: a number for a table held
 * in one chunk at that offset, or a function when it spans chunks.
 */
export function decodeMemberTable(bytes: Uint8Array, path: string, base: number | ((tableOffset: number) => number)): MemberEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = typeof base === "number" ? (t: number) => base + t : base;
  let o = 0;
  const need = (n: number, what: string) => {
    if (o + n > bytes.length) throw new CorruptionError(path, at(o), "bad-manifest", `${path}: member table ${what} overruns the table at byte ${at(o)}`);
  };
  const text = (len: number, what: string) => {
    need(len, what);
    try {
      return dec.decode(bytes.subarray(o, o + len));
    } catch {
      throw new CorruptionError(path, at(o), "bad-manifest", `${path}: ${what} is not valid UTF-8`);
    } finally {
      o += len;
    }
  };
  need(4, "count");
  const count = dv.getUint32(0, true);
  o = 4;
  // Each entry takes at least MIN_ENTRY_SIZE bytes: a count beyond that is damage, not a reason to loop.
  if (count > (bytes.length - 4) / MIN_ENTRY_SIZE) throw new CorruptionError(path, at(0), "bad-manifest", `${path}: member table claims ${count} members in ${bytes.length} bytes`);
  const members: MemberEntry[] = [];
  for (let i = 0; i < count; i++) {
    need(2, "name length"); const nl = dv.getUint16(o, true); o += 2;
    const name = text(nl, "member name");
    need(2, "file name length"); const fl = dv.getUint16(o, true); o += 2;
    const file = text(fl, "file name");
    need(8 + 8 + 4 + 32 + 4, "member sizes");
    const payloadSize = Number(dv.getBigUint64(o, true)); o += 8;
    const fileSize = Number(dv.getBigUint64(o, true)); o += 8;
    const chunkSize = dv.getUint32(o, true); o += 4;
    // A view, not a copy: a copy's own buffer costs ~120 bytes per entry, which a crafted table
    // of minimal 60-byte entries would turn into an allocation several times its size.
    const fileSha256 = bytes.subarray(o, o + 32); o += 32;
    const blocks = dv.getUint32(o, true); o += 4;
    need(4 * blocks, "block CRC list");
    const blockCrcs: number[] = [];
    for (let b = 0; b < blocks; b++) { blockCrcs.push(dv.getUint32(o, true)); o += 4; }
    members.push({ name, file, payloadSize, fileSize, chunkSize, fileSha256, blockCrcs });
  }
  if (o !== bytes.length) throw new CorruptionError(path, at(o), "bad-manifest", `${path}: ${bytes.length - o} unexpected bytes after the member table`);
  return members;
}

/** The manifest's container metadata: the step and the user's keys (a save checks its size first). */
export function manifestMetadata(step: number, meta: Metadata): Metadata {
  return { "ckptkit.step": String(step), ...prefixUser(meta) };
}

/**
 * `tableChunkSize` (tests only) forces a smaller table chunk so that the N > 1 form is cheap to
 * exercise. A table that fits one chunk is written with chunk size = its length, byte for byte
 * what the single-chunk encoder wrote, so older readers read every manifest they could write.
 */
export function encodeManifest(m: Manifest, tableChunkSize = TABLE_CHUNK_SIZE): Uint8Array {
  const table = encodeMemberTable(m.members);
  const chunkSize = table.length <= tableChunkSize ? Math.max(1, table.length) : tableChunkSize;
  return encodeContainer(
    { kind: KIND_MANIFEST, meta: manifestMetadata(m.step, m.meta), chunkSize, chunkType: CHUNK_MEMBER_TABLE, createdAt: m.createdAt },
    table,
  ).bytes;
}

const USER = "user.";

function prefixUser(meta: Metadata): Metadata {
  const out: Metadata = {};
  for (const [k, v] of Object.entries(meta)) out[USER + k] = v;
  return out;
}

/** User metadata (keys saved with --meta) out of a container's metadata. */
export function userMeta(meta: Metadata): Metadata {
  const out: Metadata = {};
  for (const [k, v] of Object.entries(meta)) if (k.startsWith(USER)) out[k.slice(USER.length)] = v;
  return out;
}
