// SHA-256 (FIPS 180-4), streaming. The state is a 112-byte record at a caller-chosen address,
// so any number of hashers can interleave: the host keeps the active hasher's record at STATE
// and swaps it out only when another hasher needs the slot (src/hash.ts).
//
//   state layout: h[8] u32 @0 | total byte length u64 @32 | buffered count u32 @40 |
//                 pad u32 @44 | buffered block 64 B @48        (SHA_STATE_SIZE = 112)
import { SHA_K } from "./layout";
import { compressV } from "./sha256-vsched";
import { CH, S0, S1, s0, s1 } from "./sha256-ops";

export const SHA_STATE_SIZE: usize = 112;

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

export function sha256Setup(): void {
  for (let i = 0; i < 64; i++) store<u32>(SHA_K + (<usize>i << 2), unchecked(K[i]));
}

export function sha256Init(st: usize): void {
  store<u32>(st, 0x6a09e667, 0);
  store<u32>(st, 0xbb67ae85, 4);
  store<u32>(st, 0x3c6ef372, 8);
  store<u32>(st, 0xa54ff53a, 12);
  store<u32>(st, 0x510e527f, 16);
  store<u32>(st, 0x9b05688c, 20);
  store<u32>(st, 0x1f83d9ab, 24);
  store<u32>(st, 0x5be0cd19, 28);
  store<u64>(st, 0, 32);
  store<u32>(st, 0, 40);
}

// The round is ordered for the dependency chain, not for instruction count: T1 is summed as
// ((h + K + W) + Ch(e,f,g)) + Σ1(e), so only the last add waits for Σ1, and Σ1/Σ0 are three
// independent rotations (latency 3) rather than nested ones (latency 5, one copy fewer). A round
// then waits ~4 cycles on e instead of ~9: 1.14–1.20× hash-wasm in V8 and JavaScriptCore where the
// left-to-right sum with nested rotations gave 0.96–1.13 (bench/kernels.ts, idle machine). Maj is
// written out in each round as b ^ ((a ^ b) & (b ^ c)), reusing the previous round's a ^ b.

/**
 * True when the SIMD build should use the scalar rounds for one stream: JavaScriptCore runs
 * compressScalar ~1.1× faster than compressV (its vector lane extracts cost more than V8's); the
 * host sets it under Bun (src/wasm/kernel.ts). The scalar build always uses compressScalar.
 */
let scalarRounds = false;

/** Chooses the one-stream rounds of the SIMD build (see scalarRounds); no effect in the scalar build. */
export function sha256ScalarRounds(on: bool): void {
  scalarRounds = on;
}

/** Compresses `blocks` consecutive 64-byte blocks at `p` into the state at `st`. */
// @ts-ignore: decorator
@inline function compress(st: usize, p: usize, blocks: usize): void {
  if (ASC_FEATURE_SIMD && !scalarRounds) compressV(st, p, blocks);
  else compressScalar(st, p, blocks);
}

/**
 * The scalar build's compression (the SIMD build's is compressV in sha256-vsched.ts). All 64 rounds
 * are unrolled with the working variables' roles rotating (no register shuffling) and the
 * round constants as immediates; the message schedule is a rolling window of 16 locals,
 * each word expanded in place just before the round that needs it; Maj reuses the previous
 * round's a ^ b. No memory traffic but the block's 16 loads. (Measured against the looped
 * version with W and K in memory: ~1.4× in V8.)
 */
