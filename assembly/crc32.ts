// CRC-32/ISO-HDLC (zlib's crc32): reflected polynomial 0xEDB88320, init and xorout 0xFFFFFFFF.
// Slicing-by-16: table k maps a byte to its CRC contribution k bytes further back, so 16 input
// bytes cost 16 table loads and no data-dependent branch.
import { CRC_TABLES } from "./layout";

export function crc32Init(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(CRC_TABLES + (n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(CRC_TABLES + (n << 2));
    for (let t: u32 = 1; t < 16; t++) {
      c = load<u32>(CRC_TABLES + ((c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(CRC_TABLES + (t << 10) + (n << 2), c);
    }
  }
}

// @ts-ignore: decorator
@inline function T(t: u32, i: u32): u32 {
  return load<u32>(CRC_TABLES + (t << 10) + (i << 2));
}

/** Continues a CRC: `seed` is a previous result (0 to start); returns the new result. */
export function crc32Update(seed: u32, ptr: usize, len: usize): u32 {
  return ~crc32Raw(~seed, ptr, len);
}

/** The register-level loop: `crc` and the result are raw (not inverted) registers. */
export function crc32Raw(crc: u32, ptr: usize, len: usize): u32 {
  let p = ptr;
  const end = ptr + len;
  while (p + 16 <= end) {
    const a = load<u32>(p) ^ crc;
    const b = load<u32>(p, 4);
    const c = load<u32>(p, 8);
    const d = load<u32>(p, 12);
    crc =
      T(15, a & 0xff) ^ T(14, (a >>> 8) & 0xff) ^ T(13, (a >>> 16) & 0xff) ^ T(12, a >>> 24) ^
      T(11, b & 0xff) ^ T(10, (b >>> 8) & 0xff) ^ T(9, (b >>> 16) & 0xff) ^ T(8, b >>> 24) ^
      T(7, c & 0xff) ^ T(6, (c >>> 8) & 0xff) ^ T(5, (c >>> 16) & 0xff) ^ T(4, c >>> 24) ^
      T(3, d & 0xff) ^ T(2, (d >>> 8) & 0xff) ^ T(1, (d >>> 16) & 0xff) ^ T(0, d >>> 24);
    p += 16;
  }
  while (p < end) {
    crc = T(0, (crc ^ load<u8>(p)) & 0xff) ^ (crc >>> 8);
    p++;
  }
  return crc;
}
