// Metadata: an ordered list of string key/value pairs.
//   count u32 | per entry: key length u16 | key UTF-8 | value length u32 | value UTF-8
// Decoding bounds every length by the bytes present, so damaged metadata is an error, never a
// large allocation (the whole section is already capped at MAX_META_SIZE by the header check).
import { CorruptionError, UsageError } from "../errors.ts";
import { MAX_META_SIZE } from "./constants.ts";
import { utf8Length } from "./utf8.ts";

export type Metadata = Record<string, string>;

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

export function encodeMetadata(meta: Metadata): Uint8Array {
  // Sized first, then each string encoded straight into the output: no array per key or value.
  const keys = Object.keys(meta);
  let size = 4;
  for (const k of keys) {
    const kl = utf8Length(k);
    if (kl > 0xffff) throw new UsageError(`metadata key longer than 65535 bytes`);
    size += 2 + kl + 4 + utf8Length(meta[k]!);
  }
  if (size > MAX_META_SIZE) throw new UsageError(`metadata is ${size} bytes; the limit is ${MAX_META_SIZE}`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, keys.length, true);
  let p = 4;
  for (const k of keys) {
    const kl = enc.encodeInto(k, out.subarray(p + 2)).written;
    dv.setUint16(p, kl, true);
    p += 2 + kl;
    const vl = enc.encodeInto(meta[k]!, out.subarray(p + 4)).written;
    dv.setUint32(p, vl, true);
    p += 4 + vl;
  }
  // Invariant: utf8Length agrees with the encoder (a lone surrogate is U+FFFD, 3 bytes, in both).
  if (p !== size) throw new Error(`metadata: wrote ${p} bytes, sized ${size}`);
  return out;
}

export function decodeMetadata(bytes: Uint8Array, path: string, offset: number): Metadata {
  const bad = (at: number, why: string) =>
    new CorruptionError(path, offset + at, "bad-metadata", `${path}: metadata ${why} at byte ${offset + at}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw bad(0, "too short");
  const count = dv.getUint32(0, true);
  // Each entry takes at least 6 bytes: a count beyond that is damage, not a reason to loop.
  if (count > (bytes.length - 4) / 6) throw bad(0, `claims ${count} entries in ${bytes.length} bytes`);
  const meta: Metadata = {};
  let p = 4;
  try {
    for (let i = 0; i < count; i++) {
      if (p + 2 > bytes.length) throw bad(p, "truncated");
      const kl = dv.getUint16(p, true);
      if (p + 2 + kl + 4 > bytes.length) throw bad(p, `key length ${kl} overruns`);
      const key = dec.decode(bytes.subarray(p + 2, p + 2 + kl));
      p += 2 + kl;
      const vl = dv.getUint32(p, true);
      if (p + 4 + vl > bytes.length) throw bad(p, `value length ${vl} overruns`);
      meta[key] = dec.decode(bytes.subarray(p + 4, p + 4 + vl));
      p += 4 + vl;
    }
  } catch (err) {
    if (err instanceof CorruptionError) throw err;
    throw bad(p, "is not valid UTF-8");
  }
  if (p !== bytes.length) throw bad(p, `has ${bytes.length - p} trailing bytes`);
  return meta;
}