function compressScalar(st: usize, p: usize, blocks: usize): void {
  let h0 = load<u32>(st, 0), h1 = load<u32>(st, 4), h2 = load<u32>(st, 8), h3 = load<u32>(st, 12);
  let h4 = load<u32>(st, 16), h5 = load<u32>(st, 20), h6 = load<u32>(st, 24), h7 = load<u32>(st, 28);
  const end = p + (blocks << 6);
  for (let q = p; q < end; q += 64) {
    let w0 = bswap<u32>(load<u32>(q, 0));
    let w1 = bswap<u32>(load<u32>(q, 4));
    let w2 = bswap<u32>(load<u32>(q, 8));
    let w3 = bswap<u32>(load<u32>(q, 12));
    let w4 = bswap<u32>(load<u32>(q, 16));
    let w5 = bswap<u32>(load<u32>(q, 20));
    let w6 = bswap<u32>(load<u32>(q, 24));
    let w7 = bswap<u32>(load<u32>(q, 28));
    let w8 = bswap<u32>(load<u32>(q, 32));
    let w9 = bswap<u32>(load<u32>(q, 36));
    let w10 = bswap<u32>(load<u32>(q, 40));
    let w11 = bswap<u32>(load<u32>(q, 44));
    let w12 = bswap<u32>(load<u32>(q, 48));
    let w13 = bswap<u32>(load<u32>(q, 52));
    let w14 = bswap<u32>(load<u32>(q, 56));
    let w15 = bswap<u32>(load<u32>(q, 60));
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    let t: u32, x: u32, y: u32 = b ^ c;
    t = h + (0x428a2f98 + w0) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (0x71374491 + w1) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (0xb5c0fbcf + w2) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (0xe9b5dba5 + w3) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    t = d + (0x3956c25b + w4) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (0x59f111f1 + w5) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (0x923f82a4 + w6) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (0xab1c5ed5 + w7) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    t = h + (0xd807aa98 + w8) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (0x12835b01 + w9) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (0x243185be + w10) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (0x550c7dc3 + w11) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    t = d + (0x72be5d74 + w12) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (0x80deb1fe + w13) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (0x9bdc06a7 + w14) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (0xc19bf174 + w15) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    w0 += s1(w14) + w9 + s0(w1);
    t = h + (0xe49b69c1 + w0) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    w1 += s1(w15) + w10 + s0(w2);
    t = g + (0xefbe4786 + w1) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    w2 += s1(w0) + w11 + s0(w3);
    t = f + (0x0fc19dc6 + w2) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    w3 += s1(w1) + w12 + s0(w4);
    t = e + (0x240ca1cc + w3) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    w4 += s1(w2) + w13 + s0(w5);
    t = d + (0x2de92c6f + w4) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    w5 += s1(w3) + w14 + s0(w6);
    t = c + (0x4a7484aa + w5) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    w6 += s1(w4) + w15 + s0(w7);
    t = b + (0x5cb0a9dc + w6) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    w7 += s1(w5) + w0 + s0(w8);
    t = a + (0x76f988da + w7) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    w8 += s1(w6) + w1 + s0(w9);
    t = h + (0x983e5152 + w8) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    w9 += s1(w7) + w2 + s0(w10);
    t = g + (0xa831c66d + w9) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    w10 += s1(w8) + w3 + s0(w11);
    t = f + (0xb00327c8 + w10) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    w11 += s1(w9) + w4 + s0(w12);
    t = e + (0xbf597fc7 + w11) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    w12 += s1(w10) + w5 + s0(w13);
    t = d + (0xc6e00bf3 + w12) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    w13 += s1(w11) + w6 + s0(w14);
    t = c + (0xd5a79147 + w13) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    w14 += s1(w12) + w7 + s0(w15);
    t = b + (0x06ca6351 + w14) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    w15 += s1(w13) + w8 + s0(w0);
    t = a + (0x14292967 + w15) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    w0 += s1(w14) + w9 + s0(w1);
    t = h + (0x27b70a85 + w0) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    w1 += s1(w15) + w10 + s0(w2);
    t = g + (0x2e1b2138 + w1) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    w2 += s1(w0) + w11 + s0(w3);
    t = f + (0x4d2c6dfc + w2) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    w3 += s1(w1) + w12 + s0(w4);
    t = e + (0x53380d13 + w3) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    w4 += s1(w2) + w13 + s0(w5);
    t = d + (0x650a7354 + w4) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    w5 += s1(w3) + w14 + s0(w6);
    t = c + (0x766a0abb + w5) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    w6 += s1(w4) + w15 + s0(w7);
    t = b + (0x81c2c92e + w6) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    w7 += s1(w5) + w0 + s0(w8);
    t = a + (0x92722c85 + w7) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    w8 += s1(w6) + w1 + s0(w9);
    t = h + (0xa2bfe8a1 + w8) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    w9 += s1(w7) + w2 + s0(w10);
    t = g + (0xa81a664b + w9) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    w10 += s1(w8) + w3 + s0(w11);
    t = f + (0xc24b8b70 + w10) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    w11 += s1(w9) + w4 + s0(w12);
    t = e + (0xc76c51a3 + w11) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    w12 += s1(w10) + w5 + s0(w13);
    t = d + (0xd192e819 + w12) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    w13 += s1(w11) + w6 + s0(w14);
    t = c + (0xd6990624 + w13) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    w14 += s1(w12) + w7 + s0(w15);
    t = b + (0xf40e3585 + w14) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    w15 += s1(w13) + w8 + s0(w0);
    t = a + (0x106aa070 + w15) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    w0 += s1(w14) + w9 + s0(w1);
    t = h + (0x19a4c116 + w0) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    w1 += s1(w15) + w10 + s0(w2);
    t = g + (0x1e376c08 + w1) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    w2 += s1(w0) + w11 + s0(w3);
    t = f + (0x2748774c + w2) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    w3 += s1(w1) + w12 + s0(w4);
    t = e + (0x34b0bcb5 + w3) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    w4 += s1(w2) + w13 + s0(w5);
    t = d + (0x391c0cb3 + w4) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    w5 += s1(w3) + w14 + s0(w6);
    t = c + (0x4ed8aa4a + w5) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    w6 += s1(w4) + w15 + s0(w7);
    t = b + (0x5b9cca4f + w6) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    w7 += s1(w5) + w0 + s0(w8);
    t = a + (0x682e6ff3 + w7) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    w8 += s1(w6) + w1 + s0(w9);
    t = h + (0x748f82ee + w8) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    w9 += s1(w7) + w2 + s0(w10);
    t = g + (0x78a5636f + w9) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    w10 += s1(w8) + w3 + s0(w11);
    t = f + (0x84c87814 + w10) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    w11 += s1(w9) + w4 + s0(w12);
    t = e + (0x8cc70208 + w11) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    w12 += s1(w10) + w5 + s0(w13);
    t = d + (0x90befffa + w12) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    w13 += s1(w11) + w6 + s0(w14);
    t = c + (0xa4506ceb + w13) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    w14 += s1(w12) + w7 + s0(w15);
    t = b + (0xbef9a3f7 + w14) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    w15 += s1(w13) + w8 + s0(w0);
    t = a + (0xc67178f2 + w15) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    h0 += a; h1 += b; h2 += c; h3 += d; h4 += e; h5 += f; h6 += g; h7 += h;
  }
  store<u32>(st, h0, 0); store<u32>(st, h1, 4); store<u32>(st, h2, 8); store<u32>(st, h3, 12);
  store<u32>(st, h4, 16); store<u32>(st, h5, 20); store<u32>(st, h6, 24); store<u32>(st, h7, 28);
}

