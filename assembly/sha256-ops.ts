// The SHA-256 functions (FIPS 180-4 §4.1.2) shared by the one-stream loops (sha256.ts scalar,
// sha256-vsched.ts vector schedule) and, in 4-lane form, by the schedules of sha256-vsched.ts and
// sha256-x4.ts. Σ0/Σ1 are three independent rotations, not nested ones: they sit on the round's
// critical path, where latency (3 steps instead of 5) matters more than one register copy.

// @ts-ignore: decorator
@inline export function S0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
// @ts-ignore: decorator
@inline export function S1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
// @ts-ignore: decorator
@inline export function s0(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3); }
// @ts-ignore: decorator
@inline export function s1(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10); }
// @ts-ignore: decorator
@inline export function CH(e: u32, f: u32, g: u32): u32 { return g ^ (e & (f ^ g)); }

/** Rotation of each 32-bit lane (WebAssembly SIMD has no rotate: two shifts and an OR). */
// @ts-ignore: decorator
@inline export function vrotr(x: v128, n: i32): v128 { return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n)); }
// @ts-ignore: decorator
@inline export function vs0(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 7), vrotr(x, 18)), i32x4.shr_u(x, 3)); }
// @ts-ignore: decorator
@inline export function vs1(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 17), vrotr(x, 19)), i32x4.shr_u(x, 10)); }
