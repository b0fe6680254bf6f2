// CRC-32 over 16 interleaved streams with WebAssembly SIMD (SIMD build only). WASM has no
// carry-less multiply, so this is table-based too, but the tables are 16-entry nibble tables
// looked up 16 lanes at a time with i8x16.swizzle:
//
// - A superblock of 16·L bytes is cut into 16 streams of L bytes; lane i of every vector
//   belongs to stream i. A 16×16 byte transpose (4 rounds of interleaves) turns 16 bytes of
//   each stream into 16 vectors holding "byte k of every stream" (stored in X16_TR).
// - Each stream's CRC register is kept byte-sliced across four vectors a, b, c, d (byte 0..3
//   of the 16 registers). One byte step of the classic byte-at-a-time CRC,
//   r' = (r >> 8) ^ T[(r ^ byte) & 0xff], becomes: idx = a ^ data; T[idx] split as
//   T[lo nibble] ^ T[hi nibble << 4], each output byte of that from one swizzle, so 8
//   swizzles advance all 16 streams by one byte. The roles of a..d rotate instead of moving.
// - The streams' registers are then combined in order: R(A‖B) = R(A)·x^(8L) ⊕ R₀(B), the
//   multiplication by the constant x^(8L) mod P done by four byte tables (X16_SHIFT).
//
// Measured in-kernel on 1 MiB, GB/s (scalar loop / this loop with swizzle / with relaxed_swizzle):
// Node 2.1 / 3.2 / n.a. (Node 20 rejects relaxed SIMD), Deno 2.1 / 3.8 / 5.0, Bun 2.5 / 1.8 /
// 2.7. The host therefore avoids the plain-swizzle loop under Bun (src/wasm/kernel.ts).
import { CRC_TABLES, X16_NT, X16_SHIFT, X16_TR } from "./layout";
import { crc32Raw } from "./crc32";

/** Bytes per stream; a superblock is 16 streams. */
const L: usize = 1024;

/** Advances a raw (un-inverted) register through n zero bytes, byte by byte (setup only). */
function zeros(v: u32, n: usize): u32 {
  for (let i: usize = 0; i < n; i++) v = load<u32>(CRC_TABLES + ((v & 0xff) << 2)) ^ (v >>> 8);
  return v;
}

/** Builds the nibble tables and the x^(8L) tables from the byte table (after crc32Init). */
export function crc32x16Setup(): void {
  for (let j: u32 = 0; j < 4; j++) {
    for (let n: u32 = 0; n < 16; n++) {
      store<u8>(X16_NT + (j << 5) + n, <u8>(load<u32>(CRC_TABLES + (n << 2)) >>> (8 * j)));
      store<u8>(X16_NT + (j << 5) + 16 + n, <u8>(load<u32>(CRC_TABLES + (n << 6)) >>> (8 * j)));
    }
  }
  for (let n: usize = 0; n < 16; n++) store<u8>(X16_NT + 128 + n, 0x0f);
  // Shifting is linear: tabulate it from the images of the 32 single bits (kept in X16_TR).
  for (let bit: u32 = 0; bit < 32; bit++) store<u32>(X16_TR + (bit << 2), zeros(1 << bit, L));
  for (let j: u32 = 0; j < 4; j++) {
    for (let x: u32 = 0; x < 256; x++) {
      let acc: u32 = 0;
      for (let bit: u32 = 0; bit < 8; bit++) if (x & (1 << bit)) acc ^= load<u32>(X16_TR + ((8 * j + bit) << 2));
      store<u32>(X16_SHIFT + (j << 10) + (x << 2), acc);
    }
  }
}

/**
 * A 16-entry table lookup per lane. The indices are always 0..15 here, where relaxed_swizzle is
 * fully specified (it differs only for indices ≥ 16), so both forms give identical results; the
 * relaxed one skips the engine's fix-up for out-of-range indices (one add per lookup in V8).
 */
// @ts-ignore: decorator
@inline function look(table: v128, idx: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? i8x16.relaxed_swizzle(table, idx) : i8x16.swizzle(table, idx);
}

// @ts-ignore: decorator
@inline function lo8(a: v128, b: v128): v128 { return i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23); }
// @ts-ignore: decorator
@inline function hi8(a: v128, b: v128): v128 { return i8x16.shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31); }

/**
 * X16_TR[16·o + 16·k + i] = byte o + k of stream i. Each interleave round rotates the 8-bit
 * (vector, lane) address left by one bit, so four rounds swap vector and lane: a transpose.
 */
function transpose(p: usize): void {
  for (let o: usize = 0; o < L; o += 16) {
    let v0 = v128.load(p + o), v1 = v128.load(p + L + o), v2 = v128.load(p + 2 * L + o), v3 = v128.load(p + 3 * L + o);
    let v4 = v128.load(p + 4 * L + o), v5 = v128.load(p + 5 * L + o), v6 = v128.load(p + 6 * L + o), v7 = v128.load(p + 7 * L + o);
    let v8 = v128.load(p + 8 * L + o), v9 = v128.load(p + 9 * L + o), v10 = v128.load(p + 10 * L + o), v11 = v128.load(p + 11 * L + o);
    let v12 = v128.load(p + 12 * L + o), v13 = v128.load(p + 13 * L + o), v14 = v128.load(p + 14 * L + o), v15 = v128.load(p + 15 * L + o);
    for (let s = 0; s < 4; s++) {
      const t0 = lo8(v0, v8), t1 = hi8(v0, v8), t2 = lo8(v1, v9), t3 = hi8(v1, v9);
      const t4 = lo8(v2, v10), t5 = hi8(v2, v10), t6 = lo8(v3, v11), t7 = hi8(v3, v11);
      const t8 = lo8(v4, v12), t9 = hi8(v4, v12), t10 = lo8(v5, v13), t11 = hi8(v5, v13);
      const t12 = lo8(v6, v14), t13 = hi8(v6, v14), t14 = lo8(v7, v15), t15 = hi8(v7, v15);
      v0 = t0; v1 = t1; v2 = t2; v3 = t3; v4 = t4; v5 = t5; v6 = t6; v7 = t7;
      v8 = t8; v9 = t9; v10 = t10; v11 = t11; v12 = t12; v13 = t13; v14 = t14; v15 = t15;
    }
    const q = X16_TR + (o << 4);
    v128.store(q, v0); v128.store(q, v1, 16); v128.store(q, v2, 32); v128.store(q, v3, 48);
    v128.store(q, v4, 64); v128.store(q, v5, 80); v128.store(q, v6, 96); v128.store(q, v7, 112);
    v128.store(q, v8, 128); v128.store(q, v9, 144); v128.store(q, v10, 160); v128.store(q, v11, 176);
    v128.store(q, v12, 192); v128.store(q, v13, 208); v128.store(q, v14, 224); v128.store(q, v15, 240);
  }
}