export function sha256Update(st: usize, ptr: usize, len: usize): void {
  const buf = st + 48;
  let buffered = <usize>load<u32>(st, 40);
  store<u64>(st, load<u64>(st, 32) + <u64>len, 32);
  let p = ptr;
  let n = len;
  if (buffered > 0) {
    const take = min<usize>(64 - buffered, n);
    memory.copy(buf + buffered, p, take);
    buffered += take; p += take; n -= take;
    if (buffered < 64) { store<u32>(st, <u32>buffered, 40); return; }
    compress(st, buf, 1);
    buffered = 0;
  }
  const whole = n >>> 6;
  if (whole > 0) { compress(st, p, whole); p += whole << 6; n -= whole << 6; }
  if (n > 0) memory.copy(buf, p, n);
  store<u32>(st, <u32>n, 40);
}

/** Pads, compresses and writes the 32-byte big-endian digest to `out`. */
export function sha256Final(st: usize, out: usize): void {
  const buf = st + 48;
  let buffered = <usize>load<u32>(st, 40);
  const bits = load<u64>(st, 32) << 3;
  store<u8>(buf + buffered, 0x80);
  buffered++;
  if (buffered > 56) {
    memory.fill(buf + buffered, 0, 64 - buffered);
    compress(st, buf, 1);
    buffered = 0;
  }
  memory.fill(buf + buffered, 0, 56 - buffered);
  store<u64>(buf, bswap<u64>(bits), 56);
  compress(st, buf, 1);
  for (let i: usize = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(load<u32>(st + (i << 2))));
}

/** One-shot SHA-256 of `len` bytes at `p` into `out`, using the state record at `st`. */
export function sha256Once(st: usize, p: usize, len: usize, out: usize): void {
  sha256Init(st);
  sha256Update(st, p, len);
  sha256Final(st, out);
}
