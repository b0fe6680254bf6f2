// One-stream SHA-256 compression for the SIMD build: the rounds stay scalar (SHA-256 has one
// dependency chain), but the message schedule lives in four v128 registers and is expanded
// four words at a time (σ1 in two halves, since W[t+2] needs W[t]), with K added as a vector;
// each round extracts its W[t] + K[t] lane. The scalar version keeps 16 schedule words in
// general registers next to the 8 working variables, more than x86-64 has, so V8 spills
// about a quarter of its instructions; here only the working variables are in them.
import { SHA_K } from "./layout";
import { CH, S0, S1, vs0, vs1 } from "./sha256-ops";

// @ts-ignore: decorator
@inline function bswap4(v: v128): v128 { return i8x16.shuffle(v, v, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12); }

/** Same contract as compress() in sha256.ts. */
export function compressV(st: usize, p: usize, blocks: usize): void {
  let h0 = load<u32>(st, 0), h1 = load<u32>(st, 4), h2 = load<u32>(st, 8), h3 = load<u32>(st, 12);
  let h4 = load<u32>(st, 16), h5 = load<u32>(st, 20), h6 = load<u32>(st, 24), h7 = load<u32>(st, 28);
  const end = p + (blocks << 6);
  for (let q = p; q < end; q += 64) {
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    let t: u32, x: u32, y: u32 = b ^ c;
    let v0 = bswap4(v128.load(q, 0));
    let v1 = bswap4(v128.load(q, 16));
    let v2 = bswap4(v128.load(q, 32));
    let v3 = bswap4(v128.load(q, 48));
    const k0 = i32x4.add(v0, v128.load(SHA_K, 0));
    t = h + (<u32>i32x4.extract_lane(k0, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k0, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k0, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k0, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const k1 = i32x4.add(v1, v128.load(SHA_K, 16));
    t = d + (<u32>i32x4.extract_lane(k1, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k1, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k1, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k1, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    const k2 = i32x4.add(v2, v128.load(SHA_K, 32));
    t = h + (<u32>i32x4.extract_lane(k2, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k2, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k2, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k2, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const k3 = i32x4.add(v3, v128.load(SHA_K, 48));
    t = d + (<u32>i32x4.extract_lane(k3, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k3, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k3, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k3, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    const m4 = i32x4.add(i32x4.add(v0, vs0(i32x4.shuffle(v0, v1, 1, 2, 3, 4))), i32x4.shuffle(v2, v3, 1, 2, 3, 4));
    const n4 = i32x4.add(m4, vs1(i32x4.shuffle(v3, v3, 2, 3, 2, 3)));
    const v4 = i32x4.shuffle(n4, i32x4.add(m4, vs1(i32x4.shuffle(n4, n4, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k4 = i32x4.add(v4, v128.load(SHA_K, 64));
    t = h + (<u32>i32x4.extract_lane(k4, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k4, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k4, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k4, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const m5 = i32x4.add(i32x4.add(v1, vs0(i32x4.shuffle(v1, v2, 1, 2, 3, 4))), i32x4.shuffle(v3, v4, 1, 2, 3, 4));
    const n5 = i32x4.add(m5, vs1(i32x4.shuffle(v4, v4, 2, 3, 2, 3)));
    const v5 = i32x4.shuffle(n5, i32x4.add(m5, vs1(i32x4.shuffle(n5, n5, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k5 = i32x4.add(v5, v128.load(SHA_K, 80));
    t = d + (<u32>i32x4.extract_lane(k5, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k5, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k5, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k5, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    const m6 = i32x4.add(i32x4.add(v2, vs0(i32x4.shuffle(v2, v3, 1, 2, 3, 4))), i32x4.shuffle(v4, v5, 1, 2, 3, 4));
    const n6 = i32x4.add(m6, vs1(i32x4.shuffle(v5, v5, 2, 3, 2, 3)));
    const v6 = i32x4.shuffle(n6, i32x4.add(m6, vs1(i32x4.shuffle(n6, n6, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k6 = i32x4.add(v6, v128.load(SHA_K, 96));
    t = h + (<u32>i32x4.extract_lane(k6, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k6, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k6, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k6, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const m7 = i32x4.add(i32x4.add(v3, vs0(i32x4.shuffle(v3, v4, 1, 2, 3, 4))), i32x4.shuffle(v5, v6, 1, 2, 3, 4));
    const n7 = i32x4.add(m7, vs1(i32x4.shuffle(v6, v6, 2, 3, 2, 3)));
    const v7 = i32x4.shuffle(n7, i32x4.add(m7, vs1(i32x4.shuffle(n7, n7, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k7 = i32x4.add(v7, v128.load(SHA_K, 112));
    t = d + (<u32>i32x4.extract_lane(k7, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k7, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k7, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k7, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    const m8 = i32x4.add(i32x4.add(v4, vs0(i32x4.shuffle(v4, v5, 1, 2, 3, 4))), i32x4.shuffle(v6, v7, 1, 2, 3, 4));
    const n8 = i32x4.add(m8, vs1(i32x4.shuffle(v7, v7, 2, 3, 2, 3)));
    const v8 = i32x4.shuffle(n8, i32x4.add(m8, vs1(i32x4.shuffle(n8, n8, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k8 = i32x4.add(v8, v128.load(SHA_K, 128));
    t = h + (<u32>i32x4.extract_lane(k8, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k8, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k8, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k8, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const m9 = i32x4.add(i32x4.add(v5, vs0(i32x4.shuffle(v5, v6, 1, 2, 3, 4))), i32x4.shuffle(v7, v8, 1, 2, 3, 4));
    const n9 = i32x4.add(m9, vs1(i32x4.shuffle(v8, v8, 2, 3, 2, 3)));
    const v9 = i32x4.shuffle(n9, i32x4.add(m9, vs1(i32x4.shuffle(n9, n9, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k9 = i32x4.add(v9, v128.load(SHA_K, 144));
    t = d + (<u32>i32x4.extract_lane(k9, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k9, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k9, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k9, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    const m10 = i32x4.add(i32x4.add(v6, vs0(i32x4.shuffle(v6, v7, 1, 2, 3, 4))), i32x4.shuffle(v8, v9, 1, 2, 3, 4));
    const n10 = i32x4.add(m10, vs1(i32x4.shuffle(v9, v9, 2, 3, 2, 3)));
    const v10 = i32x4.shuffle(n10, i32x4.add(m10, vs1(i32x4.shuffle(n10, n10, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k10 = i32x4.add(v10, v128.load(SHA_K, 160));
    t = h + (<u32>i32x4.extract_lane(k10, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k10, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k10, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k10, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const m11 = i32x4.add(i32x4.add(v7, vs0(i32x4.shuffle(v7, v8, 1, 2, 3, 4))), i32x4.shuffle(v9, v10, 1, 2, 3, 4));
    const n11 = i32x4.add(m11, vs1(i32x4.shuffle(v10, v10, 2, 3, 2, 3)));
    const v11 = i32x4.shuffle(n11, i32x4.add(m11, vs1(i32x4.shuffle(n11, n11, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k11 = i32x4.add(v11, v128.load(SHA_K, 176));
    t = d + (<u32>i32x4.extract_lane(k11, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k11, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k11, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k11, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    const m12 = i32x4.add(i32x4.add(v8, vs0(i32x4.shuffle(v8, v9, 1, 2, 3, 4))), i32x4.shuffle(v10, v11, 1, 2, 3, 4));
    const n12 = i32x4.add(m12, vs1(i32x4.shuffle(v11, v11, 2, 3, 2, 3)));
    const v12 = i32x4.shuffle(n12, i32x4.add(m12, vs1(i32x4.shuffle(n12, n12, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k12 = i32x4.add(v12, v128.load(SHA_K, 192));
    t = h + (<u32>i32x4.extract_lane(k12, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k12, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k12, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k12, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const m13 = i32x4.add(i32x4.add(v9, vs0(i32x4.shuffle(v9, v10, 1, 2, 3, 4))), i32x4.shuffle(v11, v12, 1, 2, 3, 4));
    const n13 = i32x4.add(m13, vs1(i32x4.shuffle(v12, v12, 2, 3, 2, 3)));
    const v13 = i32x4.shuffle(n13, i32x4.add(m13, vs1(i32x4.shuffle(n13, n13, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k13 = i32x4.add(v13, v128.load(SHA_K, 208));
    t = d + (<u32>i32x4.extract_lane(k13, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k13, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k13, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k13, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    const m14 = i32x4.add(i32x4.add(v10, vs0(i32x4.shuffle(v10, v11, 1, 2, 3, 4))), i32x4.shuffle(v12, v13, 1, 2, 3, 4));
    const n14 = i32x4.add(m14, vs1(i32x4.shuffle(v13, v13, 2, 3, 2, 3)));
    const v14 = i32x4.shuffle(n14, i32x4.add(m14, vs1(i32x4.shuffle(n14, n14, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k14 = i32x4.add(v14, v128.load(SHA_K, 224));
    t = h + (<u32>i32x4.extract_lane(k14, 0)) + CH(e, f, g) + S1(e); d += t; x = a ^ b; h = t + (b ^ (x & y)) + S0(a);
    t = g + (<u32>i32x4.extract_lane(k14, 1)) + CH(d, e, f) + S1(d); c += t; y = h ^ a; g = t + (a ^ (y & x)) + S0(h);
    t = f + (<u32>i32x4.extract_lane(k14, 2)) + CH(c, d, e) + S1(c); b += t; x = g ^ h; f = t + (h ^ (x & y)) + S0(g);
    t = e + (<u32>i32x4.extract_lane(k14, 3)) + CH(b, c, d) + S1(b); a += t; y = f ^ g; e = t + (g ^ (y & x)) + S0(f);
    const m15 = i32x4.add(i32x4.add(v11, vs0(i32x4.shuffle(v11, v12, 1, 2, 3, 4))), i32x4.shuffle(v13, v14, 1, 2, 3, 4));
    const n15 = i32x4.add(m15, vs1(i32x4.shuffle(v14, v14, 2, 3, 2, 3)));
    const v15 = i32x4.shuffle(n15, i32x4.add(m15, vs1(i32x4.shuffle(n15, n15, 0, 1, 0, 1))), 0, 1, 6, 7);
    const k15 = i32x4.add(v15, v128.load(SHA_K, 240));
    t = d + (<u32>i32x4.extract_lane(k15, 0)) + CH(a, b, c) + S1(a); h += t; x = e ^ f; d = t + (f ^ (x & y)) + S0(e);
    t = c + (<u32>i32x4.extract_lane(k15, 1)) + CH(h, a, b) + S1(h); g += t; y = d ^ e; c = t + (e ^ (y & x)) + S0(d);
    t = b + (<u32>i32x4.extract_lane(k15, 2)) + CH(g, h, a) + S1(g); f += t; x = c ^ d; b = t + (d ^ (x & y)) + S0(c);
    t = a + (<u32>i32x4.extract_lane(k15, 3)) + CH(f, g, h) + S1(f); e += t; y = b ^ c; a = t + (c ^ (y & x)) + S0(b);
    h0 += a; h1 += b; h2 += c; h3 += d; h4 += e; h5 += f; h6 += g; h7 += h;
  }
  store<u32>(st, h0, 0); store<u32>(st, h1, 4); store<u32>(st, h2, 8); store<u32>(st, h3, 12);
  store<u32>(st, h4, 16); store<u32>(st, h5, 20); store<u32>(st, h6, 24); store<u32>(st, h7, 28);
}