/** One superblock at p: returns the raw register after it, starting from raw register r. */
function superblock(r: u32, p: usize): u32 {
  transpose(p);
  const lo0 = v128.load(X16_NT), hi0 = v128.load(X16_NT, 16), lo1 = v128.load(X16_NT, 32), hi1 = v128.load(X16_NT, 48);
  const lo2 = v128.load(X16_NT, 64), hi2 = v128.load(X16_NT, 80), lo3 = v128.load(X16_NT, 96), hi3 = v128.load(X16_NT, 112);
  const m = v128.load(X16_NT, 128); // 0x0f × 16, loaded so the engine keeps it in a register
  // Stream 0 starts from r, the others from 0 (their contributions are shifted in afterwards).
  let a = i32x4.replace_lane(i32x4.splat(0), 0, r & 0xff);
  let b = i32x4.replace_lane(i32x4.splat(0), 0, (r >>> 8) & 0xff);
  let c = i32x4.replace_lane(i32x4.splat(0), 0, (r >>> 16) & 0xff);
  let d = i32x4.replace_lane(i32x4.splat(0), 0, r >>> 24);
  const end = X16_TR + (L << 4);
  for (let q = X16_TR; q < end; q += 64) {
    let idx = v128.xor(a, v128.load(q));
    let l = v128.and(idx, m);
    let h = v128.and(i16x8.shr_u(idx, 4), m);
    b = v128.xor(b, v128.xor(look(lo0, l), look(hi0, h)));
    c = v128.xor(c, v128.xor(look(lo1, l), look(hi1, h)));
    d = v128.xor(d, v128.xor(look(lo2, l), look(hi2, h)));
    a = v128.xor(look(lo3, l), look(hi3, h));
    idx = v128.xor(b, v128.load(q, 16));
    l = v128.and(idx, m);
    h = v128.and(i16x8.shr_u(idx, 4), m);
    c = v128.xor(c, v128.xor(look(lo0, l), look(hi0, h)));
    d = v128.xor(d, v128.xor(look(lo1, l), look(hi1, h)));
    a = v128.xor(a, v128.xor(look(lo2, l), look(hi2, h)));
    b = v128.xor(look(lo3, l), look(hi3, h));
    idx = v128.xor(c, v128.load(q, 32));
    l = v128.and(idx, m);
    h = v128.and(i16x8.shr_u(idx, 4), m);
    d = v128.xor(d, v128.xor(look(lo0, l), look(hi0, h)));
    a = v128.xor(a, v128.xor(look(lo1, l), look(hi1, h)));
    b = v128.xor(b, v128.xor(look(lo2, l), look(hi2, h)));
    c = v128.xor(look(lo3, l), look(hi3, h));
    idx = v128.xor(d, v128.load(q, 48));
    l = v128.and(idx, m);
    h = v128.and(i16x8.shr_u(idx, 4), m);
    a = v128.xor(a, v128.xor(look(lo0, l), look(hi0, h)));
    b = v128.xor(b, v128.xor(look(lo1, l), look(hi1, h)));
    c = v128.xor(c, v128.xor(look(lo2, l), look(hi2, h)));
    d = v128.xor(look(lo3, l), look(hi3, h));
  }
  // After a multiple of 4 steps the roles are back: a..d hold bytes 0..3 of each register.
  v128.store(X16_TR, a); v128.store(X16_TR, b, 16); v128.store(X16_TR, c, 32); v128.store(X16_TR, d, 48);
  let acc: u32 = 0;
  for (let i: usize = 0; i < 16; i++) {
    const reg = <u32>load<u8>(X16_TR + i) | (<u32>load<u8>(X16_TR + 16 + i) << 8) |
      (<u32>load<u8>(X16_TR + 32 + i) << 16) | (<u32>load<u8>(X16_TR + 48 + i) << 24);
    acc = i == 0 ? reg : reg ^ load<u32>(X16_SHIFT + ((acc & 0xff) << 2)) ^ load<u32>(X16_SHIFT + 1024 + (((acc >>> 8) & 0xff) << 2)) ^
      load<u32>(X16_SHIFT + 2048 + (((acc >>> 16) & 0xff) << 2)) ^ load<u32>(X16_SHIFT + 3072 + ((acc >>> 24) << 2));
  }
  return acc;
}

/** Same contract as crc32Update: whole superblocks here, the rest with slicing-by-16. */
export function crc32x16(seed: u32, ptr: usize, len: usize): u32 {
  let r = ~seed;
  let p = ptr;
  const end = ptr + len;
  while (p + 16 * L <= end) { r = superblock(r, p); p += 16 * L; }
  return ~crc32Raw(r, p, end - p);
}
