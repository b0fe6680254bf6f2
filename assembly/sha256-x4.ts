// Four-lane SHA-256 (SIMD build only): lane i of every v128 is message i's 32-bit word, so one
// pass of the rounds hashes four equal-length messages. The message words are loaded 16 bytes
// per lane, byte-swapped and transposed 4×4; the schedule (with the round constants added) is
// expanded into MB_WK first, so the rounds keep only the eight working vectors live. Padding
// is the same for all four lanes (equal lengths): their tails are copied into MB_TAIL, padded
// there and compressed as one more group of blocks.
import { MB_K, MB_STATE, MB_TAIL, MB_W, MB_WK, SHA_K } from "./layout";
import { vrotr, vs0, vs1 } from "./sha256-ops";

const H: StaticArray<u32> = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Splats the round constants to four lanes (called once at start, SIMD build only). */
export function sha256x4Setup(): void {
  for (let i: usize = 0; i < 64; i++) v128.store(MB_K + (i << 4), i32x4.splat(load<u32>(SHA_K + (i << 2))));
}

// @ts-ignore: decorator
@inline function S0(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 2), vrotr(x, 13)), vrotr(x, 22)); }
// @ts-ignore: decorator
@inline function S1(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 6), vrotr(x, 11)), vrotr(x, 25)); }
// @ts-ignore: decorator
@inline function CH(e: v128, f: v128, g: v128): v128 { return v128.xor(g, v128.and(e, v128.xor(f, g))); }
// @ts-ignore: decorator
@inline function bswap4(v: v128): v128 { return i8x16.shuffle(v, v, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12); }

/** Stores words 4g..4g+3 of the four lanes' blocks (lane l at p + l·stride) as schedule vectors. */
// @ts-ignore: decorator
@inline function loadWords(p: usize, stride: usize, g: usize): void {
  const v0 = bswap4(v128.load(p + (g << 4))), v1 = bswap4(v128.load(p + stride + (g << 4)));
  const v2 = bswap4(v128.load(p + 2 * stride + (g << 4))), v3 = bswap4(v128.load(p + 3 * stride + (g << 4)));
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(v2, v3, 0, 4, 1, 5), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
  const q = MB_W + (g << 6);
  v128.store(q, i64x2.shuffle(t0, t2, 0, 2), 0);
  v128.store(q, i64x2.shuffle(t0, t2, 1, 3), 16);
  v128.store(q, i64x2.shuffle(t1, t3, 0, 2), 32);
  v128.store(q, i64x2.shuffle(t1, t3, 1, 3), 48);
}

/** Compresses `blocks` blocks of each lane (lane l's blocks at p + l·stride) into MB_STATE. */
function compress4(p: usize, stride: usize, blocks: usize): void {
  let h0 = v128.load(MB_STATE, 0), h1 = v128.load(MB_STATE, 16), h2 = v128.load(MB_STATE, 32), h3 = v128.load(MB_STATE, 48);
  let h4 = v128.load(MB_STATE, 64), h5 = v128.load(MB_STATE, 80), h6 = v128.load(MB_STATE, 96), h7 = v128.load(MB_STATE, 112);
  for (let blk: usize = 0; blk < blocks; blk++) {
    const q = p + (blk << 6);
    loadWords(q, stride, 0); loadWords(q, stride, 1); loadWords(q, stride, 2); loadWords(q, stride, 3);
    for (let i: usize = 0; i < 256; i += 16) v128.store(MB_WK + i, i32x4.add(v128.load(MB_W + i), v128.load(MB_K + i)));
    for (let i: usize = 256; i < 1024; i += 16) {
      const w = i32x4.add(i32x4.add(v128.load(MB_W + i - 256), vs1(v128.load(MB_W + i - 32))),
        i32x4.add(v128.load(MB_W + i - 112), vs0(v128.load(MB_W + i - 240))));
      v128.store(MB_W + i, w);
      v128.store(MB_WK + i, i32x4.add(w, v128.load(MB_K + i)));
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    let t: v128, x: v128, y = v128.xor(b, c);
    for (let w = MB_WK; w < MB_WK + 1024; w += 128) {
      t = i32x4.add(i32x4.add(i32x4.add(h, v128.load(w, 0)), CH(e, f, g)), S1(e));
      d = i32x4.add(d, t); x = v128.xor(a, b);
      h = i32x4.add(i32x4.add(t, v128.xor(b, v128.and(x, y))), S0(a));
      t = i32x4.add(i32x4.add(i32x4.add(g, v128.load(w, 16)), CH(d, e, f)), S1(d));
      c = i32x4.add(c, t); y = v128.xor(h, a);
      g = i32x4.add(i32x4.add(t, v128.xor(a, v128.and(y, x))), S0(h));
      t = i32x4.add(i32x4.add(i32x4.add(f, v128.load(w, 32)), CH(c, d, e)), S1(c));
      b = i32x4.add(b, t); x = v128.xor(g, h);
      f = i32x4.add(i32x4.add(t, v128.xor(h, v128.and(x, y))), S0(g));
      t = i32x4.add(i32x4.add(i32x4.add(e, v128.load(w, 48)), CH(b, c, d)), S1(b));
      a = i32x4.add(a, t); y = v128.xor(f, g);
      e = i32x4.add(i32x4.add(t, v128.xor(g, v128.and(y, x))), S0(f));
      t = i32x4.add(i32x4.add(i32x4.add(d, v128.load(w, 64)), CH(a, b, c)), S1(a));
      h = i32x4.add(h, t); x = v128.xor(e, f);
      d = i32x4.add(i32x4.add(t, v128.xor(f, v128.and(x, y))), S0(e));
      t = i32x4.add(i32x4.add(i32x4.add(c, v128.load(w, 80)), CH(h, a, b)), S1(h));
      g = i32x4.add(g, t); y = v128.xor(d, e);
      c = i32x4.add(i32x4.add(t, v128.xor(e, v128.and(y, x))), S0(d));
      t = i32x4.add(i32x4.add(i32x4.add(b, v128.load(w, 96)), CH(g, h, a)), S1(g));
      f = i32x4.add(f, t); x = v128.xor(c, d);
      b = i32x4.add(i32x4.add(t, v128.xor(d, v128.and(x, y))), S0(c));
      t = i32x4.add(i32x4.add(i32x4.add(a, v128.load(w, 112)), CH(f, g, h)), S1(f));
      e = i32x4.add(e, t); y = v128.xor(b, c);
      a = i32x4.add(i32x4.add(t, v128.xor(c, v128.and(y, x))), S0(b));
    }
    h0 = i32x4.add(h0, a); h1 = i32x4.add(h1, b); h2 = i32x4.add(h2, c); h3 = i32x4.add(h3, d);
    h4 = i32x4.add(h4, e); h5 = i32x4.add(h5, f); h6 = i32x4.add(h6, g); h7 = i32x4.add(h7, h);
  }
  v128.store(MB_STATE, h0, 0); v128.store(MB_STATE, h1, 16); v128.store(MB_STATE, h2, 32); v128.store(MB_STATE, h3, 48);
  v128.store(MB_STATE, h4, 64); v128.store(MB_STATE, h5, 80); v128.store(MB_STATE, h6, 96); v128.store(MB_STATE, h7, 112);
}

/** SHA-256 of four `len`-byte messages at p, p + len, p + 2·len, p + 3·len; digests to out (32 B apart). */
export function sha256x4(p: usize, len: usize, out: usize): void {
  for (let i = 0; i < 8; i++) v128.store(MB_STATE + (<usize>i << 4), i32x4.splat(<i32>unchecked(H[i])));
  const whole = len >>> 6;
  compress4(p, len, whole);
  // Padding: equal lengths give every lane the same layout: tail, 0x80, zeros, bit length.
  const rem = len & 63;
  const tailBlocks: usize = rem + 9 > 64 ? 2 : 1;
  const bits = bswap<u64>(<u64>len << 3);
  for (let l: usize = 0; l < 4; l++) {
    const t = MB_TAIL + (l << 7);
    memory.copy(t, p + l * len + (whole << 6), rem);
    store<u8>(t + rem, 0x80);
    memory.fill(t + rem + 1, 0, (tailBlocks << 6) - rem - 9);
    store<u64>(t + (tailBlocks << 6) - 8, bits);
  }
  compress4(MB_TAIL, 128, tailBlocks);
  for (let l: usize = 0; l < 4; l++) {
    for (let i: usize = 0; i < 8; i++) store<u32>(out + (l << 5) + (i << 2), bswap<u32>(load<u32>(MB_STATE + (i << 4) + (l << 2))));
  }
}
